/*
 * review_event.h -- a moderator's decision as a provenance event, and the
 * pieces of the message that carries it back into the pipeline.
 *
 * A flagged sample's chain is stored by commit under owner (review, upload
 * id): validate, scan, commit(queued_for_review).  A decision appends one
 * event to that chain (stage "review", outcome approved | redacted |
 * rejected) and the relay sends the whole chain on in sluice-prov
 * (schemas/README.md, "Review: a moderator's decision back into the
 * chain").  Both the decision transaction (which stores the event) and the
 * relay (which sends it) need the same bytes, and commit later trusts
 * exactly them: these functions build them, once, from the rows as stored.
 *
 * Pure: rows in memory, no database.  Strings given are borrowed for the
 * call.  Returns SL_OK or a negative SL_E* code with err set.
 */
#ifndef SL_REVIEW_EVENT_H
#define SL_REVIEW_EVENT_H

#include <stdint.h>

#include "sl/common.h"
#include "sl/crypto.h"
#include "sl/prov.h"

/* One provenance_events row of owner (review, upload id), as stored. */
typedef struct sl_review_stored {
    int64_t seq;
    const char *canonical;      /* the exact text that was hashed */
    const char *hash;
} sl_review_stored;

/* The review event as appended: its seq, hash and prev (what is stored
 * in provenance_chains and chain_heads), its canonical text in the
 * caller's buffer. */
typedef struct sl_review_appended {
    int64_t seq;
    char hash[SL_SHA256_HEX];
    char prev[SL_SHA256_HEX];
} sl_review_appended;

/* Appends the decision event ev to the stored chain evs[0..n) (ascending
 * seq, as ORDER BY seq gives) and builds the relay's sluice-prov header.
 *
 * Checks, each SL_EINVAL with err naming the problem: the stored chain is
 * not empty, every hash is the SHA-256 of its canonical text, the seqs run
 * 1..n and every prev links to the hash before it (the first prev, what
 * the creator signed, is taken as the chain's origin); ev->stage is
 * "review"; ev->outcome is "approved", "redacted" or "rejected"; ev's
 * upload_id is the stored chain's; ev->input_sha256 is the last output
 * hash the stored chain records (the bytes commit stored, which the
 * moderator was shown); ev->output_sha256 equals it for approved, differs
 * from it for redacted, and is NULL for rejected.
 *
 * On SL_OK: prov_out (reset first) holds the sluice-prov value, the JSON
 * array of the stored events then the new one; canonical_out (reset first;
 * may be NULL) the new event's canonical text, NUL-terminated; *app its
 * seq, hash and prev. */
int sl_review_event_append(const sl_review_stored *evs, size_t n,
                           const sl_prov_event *ev, sl_buf *prov_out,
                           sl_buf *canonical_out, sl_review_appended *app,
                           sl_err *err);

/* The informative sluice-review header: {"action", "decision_id",
 * "moderator", "reason"} as compact JSON with sorted keys into out (reset
 * first).  action is "approve", "redact" or "reject"; moderator and reason
 * any UTF-8 text (SL_EINVAL otherwise). */
int sl_review_header(int64_t decision_id, const char *action,
                     const char *reason, const char *moderator, sl_buf *out,
                     sl_err *err);

/* ---- the relay's message --------------------------------------------- */

/* The review_items row, as stored (strings borrowed for the call). */
typedef struct sl_review_item {
    const char *upload_id;
    const char *meta, *signature;   /* sluice-meta / sluice-sig as received */
    const char *findings;           /* the stored scan result (JSON text) */
    const char *sha256;             /* the stored content's hash */
    int64_t size;                   /* its size */
    const char *source_topic;       /* where commit read the flagged message */
    int32_t source_partition;
    int64_t source_offset;
} sl_review_item;

/* The decision (strings borrowed for the call). */
typedef struct sl_review_decision {
    int64_t decision_id;
    const char *action;             /* "approve", "redact" or "reject" */
    const char *reason;             /* confirmed_pii, false_positive, ... */
    const char *note;               /* the moderator's note, or NULL */
    const char *moderator;
    int64_t time_ms;                /* sluice-reject-time of a rejection */
} sl_review_decision;

#define SL_H_REVIEW "sluice-review"   /* informative: commit never reads it */
#define SL_REVIEW_MAX_HEADERS 16
#define SL_REVIEW_DETAIL_MAX 1024   /* bytes of sluice-reject-detail */

/* The message, but for its key (the upload id) and value (the stored bytes
 * for approve, their sl_redact_stored() for redact, none for reject). */
typedef struct sl_review_message {
    const char *topic;              /* SL_TOPIC_REVIEWED or SL_TOPIC_REJECTED,
                                     * without topic.prefix */
    size_t n;
    const char *name[SL_REVIEW_MAX_HEADERS];
    char *value[SL_REVIEW_MAX_HEADERS];   /* owned: sl_review_message_clear */
} sl_review_message;

/* Builds the relay's message for a decision on item, in the contract's
 * form (schemas/README.md, "Review"): prov is the sluice-prov value
 * sl_review_event_append() gave; value_sha256 the hex SHA-256 of the value
 * (approve / redact; ignored for reject).
 *   approve, redact: to sluice.reviewed with sluice-meta, sluice-sig,
 *     sluice-sha256, sluice-scan (the stored findings), sluice-prov and
 *     sluice-review (sl_review_header);
 *   reject: a dead letter to sluice.rejected, value withheld: sluice-meta,
 *     sluice-sig, sluice-prov, sluice-reject-stage "review", -code
 *     "moderator_rejected", -detail "REASON: NOTE" on one line (control
 *     characters escaped as \n, \t or \xNN, cut at SL_REVIEW_DETAIL_MAX
 *     bytes on a character boundary), -source-topic / -partition /
 *     -offset the flagged message's, -time, -value "withheld",
 *     -value-sha256 and -value-size the stored content's.
 * out is cleared first.  SL_OK; SL_EINVAL with err (a field missing or not
 * text, an unknown action); SL_ENOMEM. */
int  sl_review_message_build(const sl_review_item *item,
                             const sl_review_decision *d, const char *prov,
                             const char *value_sha256, sl_review_message *out,
                             sl_err *err);
void sl_review_message_clear(sl_review_message *m);

#endif
