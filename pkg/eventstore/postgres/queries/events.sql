-- AppendEvents writes a batch in one statement, so it is atomic even outside
-- an explicit transaction. It reads the stream's version, checks the
-- expectation (kind: 1 any, 2 no stream, 3 stream exists, 4 exact) and
-- inserts nothing when it fails; last_version is then -1. A writer that
-- races past the check loses on the unique (stream_id, version) key.
-- name: AppendEvents :one
WITH cur AS (
    SELECT coalesce((SELECT e.version FROM events e WHERE e.stream_id = sqlc.arg(stream)::text
                     ORDER BY e.version DESC LIMIT 1), -1)::bigint AS v
), ok AS (
    SELECT v FROM cur
    WHERE CASE sqlc.arg(kind)::smallint
              WHEN 1 THEN true
              WHEN 2 THEN v = -1
              WHEN 3 THEN v >= 0
              ELSE v = sqlc.arg(expected)::bigint
          END
), ins AS (
    INSERT INTO events (event_id, stream_id, version, category, type, data, metadata)
    SELECT (sqlc.arg(ids)::uuid[])[i], sqlc.arg(stream)::text, ok.v + i, split_part(sqlc.arg(stream)::text, '-', 1),
           (sqlc.arg(types)::text[])[i], (sqlc.arg(data)::jsonb[])[i], (sqlc.arg(metadata)::jsonb[])[i]
    FROM ok, generate_subscripts(sqlc.arg(ids)::uuid[], 1) AS i
    ORDER BY i
    RETURNING version, txid, position
)
SELECT (SELECT v FROM cur)::bigint AS current_version,
       coalesce(max(ins.version), -1)::bigint AS last_version,
       coalesce(max(ins.txid), 0)::bigint AS last_txid,
       coalesce(max(ins.position), 0)::bigint AS last_position
FROM ins;

-- AppendMany is AppendEvents for several appends to distinct streams in one
-- statement (write combining). Append k (1-based) writes to streams[k] with
-- expectation kinds[k] and expected[k]; the events are flattened into ids,
-- types, data and metadata, event j belonging to append owners[j] as its
-- ranks[j]-th event (1-based, in order). It returns one row per append, in
-- order, as AppendEvents would (each expectation is checked on its own;
-- last_version is -1 where it failed). unnest, not generate_subscripts or
-- generate_series, keeps the planner's row estimates small, so that it
-- never JIT-compiles this statement.
-- name: AppendMany :many
WITH req AS (
    SELECT r.ord, r.stream, (sqlc.arg(kinds)::smallint[])[r.ord] AS kind, (sqlc.arg(expected)::bigint[])[r.ord] AS expected
    FROM unnest(sqlc.arg(streams)::text[]) WITH ORDINALITY AS r(stream, ord)
), cur AS (
    SELECT req.*, coalesce((SELECT e.version FROM events e WHERE e.stream_id = req.stream
                            ORDER BY e.version DESC LIMIT 1), -1)::bigint AS v
    FROM req
), ok AS (
    SELECT * FROM cur
    WHERE CASE kind
              WHEN 1 THEN true
              WHEN 2 THEN v = -1
              WHEN 3 THEN v >= 0
              ELSE v = expected
          END
), ins AS (
    INSERT INTO events (event_id, stream_id, version, category, type, data, metadata)
    SELECT u.id, ok.stream, ok.v + (sqlc.arg(ranks)::integer[])[u.j], split_part(ok.stream, '-', 1),
           (sqlc.arg(types)::text[])[u.j], (sqlc.arg(data)::jsonb[])[u.j], (sqlc.arg(metadata)::jsonb[])[u.j]
    FROM unnest(sqlc.arg(ids)::uuid[]) WITH ORDINALITY AS u(id, j)
    JOIN ok ON ok.ord = (sqlc.arg(owners)::integer[])[u.j]
    ORDER BY u.j
    RETURNING stream_id, version, txid, position
)
SELECT cur.ord::bigint AS ord,
       cur.v AS current_version,
       coalesce(max(ins.version), -1)::bigint AS last_version,
       coalesce(max(ins.txid), 0)::bigint AS last_txid,
       coalesce(max(ins.position), 0)::bigint AS last_position
FROM cur LEFT JOIN ins ON ins.stream_id = cur.stream
GROUP BY cur.ord, cur.v
ORDER BY cur.ord;

-- name: ReplayEvents :one
SELECT last_version::bigint AS last_version, last_txid::bigint AS last_txid, last_position::bigint AS last_position
FROM ordo_replay(sqlc.arg(stream)::text, sqlc.arg(kind)::smallint, sqlc.arg(expected)::bigint, sqlc.arg(ids)::uuid[]);

-- A stream's versions start at 0 and have no gaps, so a read that covers
-- version 0 (forwards from 0, any read backwards) is empty only for a stream
-- with no events. ReadStream uses these two for such reads.
-- name: ReadStreamForwards :many
SELECT sqlc.embed(events)
FROM events
WHERE stream_id = sqlc.arg(stream) AND version >= sqlc.arg(from_version)
ORDER BY version
LIMIT sqlc.arg(max_count);

-- name: ReadStreamBackwards :many
SELECT sqlc.embed(events)
FROM events
WHERE stream_id = sqlc.arg(stream) AND version <= sqlc.arg(from_version)
ORDER BY version DESC
LIMIT sqlc.arg(max_count);

-- ReadStreamForwardsOrMissing is ReadStreamForwards for reads from a later
-- version, which can be empty for a stream that exists: when the stream has
-- no events at all it returns one row of version -1 (no event has it)
-- instead, so one round trip tells a read past the end from a missing
-- stream. Both parts see the same snapshot. The second part's columns are
-- cast to the first's types so that PostgreSQL merges the two ordered parts
-- instead of sorting the whole result.
-- name: ReadStreamForwardsOrMissing :many
(SELECT e.position, e.txid, e.event_id, e.stream_id, e.version, e.category, e.type, e.data, e.metadata, e.recorded_at
 FROM events e
 WHERE e.stream_id = sqlc.arg(stream)::text AND e.version >= sqlc.arg(from_version)::bigint
 ORDER BY e.version
 LIMIT sqlc.arg(max_count)::integer)
UNION ALL
SELECT 0::bigint, 0::bigint, NULL::uuid, sqlc.arg(stream)::text, -1::bigint, ''::text, ''::text, NULL::jsonb, NULL::jsonb, NULL::timestamptz
WHERE NOT EXISTS (SELECT FROM events m WHERE m.stream_id = sqlc.arg(stream)::text)
ORDER BY version;

-- ReadAll returns events after a position in (txid, position) order, but only
-- those written by transactions older than the oldest one still running: an
-- event of a running transaction, whatever its position, is never passed.
-- name: ReadAll :many
SELECT sqlc.embed(events)
FROM events
WHERE (txid, position) > (sqlc.arg(after_txid)::bigint, sqlc.arg(after_position)::bigint)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  AND (cardinality(sqlc.arg(categories)::text[]) = 0 OR category = ANY(sqlc.arg(categories)::text[]))
  AND (cardinality(sqlc.arg(types)::text[]) = 0 OR type = ANY(sqlc.arg(types)::text[]))
ORDER BY txid, position
LIMIT sqlc.arg(max_count);

-- CountAll counts, up to max_count, the events ReadAll would return from the
-- same position, without reading them, and gives the earliest time one of
-- them was recorded (NULL when there are none): a projection's lag.
-- name: CountAll :one
SELECT count(*)::int AS events, min(hits.recorded_at)::timestamptz AS oldest
FROM (
    SELECT recorded_at
    FROM events
    WHERE (txid, position) > (sqlc.arg(after_txid)::bigint, sqlc.arg(after_position)::bigint)
      AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
      AND (cardinality(sqlc.arg(categories)::text[]) = 0 OR category = ANY(sqlc.arg(categories)::text[]))
      AND (cardinality(sqlc.arg(types)::text[]) = 0 OR type = ANY(sqlc.arg(types)::text[]))
    ORDER BY txid, position
    LIMIT sqlc.arg(max_count)
) hits;

-- ReadVisible is ReadAll for subscriptions. It also returns the line it read
-- below (column line) and at least one row: when nothing matched, one row
-- whose event columns are NULL. A reader that got fewer events than it asked
-- for has every matching event below the line behind it, so it can resume
-- from the line instead of scanning the same unmatched events again.
-- name: ReadVisible :many
WITH line AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS txid
), hits AS (
    SELECT e.*
    FROM events e, line
    WHERE (e.txid, e.position) > (sqlc.arg(after_txid)::bigint, sqlc.arg(after_position)::bigint)
      AND e.txid < line.txid
      AND (cardinality(sqlc.arg(categories)::text[]) = 0 OR e.category = ANY(sqlc.arg(categories)::text[]))
      AND (cardinality(sqlc.arg(types)::text[]) = 0 OR e.type = ANY(sqlc.arg(types)::text[]))
    ORDER BY e.txid, e.position
    LIMIT sqlc.arg(max_count)
)
SELECT line.txid AS line, hits.*
FROM line LEFT JOIN hits ON true
ORDER BY hits.txid, hits.position;

-- name: Head :one
SELECT txid, position
FROM events
WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY txid DESC, position DESC
LIMIT 1;

-- name: Notify :exec
SELECT pg_notify('ordo_events', sqlc.arg(payload)::text);

-- name: LoadCheckpoint :one
SELECT commit_pos, prepare_pos FROM checkpoints WHERE name = $1;

-- name: SaveCheckpoint :exec
INSERT INTO checkpoints (name, commit_pos, prepare_pos, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (name) DO UPDATE
SET commit_pos = excluded.commit_pos, prepare_pos = excluded.prepare_pos, updated_at = excluded.updated_at;

-- name: NextTxid :one
-- The first transaction id not yet handed out: every transaction that
-- committed before this call has an id below it.
SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS txid;

-- name: VisibleBelow :one
-- The line below which readers see every event (see ReadAll).
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS txid;
