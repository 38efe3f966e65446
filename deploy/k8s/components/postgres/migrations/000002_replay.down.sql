DROP FUNCTION IF EXISTS ordo_replay(text, smallint, bigint, uuid[]);
