#!/usr/bin/env bash
# Every topic has a retention, so refused and blocked content does not sit
# on the broker for ever: `sluicectl topics create` (what it_init and
# deploy/stack.sh run) sets retention.ms and retention.bytes on every
# topic, 7 days for uploads and the intermediate topics and 30 days for
# sluice.rejected by default, and brings existing topics in line when the
# operator changes topic.retention.ms / topic.rejected.retention.ms.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_init topics

P=$IT_PREFIX
want_default="${P}sluice.uploads max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.validated max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.scanned max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.flagged max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.licensed max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.reviewed max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1
${P}sluice.rejected max.message.bytes=16777216 retention.ms=2592000000 retention.bytes=-1
${P}sluice.replay max.message.bytes=16777216 retention.ms=604800000 retention.bytes=-1"
it_eq "default retention" "$("$IT_BIN/sluicectl" topics describe)" "$want_default"

out=$("$IT_BIN/sluicectl" topics create -X topic.retention.ms=86400000 \
    -X topic.rejected.retention.ms=172800000 -X topic.rejected.retention.bytes=1073741824)
it_eq "existing topics updated" "$(grep -c 'config updated' <<<"$out")" 8
want_changed="${P}sluice.uploads max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.validated max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.scanned max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.flagged max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.licensed max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.reviewed max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1
${P}sluice.rejected max.message.bytes=16777216 retention.ms=172800000 retention.bytes=1073741824
${P}sluice.replay max.message.bytes=16777216 retention.ms=86400000 retention.bytes=-1"
it_eq "changed retention" "$("$IT_BIN/sluicectl" topics describe)" "$want_changed"

# Unchanged configs: nothing to update.
out=$("$IT_BIN/sluicectl" topics create -X topic.retention.ms=86400000 \
    -X topic.rejected.retention.ms=172800000 -X topic.rejected.retention.bytes=1073741824)
it_eq "nothing updated the second time" "$(grep -c 'config updated' <<<"$out" || true)" 0

# The stack's broker keeps each new segment's indexes at 1 MB
# (log.index.size.max.bytes in deploy/stack.sh): a new index file is
# created at that size, rounded down to whole entries (8 bytes an offset
# entry, 12 a time entry).
if [[ -n ${SLUICE_STACK_DIR:-} && -d $SLUICE_STACK_DIR/kafka/data ]]; then
    seg=$SLUICE_STACK_DIR/kafka/data/${P}sluice.uploads-0/00000000000000000000
    # the partition's leader creates them after the topic is created
    it_wait_until 10 test -f "$seg.timeindex"
    it_eq "offset index preallocated at 1 MB" "$(stat -c %s "$seg.index")" 1048576
    it_eq "time index preallocated at 1 MB" "$(stat -c %s "$seg.timeindex")" 1048572
else
    echo "# skip: index sizes (no stack directory: not under deploy/test.sh)"
fi
