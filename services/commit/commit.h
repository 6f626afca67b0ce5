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
    SL_ROW_REVIEW              /* flagged by scan: stored for moderators */
} sl_row_kind;

#define SL_ID_MAX 256

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
} sl_commit_row;

/* Describes one message.  A message from the rejected topic (it carries
 * sluice-reject-code) becomes a rejection; one the scan stage flagged
 * (sluice-scan outcome "flagged") a review item; anything else a sample.
 * A sample or review item that is unusable (no or bad metadata or scan
 * header, broken provenance) becomes a rejection by stage "commit" with a
 * reason code.  A redacted sample's provenance chain starts at the hash of
 * what the creator signed (sluice-scan original_sha256).  A dead letter's
 * sha256 and size are the refused value's, from sluice-reject-value-sha256
 * and -size when present (the runner may withhold the value itself).
 * Returns SL_OK or SL_ENOMEM. */
int  sl_commit_describe(const sl_msg *m, sl_commit_row *row);
void sl_commit_row_clear(sl_commit_row *row);
/* The hash the provenance chain starts at: original_sha256 when the scan
 * stage redacted the bytes, else the content's. */
const char *sl_commit_row_origin(const sl_commit_row *row);

/* Turns a sample row into a commit rejection (replay / duplicate). */
int  sl_commit_row_reject(sl_commit_row *row, const char *code,
                          const char *detail);

extern const sl_sink sl_commit_stage;

#endif
