-- 022_scan_lists.sql -- a dataset's scan allow-list and deny-list.
--
-- datasets.scan_lists: {"allow": [...], "allow_patterns": [...],
-- "deny": [...], "deny_patterns": [...]}, each an array of strings (exact
-- text, or PCRE2 patterns).  The scan stage drops a finding whose matched
-- text is allowed and makes each deny match a finding of the pseudo-rule
-- "dataset_deny" (services/scan/scanlists.h).  `sluicectl dataset set
-- --scan-allow / --scan-allow-pattern / --scan-deny / --scan-deny-pattern
-- / --clear-scan-lists` writes it, checked; '{}' is no lists.
ALTER TABLE datasets
    ADD COLUMN scan_lists jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(scan_lists) = 'object');
