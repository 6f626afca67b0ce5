/*
 * test_topology.c -- unit tests for common/src/topology.c, the pipeline's
 * one table of stages and topics: lookups, that every topic a stage names
 * is a row of the topic table, the naming rules (prefixes, groups,
 * transactional ids), that the stage descriptors point at their rows, and
 * that deploy/kafka-acls.conf grants each stage exactly what its row
 * implies (the conf stays a reviewed file; this test fails on any drift
 * between the two, in either direction).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/topology.h"

/* ---- the table -------------------------------------------------------- */

static void test_lookups(void **state)
{
    const sl_topo_stage *v = sl_topology_stage("validate");
    const sl_topo_topic *t;

    (void)state;
    assert_ptr_equal(v, &sl_topology_stages[SL_STAGE_VALIDATE]);
    assert_ptr_equal(sl_topology_stage("scan"), &sl_topology_stages[SL_STAGE_SCAN]);
    assert_ptr_equal(sl_topology_stage("license"),
                     &sl_topology_stages[SL_STAGE_LICENSE]);
    assert_ptr_equal(sl_topology_stage("commit"), &sl_topology_stages[SL_STAGE_COMMIT]);
    assert_null(sl_topology_stage("Validate"));
    assert_null(sl_topology_stage("sluice-validate"));
    assert_null(sl_topology_stage(""));
    assert_null(sl_topology_stage(NULL));

    assert_int_equal(sl_topology_n_topics, 8);
    t = sl_topology_topic("sluice.replay");
    assert_non_null(t);
    assert_int_equal(t->kind, SL_TOPIC_KIND_REPLAY);
    t = sl_topology_topic("sluice.uploads");
    assert_non_null(t);
    assert_int_equal(t->kind, SL_TOPIC_KIND_INPUT);
    assert_int_equal(t->retention, SL_RETAIN_DEFAULT);
    t = sl_topology_topic("sluice.flagged");
    assert_non_null(t);
    assert_int_equal(t->kind, SL_TOPIC_KIND_INTERMEDIATE);
    t = sl_topology_topic("sluice.rejected");
    assert_non_null(t);
    assert_int_equal(t->kind, SL_TOPIC_KIND_DEAD_LETTER);
    assert_int_equal(t->retention, SL_RETAIN_REJECTED);
    assert_null(sl_topology_topic("sluice.upload"));
    assert_null(sl_topology_topic(NULL));

    /* the default chain, row by row */
    assert_string_equal(v->inputs[0], "sluice.uploads");
    assert_string_equal(v->inputs[1], "sluice.replay");
    assert_null(v->inputs[2]);
    assert_string_equal(v->output, "sluice.validated");
    assert_string_equal(v->dead_letter, "sluice.rejected");
    assert_int_equal(sl_topology_count(v->routes), 0);
    assert_string_equal(sl_topology_stages[SL_STAGE_SCAN].inputs[0], "sluice.validated");
    assert_string_equal(sl_topology_stages[SL_STAGE_SCAN].output, "sluice.scanned");
    assert_string_equal(sl_topology_stages[SL_STAGE_SCAN].routes[0], "sluice.flagged");
    assert_int_equal(sl_topology_count(sl_topology_stages[SL_STAGE_SCAN].routes), 1);
    assert_string_equal(sl_topology_stages[SL_STAGE_LICENSE].inputs[0], "sluice.scanned");
    assert_string_equal(sl_topology_stages[SL_STAGE_LICENSE].inputs[1], "sluice.reviewed");
    assert_string_equal(sl_topology_stages[SL_STAGE_LICENSE].output, "sluice.licensed");
    assert_int_equal(sl_topology_count(sl_topology_stages[SL_STAGE_COMMIT].inputs), 3);
    assert_string_equal(sl_topology_stages[SL_STAGE_COMMIT].inputs[0], "sluice.licensed");
    assert_string_equal(sl_topology_stages[SL_STAGE_COMMIT].inputs[1], "sluice.flagged");
    assert_string_equal(sl_topology_stages[SL_STAGE_COMMIT].inputs[2], "sluice.rejected");
    assert_null(sl_topology_stages[SL_STAGE_COMMIT].output);
    assert_int_equal(sl_topology_stages[SL_STAGE_COMMIT].transactional, 0);
    /* review: a producer only (no group), to license and dead letters */
    assert_ptr_equal(sl_topology_stage("review"), &sl_topology_stages[SL_STAGE_REVIEW]);
    assert_int_equal(sl_topology_count(sl_topology_stages[SL_STAGE_REVIEW].inputs), 0);
    assert_string_equal(sl_topology_stages[SL_STAGE_REVIEW].output, "sluice.reviewed");
    assert_string_equal(sl_topology_stages[SL_STAGE_REVIEW].dead_letter, "sluice.rejected");
    assert_int_equal(sl_topology_stages[SL_STAGE_REVIEW].transactional, 1);
    assert_int_equal(sl_topology_count(NULL), 0);
}

/* Every topic a stage names is a row of the topic table, of the right
 * kind; every topic is written by some stage or is an input; names carry
 * the prefixes the operators' prefixed ACLs rely on. */
static void test_consistent(void **state)
{
    (void)state;
    for (size_t i = 0; i < SL_STAGE_COUNT; i++) {
        const sl_topo_stage *s = &sl_topology_stages[i];
        const sl_topo_topic *t;

        assert_non_null(s->name);
        assert_ptr_equal(sl_topology_stage(s->name), s);
        /* every stage consumes, but review, which produces only */
        assert_true(sl_topology_count(s->inputs) >= (i == SL_STAGE_REVIEW ? 0 : 1));
        for (size_t k = 0; s->inputs[k]; k++)
            assert_non_null(sl_topology_topic(s->inputs[k]));
        for (size_t k = 0; s->also_reads && s->also_reads[k]; k++)
            assert_non_null(sl_topology_topic(s->also_reads[k]));
        if (s->output) {
            assert_non_null(t = sl_topology_topic(s->output));
            assert_int_equal(t->kind, SL_TOPIC_KIND_INTERMEDIATE);
        }
        for (size_t k = 0; s->routes && s->routes[k]; k++) {
            assert_non_null(t = sl_topology_topic(s->routes[k]));
            assert_int_equal(t->kind, SL_TOPIC_KIND_INTERMEDIATE);
        }
        if (s->dead_letter) {
            assert_non_null(t = sl_topology_topic(s->dead_letter));
            assert_int_equal(t->kind, SL_TOPIC_KIND_DEAD_LETTER);
        }
        /* a stage with a transactional producer emits and dead-letters */
        assert_int_equal(s->transactional, s->output != NULL);
        assert_int_equal(s->transactional, s->dead_letter != NULL);
    }
    for (size_t j = 0; j < sl_topology_n_topics; j++) {
        const sl_topo_topic *t = &sl_topology_topics[j];
        int written = t->kind == SL_TOPIC_KIND_INPUT ||
                      t->kind == SL_TOPIC_KIND_REPLAY, read = 0;

        assert_int_equal(strncmp(t->name, SL_TOPO_TOPIC_PREFIX,
                                 strlen(SL_TOPO_TOPIC_PREFIX)), 0);
        assert_ptr_equal(sl_topology_topic(t->name), t);
        assert_int_equal(t->retention, t->kind == SL_TOPIC_KIND_DEAD_LETTER ?
                         SL_RETAIN_REJECTED : SL_RETAIN_DEFAULT);
        for (size_t i = 0; i < SL_STAGE_COUNT; i++) {
            const sl_topo_stage *s = &sl_topology_stages[i];
            written |= (s->output && strcmp(s->output, t->name) == 0) ||
                       (s->dead_letter && strcmp(s->dead_letter, t->name) == 0);
            for (size_t k = 0; s->routes[k]; k++)
                written |= strcmp(s->routes[k], t->name) == 0;
            for (size_t k = 0; s->inputs[k]; k++)
                read |= strcmp(s->inputs[k], t->name) == 0;
        }
        if (!written || !read)
            fail_msg("topic %s: written %d, read by default %d", t->name,
                     written, read);
    }
}

static void test_names(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(sl_topology_group("", &sl_topology_stages[SL_STAGE_SCAN],
                                       out, sizeof(out)), SL_OK);
    assert_string_equal(out, "sluice-scan");
    assert_int_equal(sl_topology_group(NULL, &sl_topology_stages[SL_STAGE_COMMIT],
                                       out, sizeof(out)), SL_OK);
    assert_string_equal(out, "sluice-commit");
    assert_int_equal(sl_topology_group("t42.", &sl_topology_stages[SL_STAGE_VALIDATE],
                                       out, sizeof(out)), SL_OK);
    assert_string_equal(out, "t42.sluice-validate");
    assert_int_equal(sl_topology_txn_id(out, "0", out + 32, 32), SL_OK);
    assert_string_equal(out + 32, "t42.sluice-validate-0");
    assert_int_equal(sl_topology_prefixed("t42.", SL_TOPIC_FLAGGED, out,
                                          sizeof(out)), SL_OK);
    assert_string_equal(out, "t42.sluice.flagged");
    assert_int_equal(sl_topology_prefixed(NULL, SL_TOPIC_FLAGGED, out,
                                          sizeof(out)), SL_OK);
    assert_string_equal(out, "sluice.flagged");
    /* too long: truncated and said so */
    assert_int_equal(sl_topology_prefixed("abcdefgh", "sluice.x", out, 10),
                     SL_EINVAL);
    assert_string_equal(out, "abcdefghs");
    assert_int_equal(sl_topology_group("abc", &sl_topology_stages[SL_STAGE_SCAN],
                                       out, 14), SL_EINVAL);
    assert_int_equal(sl_topology_txn_id("g", "1", out, 3), SL_EINVAL);
}

/* ---- deploy/kafka-acls.conf agrees with the table --------------------- */

#define MAX_GRANTS 256

typedef struct grant {
    char user[64], resource[32], pattern[16], name[128], op[32];
    int matched;
} grant;

typedef struct grants {
    grant g[MAX_GRANTS];
    size_t n;
} grants;

/* The conf's lines, one grant per operation. */
static void parse_conf(const char *text, grants *out)
{
    char *copy = strdup(text), *save = NULL;

    assert_non_null(copy);
    out->n = 0;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[16], *s2 = NULL;
        size_t nf = 0;

        if (line[0] == '#')
            continue;
        for (char *w = strtok_r(line, " \t", &s2); w && nf < 16;
             w = strtok_r(NULL, " \t", &s2))
            f[nf++] = w;
        if (nf == 0)
            continue;
        if (nf < 5)
            fail_msg("kafka-acls.conf: a line of %zu fields", nf);
        for (size_t k = 4; k < nf; k++) {
            grant *g = &out->g[out->n++];
            assert_true(out->n <= MAX_GRANTS);
            memset(g, 0, sizeof(*g));
            snprintf(g->user, sizeof(g->user), "%s", f[0]);
            snprintf(g->resource, sizeof(g->resource), "%s", f[1]);
            snprintf(g->pattern, sizeof(g->pattern), "%s", f[2]);
            snprintf(g->name, sizeof(g->name), "%s", f[3]);
            snprintf(g->op, sizeof(g->op), "%s", f[k]);
        }
    }
    free(copy);
}

typedef struct match_ctx {
    grants *conf;
    char missing[512];
} match_ctx;

static int match_one(void *u, const sl_topo_acl *a)
{
    match_ctx *m = u;

    for (size_t i = 0; i < m->conf->n; i++) {
        grant *g = &m->conf->g[i];
        if (strcmp(g->user, a->user) == 0 && strcmp(g->resource, a->resource) == 0 &&
            strcmp(g->pattern, a->pattern) == 0 && strcmp(g->name, a->name) == 0 &&
            strcmp(g->op, a->operation) == 0) {
            g->matched = 1;
            return 0;
        }
    }
    snprintf(m->missing, sizeof(m->missing), "%s %s %s %s %s", a->user,
             a->resource, a->pattern, a->name, a->operation);
    return 1;
}

/* Whether the conf text grants every stage exactly what the table implies
 * and the others (creators' producers, operators) only what their roles
 * allow.  0, or 1 with why in why[]. */
static int check_acls(const char *text, char *why, size_t whysz)
{
    static grants conf;
    match_ctx m = { &conf, "" };

    parse_conf(text, &conf);
    for (size_t i = 0; i < SL_STAGE_COUNT; i++)
        if (sl_topology_acls(&sl_topology_stages[i], match_one, &m) != 0) {
            snprintf(why, whysz, "missing: %.400s", m.missing);
            return 1;
        }
    for (size_t i = 0; i < conf.n; i++) {
        const grant *g = &conf.g[i];
        const sl_topo_topic *t = strcmp(g->resource, "topic") == 0 &&
            strcmp(g->pattern, "literal") == 0 ? sl_topology_topic(g->name) : NULL;

        if (g->matched)
            continue;
        if (strcmp(g->resource, "topic") == 0 && strcmp(g->pattern, "literal") == 0 &&
            !t) {
            snprintf(why, whysz, "not a topic of the table: %s", g->name);
            return 1;
        }
        if (strcmp(g->user, "sluice_uploader") == 0 && t &&
            t->kind == SL_TOPIC_KIND_INPUT && strcmp(g->op, "write") == 0)
            continue;
        if (strcmp(g->user, "sluice_ctl") == 0 &&
            ((t && (t->kind == SL_TOPIC_KIND_INPUT || t->kind == SL_TOPIC_KIND_REPLAY) &&
              strcmp(g->op, "write") == 0) ||
             (strcmp(g->resource, "topic") == 0 &&
              strcmp(g->pattern, "prefixed") == 0 &&
              strcmp(g->name, SL_TOPO_TOPIC_PREFIX) == 0 &&
              strcmp(g->op, "write") != 0) ||
             (strcmp(g->resource, "group") == 0 &&
              strcmp(g->pattern, "prefixed") == 0 &&
              strcmp(g->name, SL_TOPO_GROUP_PREFIX) == 0 &&
              strcmp(g->op, "describe") == 0)))
            continue;
        snprintf(why, whysz, "not implied by the table: %s %s %s %s %s",
                 g->user, g->resource, g->pattern, g->name, g->op);
        return 1;
    }
    return 0;
}

static char *read_conf(void)
{
    FILE *f = fopen(SL_SOURCE_DIR "/deploy/kafka-acls.conf", "rb");
    char *buf = calloc(1, 1 << 16);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 16) - 1, f);
    assert_true(n > 0 && n < (1 << 16) - 1);
    fclose(f);
    return buf;
}

static void test_acls_conf(void **state)
{
    char why[512] = "";
    char *text = read_conf();

    (void)state;
    if (check_acls(text, why, sizeof(why)) != 0)
        fail_msg("deploy/kafka-acls.conf disagrees with sl/topology.h: %s", why);
    free(text);
}

/* The check fails on drift either way: a grant removed from the conf, one
 * added to it, a topic the table does not know. */
static void test_acls_drift_caught(void **state)
{
    char why[512];
    char *text = read_conf(), *mod = malloc(strlen(text) + 256), *p;

    (void)state;
    assert_non_null(mod);
    /* scan may no longer write the flagged topic */
    p = strstr(text, "sluice_scan        topic             literal   sluice.flagged");
    assert_non_null(p);
    memcpy(mod, text, (size_t)(p - text));
    strcpy(mod + (p - text), strchr(p, '\n') + 1);
    assert_int_equal(check_acls(mod, why, sizeof(why)), 1);
    assert_string_equal(why, "missing: sluice_scan topic literal sluice.flagged write");

    /* license may also write the flagged topic */
    snprintf(mod, strlen(text) + 256, "%s%s", text,
             "sluice_license topic literal sluice.flagged write\n");
    assert_int_equal(check_acls(mod, why, sizeof(why)), 1);
    assert_string_equal(why, "not implied by the table: sluice_license topic "
                        "literal sluice.flagged write");

    /* a topic the table does not have */
    snprintf(mod, strlen(text) + 256, "%s%s", text,
             "sluice_uploader topic literal sluice.other write\n");
    assert_int_equal(check_acls(mod, why, sizeof(why)), 1);
    assert_string_equal(why, "not a topic of the table: sluice.other");

    /* an operator who may join a stage's group */
    snprintf(mod, strlen(text) + 256, "%s%s", text,
             "sluice_ctl group prefixed sluice- read\n");
    assert_int_equal(check_acls(mod, why, sizeof(why)), 1);
    assert_string_equal(why, "not implied by the table: sluice_ctl group "
                        "prefixed sluice- read");
    free(mod);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_consistent),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_acls_conf),
        cmocka_unit_test(test_acls_drift_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
