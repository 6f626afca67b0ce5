/*
 * cmd_topics.c -- `sluicectl topics create`: the pipeline's topics (with
 * topic.prefix) through the Kafka Admin API, each allowing 16 MiB messages.
 * Topics that already exist are fine; their max.message.bytes is brought
 * in line if it differs.
 */
#include <stdio.h>

#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "ctl.h"

#define TOPIC_COUNT 6

static const char topics_usage[] =
    "usage: sluicectl topics <command>\n"
    "Manage the pipeline's Kafka topics (kafka.bootstrap.servers /\n"
    "SLUICE_KAFKA_BROKERS; names prefixed with topic.prefix).\n";

static const char create_usage[] =
    "usage: sluicectl topics create [--partitions N] [--replication N]\n"
    "Create sluice.uploads, sluice.validated, sluice.scanned, sluice.flagged,\n"
    "sluice.licensed and sluice.rejected (each prefixed with topic.prefix),\n"
    "with max.message.bytes=16777216.  Existing topics are left as they are,\n"
    "except that max.message.bytes is set if it differs.\n"
    "  --partitions N    partitions per new topic (default 3)\n"
    "  --replication N   replication factor of new topics (default 1)\n";

static int topics_create(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "partitions", required_argument, NULL, 'p' },
        { "replication", required_argument, NULL, 'r' },
        { 0 }
    };
    static const char *const base[TOPIC_COUNT] = {
        SL_TOPIC_UPLOADS, SL_TOPIC_VALIDATED, SL_TOPIC_SCANNED,
        SL_TOPIC_FLAGGED, SL_TOPIC_LICENSED, SL_TOPIC_REJECTED
    };
    static const char *const topic_config[] = {
        "max.message.bytes", "16777216", NULL
    };
    char names[TOPIC_COUNT][SL_KAFKA_NAME_MAX];
    const char *name_ptrs[TOPIC_COUNT];
    sl_kafka_topic_result res[TOPIC_COUNT];
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

    for (int i = 0; i < TOPIC_COUNT; i++) {
        sl_kafka_topic_name(c->cfg, base[i], names[i], sizeof(names[i]));
        name_ptrs[i] = names[i];
    }
    rc = sl_kafka_create_topics(c->cfg, name_ptrs, TOPIC_COUNT, (int)partitions,
                                (int)replication, topic_config,
                                (int)sl_config_int(c->cfg, "timeout.ms"), res,
                                &err);
    if (rc != SL_OK && rc != SL_ERR)
        return ctl_fail("topics create: %s", err.msg);
    for (int i = 0; i < TOPIC_COUNT; i++) {
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
                       r->config_updated ? ", max.message.bytes updated" : "");
            else
                printf("exists   %s%s\n", r->name, r->config_updated ?
                       " (max.message.bytes updated)" : "");
            break;
        case SL_KAFKA_TOPIC_FAILED:
            ctl_fail("topics create: %s: %s", r->name, r->error);
            failed++;
            break;
        }
    }
    return failed ? CTL_FAIL : CTL_OK;
}

int ctl_cmd_topics(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "create", topics_create, "create the pipeline's topics" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "topics", subs, argc, argv, topics_usage);
}
