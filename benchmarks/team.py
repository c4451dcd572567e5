"""The team store against a real PostgreSQL server: 50 agents x 2,000 shared calls.

A throwaway server of its own (tools/pgserver.py, with a real server's durability: fsync
on), set up by ``team init``, one login per agent and a coach. The calls are the demo
call's real record (analysed here, transcript included) with each call's name, time and
scores varied, spread over a year per agent, bulk-loaded with COPY; then autovacuum's
work is done (VACUUM ANALYZE) as it would be on a team's server. Timed through the same
:class:`voicecoach.store.team.TeamStore` methods the command line and windows call, each
over a connection already open (the connect time is printed on its own):

- the coach's list of one agent's latest 20 calls (``voicecoach team list AGENT``);
- one agent's trend (``voicecoach team trend AGENT``: the calls by week and the latest 10);
- sharing one call record (``voicecoach share CALL``), and again with a new connection;
- the overview of every agent and opening one call, for reference.

Targets (issue 15): the list and the trend under 200 ms each, sharing one record under
100 ms; the database size is printed.

    python3 -m benchmarks.team [--agents 50] [--calls 2000]
"""
from __future__ import annotations

import argparse
import copy
import datetime as _dt
import json
import os
import random
import statistics
import time

from tools.pgserver import PgServer, find_bin_dir
from voicecoach.store.history import CallScores
from voicecoach.store.team import SCORE_COLUMNS, TeamStore, call_id

PASSWORD = "bench-pw"


def template_record() -> dict:
    from voicecoach.analyze import analyze_call, demo_call_path
    from voicecoach.config import Config
    from voicecoach.sources.audio import load_call

    return analyze_call(load_call(demo_call_path()), Config())


def vary(template: dict, agent: int, i: int, when: _dt.datetime, rng: random.Random) -> dict:
    """One generated call: the template with its own name, time and scores."""
    r = copy.copy(template)            # shallow: only the top-level fields below change
    r["created"] = when.isoformat(timespec="seconds")
    r["source"] = {**template["source"], "name": f"call-{agent:02d}-{i:04d}.flac"}
    r["duration"] = round(rng.uniform(60, 900), 3)
    share = rng.uniform(0.35, 0.75)
    r["talk_share"] = {"agent": round(share, 3), "customer": round(1 - share, 3)}
    r["interruptions"] = [{"start": 10.0 * k, "end": 10.0 * k + 0.8, "by": "agent"}
                          for k in range(rng.choice((0, 0, 1, 1, 2, 3)))]
    r["warmth"] = {**template["warmth"], "mean": round(rng.uniform(0.3, 0.7), 3)}
    r["pace"] = {**template["pace"], "agent_wpm": round(rng.uniform(120, 210), 1)}
    r["checklist"] = {k: rng.random() < 0.8 for k in template["checklist"]}
    return r


def ms(values: list) -> str:
    v = sorted(values)
    p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
    return f"p50 {1000 * statistics.median(v):.1f} ms, p95 {1000 * p95:.1f} ms, max {1000 * v[-1]:.1f} ms"


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--calls", type=int, default=2000, help="shared calls per agent")
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    if args.agents < 1 or args.calls < 20:
        ap.error("--agents must be 1 or more and --calls 20 or more (the coach's list reads 20)")
    if find_bin_dir() is None:
        print("skipped: PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed "
              "(Debian: apt install postgresql)")
        return
    rng = random.Random(args.seed)
    agents = [f"agent{a:02d}" for a in range(args.agents)]

    t0 = time.perf_counter()
    template = template_record()
    print(f"template: the demo call's record, {len(json.dumps(template)) / 1024:.0f} KB of JSON "
          f"({len(template['transcript'])} transcript lines), analysed in {time.perf_counter() - t0:.1f} s")

    with PgServer(durable=True) as pg:
        os.environ["PGPASSWORD"] = PASSWORD
        with TeamStore(pg.admin_dsn(), check_version=False) as admin:
            admin.migrate()
        for a in agents:
            pg.create_login(a, PASSWORD, "voicecoach_agent")
        pg.create_login("coach", PASSWORD, "voicecoach_coach")

        # ---- bulk load (the administrator, as the owner, writes each agent's rows)
        import psycopg
        from psycopg.types.json import Jsonb

        t0 = time.perf_counter()
        start = _dt.datetime(2025, 11, 1, tzinfo=_dt.timezone.utc)
        step = _dt.timedelta(days=365) / args.calls
        cols = ("agent", "call_id", "created") + SCORE_COLUMNS + ("record",)
        with psycopg.connect(pg.admin_dsn()) as conn, conn.cursor() as cur:
            for a, agent in enumerate(agents):
                with cur.copy(f"COPY voicecoach.calls ({', '.join(cols)}) FROM STDIN") as cp:
                    for i in range(args.calls):
                        when = start + i * step + _dt.timedelta(minutes=rng.randint(0, 120))
                        rec = vary(template, a, i, when, rng)
                        s = CallScores.from_record(rec, "")
                        cp.write_row((agent, call_id(rec), when) + tuple(getattr(s, c) for c in SCORE_COLUMNS)
                                     + (Jsonb(rec),))
                conn.commit()
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pg.admin_sql("VACUUM ANALYZE voicecoach.calls")
        n = pg.admin_sql("SELECT count(*) FROM voicecoach.calls")[0][0]
        print(f"loaded {n:,} shared calls ({args.agents} agents x {args.calls:,}) in {load_s:.0f} s "
              f"(+ VACUUM ANALYZE {time.perf_counter() - t0:.0f} s)")

        # ---- the coach
        connect_s, coach = timed(TeamStore, pg.dsn("coach"))
        order = agents[:]
        rng.shuffle(order)
        lists, trends = [], []
        for agent in order + order:              # every agent twice, in a shuffled order
            dt, rows = timed(coach.calls, agent, 20)
            assert len(rows) == 20
            lists.append(dt)
            t = time.perf_counter()
            periods = coach.trend(agent, "week")
            coach.calls(agent, 10)
            trends.append(time.perf_counter() - t)
            assert sum(p.calls for p in periods) == args.calls
        overview = [timed(coach.agents)[0] for _ in range(5)]
        opens = []
        for agent in order[:10]:
            ref = coach.calls(agent, 1)[0].call_id[:8]
            opens.append(timed(lambda r: coach.find(r) and coach.fetch(coach.find(r)), ref)[0])
        plan = pg.admin_sql("EXPLAIN (ANALYZE, BUFFERS) SELECT call_id, created, warmth_mean FROM "
                            "voicecoach.calls WHERE agent = %s ORDER BY created DESC LIMIT 20", (agents[len(agents) // 2],))
        coach.close()

        # ---- an agent shares
        shares, shares_connect = [], []
        with TeamStore(pg.dsn(agents[-1])) as agent:
            for i in range(50):
                rec = vary(template, 3, args.calls + i, _dt.datetime.now(_dt.timezone.utc)
                           + _dt.timedelta(seconds=i), rng)
                dt, res = timed(agent.share, rec)
                assert res.new
                shares.append(dt)
        for i in range(20):
            rec = vary(template, 3, args.calls + 100 + i, _dt.datetime.now(_dt.timezone.utc)
                       + _dt.timedelta(seconds=100 + i), rng)
            t = time.perf_counter()
            with TeamStore(pg.dsn(agents[-1])) as agent:
                agent.share(rec)
            shares_connect.append(time.perf_counter() - t)

        sizes = pg.admin_sql("""SELECT pg_database_size(current_database()),
            pg_relation_size('voicecoach.calls'),
            pg_total_relation_size('voicecoach.calls') - pg_relation_size('voicecoach.calls')
                - pg_indexes_size('voicecoach.calls'),
            pg_relation_size('voicecoach.calls_by_agent'), pg_relation_size('voicecoach.calls_by_id'),
            (SELECT avg(pg_column_size(record)) FROM voicecoach.calls)""")[0]

    mb = 1024 * 1024
    print()
    print(f"{'measure':<46} {'result':<46} target")
    print(f"{'coach: one agent latest 20 calls (x100)':<46} {ms(lists):<46} < 200 ms")
    print(f"{'coach: one agent trend, 52 weeks + latest 10':<46} {ms(trends):<46} < 200 ms")
    print(f"{'agent: share one call record (open conn, x50)':<46} {ms(shares):<46} < 100 ms")
    print(f"{'agent: share incl. connect + version (x20)':<46} {ms(shares_connect):<46} —")
    print(f"{'coach: connect + version check':<46} {1000 * connect_s:.1f} ms")
    print(f"{'coach: every agent with counts (x5)':<46} {ms(overview):<46} —")
    print(f"{'coach: open one call: find + record (x10)':<46} {ms(opens):<46} —")
    print(f"database size: {sizes[0] / mb:,.0f} MB (calls heap {sizes[1] / mb:,.1f} MB, records out of line "
          f"(TOAST) {sizes[2] / mb:,.0f} MB, index by agent {sizes[3] / mb:,.1f} MB, by id {sizes[4] / mb:,.1f} MB); "
          f"a record takes {sizes[5] / 1024:.1f} KB stored (JSONB, compressed)")
    print("plan of the coach's list:", " / ".join(r[0].strip() for r in plan[:3]))


if __name__ == "__main__":
    main()
