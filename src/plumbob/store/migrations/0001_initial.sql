-- Scans, their nodes' drift attributes and their findings.
CREATE TABLE scans (
    id {id_column},
    cluster TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    captured_at TEXT,
    digest TEXT NOT NULL,
    plumbob_version TEXT NOT NULL,
    node_count INTEGER NOT NULL,
    finding_count INTEGER NOT NULL,
    summary {json} NOT NULL
);
CREATE INDEX scans_by_cluster_time ON scans (cluster, scanned_at);
CREATE INDEX scans_by_time ON scans (scanned_at);
CREATE TABLE scan_nodes (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    pool TEXT NOT NULL,
    attributes {json} NOT NULL,
    PRIMARY KEY (scan_id, node)
);
CREATE TABLE scan_findings (
    scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    check_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    finding {json} NOT NULL,
    PRIMARY KEY (scan_id, seq)
);
CREATE INDEX scan_findings_by_fingerprint ON scan_findings (fingerprint);
