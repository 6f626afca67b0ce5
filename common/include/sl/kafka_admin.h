/*
 * kafka_admin.h -- Kafka administration for operators' tools: creating the
 * pipeline's topics, a producer for uploads, and consumer-lag queries.
 *
 * Used by sluicectl and test/bench tools; processors never include it (the
 * runner is the only Kafka client of a stage).  Every function takes the
 * layered sl_config so `kafka.*` keys reach librdkafka (see sl/kafka.h).
 *
 * Offsets: "committed" is the next offset a group will read, -1 when the
 * group has none for that partition; "high" is the high watermark (for
 * read_committed clients, the last stable offset).  Lag is high - committed,
 * or high - low when nothing is committed (everything retained is unread).
 * Transaction control markers occupy offsets, so a caught-up consumer of a
 * transactional topic can show a lag of 1 until the next transaction.
 */
#ifndef SL_KAFKA_ADMIN_H
#define SL_KAFKA_ADMIN_H

#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "sl/config.h"

#define SL_KAFKA_NAME_MAX 256

typedef enum sl_kafka_topic_state {
    SL_KAFKA_TOPIC_CREATED,
    SL_KAFKA_TOPIC_EXISTS,
    SL_KAFKA_TOPIC_FAILED
} sl_kafka_topic_state;

/* The outcome for one topic of sl_kafka_create_topics(). */
typedef struct sl_kafka_topic_result {
    char name[SL_KAFKA_NAME_MAX];
    sl_kafka_topic_state state;
    int partitions;          /* actual count when known, else -1 */
    int config_updated;      /* existing topic's config was brought in line */
    char error[SL_ERRBUF_SIZE];
} sl_kafka_topic_result;

/* Creates each of names[0..n) with the given partitions and replication
 * factor and the topic configs in topic_config (NULL-terminated key/value
 * pairs).  A topic that already exists is fine: its partition count is
 * reported and any differing topic_config value is altered in place, keeping
 * its other dynamic configs.  results[] (n entries) says what happened to
 * each.  Returns SL_OK when every topic exists afterwards, SL_ERR when some
 * failed (reasons in results), SL_EIO when the cluster could not be reached
 * (reason in err). */
int sl_kafka_create_topics(const sl_config *cfg, const char *const *names,
                           size_t n, int partitions, int replication,
                           const char *const *topic_config, int timeout_ms,
                           sl_kafka_topic_result *results, sl_err *err);

#define SL_KAFKA_CONFIG_VAL_MAX 256

/* Reads the current values of topic's configs named in keys[0..n) into
 * vals[i] ("" when the broker reports none).  SL_OK, SL_ENOTFOUND when the
 * topic does not exist, SL_EIO (reason in err) otherwise. */
int sl_kafka_topic_configs(const sl_config *cfg, const char *topic,
                           const char *const *keys, size_t n,
                           char (*vals)[SL_KAFKA_CONFIG_VAL_MAX],
                           int timeout_ms, sl_err *err);

/* A producer from cfg over the given defaults (NULL-terminated key/value
 * pairs, overridable by `kafka.*`), delivering reports to dr_msg_cb with
 * `opaque`.  Must be destroyed with rd_kafka_destroy().  NULL with err set
 * on failure. */
rd_kafka_t *sl_kafka_producer_new(const sl_config *cfg,
                                  const char *const *defaults,
                                  void (*dr_msg_cb)(rd_kafka_t *,
                                                    const rd_kafka_message_t *,
                                                    void *),
                                  void *opaque, sl_err *err);

/* A consumer handle configured with group.id = group (NULL: none), never
 * subscribed, for reading the group's committed offsets, watermarks and
 * metadata.  Must be destroyed with rd_kafka_destroy(). */
rd_kafka_t *sl_kafka_offsets_client_new(const sl_config *cfg, const char *group,
                                        sl_err *err);

/* Partition count of topic, 0 when the topic does not exist.  Uses a
 * metadata request for all topics, which never auto-creates one. */
int sl_kafka_topic_partitions(rd_kafka_t *rk, const char *topic,
                              int timeout_ms, int *count, sl_err *err);

/* The same for one topic, asked about by name through rk: a producer then
 * knows where the topic lives before its first record (librdkafka
 * otherwise looks a new topic up only from a scan that runs once a
 * second).  Never auto-creates the topic unless rk was configured with
 * allow.auto.create.topics.  SL_OK with *count (0: no such topic), or
 * SL_EIO with err. */
int sl_kafka_topic_lookup(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          int *count, sl_err *err);

/* The group's committed offsets for partitions 0..nparts-1 of topic (rk from
 * sl_kafka_offsets_client_new with that group): out[p] = next offset, or -1
 * when none is committed. */
int sl_kafka_committed(rd_kafka_t *rk, const char *topic, int nparts,
                       int timeout_ms, int64_t *out, sl_err *err);

/* One partition's position. */
typedef struct sl_kafka_part_lag {
    int32_t partition;
    int64_t committed;   /* -1: nothing committed */
    int64_t low;
    int64_t high;
    int64_t lag;
} sl_kafka_part_lag;

/* Queries the watermarks of partitions 0..nparts-1 of topic and fills
 * out[p] from committed[p] (which may be NULL: nothing committed). */
int sl_kafka_lag(rd_kafka_t *rk, const char *topic, int nparts,
                 const int64_t *committed, int timeout_ms,
                 sl_kafka_part_lag *out, sl_err *err);

#endif
