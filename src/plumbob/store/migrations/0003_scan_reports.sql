-- Each scan's own report (the cluster's findings, checks, drift and GPU sections), read whole by
-- the dashboard's cluster page and never queried inside: JSON text on both backends.
CREATE TABLE scan_reports (
    scan_id BIGINT PRIMARY KEY REFERENCES scans (id) ON DELETE CASCADE,
    report TEXT NOT NULL
);
-- Score and coverage as columns: the dashboard's trends read them for every cluster at once.
ALTER TABLE scans ADD COLUMN score INTEGER;
ALTER TABLE scans ADD COLUMN coverage INTEGER
