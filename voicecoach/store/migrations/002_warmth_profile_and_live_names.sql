-- VoiceCoach team store, version 2: the voice profile each call's warmth was judged against,
-- as a column, so a trend compares warmth only across calls judged against the same profile
-- (as the agent's own history does); and calls coached live named as VoiceCoach names them
-- now. Applied by `voicecoach team init` in one transaction, or by hand as the database's
-- owner: psql -1 -v ON_ERROR_STOP=1 -f 002_warmth_profile_and_live_names.sql
-- It rewrites the calls table (the new column is stored): shares and views wait until it is
-- done, longer the more calls the store holds; run it when no one is sharing.

-- Computed by the server from the record whole, for the rows there are and every row shared
-- from now on (a client never writes it).
ALTER TABLE voicecoach.calls
    ADD COLUMN warmth_profile text GENERATED ALWAYS AS (record->'warmth'->>'profile_id') STORED;

-- The coach's list and the trend read it from the index, as the other columns they show.
DROP INDEX voicecoach.calls_by_agent;
CREATE INDEX calls_by_agent ON voicecoach.calls (agent, created DESC)
    INCLUDE (call_id, shared_at, name, duration_s, talk_share_agent, interruptions_by_agent,
             warmth_mean, agent_wpm, checklist_done, checklist_items, commitments, warmth_profile);

-- Calls coached live keep the name they were shared under ("call 1, <date>", which every
-- shift repeated, "live call", or a replayed recording's file name); VoiceCoach names them by
-- the caller's first problem now ("live call: my internet keeps dropping";
-- voicecoach.sinks.view.call_name, which this follows: a call is live when its record's
-- "shift" or "live" is a non-empty object).
UPDATE voicecoach.calls
   SET name = coalesce('live call: ' || nullif(btrim(regexp_replace(record->'caller_problems'->0->>'text',
                                                                   '\s+', ' ', 'g')), ''), 'live call')
 WHERE (jsonb_typeof(record->'shift') = 'object' AND record->'shift' <> '{}'::jsonb)
    OR (jsonb_typeof(record->'live') = 'object' AND record->'live' <> '{}'::jsonb);

INSERT INTO voicecoach.schema_version (version) VALUES (2);
