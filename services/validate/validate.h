/*
 * validate.h -- the validate stage: the first gate every upload passes.
 *
 * Pure processor: metadata caps, JSON parse and schema check, creator
 * lookup, signature over the exact bytes, created-time window, replay and
 * duplicate detection, SHA-256.  Its lookups sit behind sl_validate_lookup
 * so unit tests give it an in-memory registry and the service gives it
 * PostgreSQL (validate_pg.c).
 */
#ifndef SL_VALIDATE_H
#define SL_VALIDATE_H

#include "sl/crypto.h"
#include "sl/processor.h"

/* One message's claim on an upload id (see sl_validate_lookup.claim). */
typedef struct sl_validate_claim {
    const char *upload_id;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int earlier;          /* out: 1 if another message claimed it first */
} sl_validate_claim;

typedef struct sl_validate_lookup {
    void *u;
    /* Finds a creator.  SL_OK with *key borrowed (valid until the next call
     * of this function), SL_ENOTFOUND, or SL_EIO when the registry is
     * unreachable (the message is retried, not rejected). */
    int (*creator)(void *u, const char *creator_id, sl_key **key,
                   int *active, int *verified);
    /* *seen = 1 if this upload id was already accepted; SL_OK or SL_EIO. */
    int (*upload_seen)(void *u, const char *upload_id, int *seen);
    /* *seen = 1 if this content is already accepted into the dataset. */
    int (*content_seen)(void *u, const char *dataset_id, const char *sha256,
                        int *seen);
    /* Optional: upload_seen and content_seen for a whole run of messages
     * in one go.  Calls seen_upload(arg, id) for each of upload_ids that
     * was already accepted, and seen_content(arg, dataset, sha) for each
     * accepted sample whose hash is among shas.  SL_OK or SL_EIO. */
    int (*prefetch)(void *u, const char *const *upload_ids, size_t n_ids,
                    const char *const *shas, size_t n_shas,
                    void (*seen_upload)(void *arg, const char *upload_id),
                    void (*seen_content)(void *arg, const char *dataset_id,
                                         const char *sha256),
                    void *arg);
    /* Optional.  Called when a creator check or signature fails: drops the
     * cached record of creator_id if it is older than the re-check age, so
     * a key rotated or a creator registered moments ago is seen.  Returns 1
     * if it dropped one (validate then looks the creator up once more). */
    int (*recheck)(void *u, const char *creator_id);
    /* Optional.  Records durably, before their outcomes are produced,
     * that the messages of a run consume these upload ids (idempotent for
     * the same topic, partition and offset: a retried run), and sets
     * c[i].earlier when a claim on the same id existed before this call
     * from another message read first: another topic or partition, or an
     * earlier offset of the same one.  The ids of one call are distinct.
     * SL_OK or SL_EIO. */
    int (*claim)(void *u, sl_validate_claim *c, size_t n);
    /* Optional.  For a message of the replay topic (sluice.replay, which
     * only the operators may write): whether the operators' replay
     * request request_id holds an item for upload_id whose bytes hash to
     * sha256 (*requested), and whether the upload is already a sample or a
     * review item (*accepted).  SL_OK or SL_EIO.  Without it, or without
     * claim, every message of the replay topic is refused. */
    int (*replay)(void *u, const char *request_id, const char *upload_id,
                  const char *sha256, int *requested, int *accepted);
    void (*destroy)(void *u);   /* optional */
} sl_validate_lookup;

typedef struct sl_validate sl_validate;

/* The options the stage declares (schemas/README.md lists them). */
extern const sl_cfg_entry sl_validate_config[];

/* Creates a validator using `lk` (copied; lk->u is owned by the validator
 * and released with lk->destroy). */
int  sl_validate_new(sl_validate **v, const sl_config *cfg,
                     const sl_validate_lookup *lk, sl_err *err);
void sl_validate_destroy(sl_validate *v);
sl_verdict sl_validate_process(sl_validate *v, const sl_msg *in, sl_out *out);
/* Looks up, in one go, what process() would ask the registry about each of
 * msgs[0..n) (lk.prefetch; nothing without it).  SL_OK or SL_EIO. */
int sl_validate_prepare(sl_validate *v, const sl_msg *msgs, size_t n);
/* Makes this transaction's "seen" entries permanent (committed = 1) or
 * forgets them (0). */
void sl_validate_txn_end(sl_validate *v, int committed);

/* The PostgreSQL-backed lookup and the stage descriptor handed to the
 * runner (validate_pg.c): both exist in the sluice-validate binary only,
 * not in the processor library. */
int sl_validate_pg_lookup(sl_validate_lookup *lk, const sl_config *cfg,
                          sl_err *err);
extern const sl_processor sl_validate_stage;

#endif
