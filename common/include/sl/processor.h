/*
 * processor.h -- the contract between a pipeline stage and the runner.
 *
 * A processor is pure: bytes + headers in, verdict + bytes + headers out.
 * It never includes rdkafka.h.  Its lookups (creators, datasets, ...) sit
 * behind small interfaces of its own, so unit tests feed it in-memory ones.
 *
 * Lifecycle: init() once with the merged configuration; prepare() per
 * run of consumed messages; process() per message; txn_end() after each
 * batch's transaction ends, with committed=1 or 0 (abort), so caches of
 * "seen" state can be made transactional; destroy() once.  All callbacks run on the runner's single thread.
 */
#ifndef SL_PROCESSOR_H
#define SL_PROCESSOR_H

#include "sl/common.h"
#include "sl/config.h"
#include "sl/msg.h"

typedef struct sl_processor {
    const char *name;                 /* stage name, e.g. "validate" */
    const char *default_input;        /* comma-separated topic list */
    const char *default_output;       /* topic for SL_EMIT */
    const sl_cfg_entry *config_map;   /* stage options, SL_CFG_END-terminated */

    int  (*init)(void **ctx, const sl_config *cfg, sl_err *err);
    /* Optional: called with each run of consumed messages before process()
     * sees them one by one, in the same order, so a processor can batch
     * its lookups (one query per run instead of one per message).  SL_OK,
     * or SL_EIO to abort the transaction and retry the run. */
    int  (*prepare)(void *ctx, const sl_msg *msgs, size_t n);
    sl_verdict (*process)(void *ctx, const sl_msg *in, sl_out *out);
    void (*txn_end)(void *ctx, int committed);          /* optional */
    void (*destroy)(void *ctx);
} sl_processor;

#endif
