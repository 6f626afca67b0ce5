/*
 * topology.c -- the pipeline's one table of stages and topics (see
 * sl/topology.h), the naming rules for groups and transactional ids, and
 * the Kafka ACL grants each stage needs, derived from its row.
 */
#include <stdio.h>
#include <string.h>

#include "sl/common.h"
#include "sl/topology.h"

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE      ((const char *const[]){ NULL })

const sl_topo_topic sl_topology_topics[] = {
    { SL_TOPIC_UPLOADS,   SL_TOPIC_KIND_INPUT,        SL_RETAIN_DEFAULT },
    { SL_TOPIC_VALIDATED, SL_TOPIC_KIND_INTERMEDIATE, SL_RETAIN_DEFAULT },
    { SL_TOPIC_SCANNED,   SL_TOPIC_KIND_INTERMEDIATE, SL_RETAIN_DEFAULT },
    { SL_TOPIC_FLAGGED,   SL_TOPIC_KIND_INTERMEDIATE, SL_RETAIN_DEFAULT },
    { SL_TOPIC_LICENSED,  SL_TOPIC_KIND_INTERMEDIATE, SL_RETAIN_DEFAULT },
    { SL_TOPIC_REVIEWED,  SL_TOPIC_KIND_INTERMEDIATE, SL_RETAIN_DEFAULT },
    { SL_TOPIC_REJECTED,  SL_TOPIC_KIND_DEAD_LETTER,  SL_RETAIN_REJECTED },
    { SL_TOPIC_REPLAY,    SL_TOPIC_KIND_REPLAY,       SL_RETAIN_DEFAULT },
};
const size_t sl_topology_n_topics =
    sizeof(sl_topology_topics) / sizeof(sl_topology_topics[0]);

/* The default chain: validate -> scan -> license -> commit, with scan's
 * flagged samples and every stage's dead letters going to commit.  Commit
 * may also read scanned and validated, so it can be run right after scan
 * or validate (tests of part of the chain). */
const sl_topo_stage sl_topology_stages[SL_STAGE_COUNT] = {
    [SL_STAGE_VALIDATE] = {
        .name = "validate",
        .inputs = LIST(SL_TOPIC_UPLOADS, SL_TOPIC_REPLAY),
        .also_reads = NONE,
        .output = SL_TOPIC_VALIDATED,
        .routes = NONE,
        .dead_letter = SL_TOPIC_REJECTED,
        .transactional = 1,
    },
    [SL_STAGE_SCAN] = {
        .name = "scan",
        .inputs = LIST(SL_TOPIC_VALIDATED),
        .also_reads = NONE,
        .output = SL_TOPIC_SCANNED,
        .routes = LIST(SL_TOPIC_FLAGGED),
        .dead_letter = SL_TOPIC_REJECTED,
        .transactional = 1,
    },
    [SL_STAGE_LICENSE] = {
        .name = "license",
        .inputs = LIST(SL_TOPIC_SCANNED, SL_TOPIC_REVIEWED),
        .also_reads = NONE,
        .output = SL_TOPIC_LICENSED,
        .routes = NONE,
        .dead_letter = SL_TOPIC_REJECTED,
        .transactional = 1,
    },
    [SL_STAGE_COMMIT] = {
        .name = "commit",
        .inputs = LIST(SL_TOPIC_LICENSED, SL_TOPIC_FLAGGED, SL_TOPIC_REJECTED),
        .also_reads = LIST(SL_TOPIC_SCANNED, SL_TOPIC_VALIDATED),
        .output = NULL,
        .routes = NONE,
        .dead_letter = NULL,
        .transactional = 0,
    },
    /* The moderators' service: no Kafka input (its decisions come from
     * PostgreSQL); its relay sends approved samples on to license and
     * moderator rejections to the dead-letter topic, in transactions. */
    [SL_STAGE_REVIEW] = {
        .name = "review",
        .inputs = NONE,
        .also_reads = NONE,
        .output = SL_TOPIC_REVIEWED,
        .routes = NONE,
        .dead_letter = SL_TOPIC_REJECTED,
        .transactional = 1,
    },
};

const sl_topo_stage *sl_topology_stage(const char *name)
{
    for (size_t i = 0; name && i < SL_STAGE_COUNT; i++)
        if (strcmp(sl_topology_stages[i].name, name) == 0)
            return &sl_topology_stages[i];
    return NULL;
}

const sl_topo_topic *sl_topology_topic(const char *name)
{
    for (size_t i = 0; name && i < sl_topology_n_topics; i++)
        if (strcmp(sl_topology_topics[i].name, name) == 0)
            return &sl_topology_topics[i];
    return NULL;
}

size_t sl_topology_count(const char *const *list)
{
    size_t n = 0;

    while (list && list[n])
        n++;
    return n;
}

static int fits(int len, size_t outsz)
{
    return len >= 0 && (size_t)len < outsz ? SL_OK : SL_EINVAL;
}

int sl_topology_prefixed(const char *prefix, const char *name, char *out,
                         size_t outsz)
{
    return fits(snprintf(out, outsz, "%s%s", prefix ? prefix : "", name), outsz);
}

int sl_topology_group(const char *prefix, const sl_topo_stage *s, char *out,
                      size_t outsz)
{
    return fits(snprintf(out, outsz, "%s" SL_TOPO_GROUP_PREFIX "%s",
                         prefix ? prefix : "", s->name), outsz);
}

int sl_topology_txn_id(const char *group, const char *instance, char *out,
                       size_t outsz)
{
    return fits(snprintf(out, outsz, "%s-%s", group, instance), outsz);
}

static int grant_topics(const sl_topo_acl *base, const char *const *topics,
                        const char *op, int (*fn)(void *, const sl_topo_acl *),
                        void *u)
{
    sl_topo_acl a = *base;
    int r;

    a.resource = "topic";
    a.pattern = "literal";
    a.operation = op;
    for (size_t i = 0; topics && topics[i]; i++) {
        snprintf(a.name, sizeof(a.name), "%s", topics[i]);
        if ((r = fn(u, &a)) != 0)
            return r;
    }
    return 0;
}

int sl_topology_acls(const sl_topo_stage *s,
                     int (*fn)(void *u, const sl_topo_acl *acl), void *u)
{
    const char *writes[3] = { s->output, s->dead_letter, NULL };
    sl_topo_acl a;
    int r;

    memset(&a, 0, sizeof(a));
    snprintf(a.user, sizeof(a.user), "sluice_%s", s->name);
    if (!writes[0]) {            /* a sink: at most a dead-letter topic */
        writes[0] = writes[1];
        writes[1] = NULL;
    }
    if ((r = grant_topics(&a, s->inputs, "read", fn, u)) != 0 ||
        (r = grant_topics(&a, s->also_reads, "read", fn, u)) != 0 ||
        (r = grant_topics(&a, writes, "write", fn, u)) != 0 ||
        (r = grant_topics(&a, s->routes, "write", fn, u)) != 0)
        return r;
    if (sl_topology_count(s->inputs) > 0) {   /* a consumer: its group */
        a.resource = "group";
        a.pattern = "literal";
        a.operation = "read";
        (void)sl_topology_group("", s, a.name, sizeof(a.name));
        if ((r = fn(u, &a)) != 0)
            return r;
    }
    if (s->transactional) {
        char group[sizeof(a.name)];
        (void)sl_topology_group("", s, group, sizeof(group));
        a.resource = "transactional_id";
        a.pattern = "prefixed";
        a.operation = "write";
        (void)sl_topology_txn_id(group, "", a.name, sizeof(a.name));
        if ((r = fn(u, &a)) != 0)
            return r;
    }
    return 0;
}
