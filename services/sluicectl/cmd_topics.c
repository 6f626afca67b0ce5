/*
 * cmd_topics.c -- `sluicectl topics create | describe`: the pipeline's
 * topics (with topic.prefix) through the Kafka Admin API, each allowing
 * 16 MiB messages and each with a retention: what was refused (blocked
 * content among it) must not stay on the broker for ever.  The topics and
 * their retention classes are sl/topology.h's: the input and intermediate
 * topics keep topic.retention.ms (7 days by default), dead letters
 * topic.rejected.retention.ms (30 days).
 * Topics that already exist are fine; these configs are brought in line
 * where they differ.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "ctl.h"

#define TOPIC_MAX   32    /* rows of sl_topology_topics, at most */
#define TOPIC_KEYS  3     /* max.message.bytes, retention.ms, retention.bytes */
static const char *const topic_keys[TOPIC_KEYS] = {
    "max.message.bytes", "retention.ms", "retention.bytes"
};

static const char topics_usage[] =
    "usage: sluicectl topics <command>\n"
    "Manage the pipeline's Kafka topics (kafka.bootstrap.servers /\n"
    "SLUICE_KAFKA_BROKERS; names prefixed with topic.prefix).\n";

static const char create_usage[] =
    "usage: sluicectl topics create [--partitions N] [--replication N]\n"
    "Create sluice.uploads, sluice.validated, sluice.scanned, sluice.flagged,\n"
    "sluice.licensed, sluice.reviewed, sluice.rejected and sluice.replay (each\n"
    "prefixed with "
    "topic.prefix),\n"
    "with max.message.bytes=16777216 and a retention: retention.ms and\n"
    "retention.bytes from topic.retention.ms (default 7 days) and\n"
    "topic.retention.bytes (default -1, none), for sluice.rejected from\n"
    "topic.rejected.retention.ms (default 30 days) and\n"
    "topic.rejected.retention.bytes.  Existing topics keep their partitions;\n"
    "those configs are set where they differ.\n"
    "  --partitions N    partitions per new topic (default 3)\n"
    "  --replication N   replication factor of new topics (default 1)\n";

static const char describe_usage[] =
    "usage: sluicectl topics describe\n"
    "Print each pipeline topic's max.message.bytes, retention.ms and\n"
    "retention.bytes as the broker reports them, one line per topic.\n";

/* The topic configs of one class, as NULL-terminated key/value pairs in
 * kv (backed by num). */
static void class_config(ctl *c, sl_retention_class cls, char num[2][24],
                         const char *kv[2 * TOPIC_KEYS + 1])
{
    int rejected = cls == SL_RETAIN_REJECTED;

    snprintf(num[0], 24, "%" PRId64, sl_config_int(c->cfg, rejected ?
             "topic.rejected.retention.ms" : "topic.retention.ms"));
    snprintf(num[1], 24, "%" PRId64, sl_config_int(c->cfg, rejected ?
             "topic.rejected.retention.bytes" : "topic.retention.bytes"));
    kv[0] = topic_keys[0];
    kv[1] = "16777216";
    kv[2] = topic_keys[1];
    kv[3] = num[0];
    kv[4] = topic_keys[2];
    kv[5] = num[1];
    kv[6] = NULL;
}

static int topics_create(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "partitions", required_argument, NULL, 'p' },
        { "replication", required_argument, NULL, 'r' },
        { 0 }
    };
    char names[TOPIC_MAX][SL_KAFKA_NAME_MAX];
    const char *name_ptrs[TOPIC_MAX];
    sl_kafka_topic_result res[TOPIC_MAX];
    size_t n = 0;
    int64_t partitions = 3, replication = 1;
    sl_err err = { "" };
    int opt, rc, failed = 0;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT "p:r:", longopts,
                             "topics create", create_usage)) != -1) {
        switch (opt) {
        case 'p':
            if (ctl_parse_int(optarg, 1, 100000, &partitions) != SL_OK)
                return ctl_usage_error("topics create", "--partitions: \"%s\" "
                                       "is not a number from 1 to 100000",
                                       optarg);
            break;
        case 'r':
            if (ctl_parse_int(optarg, 1, 32767, &replication) != SL_OK)
                return ctl_usage_error("topics create", "--replication: \"%s\" "
                                       "is not a number from 1 to 32767",
                                       optarg);
            break;
        default:
            return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("topics create", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;

    if (sl_topology_n_topics > TOPIC_MAX)
        return ctl_fail("topics create: more than %d topics", TOPIC_MAX);
    /* One CreateTopics request per retention class, the topics of each
     * class together, in the table's order within it. */
    for (int cls = SL_RETAIN_DEFAULT; cls <= SL_RETAIN_REJECTED; cls++) {
        size_t first = n, count;
        char num[2][24];
        const char *kv[2 * TOPIC_KEYS + 1];

        for (size_t i = 0; i < sl_topology_n_topics; i++) {
            if ((int)sl_topology_topics[i].retention != cls)
                continue;
            sl_kafka_topic_name(c->cfg, sl_topology_topics[i].name, names[n],
                                sizeof(names[n]));
            name_ptrs[n] = names[n];
            n++;
        }
        if ((count = n - first) == 0)
            continue;
        if (sl_config_int(c->cfg, cls == SL_RETAIN_REJECTED ?
                          "topic.rejected.retention.ms" :
                          "topic.retention.ms") < -1)
            return ctl_usage_error("topics create", "retention.ms must be -1 "
                                   "(for ever) or more");
        class_config(c, (sl_retention_class)cls, num, kv);
        rc = sl_kafka_create_topics(c->cfg, name_ptrs + first, count,
                                    (int)partitions, (int)replication, kv,
                                    (int)sl_config_int(c->cfg, "timeout.ms"),
                                    res + first, &err);
        if (rc != SL_OK && rc != SL_ERR)
            return ctl_fail("topics create: %s", err.msg);
    }
    for (size_t i = 0; i < n; i++) {
        const sl_kafka_topic_result *r = &res[i];
        switch (r->state) {
        case SL_KAFKA_TOPIC_CREATED:
            /* metadata may lag behind a topic created a moment ago */
            printf("created  %s (%d partitions)\n", r->name,
                   r->partitions > 0 ? r->partitions : (int)partitions);
            break;
        case SL_KAFKA_TOPIC_EXISTS:
            if (r->partitions > 0)
                printf("exists   %s (%d partitions%s%s)\n", r->name,
                       r->partitions,
                       r->partitions < partitions ?
                           ", fewer than asked for: not changed" : "",
                       r->config_updated ? ", config updated" : "");
            else
                printf("exists   %s%s\n", r->name, r->config_updated ?
                       " (config updated)" : "");
            break;
        case SL_KAFKA_TOPIC_FAILED:
            ctl_fail("topics create: %s: %s", r->name, r->error);
            failed++;
            break;
        }
    }
    return failed ? CTL_FAIL : CTL_OK;
}

static int topics_describe(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    char vals[TOPIC_KEYS][SL_KAFKA_CONFIG_VAL_MAX], name[SL_KAFKA_NAME_MAX];
    sl_err err = { "" };
    int opt, rc, failed = 0;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "topics describe", describe_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (optind < argc)
        return ctl_usage_error("topics describe", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    for (size_t i = 0; i < sl_topology_n_topics; i++) {
        sl_kafka_topic_name(c->cfg, sl_topology_topics[i].name, name,
                            sizeof(name));
        /* A topic created a moment ago may not be known to every broker
         * yet: a few tries, 200 ms apart. */
        for (int tries = 0; tries < 10; tries++) {
            rc = sl_kafka_topic_configs(c->cfg, name, topic_keys, TOPIC_KEYS,
                                        vals, (int)sl_config_int(c->cfg,
                                        "timeout.ms"), &err);
            if (rc != SL_ENOTFOUND)
                break;
            usleep(200 * 1000);
        }
        if (rc == SL_ENOTFOUND) {
            printf("%s missing\n", name);
            failed++;
            continue;
        }
        if (rc != SL_OK)
            return ctl_fail("topics describe: %s", err.msg);
        printf("%s %s=%s %s=%s %s=%s\n", name, topic_keys[0], vals[0],
               topic_keys[1], vals[1], topic_keys[2], vals[2]);
    }
    return failed ? CTL_FAIL : CTL_OK;
}

int ctl_cmd_topics(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "create", topics_create, "create the pipeline's topics" },
        { "describe", topics_describe, "print the topics' size and retention configs" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "topics", subs, argc, argv, topics_usage);
}
