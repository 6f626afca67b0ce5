/*
 * fuzz_sig.c -- the sluice-sig header parser and signature check
 * (common/src/crypto.c: sl_sig_parse, base64 and hex decoding,
 * sl_key_verify), as validate runs them on every upload.
 *
 * The input is the header value.  Properties beyond "no crash": a value
 * that parses names an algorithm and the signature length it needs (64
 * bytes Ed25519, 32 HMAC-SHA256) and encodes back to the same text (base64
 * is canonical: padding bits must be zero; hex compared without case);
 * checked against a registered Ed25519 key and an HMAC key over a fixed
 * signed string, it verifies only when it is the one true signature.
 */
#include <ctype.h>
#include <strings.h>

#include "fuzz.h"
#include "sl/crypto.h"

static const uint8_t seed[32] = { 0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
                                  0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
                                  0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
                                  0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60 };
static const uint8_t secret[] = "fuzz-creator-secret-0123456789";
static const char msg[] =
    "sluice-upload-v1\n"
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n{}";

static sl_key *ed_key, *hmac_key;
static char ed_true[256], hmac_true[256];   /* the valid header values */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t pub[32];
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(sl_ed25519_public_from_seed(seed, pub) == SL_OK, "ed25519 pub");
    FUZZ_SETUP((ed_key = sl_key_new(SL_SIG_ED25519, pub, 32, &err)), err.msg);
    FUZZ_SETUP((hmac_key = sl_key_new(SL_SIG_HMAC_SHA256, secret,
                                      sizeof(secret) - 1, &err)), err.msg);
    FUZZ_SETUP(sl_sign_header(SL_SIG_ED25519, seed, 32, (const uint8_t *)msg,
                              sizeof(msg) - 1, ed_true, sizeof(ed_true)) == SL_OK,
               "sign ed25519");
    FUZZ_SETUP(sl_sign_header(SL_SIG_HMAC_SHA256, secret, sizeof(secret) - 1,
                              (const uint8_t *)msg, sizeof(msg) - 1, hmac_true,
                              sizeof(hmac_true)) == SL_OK, "sign hmac");
    return 0;
}

/* The value encoded back from the parsed signature equals the input. */
static void check_round_trip(const uint8_t *data, size_t size, sl_sig_alg alg,
                             const uint8_t *sig, size_t siglen)
{
    char text[2 * SL_SIG_MAX + 64];
    const char *prefix = alg == SL_SIG_ED25519 ? "ed25519=" : "hmac-sha256=";
    size_t pn = strlen(prefix), tn;

    if (alg == SL_SIG_ED25519)
        FUZZ_CHECK(sl_b64_encode(sig, siglen, text, sizeof(text)) == SL_OK, "b64");
    else
        sl_hex_encode(sig, siglen, text);
    tn = strlen(text);
    FUZZ_CHECK(size == pn + tn && memcmp(data, prefix, pn) == 0,
               "%zu bytes parsed as %zu of %s", size, pn + tn, prefix);
    for (size_t i = 0; i < tn; i++) {
        int a = data[pn + i], b = (unsigned char)text[i];
        FUZZ_CHECK(alg == SL_SIG_ED25519 ? a == b : tolower(a) == b,
                   "byte %zu differs after a round trip", pn + i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sig[SL_SIG_MAX];
    size_t siglen = 0;
    sl_sig_alg alg = SL_SIG_NONE;
    sl_key *k;
    const char *truth;
    int rc;

    rc = sl_sig_parse((sl_slice){ data, size }, &alg, sig, &siglen);
    FUZZ_CHECK(rc == SL_OK || rc == SL_EINVAL, "rc %d", rc);
    if (rc != SL_OK)
        return 0;
    FUZZ_CHECK((alg == SL_SIG_ED25519 && siglen == 64) ||
               (alg == SL_SIG_HMAC_SHA256 && siglen == 32),
               "alg %d with %zu bytes", (int)alg, siglen);
    check_round_trip(data, size, alg, sig, siglen);

    k = alg == SL_SIG_ED25519 ? ed_key : hmac_key;
    truth = alg == SL_SIG_ED25519 ? ed_true : hmac_true;
    rc = sl_key_verify(k, (const uint8_t *)msg, sizeof(msg) - 1, sig, siglen);
    FUZZ_CHECK(rc == SL_OK || rc == SL_EINVAL, "verify rc %d", rc);
    if (rc == SL_OK)
        FUZZ_CHECK(size == strlen(truth) &&
                   (alg == SL_SIG_ED25519 ? memcmp(data, truth, size)
                                          : strncasecmp((const char *)data, truth, size)) == 0,
                   "a signature other than the true one verifies");
    /* The other key never takes it: a signature is bound to its algorithm. */
    k = alg == SL_SIG_ED25519 ? hmac_key : ed_key;
    FUZZ_CHECK(sl_key_verify(k, (const uint8_t *)msg, sizeof(msg) - 1, sig,
                             siglen) != SL_OK, "verified under the other algorithm");
    return 0;
}
