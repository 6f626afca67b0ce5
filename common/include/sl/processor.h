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
 * "seen" state can be made transactional; destroy() once.  All callbacks
 * run on the runner's single thread.
 *
 * Batch contract: the runner hands prepare() an array msgs[0..n) and then
 * process() each element of that same array, in order, with
 * msgs[i].run_index == i.  A processor keeps what it prepared per slot and
 * finds a message's slot with sl_msg_run_slot(msgs, n, in) (msg.h): the
 * index, checked to be a view of the same record, or SL_RUN_NONE for a
 * message outside the run (run_index SL_RUN_NONE; tests build such ones),
 * which it then handles on its own.  What prepare() learnt by value (the
 * registry's answers, keyed by id or hash) may still be looked up by value;
 * only "my prepared result" goes by slot.  A run's answers serve that
 * run only: the next prepare() replaces them (a processor may drop them
 * sooner, at txn_end()).
 *
 * Whose fault: one bad message never stops a stage.  A processor tells the
 * runner whom to blame when it cannot decide a message:
 *
 *   SL_RETRY      the environment (its database, a registry) is unavailable
 *                 right now; the message is not at fault.  The runner
 *                 aborts the transaction, backs off (200 ms doubling to
 *                 5 s) and retries; the attempt is not counted against the
 *                 message.  When nothing has been committed for
 *                 retry.budget.ms (default 5 min) of such failures the
 *                 stage exits non-zero and its supervisor backs off.
 *   SL_ENV_FATAL  the environment is gone for good (the processor's own
 *                 retry budget is spent, a credential was refused): the
 *                 stage exits non-zero at once.
 *   SL_FATAL      this message cannot be handled: a fault tied to it (a
 *                 limit, a failed allocation for its size, a bug it
 *                 triggers); sl_out_fail() says why.  The runner aborts and
 *                 retries it (message.max.attempts, default 3, counted per
 *                 topic/partition/offset across aborts), then quarantines
 *                 it: a dead letter with code stage_error and the detail,
 *                 in place of whatever the processor had put in its sl_out.
 *
 * A message whose output the producer refuses locally (larger than its
 * message.max.bytes) is quarantined the same way at once.  prepare()
 * returning an error blames the environment, like SL_RETRY, and so does a
 * transaction the broker will not commit.
 */
#ifndef SL_PROCESSOR_H
#define SL_PROCESSOR_H

#include "sl/common.h"
#include "sl/config.h"
#include "sl/msg.h"
#include "sl/topology.h"

typedef struct sl_processor {
    /* Its row of the topology (sl/topology.h): the stage's name, default
     * input, output, route and dead-letter topics, group and txn ids. */
    const sl_topo_stage *stage;
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
