/*
 * license_stage.h -- the license stage: binds every sample to a license
 * that a lawyer and a program can both read, and refuses what the dataset,
 * the creator's own signals or the registry do not allow.
 *
 * Pure processor: the SPDX list, rights table and policies come from
 * spdx.h / rights.h; the registry (datasets' policies, contributors and
 * quotas, opt-outs, takedowns, today's usage) sits behind
 * sl_license_lookup, PostgreSQL in the service (license_pg.c), in memory in
 * the unit tests.
 *
 * Checks, in order, each with its reason code: metadata readable
 * (meta_invalid), dataset registered (dataset_unknown), license expression
 * (license_missing, license_invalid, license_unknown, license_deprecated),
 * rights attestation (attestation_missing), the creator's reservations
 * (use_reserved), opt-out (opted_out), takedown (taken_down), entitlement
 * (not_entitled), daily quota (quota_exceeded), the dataset's license
 * policy (license_not_allowed).  An accepted sample carries the bound
 * license record in sluice-license and a provenance event.
 *
 * A message of sluice.reviewed (topic.prefix + SL_TOPIC_REVIEWED, known by
 * its topic, never a header) is a flagged sample a moderator let on: its
 * chain must verify and end with a review event approved or redacted whose
 * output is these bytes (review_unverified, checked after meta_invalid);
 * its chain, and the takedown check, start at the flagged bytes' hash (the
 * review event's input).  Then the same checks as any sample.
 */
#ifndef SL_LICENSE_STAGE_H
#define SL_LICENSE_STAGE_H

#include "sl/processor.h"

/* What the registry says about a dataset.  Strings borrowed until the
 * next call of the lookup. */
typedef struct sl_license_dataset {
    int open;                    /* any creator may contribute */
    const char *policy_json;     /* datasets.license_policy, or NULL */
    const char *policy_version;  /* when the policy last changed */
    int64_t quota_count;         /* per creator per UTC day, -1: none */
    int64_t quota_bytes;         /* -1: none */
} sl_license_dataset;

/* Facts about one message asked of the registry in bulk (prefetch). */
typedef struct sl_license_ask {
    const char *creator_id, *dataset_id, *sha256, *original_sha256;
    /* answers */
    int opted_out, taken_down, contributor;
    int64_t used_count, used_bytes;   /* accepted today, this creator+dataset */
} sl_license_ask;

typedef struct sl_license_lookup {
    void *u;
    /* SL_OK, SL_ENOTFOUND, or SL_EIO (the message is retried). */
    int (*dataset)(void *u, const char *dataset_id, sl_license_dataset *out);
    /* Fills the answers of asks[0..n): SL_OK or SL_EIO. */
    int (*ask)(void *u, sl_license_ask *asks, size_t n);
    void (*destroy)(void *u);    /* optional */
} sl_license_lookup;

typedef struct sl_license_stage sl_license_stage;

extern const sl_cfg_entry sl_license_config[];

/* lk is copied; lk->u is owned by the stage from then on. */
int  sl_license_new(sl_license_stage **out, const sl_config *cfg,
                    const sl_license_lookup *lk, sl_err *err);
void sl_license_destroy(sl_license_stage *s);
int  sl_license_prepare(sl_license_stage *s, const sl_msg *msgs, size_t n);
sl_verdict sl_license_process(sl_license_stage *s, const sl_msg *in, sl_out *out);
void sl_license_txn_end(sl_license_stage *s, int committed);
/* The wall clock the daily quotas count by (sl_now_ms unless set; NULL
 * restores it): tests move time themselves. */
void sl_license_set_clock(sl_license_stage *s, int64_t (*now_ms)(void));

/* The PostgreSQL-backed lookup and the stage descriptor handed to the
 * runner (license_pg.c): both exist in the sluice-license binary only,
 * not in the processor library. */
int sl_license_pg_lookup(sl_license_lookup *lk, const sl_config *cfg, sl_err *err);

extern const sl_processor sl_license_processor;

#endif
