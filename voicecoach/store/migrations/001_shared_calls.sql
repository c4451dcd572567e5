-- VoiceCoach team store, version 1: the calls agents share, their recordings, and who may
-- do what. Applied by `voicecoach team init` in one transaction (see voicecoach/store/team.py),
-- or by hand as the database's owner: psql -1 -v ON_ERROR_STOP=1 -f 001_shared_calls.sql
-- Each migration ends by recording its version.

CREATE SCHEMA IF NOT EXISTS voicecoach;

-- Which migrations have been applied; a client reads max(version) to know whether it fits.
CREATE TABLE voicecoach.schema_version (
    version integer PRIMARY KEY,
    applied timestamptz NOT NULL DEFAULT now()
);

-- The two group roles (cluster-wide, so they may exist already from another database).
-- Each agent and coach logs in with a role of their own that is a member of one of these.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'voicecoach_agent') THEN
        CREATE ROLE voicecoach_agent NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'voicecoach_coach') THEN
        CREATE ROLE voicecoach_coach NOLOGIN;
    END IF;
END
$$;

-- One row per shared call: the record whole (JSONB) beside the columns the views query.
-- The agent is the login role that shared it (session_user, which SET ROLE cannot change).
CREATE TABLE voicecoach.calls (
    agent                  text        NOT NULL DEFAULT session_user,
    call_id                text        NOT NULL CHECK (call_id ~ '^[0-9a-f]{32}$'),
    created                timestamptz NOT NULL,          -- when the call was analysed
    shared_at              timestamptz NOT NULL DEFAULT now(),
    name                   text        NOT NULL,
    duration_s             real        NOT NULL,
    talk_share_agent       real,
    interruptions_by_agent integer,
    warmth_mean            real,
    agent_wpm              real,
    checklist_done         smallint,
    checklist_items        smallint,
    commitments            integer,
    record                 jsonb       NOT NULL,
    PRIMARY KEY (agent, call_id)
);

-- The coach's list of one agent's calls and that agent's trend: newest first, every
-- column they show in the index (index-only scans; the record is never read for them).
CREATE INDEX calls_by_agent ON voicecoach.calls (agent, created DESC)
    INCLUDE (call_id, shared_at, name, duration_s, talk_share_agent, interruptions_by_agent,
             warmth_mean, agent_wpm, checklist_done, checklist_items, commitments);
-- Opening a call by (a prefix of) its id.
CREATE INDEX calls_by_id ON voicecoach.calls (call_id text_pattern_ops);

-- A recording, only when the agent chose to share it: the file as it was on their machine.
CREATE TABLE voicecoach.call_audio (
    agent     text  NOT NULL DEFAULT session_user,
    call_id   text  NOT NULL,
    file_name text  NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (agent, call_id),
    FOREIGN KEY (agent, call_id) REFERENCES voicecoach.calls ON DELETE CASCADE
);
-- Audio files are compressed already: store them out of line without trying again.
ALTER TABLE voicecoach.call_audio ALTER COLUMN data SET STORAGE EXTERNAL;

-- Agents insert, read and delete their own calls, and nothing else (no UPDATE: a call is
-- shared once, or taken back); coaches read every shared call and change none.
ALTER TABLE voicecoach.calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE voicecoach.call_audio ENABLE ROW LEVEL SECURITY;
CREATE POLICY agent_own_calls ON voicecoach.calls TO voicecoach_agent
    USING (agent = session_user) WITH CHECK (agent = session_user);
CREATE POLICY coach_reads_calls ON voicecoach.calls FOR SELECT TO voicecoach_coach USING (true);
CREATE POLICY agent_own_audio ON voicecoach.call_audio TO voicecoach_agent
    USING (agent = session_user) WITH CHECK (agent = session_user);
CREATE POLICY coach_reads_audio ON voicecoach.call_audio FOR SELECT TO voicecoach_coach USING (true);

GRANT USAGE ON SCHEMA voicecoach TO voicecoach_agent, voicecoach_coach;
GRANT SELECT ON voicecoach.schema_version TO voicecoach_agent, voicecoach_coach;
GRANT SELECT, INSERT, DELETE ON voicecoach.calls, voicecoach.call_audio TO voicecoach_agent;
GRANT SELECT ON voicecoach.calls, voicecoach.call_audio TO voicecoach_coach;

INSERT INTO voicecoach.schema_version (version) VALUES (1);
