-- Events a subscriber could not process and set aside so that the events
-- behind them flow on (package park). One row per (subscriber, event); the
-- id is derived from both, so parking the same event again updates the row.
-- status is 'parked' until a replay through the (fixed) handler succeeds,
-- then 'replayed'. hold_key groups events a subscriber must handle in order
-- (the saga: one order's events): while one is parked, later ones with its
-- key are parked behind it.
CREATE TABLE parked_events (
    id          uuid   PRIMARY KEY,
    subscriber  text   NOT NULL,
    event_id    uuid   NOT NULL,
    stream_id   text   NOT NULL,
    version     bigint NOT NULL,
    commit_pos  bigint NOT NULL,
    prepare_pos bigint NOT NULL,
    type        text   NOT NULL,
    hold_key    text   NOT NULL DEFAULT '',
    error       text   NOT NULL,
    attempts    integer NOT NULL,
    status      text   NOT NULL CHECK (status IN ('parked', 'replayed')),
    parked_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    replayed_at timestamptz,
    CONSTRAINT parked_events_subscriber_event_key UNIQUE (subscriber, event_id)
);

CREATE INDEX parked_events_open ON parked_events (subscriber, hold_key, commit_pos, prepare_pos)
    WHERE status = 'parked';
