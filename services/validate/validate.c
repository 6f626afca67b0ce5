/*
 * validate.c -- the validate processor (see validate.h).
 *
 * Order of checks, cheapest and least trusting first:
 *   headers (count, bytes, none of the stages' own) -> sizes -> metadata
 *   JSON -> schema -> message key -> creator -> signature -> created-time
 *   window -> declared SHA-256 -> replay -> duplicate.
 * Nothing in the metadata is acted on before the signature over the exact
 * bytes has been verified; the checks before it only look at its shape.
 * Every outcome appends a provenance event to the sluice-prov chain.
 *
 * Replay: every upload id this stage consumes, whatever its outcome, is
 * used up.  The id is the one commit stores the outcome under (the
 * metadata's upload_id, else the message key).  An id is a replay if
 *   - this process consumed it earlier (exact in-memory sets: the current
 *     transaction, and those that committed), or
 *   - another message claimed it first (lk.claim: prepare() records every
 *     message's id with where it was read, durably, before any outcome is
 *     produced; a run retried after an abort or a crash finds its own
 *     claims, which do not count), which holds across restarts while
 *     commit has not stored the first outcome yet, or
 *   - the registry holds an outcome for it: each consumed upload ends as
 *     exactly one row of samples, review_items or rejections.
 * So an upload refused for a reason that clears later (creator unknown,
 * disabled, quota) cannot be re-sent and accepted.
 *
 * The in-memory sets are exact (sl_fpset_new_exact): a fingerprint hit is
 * confirmed by a digest of the value, so a collision never refuses a good
 * upload as a replay or duplicate.
 *
 * Dead-letter replay (sluicectl dlq replay): a message of the replay topic
 * (topic.prefix + sluice.replay, which only the operators' Kafka user may
 * write; decided by the topic, never by a header) carries one more header,
 * sluice-replay, naming the operators' replay request.  It gets past
 * replay protection only when the request holds an item for its upload id
 * and content hash (lk.replay, the database), and then once: its claim is
 * on "<request>/<upload id>" (a '/' no upload id holds), so a second copy
 * of the same request is a replay, while the upload's own claim and
 * outcome do not count against it.  An upload already a sample or review
 * item is still a replay, and every other check (signature, duplicate
 * content) runs as for any upload; the created_at window does not (the
 * operator vouches for the time it was first sent).  Its chain starts with
 * a "dlq" event (outcome "replayed", reason the request id) before
 * validate's.  A replay refused again is one more rejection, not a loop.
 *
 * Signatures on several cores: prepare() verifies the run's Ed25519
 * signatures ahead of process(), split over validate.verify.threads
 * threads (presign_run).  Each result is what sl_ed25519_verify says for
 * exact bytes -- the creator's public key as the registry gave it then,
 * the signature, the signed string -- and process() takes it only when
 * the key it looks up now has the same public bytes and the signature is
 * the same; otherwise it verifies itself.  So the verdicts, their order
 * and the checks before the signature are those of one thread: only
 * where the CPU time is spent moves.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sl/embed.h"
#include "sl/envelope.h"
#include "sl/fpset.h"
#include "sl/jschema.h"
#include "sl/log.h"
#include "sl/prov.h"
#include "sl/timeutil.h"
#include "sl/topology.h"
#include "validate.h"

#define VALIDATE_VERSION "validate/1"
#define RUN_MAX 4096   /* messages one prepare() looks up at most */
#define REPLAY_VERSION "dlq/1"
#define REPLAY_ID_MAX 64   /* a replay request id: [a-z0-9][a-z0-9_-]{0,63} */
/* A claimed id: an upload id (128) or "<request>/<upload id>". */
#define CLAIM_ID_MAX (REPLAY_ID_MAX + 1 + 128 + 1)

const sl_cfg_entry sl_validate_config[] = {
    { SL_CFG_SIZE, "validate.meta.max.bytes", "16k", "largest sluice-meta header accepted" },
    { SL_CFG_SIZE, "validate.content.max.bytes", "8m", "largest sample value accepted" },
    { SL_CFG_INT,  "validate.window.past.s", "86400", "oldest created_at accepted, seconds before now" },
    { SL_CFG_INT,  "validate.window.future.s", "300", "newest created_at accepted, seconds after now (clock skew)" },
    { SL_CFG_STR,  "validate.schema.file", NULL, "metadata JSON schema; default: the built-in upload-meta.schema.json" },
    { SL_CFG_INT,  "validate.seen.cache.entries", "1000000", "upload ids / content hashes remembered in memory" },
    { SL_CFG_INT,  "validate.creator.cache.ms", "5000", "how long a creator record is cached" },
    { SL_CFG_INT,  "validate.creator.recheck.ms", "1000", "a creator check or signature failing on a cached record older than this is re-checked once against the registry" },
    { SL_CFG_SIZE, "validate.headers.max.bytes", "64k", "largest total of an upload's header names and values" },
    { SL_CFG_INT,  "validate.headers.max.count", "64", "most headers an upload may carry" },
    { SL_CFG_INT,  "validate.verify.threads", "0", "threads verifying a run's Ed25519 signatures before it is processed (0: one per online CPU, at most 8; 1: verify one by one in process)" },
    { SL_CFG_BOOL, "validate.claims", "true", "claim each consumed upload id in upload_claims before its outcome (replay protection across restarts; off: memory and outcome tables only)" },
    { SL_CFG_STR,  "secrets.key.file", "secrets.key", "key file the HMAC secrets are sealed under (sluicectl creator add writes it, mode 0600)" },
    SL_CFG_END
};

/* A run's signature verified ahead by presign_run: for these public
 * bytes and this signature, over the message's signed string. */
enum { PRESIG_NONE, PRESIG_TODO, PRESIG_VALID, PRESIG_INVALID };
typedef struct presig {
    unsigned char state;
    unsigned char shape_ok;     /* shape_code found nothing (same message) */
    uint8_t pub[32];
    uint8_t sig[64];
} presig;

/* Below this many signatures in a run, threads are not worth starting. */
#define PRESIG_MIN 16
#define VERIFY_THREADS_MAX 8

struct sl_validate {
    sl_validate_lookup lk;
    sl_jschema *schema;
    int64_t meta_max, content_max, past_ms, future_ms;
    int64_t hdr_max_bytes, hdr_max_count;
    sl_fpset *seen_uploads, *seen_content;       /* committed */
    sl_fpset *pend_uploads, *pend_content;       /* this transaction */
    /* What the last prepare() asked the registry (ids, hashes) and what it
     * found already accepted (ids, dataset + hash). */
    sl_fpset *run_ids_asked, *run_ids_known, *run_sha_asked, *run_content_known;
    /* The run prepare() read: its messages, their envelopes (each read
     * once: hash, sluice-meta), and, when it claimed them, per message
     * whether another message had claimed its upload id first. */
    const sl_msg *run_base;
    size_t run_n;
    sl_envelope *run_env;
    int run_claimed;
    unsigned char *run_earlier;
    size_t seen_max;
    presig *run_sig;                             /* per message of the run */
    int verify_threads;
    sl_buf sigmsg;                               /* reused signed-string buffer */
    sl_buf prov;                                 /* reused provenance header */
    sl_buf prov_first;                           /* a replay's first event */
    char replay_topic[256];                      /* topic.prefix + sluice.replay */
};

static char *read_file(const char *path, size_t *len, sl_err *err)
{
    FILE *f = fopen(path, "rb");
    sl_buf b;
    char chunk[8192];
    size_t n;

    if (!f) {
        sl_err_set(err, "cannot open schema file %s", path);
        return NULL;
    }
    sl_buf_init(&b, 4 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (sl_buf_append(&b, chunk, n) != SL_OK) {
            sl_err_set(err, "schema file %s is too large", path);
            fclose(f);
            sl_buf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    if (sl_buf_cstr(&b) != SL_OK) {
        sl_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return (char *)b.data;
}

int sl_validate_new(sl_validate **out, const sl_config *cfg,
                    const sl_validate_lookup *lk, sl_err *err)
{
    sl_validate *v = calloc(1, sizeof(*v));
    const char *path = sl_config_get(cfg, "validate.schema.file");
    char *text = NULL;
    size_t len = 0;

    if (!v)
        goto nomem;
    v->lk = *lk;
    v->meta_max = sl_config_int(cfg, "validate.meta.max.bytes");
    v->content_max = sl_config_int(cfg, "validate.content.max.bytes");
    v->past_ms = sl_config_int(cfg, "validate.window.past.s") * 1000;
    v->future_ms = sl_config_int(cfg, "validate.window.future.s") * 1000;
    v->seen_max = (size_t)sl_config_int(cfg, "validate.seen.cache.entries");
    v->hdr_max_bytes = sl_config_int(cfg, "validate.headers.max.bytes");
    v->hdr_max_count = sl_config_int(cfg, "validate.headers.max.count");
    {
        int64_t t = sl_config_int(cfg, "validate.verify.threads");
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        if (t < 0 || t > VERIFY_THREADS_MAX) {
            sl_err_set(err, "validate.verify.threads must be 0 (one per CPU) "
                       "to %d", VERIFY_THREADS_MAX);
            goto fail;
        }
        if (t == 0)
            t = cpus < 1 ? 1 : cpus > VERIFY_THREADS_MAX ? VERIFY_THREADS_MAX : cpus;
        v->verify_threads = (int)t;
    }
    if (v->meta_max <= 0 || v->content_max <= 0 || v->past_ms < 0 ||
        v->future_ms < 0 || v->seen_max < 1 || v->hdr_max_bytes <= 0 ||
        v->hdr_max_count <= 0) {
        sl_err_set(err, "validate.* sizes, windows and cache entries must be positive");
        goto fail;
    }
    if (path && *path) {
        if (!(text = read_file(path, &len, err)))
            goto fail;
        v->schema = sl_jschema_new(text, len, err);
        free(text);
    } else {
        const sl_embedded *e = sl_embed_get("upload-meta.schema.json");
        if (!e) {
            sl_err_set(err, "built-in upload-meta.schema.json is missing");
            goto fail;
        }
        v->schema = sl_jschema_new(e->data, e->len, err);
    }
    if (!v->schema)
        goto fail;
    v->seen_uploads = sl_fpset_new_exact(v->seen_max);
    v->seen_content = sl_fpset_new_exact(v->seen_max);
    v->pend_uploads = sl_fpset_new_exact(100000);
    v->pend_content = sl_fpset_new_exact(100000);
    v->run_ids_asked = sl_fpset_new_exact(RUN_MAX);
    v->run_ids_known = sl_fpset_new_exact(RUN_MAX);
    v->run_sha_asked = sl_fpset_new_exact(RUN_MAX);
    v->run_content_known = sl_fpset_new_exact(4 * RUN_MAX);
    if (!v->seen_uploads || !v->seen_content || !v->pend_uploads ||
        !v->pend_content || !v->run_ids_asked || !v->run_ids_known ||
        !v->run_sha_asked || !v->run_content_known)
        goto nomem;
    if (!(v->run_earlier = calloc(RUN_MAX, 1)) ||
        !(v->run_env = calloc(RUN_MAX, sizeof(*v->run_env))) ||
        !(v->run_sig = calloc(RUN_MAX, sizeof(*v->run_sig))))
        goto nomem;
    sl_buf_init(&v->sigmsg, (size_t)v->meta_max + 256);
    sl_buf_init(&v->prov, 65536);
    sl_buf_init(&v->prov_first, 65536);
    if (sl_topology_prefixed(sl_config_get(cfg, "topic.prefix"), SL_TOPIC_REPLAY,
                             v->replay_topic, sizeof(v->replay_topic)) != SL_OK) {
        sl_err_set(err, "topic.prefix is too long");
        goto fail;
    }
    *out = v;
    return SL_OK;
nomem:
    sl_err_set(err, "out of memory");
fail:
    if (v)
        v->lk.destroy = NULL;   /* the caller still owns lk on failure */
    sl_validate_destroy(v);
    return SL_ERR;
}

void sl_validate_destroy(sl_validate *v)
{
    if (!v)
        return;
    if (v->lk.destroy)
        v->lk.destroy(v->lk.u);
    sl_jschema_destroy(v->schema);
    sl_fpset_destroy(v->seen_uploads);
    sl_fpset_destroy(v->seen_content);
    sl_fpset_destroy(v->pend_uploads);
    sl_fpset_destroy(v->pend_content);
    sl_fpset_destroy(v->run_ids_asked);
    sl_fpset_destroy(v->run_ids_known);
    sl_fpset_destroy(v->run_sha_asked);
    sl_fpset_destroy(v->run_content_known);
    for (size_t i = 0; v->run_env && i < v->run_n; i++)
        sl_envelope_clear(&v->run_env[i]);
    free(v->run_env);
    free(v->run_sig);
    free(v->run_earlier);
    sl_buf_free(&v->sigmsg);
    sl_buf_free(&v->prov);
    sl_buf_free(&v->prov_first);
    free(v);
}

void sl_validate_txn_end(sl_validate *v, int committed)
{
    if (committed) {
        /* A full cache is cleared: the database stays the authority. */
        if (sl_fpset_merge(v->seen_uploads, v->pend_uploads) != SL_OK) {
            sl_fpset_clear(v->seen_uploads);
            sl_fpset_merge(v->seen_uploads, v->pend_uploads);
        }
        if (sl_fpset_merge(v->seen_content, v->pend_content) != SL_OK) {
            sl_fpset_clear(v->seen_content);
            sl_fpset_merge(v->seen_content, v->pend_content);
        }
    }
    sl_fpset_clear(v->pend_uploads);
    sl_fpset_clear(v->pend_content);
}

static void run_clear(sl_validate *v)
{
    for (size_t i = 0; i < v->run_n; i++)
        sl_envelope_clear(&v->run_env[i]);
    v->run_base = NULL;
    v->run_n = 0;
    v->run_claimed = 0;
    sl_fpset_clear(v->run_ids_asked);
    sl_fpset_clear(v->run_ids_known);
    sl_fpset_clear(v->run_sha_asked);
    sl_fpset_clear(v->run_content_known);
}

/* Adds (a, b) to the exact set s. */
static int set_add(sl_fpset *s, const char *a, size_t alen, const char *b,
                   size_t blen)
{
    sl_fpkey k;

    sl_fpset_key(&k, a, alen, b, blen);
    return sl_fpset_add_key(s, &k);
}

static void note_upload(void *arg, const char *id)
{
    sl_validate *v = arg;
    (void)set_add(v->run_ids_known, id, strlen(id), "", 0);
}

static void note_content(void *arg, const char *dataset, const char *sha)
{
    sl_validate *v = arg;
    (void)set_add(v->run_content_known, dataset, strlen(dataset), sha, strlen(sha));
}

/* An upload id worth asking about: what the schema allows for ids. */
static int plain_id(sl_slice k)
{
    if (k.len == 0 || k.len > 128)
        return 0;
    for (size_t i = 0; i < k.len; i++) {
        char c = ((const char *)k.ptr)[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int claim_run(sl_validate *v, const sl_msg *msgs,
                     const sl_envelope *envs, size_t n, unsigned char *earlier);

/* Asks the registry in one go which of the run's upload ids and content
 * hashes it already holds (lk.prefetch).  SL_OK (also when out of
 * memory: process() then asks one by one), or the lookup's error. */
static int prefetch_run(sl_validate *v, const sl_msg *msgs, size_t n)
{
    char (*ids)[129] = malloc(n * sizeof(*ids));
    const char **idp = malloc(n * sizeof(*idp)), **shap = malloc(n * sizeof(*shap));
    size_t ni = 0, ns = 0;
    int rc = SL_OK;   /* out of memory: process() asks one by one */

    if (!ids || !idp || !shap)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const sl_msg *m = &msgs[i];
        if (plain_id(m->key)) {
            memcpy(ids[ni], m->key.ptr, m->key.len);
            ids[ni][m->key.len] = '\0';
            idp[ni] = ids[ni];
            ni++;
        }
        if ((int64_t)m->value.len <= v->content_max)
            shap[ns++] = v->run_env[i].sha256;
    }
    if ((rc = v->lk.prefetch(v->lk.u, idp, ni, shap, ns, note_upload,
                             note_content, v)) != SL_OK)
        goto out;
    for (size_t i = 0; i < ni; i++)
        (void)set_add(v->run_ids_asked, idp[i], strlen(idp[i]), "", 0);
    for (size_t i = 0; i < ns; i++)
        (void)set_add(v->run_sha_asked, shap[i], 64, "", 0);
out:
    free(ids);
    free(idp);
    free(shap);
    return rc;
}

static const char *shape_code(const sl_validate *v, const sl_msg *in,
                              const sl_envelope *e, char *detail, size_t cap);

/* One thread's share of presign_run: the entries listed in idx. */
typedef struct presig_job {
    const sl_validate *v;
    const sl_msg *msgs;
    const size_t *idx;
    size_t n;
} presig_job;

static void *presig_work(void *arg)
{
    const presig_job *j = arg;
    sl_buf msg;

    sl_buf_init(&msg, (size_t)j->v->meta_max + 256);
    for (size_t k = 0; k < j->n; k++) {
        presig *p = &j->v->run_sig[j->idx[k]];
        const sl_envelope *e = &j->v->run_env[j->idx[k]];

        sl_buf_reset(&msg);
        if (sl_sig_message(&msg, e->sha256, e->meta) != SL_OK) {
            p->state = PRESIG_NONE;      /* out of memory: process() verifies */
            continue;
        }
        p->state = sl_ed25519_verify(p->pub, msg.data, msg.len, p->sig, 64) == SL_OK
                   ? PRESIG_VALID : PRESIG_INVALID;
    }
    sl_buf_free(&msg);
    return NULL;
}

/* Verifies the run's Ed25519 signatures on v->verify_threads threads (the
 * caller's one of them), for process() to take (presig_for).  Only
 * messages process() would verify are done: readable metadata, an
 * ed25519 signature header, a creator the registry knows as active and
 * verified with an Ed25519 key.  Nothing here decides anything. */
static void presign_run(sl_validate *v, const sl_msg *msgs, size_t n)
{
    size_t *idx, m = 0;
    int threads = v->verify_threads;

    for (size_t i = 0; i < n; i++)
        v->run_sig[i].state = v->run_sig[i].shape_ok = 0;
    if (threads < 2 || n < PRESIG_MIN || !(idx = malloc(n * sizeof(*idx))))
        return;
    for (size_t i = 0; i < n; i++) {
        const sl_envelope *e = &v->run_env[i];
        presig *p = &v->run_sig[i];
        uint8_t sig[SL_SIG_MAX];
        char detail[768];
        size_t siglen;
        sl_sig_alg alg;
        sl_slice hdr;
        sl_key *key;
        int active, verified;

        /* only what process() gets as far as the signature with: no
         * registry look-up for a message its shape refuses */
        if (shape_code(v, &msgs[i], e, detail, sizeof(detail)))
            continue;
        p->shape_ok = 1;
        if (sl_msg_header(&msgs[i], SL_H_SIG, &hdr) != SL_OK || !hdr.ptr ||
            sl_sig_parse(hdr, &alg, sig, &siglen) != SL_OK ||
            alg != SL_SIG_ED25519 || siglen != sizeof(p->sig) ||
            v->lk.creator(v->lk.u, e->creator_id, &key, &active, &verified) != SL_OK ||
            !active || !verified || sl_key_ed25519_public(key, p->pub) != SL_OK)
            continue;
        memcpy(p->sig, sig, sizeof(p->sig));
        p->state = PRESIG_TODO;
        idx[m++] = i;
    }
    if (m >= PRESIG_MIN) {
        presig_job job[VERIFY_THREADS_MAX];
        pthread_t tid[VERIFY_THREADS_MAX];
        int started[VERIFY_THREADS_MAX] = { 0 };
        size_t per = (m + (size_t)threads - 1) / (size_t)threads, at = 0;

        for (int t = 0; t < threads; t++) {
            size_t k = at < m ? (m - at < per ? m - at : per) : 0;

            job[t] = (presig_job){ v, msgs, idx + at, k };
            at += k;
            /* the last share is the caller's; a thread that cannot start
             * leaves its share to the caller too */
            if (t < threads - 1 && k)
                started[t] = pthread_create(&tid[t], NULL, presig_work, &job[t]) == 0;
        }
        presig_work(&job[threads - 1]);
        for (int t = 0; t < threads - 1; t++) {
            if (started[t])
                pthread_join(tid[t], NULL);
            else if (job[t].n)
                presig_work(&job[t]);
        }
    }
    for (size_t k = 0; k < m; k++)
        if (v->run_sig[idx[k]].state == PRESIG_TODO)
            v->run_sig[idx[k]].state = PRESIG_NONE;
    free(idx);
}

/* Reads the run's envelopes (each message hashed and its metadata parsed
 * once, for the claims, the prefetch and process()), claims its upload
 * ids, asks the registry about it and verifies its signatures ahead. */
int sl_validate_prepare(sl_validate *v, const sl_msg *msgs, size_t n)
{
    run_clear(v);
    if (n > RUN_MAX)
        n = RUN_MAX;   /* the rest is read (and claimed) one by one */
    for (size_t i = 0; i < n; i++)
        if (sl_envelope_read(&v->run_env[i], &msgs[i]) != SL_OK) {
            v->run_n = i + 1;
            run_clear(v);   /* process() reads each message itself */
            return SL_OK;
        }
    v->run_base = msgs;
    v->run_n = n;
    if (v->lk.claim && n) {
        if (claim_run(v, msgs, v->run_env, n, v->run_earlier) != SL_OK) {
            run_clear(v);
            return SL_EIO;   /* abort and retry the run */
        }
        v->run_claimed = 1;
    }
    if (v->lk.prefetch && n && prefetch_run(v, msgs, n) != SL_OK) {
        run_clear(v);
        return SL_EIO;   /* abort and retry the run */
    }
    presign_run(v, msgs, n);
    return SL_OK;
}

/* Per-message facts gathered along the way, for the provenance event. */
typedef struct vstate {
    char sha[SL_SHA256_HEX];
    const char *upload_id;
    const char *replay;          /* the replay request, for a replay */
} vstate;

/* Appends this stage's event to the chain and sets the header. */
static int add_prov(sl_validate *v, const sl_msg *in, sl_out *out,
                    const vstate *st, const char *outcome, const char *reason)
{
    sl_slice chain = { NULL, 0 };
    sl_prov_event ev = {
        .stage = "validate", .version = VALIDATE_VERSION, .outcome = outcome,
        .reason = reason, .upload_id = st->upload_id,
        .input_sha256 = st->sha, .output_sha256 = st->sha,
        .time_ms = sl_now_ms(),
    };
    sl_err err;

    /* An upload arrives without a chain; a forged one is not continued.  A
     * replay's starts with the operators' request. */
    (void)in;
    if (st->replay) {
        sl_prov_event rev = {
            .stage = "dlq", .version = REPLAY_VERSION, .outcome = "replayed",
            .reason = st->replay, .upload_id = st->upload_id,
            .input_sha256 = st->sha, .output_sha256 = st->sha,
            .time_ms = ev.time_ms,
        };
        if (sl_prov_append(chain, st->sha, &rev, &v->prov_first, NULL, &err) != SL_OK) {
            sl_error("validate", "provenance: %s", err.msg);
            return SL_ERR;
        }
        chain = (sl_slice){ v->prov_first.data, v->prov_first.len };
    }
    if (sl_prov_append(chain, st->sha, &ev, &v->prov, NULL, &err) != SL_OK) {
        sl_error("validate", "provenance: %s", err.msg);
        return SL_ERR;
    }
    return sl_out_add_header(out, SL_H_PROV, v->prov.data, v->prov.len, 1);
}

/* Rejects with a provenance event recording the reason. */
static sl_verdict reject(sl_validate *v, const sl_msg *in, sl_out *out,
                         const vstate *st, const char *code, const char *detail)
{
    sl_out_reject(out, code, "%s", detail);
    if (add_prov(v, in, out, st, "rejected", code) != SL_OK)
        return SL_FATAL;
    return SL_REJECT;
}

/* Writes the bytes of s into out as printable ASCII (a header name is bytes
 * from outside and ends up in logs and terminals): anything else, and '\\'
 * and '"', as \xNN; at most about 64 input bytes, then "...". */
static void escape_name(const char *s, char *out, size_t cap)
{
    size_t o = 0, i;

    for (i = 0; s[i] && i < 64 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (s[i] && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int is_replay(const sl_validate *v, const sl_msg *in);

/* The headers an upload may carry: at most hdr_max_count of them, at most
 * hdr_max_bytes of names and values together, and none of the names the
 * stages write (any "sluice-" name in any case, but for exactly one
 * "sluice-meta" and at most one "sluice-sig", and on the replay topic at
 * most one "sluice-replay"): a stage downstream must be able to trust a
 * sluice-* header as its predecessor's.  Returns NULL or the reason code,
 * with detail filled. */
static const char *check_headers(const sl_validate *v, const sl_msg *in,
                                 char *detail, size_t cap)
{
    uint64_t bytes = 0;
    int n_meta = 0, n_sig = 0, n_replay = 0, replay = is_replay(v, in);
    char name[300];

    if ((int64_t)in->n_headers > v->hdr_max_count) {
        snprintf(detail, cap, "%zu headers, the limit is %" PRId64,
                 in->n_headers, v->hdr_max_count);
        return "headers_too_large";
    }
    for (size_t i = 0; i < in->n_headers; i++)
        bytes += strlen(in->headers[i].name) + in->headers[i].value.len;
    if (bytes > (uint64_t)v->hdr_max_bytes) {
        snprintf(detail, cap, "headers total %" PRIu64 " bytes, the limit is %"
                 PRId64, bytes, v->hdr_max_bytes);
        return "headers_too_large";
    }
    for (size_t i = 0; i < in->n_headers; i++) {
        const char *h = in->headers[i].name;
        if (strncasecmp(h, "sluice-", 7) != 0)
            continue;
        if (strcmp(h, SL_H_META) == 0 && ++n_meta == 1)
            continue;
        if (strcmp(h, SL_H_SIG) == 0 && ++n_sig == 1)
            continue;
        /* the operators' request, on their topic only */
        if (replay && strcmp(h, SL_H_REPLAY) == 0 && ++n_replay == 1)
            continue;
        escape_name(h, name, sizeof(name));
        if (n_meta > 1 || n_sig > 1 || n_replay > 1)
            snprintf(detail, cap, "header \"%s\" appears more than once", name);
        else
            snprintf(detail, cap, "header \"%s\" is reserved for the stages; "
                     "an upload carries only %s and %s", name, SL_H_META, SL_H_SIG);
        return "header_reserved";
    }
    return NULL;
}

/* Marks the upload id this message is consumed under as used in this
 * transaction: the one commit records its outcome under
 * (sl_envelope_upload_id: the metadata's upload_id, else a usable key).
 * SL_OK, or SL_ETOOBIG when the pending set is full. */
static int consume_id(sl_validate *v, const sl_msg *in, const sl_envelope *env)
{
    size_t len = 0;
    const char *id = sl_envelope_upload_id(env, in, &len);

    return id ? set_add(v->pend_uploads, id, len, "", 0) : SL_OK;
}

/* ---- dead-letter replay ---------------------------------------------- */

/* Whether in was read from the replay topic. */
static int is_replay(const sl_validate *v, const sl_msg *in)
{
    return in->topic && strcmp(in->topic, v->replay_topic) == 0;
}

/* The replay request a message of the replay topic names: its (only)
 * sluice-replay header, [a-z0-9][a-z0-9_-]{0,63}, into out.  SL_OK, or
 * SL_EINVAL when absent or malformed. */
static int replay_request(const sl_msg *in, char out[REPLAY_ID_MAX + 1])
{
    sl_slice h;

    if (sl_msg_header(in, SL_H_REPLAY, &h) != SL_OK || !h.ptr || h.len == 0 ||
        h.len > REPLAY_ID_MAX)
        return SL_EINVAL;
    for (size_t i = 0; i < h.len; i++) {
        char c = ((const char *)h.ptr)[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '-'))))
            return SL_EINVAL;
    }
    memcpy(out, h.ptr, h.len);
    out[h.len] = '\0';
    return SL_OK;
}

/* The id a message's claim is on: its upload id, or for a message of the
 * replay topic "<request>/<upload id>" (a replay is used up once per
 * request, apart from the upload's own claim).  SL_OK, or SL_EINVAL for a
 * replay message without a usable request (not claimed: it is refused). */
static int replay_claim_id(const sl_validate *v, const sl_msg *in,
                           const char *id, size_t len, char out[CLAIM_ID_MAX])
{
    char req[REPLAY_ID_MAX + 1];

    if (!is_replay(v, in)) {
        memcpy(out, id, len);
        out[len] = '\0';
        return SL_OK;
    }
    if (replay_request(in, req) != SL_OK)
        return SL_EINVAL;
    snprintf(out, CLAIM_ID_MAX, "%s/%.*s", req, (int)len, id);
    return SL_OK;
}

/* Claims the upload ids of msgs[0..n) (lk.claim), read in envs[0..n), and
 * notes, per message, whether another message claimed its id first.  Only
 * ids that could ever be accepted (plain_id) are claimed, each once: a
 * later message of the run with an id an earlier one carries was claimed
 * first by that one (another offset or partition), so it is a replay
 * without asking, and the lookup sees distinct ids.  SL_OK or SL_EIO. */
static int claim_run(sl_validate *v, const sl_msg *msgs,
                     const sl_envelope *envs, size_t n, unsigned char *earlier)
{
    sl_validate_claim *c = calloc(n ? n : 1, sizeof(*c));
    char (*ids)[CLAIM_ID_MAX] = malloc((n ? n : 1) * sizeof(*ids));
    size_t *at = malloc((n ? n : 1) * sizeof(*at)), nc = 0;
    sl_fpset *in_run = n > 1 ? sl_fpset_new_exact(n) : NULL;
    int rc = SL_EIO;

    memset(earlier, 0, n);
    if (!c || !ids || !at || (n > 1 && !in_run))
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const char *id = sl_envelope_upload_id(&envs[i], &msgs[i], &len);
        char key[CLAIM_ID_MAX];
        if (id && plain_id((sl_slice){ (const uint8_t *)id, len }) &&
            replay_claim_id(v, &msgs[i], id, len, key) == SL_OK) {
            uint64_t fp;
            id = key;
            len = strlen(key);
            fp = sl_fpset_fp(id, len, "", 0);
            if (in_run && sl_fpset_has_val(in_run, fp, id, len, "", 0)) {
                earlier[i] = 1;
            } else if (in_run && sl_fpset_add_val(in_run, fp, id, len, "", 0) != SL_OK) {
                goto out;
            } else {
                memcpy(ids[nc], id, len);
                ids[nc][len] = '\0';
                c[nc] = (sl_validate_claim){ ids[nc], msgs[i].topic ? msgs[i].topic : "",
                                             msgs[i].partition, msgs[i].offset, 0 };
                at[nc++] = i;
            }
        }
    }
    if (nc && (rc = v->lk.claim(v->lk.u, c, nc)) != SL_OK)
        goto out;
    for (size_t k = 0; k < nc; k++)
        earlier[at[k]] = (unsigned char)(c[k].earlier != 0);
    rc = SL_OK;
out:
    sl_fpset_destroy(in_run);
    free(c);
    free(ids);
    free(at);
    return rc;
}

/* One message on its way through the checks: what it says (its
 * envelope), what the provenance event records, and the verdict once a
 * check decides it. */
typedef struct vmsg {
    const sl_msg *in;
    sl_out *out;
    const sl_envelope *env;
    size_t slot;                 /* its slot in the prepared run, or SL_RUN_NONE */
    vstate st;
    sl_verdict verdict;
    char detail[768];
    char replay[REPLAY_ID_MAX + 1];   /* a replay's request (st.replay) */
    int replay_accepted;         /* a replay: the upload is already stored */
} vmsg;

/* Decides m as rejected with code and the formatted detail (and a
 * provenance event recording the reason).  Returns true: decided. */
__attribute__((format(printf, 4, 5)))
static bool refuse(sl_validate *v, vmsg *m, const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->detail, sizeof(m->detail), fmt, ap);
    va_end(ap);
    m->verdict = reject(v, m->in, m->out, &m->st, code, m->detail);
    return true;
}

/* Decides m with a verdict of the environment's or the process's. */
static bool decide(vmsg *m, sl_verdict verdict)
{
    m->verdict = verdict;
    return true;
}

/* Whether another message claimed m's upload id first: from the run
 * prepare() claimed, or (a message outside it) claimed now.  SL_OK or
 * SL_EIO. */
static int claimed_first(sl_validate *v, const vmsg *m, int *earlier)
{
    unsigned char e = 0;

    *earlier = 0;
    if (!v->lk.claim)
        return SL_OK;
    if (m->slot != SL_RUN_NONE && v->run_claimed) {
        *earlier = v->run_earlier[m->slot];
        return SL_OK;
    }
    if (claim_run(v, m->in, m->env, 1, &e) != SL_OK)
        return SL_EIO;
    *earlier = e;
    return SL_OK;
}

/* The shape, before anything in it is trusted: headers, sizes, the
 * metadata's JSON and schema, and the message key.  NULL when it holds,
 * else the reason code with its detail in detail[cap]. */
static const char *shape_code(const sl_validate *v, const sl_msg *in,
                              const sl_envelope *e, char *detail, size_t cap)
{
    const char *code;
    sl_err err;

    if ((code = check_headers(v, in, detail, cap)) != NULL)
        return code;
    if ((int64_t)in->value.len > v->content_max) {
        snprintf(detail, cap, "content is %zu bytes, the limit is %" PRId64,
                 in->value.len, v->content_max);
        return "too_large";
    }
    if (e->meta_state == SL_META_ABSENT) {
        snprintf(detail, cap, "%s", e->meta_detail);
        return "meta_missing";
    }
    if ((int64_t)e->meta.len > v->meta_max) {
        snprintf(detail, cap, "%s is %zu bytes, the limit is %" PRId64,
                 SL_H_META, e->meta.len, v->meta_max);
        return "too_large";
    }
    if (e->meta_state == SL_META_MALFORMED) {
        snprintf(detail, cap, "%s", e->meta_detail);
        return "meta_malformed";
    }
    if (sl_jschema_validate(v->schema, e->meta_doc, &err) != SL_OK) {
        snprintf(detail, cap, "%s", err.msg);
        return "meta_invalid";
    }
    /* validate.schema.file may name a schema looser than what every stage
     * reads of the metadata (sl/envelope.h) */
    if (e->meta_state == SL_META_INVALID) {
        snprintf(detail, cap, "%s", e->meta_detail);
        return "meta_invalid";
    }
    if (in->key.len != strlen(e->upload_id) ||
        memcmp(in->key.ptr, e->upload_id, in->key.len) != 0) {
        snprintf(detail, cap, "the message key must be the upload id \"%s\"",
                 e->upload_id);
        return "key_mismatch";
    }
    return NULL;
}

/* shape_code's verdict on m, which presign_run found already when it
 * looked at m.  True when decided. */
static bool check_shape(sl_validate *v, vmsg *m)
{
    const char *code = NULL;

    if (m->slot == SL_RUN_NONE || m->env != &v->run_env[m->slot] ||
        !v->run_sig[m->slot].shape_ok)
        code = shape_code(v, m->in, m->env, m->detail, sizeof(m->detail));
    /* the upload id is the metadata's once its shape is read (the key
     * check is the last: its event names the id the metadata gives) */
    if (!code || strcmp(code, "key_mismatch") == 0)
        m->st.upload_id = m->env->upload_id;
    if (code) {
        m->verdict = reject(v, m->in, m->out, &m->st, code, m->detail);
        return true;
    }
    return false;
}

/* A message of the replay topic: the operators' request named in its
 * sluice-replay header holds an item for this upload id and content
 * (lk.replay).  Then m->st.replay is set.  True when decided. */
static bool check_replay(sl_validate *v, vmsg *m)
{
    int requested = 0;

    if (!is_replay(v, m->in))
        return false;
    if (replay_request(m->in, m->replay) != SL_OK)
        return refuse(v, m, "replay_unauthorized", "a message of the replay "
                      "topic needs one %s header naming a replay request",
                      SL_H_REPLAY);
    if (!v->lk.replay || !v->lk.claim)
        return refuse(v, m, "replay_unauthorized", "this validate takes no "
                      "replays (validate.claims is off)");
    if (v->lk.replay(v->lk.u, m->replay, m->st.upload_id, m->st.sha,
                     &requested, &m->replay_accepted) != SL_OK)
        return decide(m, SL_RETRY);
    if (!requested)
        return refuse(v, m, "replay_unauthorized", "replay request \"%s\" does "
                      "not send upload \"%s\" with content %s", m->replay,
                      m->st.upload_id, m->st.sha);
    m->st.replay = m->replay;
    return false;
}

/* What presign_run found for m's signature with this key, if it verified
 * exactly these bytes: 1 valid, 0 invalid, -1 not known. */
static int presig_for(const sl_validate *v, const vmsg *m, const sl_key *key,
                      const uint8_t *sig, size_t siglen)
{
    const presig *p;
    uint8_t pub[32];

    if (m->slot == SL_RUN_NONE || m->env != &v->run_env[m->slot])
        return -1;
    p = &v->run_sig[m->slot];
    if ((p->state != PRESIG_VALID && p->state != PRESIG_INVALID) ||
        siglen != sizeof(p->sig) || memcmp(sig, p->sig, sizeof(p->sig)) != 0 ||
        sl_key_ed25519_public(key, pub) != SL_OK ||
        memcmp(pub, p->pub, sizeof(pub)) != 0)
        return -1;
    return p->state == PRESIG_VALID;
}

/* The creator is registered, active and verified, and signed the exact
 * bytes.  A failure that a stale cached creator record could explain is
 * re-checked once against the registry (see sl_validate_lookup).  True
 * when decided. */
static bool check_signer(sl_validate *v, vmsg *m)
{
    const char *creator = m->env->creator_id;
    uint8_t sigbytes[SL_SIG_MAX];
    size_t siglen;
    sl_sig_alg alg;
    sl_slice sig;
    sl_key *key;
    int active, verified, rc, pre, rechecked = 0;

#define RECHECK() (!rechecked++ && v->lk.recheck && v->lk.recheck(v->lk.u, creator))
again:
    rc = v->lk.creator(v->lk.u, creator, &key, &active, &verified);
    if (rc == SL_ENOTFOUND) {
        if (RECHECK())
            goto again;
        return refuse(v, m, "creator_unknown", "creator \"%s\" is not registered",
                      creator);
    }
    if (rc != SL_OK)
        return decide(m, SL_RETRY);
    if (!active || !verified) {
        if (RECHECK())
            goto again;
        if (!active)
            return refuse(v, m, "creator_disabled", "creator \"%s\" is disabled",
                          creator);
        return refuse(v, m, "creator_unverified", "creator \"%s\" is not verified",
                      creator);
    }

    if (sl_msg_header(m->in, SL_H_SIG, &sig) != SL_OK || !sig.ptr)
        return refuse(v, m, "signature_missing", "no %s header", SL_H_SIG);
    if (sl_sig_parse(sig, &alg, sigbytes, &siglen) != SL_OK)
        return refuse(v, m, "signature_invalid", "%s is not \"ed25519=<base64>\" "
                      "or \"hmac-sha256=<hex>\"", SL_H_SIG);
    if (alg != sl_key_alg(key)) {
        if (RECHECK())
            goto again;
        return refuse(v, m, "signature_invalid", "creator \"%s\" signs with %s, "
                      "not %s", creator, sl_sig_alg_name(sl_key_alg(key)),
                      sl_sig_alg_name(alg));
    }
    pre = presig_for(v, m, key, sigbytes, siglen);
    if (pre < 0 && sl_sig_message(&v->sigmsg, m->st.sha, m->env->meta) != SL_OK)
        return decide(m, SL_FATAL);
    if (pre == 0 ||
        (pre < 0 && sl_key_verify(key, v->sigmsg.data, v->sigmsg.len, sigbytes,
                                  siglen) != SL_OK)) {
        if (RECHECK())
            goto again;
        return refuse(v, m, "signature_invalid", "the %s signature does not "
                      "match the content and metadata", sl_sig_alg_name(alg));
    }
#undef RECHECK
    return false;
}

/* What the creator's own word says, now that it is theirs: created_at
 * within the window, the declared sha256 the content's.  True when
 * decided. */
static bool check_claims(sl_validate *v, vmsg *m)
{
    const sl_envelope *e = m->env;
    int64_t now = sl_now_ms(), created_ms;

    /* the envelope's rule (sl_time_parse_us), here in milliseconds */
    if (e->meta_state == SL_META_BAD_TIME ||
        sl_time_parse(e->created_at, strlen(e->created_at), &created_ms) != SL_OK)
        return refuse(v, m, "meta_invalid", "/created_at: not an RFC 3339 date-time");
    if (!m->st.replay &&
        (created_ms < now - v->past_ms || created_ms > now + v->future_ms))
        return refuse(v, m, "stale", "created_at %s is outside the accepted window "
                      "(%" PRId64 " s before now to %" PRId64 " s after)",
                      e->created_at, v->past_ms / 1000, v->future_ms / 1000);
    if (e->declared_sha256 && strcmp(e->declared_sha256, m->st.sha) != 0)
        return refuse(v, m, "hash_mismatch", "declared sha256 %s, content hashes "
                      "to %s", e->declared_sha256, m->st.sha);
    return false;
}

/* The upload id used once, the content once per dataset: this
 * transaction, those committed, the claims and the registry, each value
 * hashed once (keyed) and looked up exactly in every set.  True when
 * decided. */
static bool check_seen(sl_validate *v, vmsg *m, int claimed_before)
{
    const char *id = m->st.upload_id, *dataset = m->env->dataset_id;
    sl_fpkey kid, kcontent, ksha;
    int seen;

    sl_fpset_key(&kid, id, strlen(id), "", 0);
    if (m->st.replay) {
        /* its own claim, on the request (check_replay asked the rest) */
        if (claimed_before)
            return refuse(v, m, "replay", "upload id \"%s\" was already "
                          "replayed by request \"%s\"", id, m->st.replay);
        if (m->replay_accepted)
            return refuse(v, m, "replay", "upload id \"%s\" was already used "
                          "(the registry holds it as a sample or review item)", id);
        goto content;
    }
    if (sl_fpset_has_key(v->pend_uploads, &kid) ||
        sl_fpset_has_key(v->seen_uploads, &kid))
        return refuse(v, m, "replay", "upload id \"%s\" was already used", id);
    if (claimed_before)
        return refuse(v, m, "replay", "upload id \"%s\" was already used "
                      "(claimed by an earlier message)", id);
    if (sl_fpset_has_key(v->run_ids_asked, &kid))
        seen = sl_fpset_has_key(v->run_ids_known, &kid);
    else if (v->lk.upload_seen(v->lk.u, id, &seen) != SL_OK)
        return decide(m, SL_RETRY);
    if (seen)
        return refuse(v, m, "replay", "upload id \"%s\" was already used (the "
                      "registry holds an outcome for it)", id);

content:
    sl_fpset_key(&kcontent, dataset, strlen(dataset), m->st.sha, 64);
    sl_fpset_key(&ksha, m->st.sha, 64, "", 0);
    /* A replay's own first pass is in the committed set when a later stage
     * refused it: for a replay the registry (and commit) decide. */
    if (sl_fpset_has_key(v->pend_content, &kcontent) ||
        (!m->st.replay && sl_fpset_has_key(v->seen_content, &kcontent)))
        return refuse(v, m, "duplicate", "content %s is already in dataset \"%s\"",
                      m->st.sha, dataset);
    if (sl_fpset_has_key(v->run_sha_asked, &ksha))
        seen = sl_fpset_has_key(v->run_content_known, &kcontent);
    else if (v->lk.content_seen(v->lk.u, dataset, m->st.sha, &seen) != SL_OK)
        return decide(m, SL_RETRY);
    if (seen)
        return refuse(v, m, "duplicate", "content %s is already in dataset \"%s\"",
                      m->st.sha, dataset);
    /* Accepted: its content is taken for the rest of this transaction. */
    if (sl_fpset_add_key(v->pend_content, &kcontent) != SL_OK)
        return decide(m, SL_RETRY);   /* batch larger than the pending set: abort */
    return false;
}

/* Emits m: its hash and the accepting provenance event. */
static sl_verdict accept(sl_validate *v, vmsg *m)
{
    if (sl_out_add_header_str(m->out, SL_H_SHA256, m->st.sha, 1) != SL_OK ||
        add_prov(v, m->in, m->out, &m->st, "accepted", NULL) != SL_OK)
        return SL_FATAL;
    return SL_EMIT;
}

sl_verdict sl_validate_process(sl_validate *v, const sl_msg *in, sl_out *out)
{
    vmsg m = { .in = in, .out = out, .verdict = SL_EMIT,
               .slot = sl_msg_run_slot(v->run_base, v->run_n, in) };
    sl_envelope own;
    int claimed_before = 0;

    /* The message as prepare() read it, or read now. */
    if (m.slot != SL_RUN_NONE) {
        m.env = &v->run_env[m.slot];
    } else if (sl_envelope_read(&own, in) == SL_OK) {
        m.env = &own;
    } else {
        sl_envelope_clear(&own);
        return SL_FATAL;
    }
    memcpy(m.st.sha, m.env->sha256, sizeof(m.st.sha));
    /* Its upload id is claimed before any outcome (normally by prepare). */
    if (claimed_first(v, &m, &claimed_before) != SL_OK)
        m.verdict = SL_RETRY;
    else if (!check_shape(v, &m) && !check_replay(v, &m) && !check_signer(v, &m) &&
             !check_claims(v, &m) && !check_seen(v, &m, claimed_before))
        m.verdict = accept(v, &m);
    /* Whatever the outcome, the upload id is used up from now on. */
    if ((m.verdict == SL_EMIT || m.verdict == SL_REJECT) &&
        consume_id(v, in, m.env) != SL_OK)
        m.verdict = SL_RETRY;   /* batch larger than the pending set: abort */
    if (m.env == &own)
        sl_envelope_clear(&own);
    return m.verdict;
}
