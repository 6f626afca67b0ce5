/*
 * runner.h -- the one place that talks to Kafka.
 *
 * sl_runner_main() runs a processor as librdkafka's transactional
 * consume-transform-produce loop: stable transactional.id per instance,
 * auto-commit off, read_committed, a transaction per batch (N messages or
 * T ms) carrying the consumed offsets, abort + rewind on abortable errors,
 * exit non-zero on fatal ones (fenced included), commit on revoke, abort on
 * lost assignment, graceful SIGTERM/SIGINT.  Rejections are dead-lettered to
 * the rejected topic inside the same transaction.
 *
 * sl_sink_main() runs a sink (the end of the chain): messages are consumed
 * in batches and handed to the sink, which writes them and the next offsets
 * atomically into its own store; on assignment the runner seeks to the
 * offsets the sink reports.  Kafka offsets are committed too, but only as a
 * lag indicator: the sink's store is the source of truth.
 *
 * Both return the process exit code: 0 after a clean shutdown, 1 on a fatal
 * error, 2 on bad configuration.
 */
#ifndef SL_RUNNER_H
#define SL_RUNNER_H

#include "sl/metrics.h"
#include "sl/processor.h"

typedef struct sl_tp_offset {
    const char *topic;     /* borrowed */
    int32_t partition;
    int64_t offset;        /* next offset to read; -1 when unknown */
} sl_tp_offset;

typedef struct sl_sink {
    const sl_topo_stage *stage;       /* its row of sl/topology.h */
    const sl_cfg_entry *config_map;

    int  (*init)(void **ctx, const sl_config *cfg, sl_err *err);
    /* Fills tps[i].offset with the stored next offset (or -1). */
    int  (*load_offsets)(void *ctx, const char *group, sl_tp_offset *tps,
                         size_t n, sl_err *err);
    /* Writes the batch and the offsets in one atomic unit.  Returns SL_OK;
     * SL_EIO when the store failed in a way a reconnect may cure (the runner
     * then reloads offsets and rewinds); anything else is fatal. */
    int  (*write_batch)(void *ctx, const char *group, const sl_msg *msgs,
                        size_t n, const sl_tp_offset *next, size_t n_next,
                        sl_err *err);
    void (*destroy)(void *ctx);
    /* Optional: declares the sink's own metrics in reg (sl/metrics.h),
     * once, after init; the sink updates them from write_batch.  The
     * registry outlives ctx.  SL_OK or an error (err says). */
    int  (*metrics)(void *ctx, sl_metrics *reg, sl_err *err);
    /* Optional: checks that the store answers (one cheap round trip),
     * called every few seconds while no batch is open, for /ready.  SL_OK
     * or an error (err says). */
    int  (*ping)(void *ctx, sl_err *err);
} sl_sink;

/* Options every runner understands (documented by -h):
 *   input.topics, output.topic, rejected.topic, topic.prefix, group.id,
 *   instance.id, batch.size, batch.ms, log.level, metrics.listen, kafka.*
 * Both serve GET /metrics, /health and /ready on metrics.listen
 * (sl/health.h; the metric names are in docs/metrics.md). */
int sl_runner_main(const sl_processor *p, int argc, char **argv);
int sl_sink_main(const sl_sink *s, int argc, char **argv);

#endif
