#!/usr/bin/env bash
# sluicectl shows stored strings escaped on its text output (issue #9): a
# dataset name, a rejection code and detail, a file name holding ESC
# sequences (an OSC that retitles the terminal, an SGR colour), BEL, a
# newline or a bidirectional override are printed as \x1b, \n, \u202e...,
# never as the raw bytes; --json output stays JSON (the exact string back).
# The rows are written as a hostile upload would leave them.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init ctlesc

ctl dataset add evil >/dev/null
it_sql "UPDATE datasets SET name = E'name\\x1b]0;owned\\x07\\nline2\\u202e' WHERE dataset_id = 'evil'"
it_sql "INSERT INTO rejections (upload_id, creator_id, dataset_id, stage, code, detail, size, meta,
            source_topic, source_partition, source_offset, rejected_at)
        VALUES ('esc-1', 'c1', 'evil', 'validate', E'code\\x1b[31m', E'detail \\x1b]0;pwned\\x07\\nsecond line\\\\',
                5, convert_to(E'{\"filename\":\"f\\x1b[2J.txt\"}', 'UTF8'), 'sluice.uploads', 0, 1, now())"

raw_esc() { # raw_esc WHAT OUTPUT: no ESC, BEL or CR byte, at most the expected lines
    if printf '%s' "$2" | LC_ALL=C grep -q $'[\x1b\x07\r]'; then
        it_fail "$1: raw control bytes in the output: $(printf '%s' "$2" | od -c | head -5)"
    fi
    it_log "ok: $1 has no raw control bytes"
}

out=$(ctl dataset list)
raw_esc "dataset list" "$out"
it_has "dataset list" "$out" 'name\x1b]0;owned\x07\nline2\u202e'
it_eq "dataset list --json" "$(ctl dataset list --json | jq -r '.[] | select(.dataset_id == "evil") | .name' | od -An -c | tr -s ' ')" \
    "$(printf 'name\x1b]0;owned\x07\nline2\u202e\n' | od -An -c | tr -s ' ')"

out=$(ctl status)
raw_esc "status" "$out"
it_has "status" "$out" 'code\x1b[31m'

out=$(ctl audit show --upload esc-1)
raw_esc "audit show" "$out"
it_has "audit show detail" "$out" 'detail \x1b]0;pwned\x07\nsecond line\\'
it_has "audit show dataset" "$out" 'evil'

out=$(ctl dataset show evil)
raw_esc "dataset show" "$out"
it_has "dataset show" "$out" 'name\x1b]0;owned\x07\nline2\u202e'
