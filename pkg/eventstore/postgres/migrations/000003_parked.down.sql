DROP TABLE IF EXISTS parked_events;
