/*
 * bench_validate.c -- the validate processor alone (no broker, no
 * database): signed 1 KiB uploads decided per second, in runs as the
 * runner hands them over (prepare() then process() of each message), for
 * validate.verify.threads 1, 2, ... up to the online CPUs; and one
 * thread's Ed25519 verifications per second as the yardstick.  Prints
 * figures, asserts nothing but that every upload is accepted.
 *
 * usage: bench_validate [UPLOADS [RUN]]   (default 8192 uploads, runs of 1024)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl/config.h"
#include "sl/crypto.h"
#include "sl/msg.h"
#include "sl/timeutil.h"
#include "validate.h"

typedef struct upload {
    char id[40];
    char *meta;
    char sig[160];
    uint8_t content[1024];
    sl_header hdr[2];
} upload;

typedef struct lookup {
    sl_key *key;
} lookup;

static int lk_creator(void *u, const char *id, sl_key **k, int *a, int *v)
{
    lookup *l = u;

    if (strcmp(id, "bench") != 0)
        return SL_ENOTFOUND;
    *k = l->key;
    *a = *v = 1;
    return SL_OK;
}

static int lk_upload(void *u, const char *id, int *seen)
{
    (void)u, (void)id;
    *seen = 0;
    return SL_OK;
}

static int lk_content(void *u, const char *d, const char *sha, int *seen)
{
    (void)u, (void)d, (void)sha;
    *seen = 0;
    return SL_OK;
}

static double wall(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 8192;
    size_t run = argc > 2 ? strtoul(argv[2], NULL, 10) : 1024;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint8_t seed[32], pub[32];
    upload *up;
    sl_msg *msgs;
    lookup lk_state;
    sl_err err = { "" };
    sl_out *out = sl_out_new(1 << 20);
    sl_buf sm;
    char ts[SL_TIME_LEN], sha[SL_SHA256_HEX];

    if (!n || !run || run > 4096 || !out) {
        fprintf(stderr, "usage: bench_validate [UPLOADS [RUN <= 4096]]\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(i * 7 + 1);
    if (sl_ed25519_public_from_seed(seed, pub) != SL_OK ||
        !(lk_state.key = sl_key_new(SL_SIG_ED25519, pub, 32, &err))) {
        fprintf(stderr, "bench_validate: key: %s\n", err.msg);
        return 1;
    }
    up = calloc(n, sizeof(*up));
    msgs = calloc(n, sizeof(*msgs));
    if (!up || !msgs)
        return 1;
    sl_buf_init(&sm, 1 << 16);
    sl_time_format(sl_now_ms(), ts);
    for (size_t i = 0; i < n; i++) {
        upload *u = &up[i];

        snprintf(u->id, sizeof(u->id), "bench-%zu", i);
        for (size_t k = 0; k < sizeof(u->content); k++)
            u->content[k] = (uint8_t)('a' + (i * 31 + k * 7) % 26);
        memcpy(u->content, u->id, strlen(u->id));   /* distinct contents */
        sl_sha256_hex(u->content, sizeof(u->content), sha);
        if (!(u->meta = malloc(1024)))
            return 1;
        snprintf(u->meta, 1024,
                 "{\"schema_version\":1,\"upload_id\":\"%s\",\"creator_id\":\"bench\","
                 "\"dataset_id\":\"bench\",\"content_type\":\"text/plain\","
                 "\"license\":{\"expression\":\"CC-BY-4.0\"},"
                 "\"attestation\":{\"version\":1,\"rights_holder\":true},"
                 "\"created_at\":\"%s\",\"sha256\":\"%s\"}", u->id, ts, sha);
        sl_buf_reset(&sm);
        if (sl_sig_message(&sm, sha, (sl_slice){ (const uint8_t *)u->meta,
                                                  strlen(u->meta) }) != SL_OK ||
            sl_sign_header(SL_SIG_ED25519, seed, 32, sm.data, sm.len, u->sig,
                           sizeof(u->sig)) != SL_OK)
            return 1;
        u->hdr[0] = (sl_header){ SL_H_META, { (const uint8_t *)u->meta, strlen(u->meta) } };
        u->hdr[1] = (sl_header){ SL_H_SIG, { (const uint8_t *)u->sig, strlen(u->sig) } };
        msgs[i] = (sl_msg){ .key = { (const uint8_t *)u->id, strlen(u->id) },
                            .value = { u->content, sizeof(u->content) },
                            .headers = u->hdr, .n_headers = 2,
                            .topic = "sluice.uploads", .partition = 0,
                            .offset = (int64_t)i, .timestamp_ms = -1 };
    }

    /* the yardstick: one thread's verifications */
    {
        sl_slice h = msgs[0].headers[1].value;
        uint8_t sig[SL_SIG_MAX];
        size_t siglen;
        sl_sig_alg alg;
        double w0, w1;
        int k = 0, reps = 4000;

        sl_sha256_hex(up[0].content, sizeof(up[0].content), sha);
        sl_buf_reset(&sm);
        sl_sig_message(&sm, sha, msgs[0].headers[0].value);
        sl_sig_parse(h, &alg, sig, &siglen);
        w0 = cpu();
        for (int i = 0; i < reps; i++)
            k += sl_ed25519_verify(pub, sm.data, sm.len, sig, siglen) == SL_OK;
        w1 = cpu();
        printf("validate processor alone: %zu signed 1 KiB uploads in runs of %zu, %ld CPUs\n",
               n, run, cpus);
        printf("  yardstick          %.0f Ed25519 verifications/s on one thread (libsodium, %d of %d valid)\n",
               reps / (w1 - w0), k, reps);
    }

    for (int t = 1; t <= (cpus > 8 ? 8 : cpus < 2 ? 2 : cpus); t++) {
        sl_config *cfg = sl_config_new();
        sl_validate_lookup lk = { .u = &lk_state, .creator = lk_creator,
                                  .upload_seen = lk_upload,
                                  .content_seen = lk_content };
        sl_validate *v = NULL;
        char tv[16];
        size_t accepted = 0;
        double w0, c0, w1, c1;

        snprintf(tv, sizeof(tv), "%d", t);
        sl_config_declare(cfg, sl_validate_config);
        if (sl_config_set(cfg, "validate.verify.threads", tv, &err) != SL_OK ||
            sl_validate_new(&v, cfg, &lk, &err) != SL_OK) {
            fprintf(stderr, "bench_validate: %s\n", err.msg);
            return 1;
        }
        w0 = wall();
        c0 = cpu();
        for (size_t at = 0; at < n; at += run) {
            size_t k = n - at < run ? n - at : run;

            for (size_t i = 0; i < k; i++)
                msgs[at + i].run_index = i;
            if (sl_validate_prepare(v, msgs + at, k) != SL_OK)
                return 1;
            for (size_t i = 0; i < k; i++) {
                sl_out_reset(out);
                accepted += sl_validate_process(v, &msgs[at + i], out) == SL_EMIT;
            }
            sl_validate_txn_end(v, 0);   /* nothing kept: each pass the same */
        }
        w1 = wall();
        c1 = cpu();
        printf("  verify.threads %d  %8.0f uploads/s  %6.1f us CPU an upload  (%zu of %zu accepted)\n",
               t, (double)n / (w1 - w0), (c1 - c0) * 1e6 / (double)n, accepted, n);
        if (accepted != n)
            return 1;
        sl_validate_destroy(v);
        sl_config_destroy(cfg);
    }
    for (size_t i = 0; i < n; i++)
        free(up[i].meta);
    free(up);
    free(msgs);
    sl_buf_free(&sm);
    sl_out_destroy(out);
    sl_key_destroy(lk_state.key);
    return 0;
}
