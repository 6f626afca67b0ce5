/*
 * topology.h -- the pipeline's shape in one table: each stage (its name,
 * the topics it reads, where it emits, routes and dead-letters, its
 * consumer group and transactional ids) and each topic (its kind and
 * retention class).  Plain C data, no librdkafka, no libpq: the stage
 * descriptors take their defaults from it, the runner names groups and
 * transactional ids with it, `sluicectl status` and `sluicectl topics`
 * iterate it, and a unit test checks deploy/kafka-acls.conf against the
 * grants it derives.  A new stage or topic is one more row here.
 *
 * Names in the table are bare; every topic, group and transactional id a
 * process uses gets topic.prefix in front (sl_topology_prefixed).
 */
#ifndef SL_TOPOLOGY_H
#define SL_TOPOLOGY_H

#include <stddef.h>

/* The topics' names, each written once, here. */
#define SL_TOPIC_UPLOADS   "sluice.uploads"
#define SL_TOPIC_VALIDATED "sluice.validated"
#define SL_TOPIC_SCANNED   "sluice.scanned"
#define SL_TOPIC_FLAGGED   "sluice.flagged"
#define SL_TOPIC_LICENSED  "sluice.licensed"
#define SL_TOPIC_REVIEWED  "sluice.reviewed"
#define SL_TOPIC_REJECTED  "sluice.rejected"
/* Dead letters sent back by `sluicectl dlq replay`: written by the
 * operators' Kafka user alone, read by validate (services/sluicectl/cmd_dlq.c). */
#define SL_TOPIC_REPLAY    "sluice.replay"

/* Every topic name starts with this, every group and transactional id
 * with SL_TOPO_GROUP_PREFIX (the operators' ACLs are prefixed ones). */
#define SL_TOPO_TOPIC_PREFIX "sluice."
#define SL_TOPO_GROUP_PREFIX "sluice-"

typedef enum sl_topic_kind {
    SL_TOPIC_KIND_INPUT,         /* written from outside the pipeline */
    SL_TOPIC_KIND_INTERMEDIATE,  /* one stage's output, another's input */
    SL_TOPIC_KIND_DEAD_LETTER,   /* rejections of every stage */
    SL_TOPIC_KIND_REPLAY         /* dead letters an operator sends back:
                                    the operators' alone to write */
} sl_topic_kind;

typedef enum sl_retention_class {
    SL_RETAIN_DEFAULT,    /* topic.retention.ms / topic.retention.bytes */
    SL_RETAIN_REJECTED    /* topic.rejected.retention.ms / .bytes */
} sl_retention_class;

typedef struct sl_topo_topic {
    const char *name;
    sl_topic_kind kind;
    sl_retention_class retention;
} sl_topo_topic;

typedef struct sl_topo_stage {
    const char *name;                /* "validate": group sluice-validate,
                                        Kafka user sluice_validate */
    const char *const *inputs;       /* default input topics, NULL-ended */
    const char *const *also_reads;   /* may read besides (ACLs), NULL-ended */
    const char *output;              /* SL_EMIT's topic; NULL: a sink */
    const char *const *routes;       /* SL_ROUTE's topics, NULL-ended */
    const char *dead_letter;         /* SL_REJECT's topic; NULL: a sink */
    int transactional;               /* a transactional producer, id
                                        <group>-<instance.id> */
} sl_topo_stage;

/* Indexes of sl_topology_stages, so a descriptor can point at its row in
 * a constant initializer: .stage = &sl_topology_stages[SL_STAGE_SCAN]. */
typedef enum sl_stage_id {
    SL_STAGE_VALIDATE,
    SL_STAGE_SCAN,
    SL_STAGE_LICENSE,
    SL_STAGE_COMMIT,
    SL_STAGE_REVIEW,
    SL_STAGE_COUNT
} sl_stage_id;

extern const sl_topo_stage sl_topology_stages[SL_STAGE_COUNT];
extern const sl_topo_topic sl_topology_topics[];
extern const size_t sl_topology_n_topics;

/* The row of a stage / topic by bare name, or NULL. */
const sl_topo_stage *sl_topology_stage(const char *name);
const sl_topo_topic *sl_topology_topic(const char *name);

/* Number of entries of a NULL-ended list of the table (0 for NULL). */
size_t sl_topology_count(const char *const *list);

/* prefix + name into out.  SL_OK, or SL_EINVAL when it does not fit
 * (out then holds the truncated name). */
int sl_topology_prefixed(const char *prefix, const char *name, char *out,
                         size_t outsz);

/* The stage's default consumer group, prefix + "sluice-" + name. */
int sl_topology_group(const char *prefix, const sl_topo_stage *s, char *out,
                      size_t outsz);

/* The transactional.id (and group.instance.id) of one instance of a stage
 * in group `group`: group + "-" + instance. */
int sl_topology_txn_id(const char *group, const char *instance, char *out,
                       size_t outsz);

/* One Kafka ACL grant a stage needs, in deploy/kafka-acls.conf's columns
 * (without topic.prefix, which kafka-acls.sh adds). */
typedef struct sl_topo_acl {
    char user[64];
    const char *resource;    /* "topic", "group", "transactional_id" */
    const char *pattern;     /* "literal" or "prefixed" */
    char name[128];
    const char *operation;   /* "read" or "write" */
} sl_topo_acl;

/* Calls fn for every grant stage s needs: read on its inputs and
 * also_reads, write on its output, routes and dead-letter topic, read on
 * its group, write on its transactional ids (prefixed) when it has them.
 * Stops at and returns fn's first non-zero result; 0 otherwise. */
int sl_topology_acls(const sl_topo_stage *s,
                     int (*fn)(void *u, const sl_topo_acl *acl), void *u);

#endif
