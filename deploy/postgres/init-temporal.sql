-- Runs once, when the compose stack's PostgreSQL initialises an empty data volume: the
-- databases Temporal keeps its state and visibility records in. The quaykeeper database is
-- POSTGRES_DB; the worker applies its migrations itself.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
