-- Findings looked up by check across scans (server: "when did this check start failing").
CREATE INDEX scan_findings_by_check ON scan_findings (check_id, scan_id);
