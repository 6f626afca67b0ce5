/*
 * commit.h -- the commit stage: the end of the chain, writing accepted
 * samples, rejections and provenance events into PostgreSQL exactly once.
 *
 * The pure part (commit.c) turns each consumed message into a row
 * description without touching the database, so it is unit-tested with
 * fixtures.  The sink (commit_pg.c) decides replays and duplicates against
 * the database, appends the commit provenance event and writes a batch with
 * its offsets in one transaction.
 */
#ifndef SL_COMMIT_H
#define SL_COMMIT_H

#include <jansson.h>

#include "sl/crypto.h"
#include "sl/msg.h"
#include "sl/runner.h"

typedef enum sl_row_kind {
    SL_ROW_SAMPLE = 0,
    SL_ROW_REJECTION,
    SL_ROW_REVIEW,             /* flagged by scan: stored for moderators */
    SL_ROW_SKIP                /* stored already (a relay sent it again):
                                * nothing to write, only its offset */
} sl_row_kind;

#define SL_ID_MAX 256
#define SL_COMMIT_DETAIL_MAX 4096   /* a dead letter's detail, bytes kept */

/* One message, described for the database.  Strings are owned by the row
 * (sl_commit_row_clear frees them); content points into the message. */
typedef struct sl_commit_row {
    sl_row_kind kind;
    /* identity and metadata */
    char *upload_id, *creator_id, *dataset_id, *content_type;
    char *license_expression, *filename, *created_at, *signature;
    sl_slice meta;              /* exact sluice-meta bytes (borrowed) */
    sl_slice content;           /* value (borrowed) */
    char sha256[SL_SHA256_HEX];
    int64_t size;               /* the value's size; for a dead letter the
                                 * refused value's (it may be withheld) */
    /* rejection details */
    char *stage, *code, *detail;
    int64_t rejected_ms;
    /* where the deciding stage read it: the rejection's identity */
    char *source_topic;
    int32_t source_partition;
    int64_t source_offset;
    sl_slice prov;              /* incoming sluice-prov chain (borrowed) */
    /* from the scan stage's sluice-scan header, when present */
    char *detected_type;
    char *scan;                 /* the header's JSON text */
    char original_sha256[SL_SHA256_HEX];   /* "" unless redacted */
    char *license;              /* the license stage's record (JSON), or NULL */
    struct sl_prov_chain *chain;   /* prov parsed and verified, or NULL; owned */
    /* The chain's last review event (a moderator's decision), if any:
     * review_seq 0 when there is none.  A sample carrying one is stored
     * only once the database confirms it (sl_commit_review_rows). */
    int64_t review_seq;
    char review_hash[SL_SHA256_HEX];
    char review_outcome[16];    /* approved, redacted, rejected; "" other */
} sl_commit_row;

/* The topics whose messages are not samples, full names (prefix included). */
typedef struct sl_commit_topics {
    const char *rejected;       /* dead letters: rejections */
    const char *flagged;        /* scan's flagged samples: review items */
} sl_commit_topics;

/* Describes one message.  What it is follows from the topic it was read
 * from, never from its headers (a creator can attach any): a message from
 * the rejected topic becomes a rejection, its sluice-reject-* headers
 * parsed defensively (see describe_rejection); one from the flagged topic a
 * review item (its sluice-scan outcome must say "flagged"); anything else a
 * sample (a "flagged" scan result there is scan_invalid).
 * A sample or review item that is unusable (no or bad metadata or scan
 * header by sl/envelope.h's rules, broken provenance) becomes a rejection by stage "commit" with a
 * reason code.  A redacted sample's provenance chain starts at the hash of
 * what the creator signed (sluice-scan original_sha256).  A dead letter's
 * sha256 and size are the refused value's, from sluice-reject-value-sha256
 * and -size when present (the runner may withhold the value itself).
 * Returns SL_OK or SL_ENOMEM. */
int  sl_commit_describe(const sl_msg *m, const sl_commit_topics *topics,
                        sl_commit_row *row);
void sl_commit_row_clear(sl_commit_row *row);
/* The hash the provenance chain starts at: original_sha256 when the scan
 * stage redacted the bytes, else the content's. */
const char *sl_commit_row_origin(const sl_commit_row *row);

/* A flagged sample a moderator let on (schemas/README.md, "Review"): its
 * chain holds a review event approved or redacted.  Such a row is a sample
 * (its sluice-scan still says flagged), and for a redacted one the chain
 * starts at the flagged bytes' hash (the review event's input), which
 * becomes original_sha256.  1 when the row is one. */
int  sl_commit_row_reviewed(const sl_commit_row *row);

/* Turns a sample row into a commit rejection (replay / duplicate). */
int  sl_commit_row_reject(sl_commit_row *row, const char *code,
                          const char *detail);

/* Finding the rows of a batch the database refuses (a data error: SQLSTATE
 * class 22, 23 or 54), so that each becomes a rejection and the others are
 * stored, instead of the whole batch failing again and again.
 *
 * try_(ctx, idx, k) writes the rows idx[0..k) in a transaction it rolls
 * back and returns 0 when they would be stored, 1 when the database
 * refuses them with a data error, or a negative SL_ code for anything else
 * (a connection lost), which stops the search and is returned as is.
 *
 * Given a set idx[0..k) that fails, sl_commit_bisect sets bad[idx[i]] = 1
 * for its offenders: the set is halved and each failing half searched
 * again, so one poison row among n costs about 2 log2(n) tries.  When both
 * halves write on their own but not together (rows that clash), rows of
 * the second half are added to the first one at a time and those that
 * break it are the offenders.  At least one row is marked.  Returns SL_OK,
 * SL_ENOMEM or try_'s negative code. */
typedef int (*sl_commit_try_fn)(void *ctx, const size_t *idx, size_t k);
int sl_commit_bisect(const size_t *idx, size_t k, sl_commit_try_fn try_,
                     void *ctx, unsigned char *bad);

/* An exact set of (a, b) string pairs for commit's decisions (replay,
 * duplicate, content already stored).  The caller's 64-bit fingerprint
 * (sl_fpset_fp) places an entry; membership is always confirmed on the
 * full strings, so two pairs whose fingerprints collide stay distinct:
 * a collision can neither refuse a good upload nor skip storing content.
 * Adding a pair already there changes nothing.  Grows without a cap
 * (bounded by the batch).  SL_OK or SL_ENOMEM. */
typedef struct sl_pairset sl_pairset;
sl_pairset *sl_pairset_new(void);
void sl_pairset_destroy(sl_pairset *s);
int  sl_pairset_add(sl_pairset *s, uint64_t fp, const char *a, const char *b);
int  sl_pairset_has(const sl_pairset *s, uint64_t fp, const char *a, const char *b);

/* The database's word on the batch's reviewed samples (commit_review_pg.c,
 * in the binary only): each SL_ROW_SAMPLE row with a review event is kept
 * only when review_items holds its upload with state = the event's
 * outcome, the event is, hash for hash, the one stored for owner (review,
 * upload id) at that seq, and its sluice-scan is the stored findings;
 * otherwise it becomes a review_unverified rejection.  One already stored
 * as a sample, or earlier in the batch, becomes SL_ROW_SKIP (a relay
 * sending it twice), and so does any row carrying a review event whose
 * decision already ended as a rejection (stored with that event in its
 * chain, or earlier in the batch).  Dead letters whose source position,
 * upload id, stage, code and hash are stored as a rejection already, or
 * earlier in the batch, become SL_ROW_SKIP too.  conn is a PGconn inside
 * the batch's transaction.  SL_OK, SL_ENOMEM, or SL_EIO with err and
 * sqlstate (6 bytes, "" when none) set. */
struct pg_conn;
int sl_commit_review_rows(struct pg_conn *conn, sl_commit_row *rows, size_t n,
                          char sqlstate[6], sl_err *err);

/* The sink handed to the runner (commit_pg.c, in the sluice-commit binary
 * only, not in the sl_commit_proc library). */
extern const sl_sink sl_commit_stage;

#endif
