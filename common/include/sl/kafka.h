/*
 * kafka.h -- librdkafka configuration from an sl_config.  Only the runner,
 * sluicectl and test/bench tools include this; processors never do.
 *
 * Topic names: the pipeline's topics are those of sl/topology.h; every
 * name is prefixed with `topic.prefix` (empty by default) so test runs can
 * use private topics on a shared broker.
 */
#ifndef SL_KAFKA_H
#define SL_KAFKA_H

#include <librdkafka/rdkafka.h>
#include "sl/config.h"
#include "sl/msg.h"
#include "sl/topology.h"

/* Builds a librdkafka conf from every `kafka.*` key of cfg (prefix
 * stripped), on top of the given defaults (NULL-terminated key/value
 * pairs, which the config may override).  NULL with err set on failure. */
rd_kafka_conf_t *sl_kafka_conf(const sl_config *cfg, const char *const *defaults,
                               sl_err *err);

/* Where partitions resume when msgs[0..n) were read but not processed:
 * each partition's offset in pos (a consumer's positions) is lowered to
 * the first of those messages on it, or set to it when pos has no valid
 * offset; partitions absent from pos are left out. */
void sl_kafka_resume_before(rd_kafka_topic_partition_list_t *pos,
                            const sl_msg *msgs, size_t n);

/* Writes topic.prefix + name into out. */
void sl_kafka_topic_name(const sl_config *cfg, const char *name, char *out,
                         size_t outsz);

#endif
