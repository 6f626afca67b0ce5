/*
 * license_stage.c -- the license stage's processor (see license_stage.h).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sl/crypto.h"
#include "sl/envelope.h"
#include "sl/fpset.h"
#include "sl/json.h"
#include "sl/log.h"
#include "sl/prov.h"
#include "sl/quota.h"
#include "sl/topology.h"
#include "license_stage.h"
#include "rights.h"
#include "spdx.h"

#define POLICY_CACHE 64          /* parsed dataset policies kept */
#define QUOTA_SLOTS  (1u << 14)  /* creator+dataset counters (open addressing) */

const sl_cfg_entry sl_license_config[] = {
    { SL_CFG_INT, "license.dataset.cache.ms", "5000",
      "how long a dataset's policy, contributors flag and quotas are cached" },
    SL_CFG_END
};

/* A dataset's parsed license policy, by dataset id and policy version. */
typedef struct policy_slot {
    char *dataset, *version;
    sl_license_policy *policy;   /* NULL: no policy (any known license) */
} policy_slot;

/* Today's accepted uploads of one creator in one dataset, as this
 * instance counted them: committed transactions and the open one.  The
 * database may lag behind (commit is a later stage), so the registry's
 * count is never added to ours: it is combined by max() with ours plus
 * the registry's count from before we counted any (base), which holds
 * none of ours -- what a restart or another instance put there.
 *
 * Ours is trusted only as far as the registry plus what we accepted in
 * the last QUOTA_WINDOW_MS (recent): anything older has reached the
 * database, so when the registry says less, samples were withdrawn (a
 * takedown) and their slots are free again.  A commit stage lagging by
 * more than the window only makes this early check too lenient; commit's
 * own check is exact. */
#define QUOTA_WINDOW_MS INT64_C(60000)
typedef struct quota_slot {
    uint64_t key;                /* fp(creator, dataset); 0: free */
    int64_t day;
    int64_t count, bytes, pend_count, pend_bytes;
    int64_t base_count, base_bytes;
    /* committed accepts of the current and the previous half window */
    int64_t win, cur_count, cur_bytes, prev_count, prev_bytes;
} quota_slot;

/* What prepare() read of one message of the run, for process() to reuse:
 * its envelope (content and origin hashes, metadata), whose strings the
 * registry was asked about.  Valid while the message's value and
 * sluice-meta bytes are the ones read. */
typedef struct prepared {
    int ok;
    const uint8_t *value;
    size_t value_len;
    sl_envelope env;
    int asked;                           /* its metadata usable: asked about */
    size_t ask;                          /* its entry in the packed asks */
} prepared;

/* A license record already built: the same expression text, terms URL and
 * attribution under the same parsed policy (or none) give the same record
 * byte for byte, and most samples of a dataset share one license.  A
 * policy dropped from the policy cache takes its records with it. */
#define RECORD_MEMO 4
#define MEMO_KEYS 3   /* expression, terms URL, attribution */
typedef struct record_memo {
    const sl_license_policy *policy;
    char *key[MEMO_KEYS];   /* NULL: absent */
    char *record;           /* NULL: slot unused */
} record_memo;

struct sl_license_stage {
    sl_license_lookup lk;
    sl_spdx *spdx;
    sl_rights_table *rights;
    char version[160];
    policy_slot policies[POLICY_CACHE];
    size_t next_policy;
    quota_slot *quota;
    /* the run handed to prepare(), and the registry's answers for it */
    const sl_msg *run;
    size_t run_n;
    sl_license_ask *asks;
    prepared *prep;
    size_t prep_cap;
    sl_buf prov;
    record_memo memo[RECORD_MEMO];
    size_t next_memo;
    int64_t (*now_ms)(void);     /* the wall clock; tests set their own */
    /* topic.prefix + sluice.reviewed: what a moderator let on comes from
     * there (decided by the topic, never by a header) */
    char reviewed_topic[256];
};

static void memo_clear(record_memo *m)
{
    for (size_t k = 0; k < MEMO_KEYS; k++)
        free(m->key[k]);
    free(m->record);
    memset(m, 0, sizeof(*m));
}

static bool same_or_both_null(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The record built before under exactly these keys, or NULL. */
static const char *memo_find(const sl_license_stage *s,
                             const sl_license_policy *policy,
                             const char *const *key)
{
    for (size_t i = 0; i < RECORD_MEMO; i++) {
        const record_memo *m = &s->memo[i];
        size_t k;

        if (!m->record || m->policy != policy)
            continue;
        for (k = 0; k < MEMO_KEYS && same_or_both_null(m->key[k], key[k]); k++)
            ;
        if (k == MEMO_KEYS)
            return m->record;
    }
    return NULL;
}

/* Keeps a copy of record under key, replacing the oldest slot; out of
 * memory only means no memo. */
static void memo_store(sl_license_stage *s, const sl_license_policy *policy,
                       const char *const *key, const char *record)
{
    record_memo *m = &s->memo[s->next_memo++ % RECORD_MEMO];

    memo_clear(m);
    m->policy = policy;
    for (size_t k = 0; k < MEMO_KEYS; k++)
        if (key[k] && !(m->key[k] = strdup(key[k]))) {
            memo_clear(m);
            return;
        }
    if (!(m->record = strdup(record)))
        memo_clear(m);
}

/* Drops the run prepare() read. */
static void run_forget(sl_license_stage *s)
{
    for (size_t i = 0; i < s->run_n && s->prep; i++)
        sl_envelope_clear(&s->prep[i].env);
    s->run = NULL;
    s->run_n = 0;
}

int sl_license_new(sl_license_stage **out, const sl_config *cfg,
                   const sl_license_lookup *lk, sl_err *err)
{
    sl_license_stage *s = calloc(1, sizeof(*s));

    if (!s) {
        sl_err_set(err, "out of memory");
        return SL_ERR;
    }
    s->lk = *lk;
    s->now_ms = sl_now_ms;
    if (sl_topology_prefixed(cfg ? sl_config_get(cfg, "topic.prefix") : NULL,
                             SL_TOPIC_REVIEWED, s->reviewed_topic,
                             sizeof(s->reviewed_topic)) != SL_OK) {
        sl_err_set(err, "topic.prefix is too long");
        goto fail;
    }
    if (sl_spdx_load(&s->spdx, err) != SL_OK ||
        sl_rights_load(s->spdx, &s->rights, err) != SL_OK)
        goto fail;
    snprintf(s->version, sizeof(s->version), "license/1 spdx-%s rights-%s",
             sl_spdx_list_version(s->spdx), sl_rights_version(s->rights));
    if (!(s->quota = calloc(QUOTA_SLOTS, sizeof(*s->quota)))) {
        sl_err_set(err, "out of memory");
        goto fail;
    }
    sl_buf_init(&s->prov, 65536);
    *out = s;
    return SL_OK;
fail:
    s->lk.destroy = NULL;   /* the caller keeps lk on failure */
    sl_license_destroy(s);
    return SL_ERR;
}

void sl_license_destroy(sl_license_stage *s)
{
    if (!s)
        return;
    if (s->lk.destroy)
        s->lk.destroy(s->lk.u);
    for (size_t i = 0; i < POLICY_CACHE; i++) {
        free(s->policies[i].dataset);
        free(s->policies[i].version);
        sl_license_policy_destroy(s->policies[i].policy);
    }
    sl_rights_destroy(s->rights);
    sl_spdx_destroy(s->spdx);
    free(s->quota);
    run_forget(s);
    free(s->asks);
    free(s->prep);
    sl_buf_free(&s->prov);
    for (size_t i = 0; i < RECORD_MEMO; i++)
        memo_clear(&s->memo[i]);
    free(s);
}

/* ---- per-message facts -------------------------------------------------- */

static int from_reviewed(const sl_license_stage *s, const sl_msg *in)
{
    return in->topic && strcmp(in->topic, s->reviewed_topic) == 0;
}

/* The input hash of the chain's last review event (the flagged bytes a
 * moderator was shown) into out, when there is one. */
static void review_input(const sl_msg *in, char out[SL_SHA256_HEX])
{
    sl_slice v;
    sl_prov_chain *c;
    sl_err err;

    if (sl_msg_header(in, SL_H_PROV, &v) != SL_OK || !v.ptr ||
        !(c = sl_prov_parse(v, &err)))
        return;
    for (size_t i = sl_prov_count(c); i-- > 0;) {
        const char *canonical, *hash, *stage, *outcome, *hin, *hout;
        int64_t seq;
        if (sl_prov_get(c, i, &canonical, &hash, &stage, &outcome, &seq) != SL_OK ||
            strcmp(stage, "review") != 0)
            continue;
        if (sl_prov_get_hashes(c, i, &hin, &hout) == SL_OK && hin && sl_hex64_ok(hin))
            memcpy(out, hin, SL_SHA256_HEX);
        break;
    }
    sl_prov_chain_destroy(c);
}

/* Why a message of the reviewed topic is not what a moderator let on, or
 * NULL: its chain must verify from origin and end with a review event
 * approved or redacted whose output is these bytes (sha).  commit checks
 * the event against the database; this keeps the rest out early. */
static const char *review_problem(const sl_msg *in, const char *sha,
                                  const char *origin)
{
    const char *canonical, *hash, *stage, *outcome, *hin, *hout, *why = NULL;
    sl_prov_chain *c = NULL;
    sl_slice v;
    int64_t seq;
    size_t n;
    sl_err err;

    if (sl_msg_header(in, SL_H_PROV, &v) != SL_OK || !v.ptr)
        return "it carries no provenance chain";
    if (!(c = sl_prov_parse(v, &err)) || sl_prov_chain_verify(c, origin, &err) != SL_OK)
        why = "its provenance chain does not verify";
    else if ((n = sl_prov_count(c)) == 0 ||
             sl_prov_get(c, n - 1, &canonical, &hash, &stage, &outcome, &seq) != SL_OK ||
             strcmp(stage, "review") != 0)
        why = "its chain does not end with a review event";
    else if (strcmp(outcome, "approved") != 0 && strcmp(outcome, "redacted") != 0)
        why = "the review event's outcome is neither approved nor redacted";
    else if (sl_prov_get_hashes(c, n - 1, &hin, &hout) != SL_OK || !hout ||
             strcmp(hout, sha) != 0)
        why = "the review event's output hash is not that of the bytes";
    sl_prov_chain_destroy(c);
    return why;
}

/* A message of the reviewed topic whose scan result names no original
 * hash starts its chain at the bytes the moderator was shown (the review
 * event's input): that is env's origin from here on. */
static void reviewed_origin(const sl_license_stage *s, const sl_msg *in,
                            sl_envelope *env)
{
    if (from_reviewed(s, in) && !env->original_sha256[0]) {
        char o[SL_SHA256_HEX];
        memcpy(o, env->sha256, SL_SHA256_HEX);
        review_input(in, o);
        if (strcmp(o, env->sha256) != 0)
            memcpy(env->original_sha256, o, SL_SHA256_HEX);
    }
}

/* ---- prepare: the registry's answers for a whole run ------------------- */

int sl_license_prepare(sl_license_stage *s, const sl_msg *msgs, size_t n)
{
    sl_license_ask *tmp;
    size_t m = 0;
    int rc;

    run_forget(s);
    if (!s->lk.ask || n == 0)
        return SL_OK;
    if (n > s->prep_cap) {
        void *a = realloc(s->asks, n * sizeof(*s->asks));
        if (a)
            s->asks = a;
        void *b = a ? realloc(s->prep, n * sizeof(*s->prep)) : NULL;
        if (!b)
            return SL_OK;        /* process() asks one by one */
        s->prep = b;
        s->prep_cap = n;
    }
    tmp = s->asks;
    for (size_t i = 0; i < n; i++) {
        prepared *p = &s->prep[i];
        const sl_msg *msg = &msgs[i];

        memset(p, 0, sizeof(*p));
        if (sl_envelope_read_with(&p->env, msg, SL_ENV_ATTESTATION) != SL_OK)
            continue;            /* process() reads it itself */
        reviewed_origin(s, msg, &p->env);
        p->value = msg->value.ptr;
        p->value_len = msg->value.len;
        p->ok = 1;
        if (p->env.meta_state != SL_META_OK)
            continue;            /* refused: nothing to ask */
        /* Only the readable ones go to the registry, packed in order. */
        p->asked = 1;
        p->ask = m;
        tmp[m++] = (sl_license_ask){ .creator_id = p->env.creator_id,
                                     .dataset_id = p->env.dataset_id,
                                     .sha256 = p->env.sha256,
                                     .original_sha256 = sl_envelope_origin(&p->env) };
    }
    s->run = msgs;
    s->run_n = n;
    rc = m ? s->lk.ask(s->lk.u, tmp, m) : SL_OK;
    if (rc != SL_OK) {
        run_forget(s);
        return rc;               /* the runner aborts and retries the run */
    }
    return SL_OK;
}

/* The prepared entry for `in` (the element of the run at its run_index,
 * its bytes unchanged since), or NULL; *ask its registry answers (NULL
 * when its metadata was not usable, so nothing was asked). */
static const prepared *prepared_for(const sl_license_stage *s, const sl_msg *in,
                                    const sl_license_ask **ask)
{
    size_t i = sl_msg_run_slot(s->run, s->run_n, in);
    const prepared *e;
    sl_slice meta;

    if (i == SL_RUN_NONE)
        return NULL;
    e = &s->prep[i];
    if (!e->ok || e->value != in->value.ptr || e->value_len != in->value.len ||
        sl_msg_header(in, SL_H_META, &meta) != SL_OK ||
        meta.ptr != e->env.meta.ptr || meta.len != e->env.meta.len)
        return NULL;
    *ask = e->asked ? &s->asks[e->ask] : NULL;
    return e;
}

/* The registry's answers for one message not prepared. */
static int ask_one(sl_license_stage *s, const char *creator, const char *dataset,
                   const char *sha, const char *origin, sl_license_ask *out)
{
    memset(out, 0, sizeof(*out));
    out->creator_id = creator;
    out->dataset_id = dataset;
    out->sha256 = sha;
    out->original_sha256 = origin;
    return s->lk.ask ? s->lk.ask(s->lk.u, out, 1) : SL_OK;
}

/* ---- policies and quotas ------------------------------------------------ */

/* The parsed policy of a dataset (cached by its version).  SL_OK with
 * *out (NULL: no policy), or SL_EINVAL with err when the stored policy is
 * unusable. */
static int policy_for(sl_license_stage *s, const char *dataset,
                      const sl_license_dataset *ds, sl_license_policy **out,
                      sl_err *err)
{
    const char *ver = ds->policy_version ? ds->policy_version : "";
    policy_slot *slot;

    *out = NULL;
    if (!ds->policy_json)
        return SL_OK;
    for (size_t i = 0; i < POLICY_CACHE; i++) {
        slot = &s->policies[i];
        if (slot->dataset && strcmp(slot->dataset, dataset) == 0 &&
            strcmp(slot->version, ver) == 0) {
            *out = slot->policy;
            return SL_OK;
        }
    }
    slot = &s->policies[s->next_policy++ % POLICY_CACHE];
    for (size_t i = 0; slot->policy && i < RECORD_MEMO; i++)
        if (s->memo[i].policy == slot->policy)
            memo_clear(&s->memo[i]);
    free(slot->dataset);
    free(slot->version);
    sl_license_policy_destroy(slot->policy);
    memset(slot, 0, sizeof(*slot));
    if (sl_license_policy_parse(s->spdx, ds->policy_json, strlen(ds->policy_json),
                                &slot->policy, err) != SL_OK)
        return SL_EINVAL;
    if (!(slot->dataset = strdup(dataset)) || !(slot->version = strdup(ver))) {
        free(slot->dataset);
        slot->dataset = NULL;
        sl_license_policy_destroy(slot->policy);
        slot->policy = NULL;
        sl_err_set(err, "out of memory");
        return SL_EINVAL;
    }
    *out = slot->policy;
    return SL_OK;
}

static quota_slot *quota_find(sl_license_stage *s, const char *creator,
                              const char *dataset)
{
    uint64_t key = sl_fpset_fp(creator, strlen(creator), dataset, strlen(dataset));
    int64_t day = sl_quota_day(s->now_ms());

    if (key == 0)
        key = 1;
    for (size_t i = 0; i < QUOTA_SLOTS; i++) {
        quota_slot *q = &s->quota[(key + i) & (QUOTA_SLOTS - 1)];
        if (q->key == key || q->key == 0) {
            if (q->key == 0 || q->day != day) {
                memset(q, 0, sizeof(*q));
                q->key = key;
                q->day = day;
            }
            return q;
        }
    }
    /* Full: forget this instance's counts (the registry's remain). */
    memset(s->quota, 0, QUOTA_SLOTS * sizeof(*s->quota));
    return quota_find(s, creator, dataset);
}

/* Moves a slot's recent counts on to the half window `now` falls in. */
static void quota_roll(quota_slot *q, int64_t now)
{
    int64_t w = now / (QUOTA_WINDOW_MS / 2);

    if (w == q->win)
        return;
    if (w == q->win + 1) {
        q->prev_count = q->cur_count;
        q->prev_bytes = q->cur_bytes;
    } else {
        q->prev_count = q->prev_bytes = 0;
    }
    q->cur_count = q->cur_bytes = 0;
    q->win = w;
}

/* Today's usage of a slot's pair as the quota check sees it (see
 * quota_slot): the registry's (ask) and ours tallied, plus the open
 * transaction's. */
static sl_quota_usage quota_used(quota_slot *q, const sl_license_ask *ask,
                                 int64_t now)
{
    sl_quota_usage u;

    if (q->count == 0 && q->pend_count == 0) {   /* none of ours yet */
        q->base_count = ask->used_count;
        q->base_bytes = ask->used_bytes;
    }
    quota_roll(q, now);
    u.count = sl_quota_add(sl_quota_tally(ask->used_count,
                                          sl_quota_add(q->base_count, q->count),
                                          sl_quota_add(q->cur_count, q->prev_count)),
                           q->pend_count);
    u.bytes = sl_quota_add(sl_quota_tally(ask->used_bytes,
                                          sl_quota_add(q->base_bytes, q->bytes),
                                          sl_quota_add(q->cur_bytes, q->prev_bytes)),
                           q->pend_bytes);
    return u;
}

void sl_license_set_clock(sl_license_stage *s, int64_t (*now_ms)(void))
{
    s->now_ms = now_ms ? now_ms : sl_now_ms;
}

void sl_license_txn_end(sl_license_stage *s, int committed)
{
    int64_t now = s->now_ms();

    for (size_t i = 0; i < QUOTA_SLOTS; i++) {
        quota_slot *q = &s->quota[i];
        if (!q->key)
            continue;
        if (committed) {
            q->count = sl_quota_add(q->count, q->pend_count);
            q->bytes = sl_quota_add(q->bytes, q->pend_bytes);
            quota_roll(q, now);
            q->cur_count = sl_quota_add(q->cur_count, q->pend_count);
            q->cur_bytes = sl_quota_add(q->cur_bytes, q->pend_bytes);
        }
        q->pend_count = q->pend_bytes = 0;
    }
    run_forget(s);
}

/* ---- the checks ----------------------------------------------------------- */

/* Appends this stage's event to the incoming chain (a broken one is
 * restarted from the signed content's hash) into the sluice-prov header. */
static int add_prov(sl_license_stage *s, const sl_msg *in, sl_out *out,
                    const char *upload_id, const char *sha, const char *origin,
                    const char *outcome, const char *reason)
{
    sl_prov_event ev = {
        .stage = "license", .version = s->version, .outcome = outcome,
        .reason = reason, .upload_id = upload_id, .input_sha256 = sha,
        .output_sha256 = sha, .time_ms = sl_now_ms(),
    };
    sl_slice chain = { NULL, 0 };
    sl_err err;

    (void)sl_msg_header(in, SL_H_PROV, &chain);   /* absent: stays empty */
    if (sl_prov_extend(chain, origin, &ev, &s->prov, &err) != SL_OK) {
        sl_error("license", "provenance: %s", err.msg);
        return SL_ERR;
    }
    return sl_out_add_header(out, SL_H_PROV, s->prov.data, s->prov.len, 1);
}

#define REJECT(code, ...)                                                 \
    do {                                                                  \
        sl_out_reject(out, (code), __VA_ARGS__);                          \
        verdict = add_prov(s, in, out, upload_id, sha, origin, "rejected", \
                           (code)) == SL_OK ? SL_REJECT : SL_FATAL;       \
        goto done;                                                        \
    } while (0)

static const char *const usage_signals[] = {
    "ai_training", "ai_generative_training", "data_mining"
};

/* The license expression the creator asserts, parsed.  NULL, or the
 * reason code (license_missing, _invalid, _unknown, _deprecated) with
 * detail filled. */
static const char *check_expression(sl_license_stage *s, const sl_envelope *env,
                                    sl_spdx_expr **expr, char *detail, size_t cap)
{
    const char *text = env->license_expression;
    sl_spdx_error perr;

    if (sl_spdx_parse(s->spdx, text ? text : "", expr, &perr) == SL_OK)
        return NULL;
    snprintf(detail, cap, "%s", perr.detail);
    return perr.code ? perr.code : SL_LICENSE_INVALID;
}

/* The creator's rights attestation and reservations.  NULL, or
 * attestation_missing / use_reserved with detail filled. */
static const char *check_attestation(const json_t *att, char *detail, size_t cap)
{
    if (!json_is_object(att) || !json_is_true(json_object_get(att, "rights_holder")) ||
        json_integer_value(json_object_get(att, "version")) < 1) {
        snprintf(detail, cap, "%s", !json_is_object(att) ?
                 "no rights attestation in the metadata" :
                 "the attestation does not state that the creator holds the rights");
        return "attestation_missing";
    }
    for (size_t i = 0; i < sizeof(usage_signals) / sizeof(usage_signals[0]); i++) {
        const char *v = sl_json_str(att, usage_signals[i]);
        if (v && strcmp(v, "notAllowed") == 0) {
            snprintf(detail, cap, "the creator's %s signal is notAllowed (c2pa.%s)",
                     usage_signals[i], usage_signals[i]);
            return "use_reserved";
        }
    }
    if (json_is_true(json_object_get(att, "tdm_reservation"))) {
        snprintf(detail, cap, "the creator reserves text and data mining rights "
                 "(tdm_reservation)");
        return "use_reserved";
    }
    return NULL;
}

/* What the registry says of this creator and content in this dataset.
 * NULL, or opted_out / taken_down / not_entitled with detail filled. */
static const char *check_registry(const sl_envelope *env, const char *origin,
                                  const sl_license_dataset *ds,
                                  const sl_license_ask *ask, char *detail,
                                  size_t cap)
{
    if (ask->opted_out) {
        snprintf(detail, cap, "creator \"%s\" opted out of training", env->creator_id);
        return "opted_out";
    }
    if (ask->taken_down) {
        snprintf(detail, cap, "content %s was taken down", origin);
        return "taken_down";
    }
    if (!ds->open && !ask->contributor) {
        snprintf(detail, cap, "creator \"%s\" is not a contributor of dataset "
                 "\"%s\"", env->creator_id, env->dataset_id);
        return "not_entitled";
    }
    return NULL;
}

/* The bound license record for expr under policy: the memo's, or built
 * now and memoised (*built is then the caller's to free).  NULL when out
 * of memory. */
static const char *license_record(sl_license_stage *s, const sl_envelope *env,
                                  const sl_spdx_expr *expr,
                                  const sl_license_verdict *lv,
                                  const sl_license_policy *policy, char **built)
{
    const char *key[MEMO_KEYS] = { env->license_expression, env->license_terms_url,
                                   env->license_attribution };
    const char *record = memo_find(s, policy, key);

    if (record)
        return record;
    if ((*built = sl_license_record(s->spdx, s->rights, expr, lv, policy,
                                    key[1], key[2])))
        memo_store(s, policy, key, *built);
    return *built;
}

sl_verdict sl_license_process(sl_license_stage *s, const sl_msg *in, sl_out *out)
{
    const char *sha, *origin, *upload_id, *creator, *dataset, *code;
    const sl_envelope *env;
    sl_envelope own;
    sl_spdx_expr *expr = NULL;
    sl_license_dataset ds;
    sl_license_policy *policy = NULL;
    sl_license_verdict lv;
    sl_license_ask ask;
    const sl_license_ask *pre_ask = NULL;
    const prepared *pre;
    sl_verdict verdict = SL_EMIT;
    char *record = NULL, detail[SL_SPDX_DETAIL_MAX + 256];
    const char *bound;
    quota_slot *counted = NULL;
    sl_quota limits;
    sl_err err;
    int rc, prc;

    memset(&lv, 0, sizeof(lv));
    memset(&own, 0, sizeof(own));
    if ((pre = prepared_for(s, in, &pre_ask))) {   /* read once, in prepare() */
        env = &pre->env;
    } else if (sl_envelope_read_with(&own, in, SL_ENV_ATTESTATION) == SL_OK) {
        reviewed_origin(s, in, &own);
        env = &own;
    } else {
        sl_envelope_clear(&own);
        return SL_FATAL;
    }
    sha = env->sha256;
    origin = sl_envelope_origin(env);
    upload_id = env->upload_id;
    creator = env->creator_id;
    dataset = env->dataset_id;
    if (env->meta_state != SL_META_OK)
        REJECT("meta_invalid", "%s", env->meta_detail);
    if (from_reviewed(s, in)) {
        const char *why = review_problem(in, sha, origin);
        if (why)
            REJECT("review_unverified", "a message of %s that no moderator let "
                   "on: %s", s->reviewed_topic, why);
    }

    rc = s->lk.dataset(s->lk.u, dataset, &ds);
    if (rc == SL_ENOTFOUND)
        REJECT("dataset_unknown", "dataset \"%s\" is not registered", dataset);
    if (rc != SL_OK) {
        verdict = SL_RETRY;
        goto done;
    }
    /* ds's strings are borrowed only until the next lookup call (the ask
     * below): parse the policy now, act on it in its turn. */
    prc = policy_for(s, dataset, &ds, &policy, &err);

    if ((code = check_expression(s, env, &expr, detail, sizeof(detail))) ||
        (code = check_attestation(env->attestation, detail, sizeof(detail))))
        REJECT(code, "%s", detail);

    if (pre && pre_ask)
        ask = *pre_ask;
    else if ((rc = ask_one(s, creator, dataset, sha, origin, &ask)) != SL_OK) {
        verdict = SL_RETRY;
        goto done;
    }
    if ((code = check_registry(env, origin, &ds, &ask, detail, sizeof(detail))))
        REJECT(code, "%s", detail);
    limits = (sl_quota){ ds.quota_count, ds.quota_bytes };
    if (sl_quota_limited(&limits)) {
        quota_slot *q = quota_find(s, creator, dataset);
        sl_quota_usage used = quota_used(q, &ask, s->now_ms());
        switch (sl_quota_check(&limits, &used, (int64_t)in->value.len)) {
        case SL_QUOTA_OVER_COUNT:
            REJECT("quota_exceeded", "creator \"%s\" has %" PRId64 " samples in "
                   "\"%s\" today, the daily quota is %" PRId64, creator,
                   used.count, dataset, limits.count);
        case SL_QUOTA_OVER_BYTES:
            REJECT("quota_exceeded", "creator \"%s\" has %" PRId64 " bytes in "
                   "\"%s\" today; %zu more would pass the daily quota of %"
                   PRId64, creator, used.bytes, dataset, in->value.len,
                   limits.bytes);
        case SL_QUOTA_FITS:
            break;
        }
        counted = q;
    }

    if (prc != SL_OK) {
        /* An operator error, not the creator's: hold the message. */
        sl_error("license", "dataset %s: license_policy unusable: %s", dataset,
                 err.msg);
        verdict = SL_RETRY;
        goto done;
    }
    if (sl_license_check(s->rights, expr, policy, &lv) != SL_OK) {
        verdict = SL_FATAL;
        goto done;
    }
    if (!lv.accepted)
        REJECT(SL_LICENSE_NOT_ALLOWED, "%s", lv.detail);
    if (!(bound = license_record(s, env, expr, &lv, policy, &record)) ||
        sl_out_add_header_str(out, SL_H_LICENSE, bound, 1) != SL_OK ||
        add_prov(s, in, out, upload_id, sha, origin, "accepted", NULL) != SL_OK) {
        verdict = SL_FATAL;
        goto done;
    }
    if (counted) {   /* only what is accepted counts against the quota */
        counted->pend_count = sl_quota_add(counted->pend_count, 1);
        counted->pend_bytes = sl_quota_add(counted->pend_bytes,
                                           (int64_t)in->value.len);
    }
done:
    free(record);
    sl_license_verdict_clear(&lv);
    sl_spdx_expr_destroy(expr);
    sl_envelope_clear(&own);
    return verdict;
}
#undef REJECT
