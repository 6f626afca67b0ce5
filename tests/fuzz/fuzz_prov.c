/*
 * fuzz_prov.c -- the provenance chain reader (common/src/prov.c) on a
 * fuzzed sluice-prov header, differentially: the hand-written fast path
 * against the jansson path on the same bytes.
 *
 * prov.c reads a header in canonical printable-ASCII form by hand and
 * anything else with jansson, which defines the form.  Both readers are
 * static, so this harness compiles prov.c into itself (the library's copy
 * is then not linked) and calls each.  Properties beyond "no crash":
 *   - what the fast path accepts, the jansson path accepts too, with the
 *     same events (text, hash, stage, outcome, prev, seq), and checking
 *     hashes, canonical form and links gives the same answer on both;
 *   - an event the fast path read is canonical for sl_prov_record_parse;
 *   - sl_prov_extend always leaves a header whose hashes and links check
 *     out, that fully verifies whenever the input did, and whose last
 *     event is this stage's.
 */
#include "fuzz.h"
#include "../../common/src/prov.c"

static sl_buf out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sl_buf_init(&out, 1 << 20);
    return 0;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Both readers accepted: the same events, the same verdict on checks. */
static void compare(const sl_prov_chain *f, const sl_prov_chain *j)
{
    sl_err ef = { "" }, ej = { "" };
    int rf, rj;

    FUZZ_CHECK(f->n == j->n, "fast %zu events, jansson %zu", f->n, j->n);
    for (size_t i = 0; i < f->n; i++) {
        const prov_ev *a = &f->evs[i], *b = &j->evs[i];
        sl_prov_record rec;
        sl_err err = { "" };

        FUZZ_CHECK(same(a->canonical, b->canonical) && same(a->hash, b->hash) &&
                   same(a->stage, b->stage) && same(a->outcome, b->outcome) &&
                   same(a->prev, b->prev) && a->seq == b->seq,
                   "event %zu read differently", i + 1);
        FUZZ_CHECK(sl_prov_record_parse(a->canonical, strlen(a->canonical), &rec,
                                        &err) == SL_OK, "event %zu: %s", i + 1, err.msg);
        FUZZ_CHECK(rec.canonical == 1 && rec.seq == a->seq &&
                   same(rec.stage, a->stage) && same(rec.prev, a->prev),
                   "event %zu: the fast path's reading is not canonical", i + 1);
        sl_prov_record_clear(&rec);
    }
    rf = chain_check(f, NULL, &ef);
    rj = chain_check(j, NULL, &ej);
    FUZZ_CHECK(rf == rj, "checks differ: fast %d (%s), jansson %d (%s)", rf,
               ef.msg, rj, ej.msg);
    if (f->n) {
        rf = chain_check(f, f->evs[0].prev, &ef);
        rj = chain_check(j, j->evs[0].prev, &ej);
        FUZZ_CHECK(rf == rj, "checks differ: fast %d (%s), jansson %d (%s)",
                   rf, ef.msg, rj, ej.msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char other[] =
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    sl_slice chain = { data, size };
    sl_prov_chain *f = NULL, *j = NULL, *after = NULL;
    sl_prov_event ev = { .stage = "fuzz", .version = "fuzz/1", .outcome = "accepted",
                         .time_ms = 1700000000000 };
    char content[SL_SHA256_HEX];
    sl_err err = { "" };
    int rf = SL_EINVAL, rj, verified;

    if (size && size <= PROV_MAX_BYTES)
        rf = chain_load_fast(chain, &f);
    rj = chain_load_json(chain, &j, &err);
    FUZZ_CHECK(rf == SL_OK || rf == SL_EINVAL || rf == SL_ENOMEM, "fast rc %d", rf);
    if (rf == SL_OK) {
        FUZZ_CHECK(rj == SL_OK, "fast path accepted what jansson refuses: %s",
                   err.msg);
        compare(f, j);
    }

    /* Extend as a stage does: continuing the chain of this content. */
    memcpy(content, rj == SL_OK && j->n && sl_hex64_ok(j->evs[0].prev)
                        ? j->evs[0].prev : other, SL_SHA256_HEX);
    verified = sl_prov_verify(chain, content, &err) == SL_OK;
    FUZZ_CHECK(sl_prov_extend(chain, content, &ev, &out, &err) == SL_OK,
               "extend: %s", err.msg);
    FUZZ_CHECK(chain_load((sl_slice){ out.data, out.len }, &after, &err) == SL_OK,
               "extended header does not parse: %s", err.msg);
    FUZZ_CHECK(chain_check_mode(after, content, 0, &err) == SL_OK,
               "extended header does not check: %s", err.msg);
    FUZZ_CHECK(after->n >= 1 && strcmp(after->evs[after->n - 1].stage, "fuzz") == 0,
               "the last event is not this stage's");
    if (verified)
        FUZZ_CHECK(sl_prov_verify((sl_slice){ out.data, out.len }, content, &err) ==
                   SL_OK,
                   "a verified chain, extended, does not verify: %s", err.msg);
    sl_prov_chain_destroy(after);
    sl_prov_chain_destroy(j);
    sl_prov_chain_destroy(f);
    return 0;
}
