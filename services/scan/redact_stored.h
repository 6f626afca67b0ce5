/*
 * redact_stored.h -- a moderator's "redact": the scanner's own redaction
 * (sl_redact) of a stored flagged sample, with exactly the findings the
 * scan stage stored for it (review_items.findings, the sluice-scan JSON).
 *
 * The stored findings name a rule, a byte offset and a length, never the
 * matched text, and sl_redact needs findings of a scan of the same text
 * with the same rules.  So the bytes are scanned again and the findings
 * kept are those the stored list names (rule id, offset, length, source
 * "content"); a stored finding the new scan does not reproduce (other
 * rules, other bytes, a finding in image metadata or in text decoded from
 * another encoding) makes the redaction refuse rather than guess.
 *
 * Pure (no I/O): the review service's relay and its tests call it.
 */
#ifndef SL_SCAN_REDACT_STORED_H
#define SL_SCAN_REDACT_STORED_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"
#include "rules.h"

/* Writes into out (reset first) the len bytes with every finding of
 * findings_json (the scan result object, or its "findings" array)
 * replaced by "[REDACTED:ENTITY]".  SL_OK; SL_EINVAL with err naming the
 * finding when the JSON is not a scan result or a finding cannot be
 * reproduced; SL_ETOOBIG when out->max would be passed; SL_ENOMEM. */
int sl_redact_stored(const uint8_t *bytes, size_t len, const char *findings_json,
                     const sl_rules *rules, sl_buf *out, sl_err *err);

#endif
