/*
 * kafka.c -- librdkafka configuration built from sluice's layered config,
 * topic names, and where partitions resume after a partial run.
 */
#include <string.h>

#include "sl/kafka.h"

typedef struct conf_ctx {
    rd_kafka_conf_t *conf;
    sl_err *err;
} conf_ctx;

static int set_one(void *u, const char *k, const char *v)
{
    conf_ctx *c = u;
    char errstr[512];

    if (rd_kafka_conf_set(c->conf, k, v, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        sl_err_set(c->err, "kafka.%s: %s", k, errstr);
        return SL_EINVAL;
    }
    return SL_OK;
}

rd_kafka_conf_t *sl_kafka_conf(const sl_config *cfg, const char *const *defaults,
                               sl_err *err)
{
    conf_ctx c = { rd_kafka_conf_new(), err };

    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (set_one(&c, defaults[i], defaults[i + 1]) != SL_OK)
            goto fail;
    if (!sl_config_get(cfg, "kafka.bootstrap.servers")) {
        sl_err_set(err, "no Kafka brokers: set kafka.bootstrap.servers or "
                   "SLUICE_KAFKA_BROKERS");
        goto fail;
    }
    if (sl_config_each_prefix(cfg, "kafka.", set_one, &c) != SL_OK)
        goto fail;
    return c.conf;
fail:
    rd_kafka_conf_destroy(c.conf);
    return NULL;
}

void sl_kafka_topic_name(const sl_config *cfg, const char *name, char *out,
                         size_t outsz)
{
    (void)sl_topology_prefixed(sl_config_get(cfg, "topic.prefix"), name, out,
                               outsz);
}

void sl_kafka_resume_before(rd_kafka_topic_partition_list_t *pos,
                            const sl_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
            pos, msgs[i].topic, msgs[i].partition);
        if (p && (p->offset < 0 || msgs[i].offset < p->offset))
            p->offset = msgs[i].offset;
    }
}
