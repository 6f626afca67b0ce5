/*
 * decide.h -- the pure decisions of sluice-review, apart from its I/O
 * (library sl_review_logic: sl_core only, unit-tested in
 * tests/unit/test_review.c): which identifiers, reasons and actions are
 * valid, the queue's keyset cursor, whether a flagged item needs a second
 * moderator, and which bytes may be previewed as an image.
 */
#ifndef SL_REVIEW_DECIDE_H
#define SL_REVIEW_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* 1 when s is an upload id (1..128 of [A-Za-z0-9._:-], starting with a
 * letter or digit: schemas/upload-meta.schema.json), else 0. */
int rv_id_ok(const char *s);

/* 1 for confirmed_pii, confirmed_secret, false_positive, rights_problem,
 * harmful_content, other; else 0 (NULL too). */
int rv_reason_ok(const char *reason);

/* 1 for approve, redact, reject; else 0. */
int rv_action_ok(const char *action);

/* The queue's cursor: "<flagged_at in microseconds since the epoch>_<upload
 * id>".  rv_cursor_parse copies the number (decimal digits, at most usz-1)
 * into us and points *id at the upload id inside s.  SL_OK or SL_EINVAL. */
int rv_cursor_parse(const char *s, char *us, size_t usz, const char **id);

/* 1 when the stored scan result (JSON text, {"findings": [{"rule": ...}]})
 * has a finding of a rule named in rules (a comma list, as in
 * review.second.rules); 0 when not, when rules is empty, or when the text
 * is not such JSON. */
int rv_needs_second(const char *rules, const char *findings_json);

/* The image type the item's preview route may serve the bytes as, by their
 * own signature (never by a stored or declared type): "image/png",
 * "image/jpeg", "image/gif" or "image/webp"; NULL for anything else (SVG
 * and every other format that can carry script or markup included). */
const char *rv_preview_type(const uint8_t *p, size_t n);

/* Whether a detected type is one the preview route may serve (the item
 * page shows an <img> of /items/{id}/preview only then). */
int rv_previewable(const char *detected_type);

#endif
