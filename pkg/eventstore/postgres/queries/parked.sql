-- ParkEvent records a parked event, or parks again one already recorded:
-- the new error replaces the old, the attempts add up, and a replayed row
-- is parked again.
-- name: ParkEvent :exec
INSERT INTO parked_events (id, subscriber, event_id, stream_id, version, commit_pos, prepare_pos,
                           type, hold_key, error, attempts, status, parked_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(subscriber), sqlc.arg(event_id), sqlc.arg(stream_id), sqlc.arg(version),
        sqlc.arg(commit_pos), sqlc.arg(prepare_pos), sqlc.arg(type), sqlc.arg(hold_key), sqlc.arg(error),
        sqlc.arg(attempts), 'parked', sqlc.arg(at), sqlc.arg(at))
ON CONFLICT (id) DO UPDATE
SET error = excluded.error,
    attempts = parked_events.attempts + excluded.attempts,
    status = 'parked',
    updated_at = excluded.updated_at,
    replayed_at = NULL;

-- name: GetParked :one
SELECT * FROM parked_events WHERE id = $1;

-- ListParked returns the entries of the given subscribers in global order,
-- those with the given status and hold key (an empty one matches any).
-- name: ListParked :many
SELECT * FROM parked_events
WHERE subscriber = ANY(sqlc.arg(subscribers)::text[])
  AND (sqlc.arg(status)::text = '' OR status = sqlc.arg(status)::text)
  AND (sqlc.arg(hold_key)::text = '' OR hold_key = sqlc.arg(hold_key)::text)
ORDER BY commit_pos, prepare_pos, subscriber
LIMIT sqlc.arg(max_count);

-- name: CountParked :many
SELECT status, count(*) AS n FROM parked_events
WHERE subscriber = ANY(sqlc.arg(subscribers)::text[])
GROUP BY status;

-- MarkReplayed moves a parked entry to replayed; it changes nothing (and
-- reports no row) when the entry is not parked.
-- name: MarkReplayed :execrows
UPDATE parked_events SET status = 'replayed', replayed_at = sqlc.arg(at), updated_at = sqlc.arg(at)
WHERE id = sqlc.arg(id) AND status = 'parked';
