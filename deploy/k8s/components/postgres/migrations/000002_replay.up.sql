-- ordo_replay answers an append that did not go through (its expectation
-- failed, or one of its event ids is already stored). If every id is stored,
-- in order, in this stream, as the stream's next events after the
-- expectation, the append is a replay: it returns where those events are.
-- Otherwise it raises SQLSTATE OR001 with the stream's current version (or
-- -1) as DETAIL.
--
-- p_kind: 1 any, 2 no stream, 3 stream exists, 4 exact (p_expected).
CREATE FUNCTION ordo_replay(
    p_stream   text,
    p_kind     smallint,
    p_expected bigint,
    p_ids      uuid[]
) RETURNS TABLE (last_version bigint, last_txid bigint, last_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n       bigint := cardinality(p_ids);
    found   bigint;
    starts  bigint;
    first_v bigint;
    current bigint;
BEGIN
    SELECT count(e.event_id) FILTER (WHERE e.stream_id = p_stream),
           count(DISTINCT e.version - u.ord),
           min(e.version - u.ord + 1)
      INTO found, starts, first_v
      FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
      LEFT JOIN events e ON e.event_id = u.id;

    IF found = n AND starts = 1
       AND (p_kind = 1
            OR (p_kind = 2 AND first_v = 0)
            OR (p_kind = 3 AND first_v > 0)
            OR (p_kind = 4 AND first_v = p_expected + 1)) THEN
        RETURN QUERY
        SELECT e.version, e.txid, e.position FROM events e WHERE e.event_id = p_ids[n];
        RETURN;
    END IF;

    SELECT e.version INTO current FROM events e
     WHERE e.stream_id = p_stream ORDER BY e.version DESC LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = 'OR001', MESSAGE = 'wrong expected version',
        DETAIL = coalesce(current, -1)::text;
END;
$$;
