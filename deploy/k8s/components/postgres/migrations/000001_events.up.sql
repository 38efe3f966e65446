-- Events are immutable. A stream's versions are contiguous from 0, and the
-- unique (stream_id, version) key is the optimistic-concurrency check: two
-- writers that both expect version v both try to write v+1, and one loses.
-- No stream row or global lock is taken by an append.
--
-- (txid, position) is the global order: position comes from a sequence in
-- allocation order, txid is the writing transaction's id. Readers only return
-- events of transactions older than every transaction still running (see
-- ReadAll), so a reader ordered by (txid, position) never passes an event
-- that has yet to commit.
CREATE TABLE events (
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid        bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id    uuid   NOT NULL,
    stream_id   text   NOT NULL,
    version     bigint NOT NULL CHECK (version >= 0),
    category    text   NOT NULL,
    type        text   NOT NULL,
    data        jsonb  NOT NULL,
    metadata    jsonb  NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_global_order ON events (txid, position);

-- Checkpoints of subscribers that keep their effects in this database.
CREATE TABLE checkpoints (
    name        text PRIMARY KEY,
    commit_pos  bigint NOT NULL,
    prepare_pos bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
