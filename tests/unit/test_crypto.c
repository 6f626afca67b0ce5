/*
 * test_crypto.c -- unit tests for common/src/crypto.c: published test
 * vectors (FIPS 180 SHA-256, RFC 8032 Ed25519, RFC 4231 HMAC-SHA256,
 * RFC 4648 base64), tampering, strict header parsing, PEM files and
 * interoperability with the openssl command line the README tells creators
 * to use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl/crypto.h"

/* ---- helpers ---------------------------------------------------------- */

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(sl_hex_decode(hex, 2 * n, out, n), SL_OK);
}

static sl_slice slice_of(const char *s)
{
    return (sl_slice){ (const uint8_t *)s, strlen(s) };
}

/* A private scratch directory, removed by rm_tree(). */
static void make_tmpdir(char *dir, size_t n)
{
    const char *base = getenv("TMPDIR");

    snprintf(dir, n, "%s/sl_crypto_XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static int have_openssl_cli(void)
{
    return system("openssl version >/dev/null 2>&1") == 0;
}

/* ---- SHA-256 ---------------------------------------------------------- */

static void test_sha256_vectors(void **state)
{
    char hex[SL_SHA256_HEX];
    uint8_t raw[SL_SHA256_LEN];

    (void)state;
    assert_int_equal(sl_sha256_hex("abc", 3, hex), SL_OK);
    assert_string_equal(hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sl_sha256_hex("", 0, hex), SL_OK);
    assert_string_equal(hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(sl_sha256("abc", 3, raw), SL_OK);
    assert_int_equal(raw[0], 0xba);
    assert_int_equal(raw[31], 0xad);
}

/* ---- the signed string ------------------------------------------------ */

static void test_sig_message(void **state)
{
    const char *sha =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const char *meta = "{\"a\":1}";
    char want[256];
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 4096);
    assert_int_equal(sl_buf_append(&b, "junk", 4), SL_OK);
    assert_int_equal(sl_sig_message(&b, sha, slice_of(meta)), SL_OK);
    snprintf(want, sizeof(want), "sluice-upload-v1\n%s\n%s", sha, meta);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);

    /* a hash that is not 64 lowercase hex digits is refused */
    assert_int_equal(sl_sig_message(&b,
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        slice_of(meta)), SL_EINVAL);
    assert_int_equal(sl_sig_message(&b, "abc", slice_of(meta)), SL_EINVAL);
    sl_buf_free(&b);

    /* the buffer's cap holds */
    sl_buf_init(&b, 80);
    assert_int_equal(sl_sig_message(&b, sha, slice_of(meta)), SL_ETOOBIG);
    sl_buf_free(&b);
}

static void test_alg_names(void **state)
{
    (void)state;
    assert_string_equal(sl_sig_alg_name(SL_SIG_ED25519), "ed25519");
    assert_string_equal(sl_sig_alg_name(SL_SIG_HMAC_SHA256), "hmac-sha256");
    assert_int_equal(sl_sig_alg_parse("ed25519"), SL_SIG_ED25519);
    assert_int_equal(sl_sig_alg_parse("hmac-sha256"), SL_SIG_HMAC_SHA256);
    assert_int_equal(sl_sig_alg_parse("ED25519"), SL_SIG_NONE);
    assert_int_equal(sl_sig_alg_parse("hmac-sha1"), SL_SIG_NONE);
    assert_int_equal(sl_sig_alg_parse(""), SL_SIG_NONE);
    assert_int_equal(sl_sig_alg_parse(NULL), SL_SIG_NONE);
}

/* ---- Ed25519: RFC 8032 section 7.1 ------------------------------------ */

static const struct {
    const char *seed, *pub, *msg, *sig;
} rfc8032[] = {
    { /* TEST 1 */
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
      "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
    { /* TEST 2 */
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
    { /* TEST 3 */
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
      "af82",
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof(rfc8032) / sizeof(rfc8032[0]); t++) {
        uint8_t seed[32], pub[32], got_pub[32], sig[64], msg[8], bad[9];
        uint8_t parsed[SL_SIG_MAX];
        char hdr[128], b64[100], want[128];
        size_t mlen = strlen(rfc8032[t].msg) / 2, siglen = 0;
        sl_sig_alg alg = SL_SIG_NONE;
        sl_err err = { "" };
        sl_key *k;

        unhex(rfc8032[t].seed, seed, 32);
        unhex(rfc8032[t].pub, pub, 32);
        unhex(rfc8032[t].sig, sig, 64);
        if (mlen)
            unhex(rfc8032[t].msg, msg, mlen);

        assert_int_equal(sl_ed25519_public_from_seed(seed, got_pub), SL_OK);
        assert_memory_equal(got_pub, pub, 32);

        /* signing gives exactly the published signature, as a header */
        assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 32, msg, mlen,
                                        hdr, sizeof(hdr)), SL_OK);
        assert_int_equal(sl_b64_encode(sig, 64, b64, sizeof(b64)), SL_OK);
        snprintf(want, sizeof(want), "ed25519=%s", b64);
        assert_string_equal(hdr, want);
        {   /* a loaded signer gives the same bytes, twice in a row */
            sl_signer *sg = sl_signer_new(SL_SIG_ED25519, seed, 32, &err);
            char again[128];
            assert_non_null(sg);
            for (int i = 0; i < 2; i++) {
                assert_int_equal(sl_signer_sign(sg, msg, mlen, again,
                                                sizeof(again)), SL_OK);
                assert_string_equal(again, want);
            }
            assert_int_equal(sl_signer_sign(sg, msg, mlen, again, 20), SL_ETOOBIG);
            sl_signer_destroy(sg);
            assert_null(sl_signer_new(SL_SIG_ED25519, seed, 31, &err));
            assert_null(sl_signer_new(SL_SIG_NONE, seed, 32, &err));
        }
        assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, parsed, &siglen),
                         SL_OK);
        assert_int_equal(alg, SL_SIG_ED25519);
        assert_int_equal(siglen, 64);
        assert_memory_equal(parsed, sig, 64);

        k = sl_key_new(SL_SIG_ED25519, pub, 32, &err);
        assert_non_null(k);
        assert_int_equal(sl_key_alg(k), SL_SIG_ED25519);
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 64), SL_OK);
        /* twice: the reused context starts clean */
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 64), SL_OK);

        /* one-byte tamper of the message (or one byte more when empty) */
        memcpy(bad, msg, mlen);
        if (mlen) {
            bad[0] ^= 0x01;
            assert_int_equal(sl_key_verify(k, bad, mlen, sig, 64), SL_EINVAL);
        }
        bad[mlen] = 0;
        assert_int_equal(sl_key_verify(k, bad, mlen + 1, sig, 64), SL_EINVAL);

        /* one-byte tamper of the signature, first, middle and last byte */
        for (size_t i = 0; i < 64; i += 31) {
            uint8_t s2[64];
            memcpy(s2, sig, 64);
            s2[i] ^= 0x40;
            assert_int_equal(sl_key_verify(k, msg, mlen, s2, 64), SL_EINVAL);
        }
        /* wrong lengths */
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 63), SL_EINVAL);
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 32), SL_EINVAL);
        /* and a good one still passes after failures */
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 64), SL_OK);
        /* the raw public bytes, and verification with them alone */
        {
            uint8_t raw[32], s2[64];
            assert_int_equal(sl_key_ed25519_public(k, raw), SL_OK);
            assert_memory_equal(raw, pub, 32);
            assert_int_equal(sl_ed25519_verify(raw, msg, mlen, sig, 64), SL_OK);
            memcpy(s2, sig, 64);
            s2[17] ^= 0x02;
            assert_int_equal(sl_ed25519_verify(raw, msg, mlen, s2, 64), SL_EINVAL);
            assert_int_equal(sl_ed25519_verify(raw, msg, mlen, sig, 63), SL_EINVAL);
            raw[0] ^= 0x01;
            assert_int_equal(sl_ed25519_verify(raw, msg, mlen, sig, 64), SL_EINVAL);
        }
        sl_key_destroy(k);

        /* the signature does not verify under another vector's key */
        unhex(rfc8032[(t + 1) % 3].pub, pub, 32);
        k = sl_key_new(SL_SIG_ED25519, pub, 32, &err);
        assert_non_null(k);
        assert_int_equal(sl_key_verify(k, msg, mlen, sig, 64), SL_EINVAL);
        sl_key_destroy(k);
    }
}

/* ---- HMAC-SHA256: RFC 4231 test cases 1 and 2 ------------------------- */

static void test_hmac_rfc4231(void **state)
{
    uint8_t key1[20];
    const struct {
        const uint8_t *key;
        size_t keylen;
        const char *data, *mac;
    } tc[] = {
        { key1, 20, "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { (const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    };

    (void)state;
    memset(key1, 0x0b, sizeof(key1));
    for (size_t t = 0; t < 2; t++) {
        const uint8_t *d = (const uint8_t *)tc[t].data;
        size_t dl = strlen(tc[t].data), siglen = 0;
        uint8_t mac[32], parsed[SL_SIG_MAX], bad[64];
        char hdr[128], want[128];
        sl_sig_alg alg = SL_SIG_NONE;
        sl_err err = { "" };
        sl_key *k;

        unhex(tc[t].mac, mac, 32);
        assert_int_equal(sl_sign_header(SL_SIG_HMAC_SHA256, tc[t].key,
                                        tc[t].keylen, d, dl, hdr,
                                        sizeof(hdr)), SL_OK);
        snprintf(want, sizeof(want), "hmac-sha256=%s", tc[t].mac);
        assert_string_equal(hdr, want);
        assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, parsed, &siglen),
                         SL_OK);
        assert_int_equal(alg, SL_SIG_HMAC_SHA256);
        assert_int_equal(siglen, 32);
        assert_memory_equal(parsed, mac, 32);

        k = sl_key_new(SL_SIG_HMAC_SHA256, tc[t].key, tc[t].keylen, &err);
        assert_non_null(k);
        assert_int_equal(sl_key_alg(k), SL_SIG_HMAC_SHA256);
        {
            uint8_t raw[32];   /* no public bytes to an HMAC secret */
            assert_int_equal(sl_key_ed25519_public(k, raw), SL_EINVAL);
        }
        assert_int_equal(sl_key_verify(k, d, dl, mac, 32), SL_OK);
        /* the keyed context restarts for each message */
        assert_int_equal(sl_key_verify(k, d, dl, mac, 32), SL_OK);

        memcpy(bad, d, dl);
        bad[dl - 1] ^= 0x20;
        assert_int_equal(sl_key_verify(k, bad, dl, mac, 32), SL_EINVAL);
        assert_int_equal(sl_key_verify(k, d, dl - 1, mac, 32), SL_EINVAL);
        for (size_t i = 0; i < 32; i += 31) {
            uint8_t m2[32];
            memcpy(m2, mac, 32);
            m2[i] ^= 0x01;
            assert_int_equal(sl_key_verify(k, d, dl, m2, 32), SL_EINVAL);
        }
        assert_int_equal(sl_key_verify(k, d, dl, mac, 31), SL_EINVAL);
        assert_int_equal(sl_key_verify(k, d, dl, mac, 0), SL_EINVAL);
        assert_int_equal(sl_key_verify(k, d, dl, mac, 32), SL_OK);
        sl_key_destroy(k);

        /* same message under the other test case's key fails */
        k = sl_key_new(SL_SIG_HMAC_SHA256, tc[1 - t].key, tc[1 - t].keylen,
                       &err);
        assert_non_null(k);
        assert_int_equal(sl_key_verify(k, d, dl, mac, 32), SL_EINVAL);
        sl_key_destroy(k);
    }
}

static void test_key_new_errors(void **state)
{
    uint8_t raw[300];
    sl_err err = { "" };
    sl_key *k;

    (void)state;
    memset(raw, 7, sizeof(raw));
    assert_null(sl_key_new(SL_SIG_ED25519, raw, 31, &err));
    assert_non_null(strstr(err.msg, "32 bytes"));
    assert_null(sl_key_new(SL_SIG_ED25519, raw, 33, &err));
    assert_null(sl_key_new(SL_SIG_HMAC_SHA256, raw, 0, &err));
    assert_null(sl_key_new(SL_SIG_HMAC_SHA256, raw, 257, &err));
    assert_null(sl_key_new(SL_SIG_NONE, raw, 32, &err));
    assert_null(sl_key_new(SL_SIG_ED25519, NULL, 32, &err));
    k = sl_key_new(SL_SIG_HMAC_SHA256, raw, 256, &err);
    assert_non_null(k);
    sl_key_destroy(k);
    k = sl_key_new(SL_SIG_HMAC_SHA256, raw, 1, &err);
    assert_non_null(k);
    sl_key_destroy(k);
    sl_key_destroy(NULL);
    assert_int_equal(sl_key_alg(NULL), SL_SIG_NONE);
    assert_int_equal(sl_key_verify(NULL, raw, 1, raw, 32), SL_EINVAL);
}

static void test_sign_header_errors(void **state)
{
    uint8_t seed[32] = { 1 };
    char out[128];

    (void)state;
    /* "ed25519=" + 88 + NUL = 97; "hmac-sha256=" + 64 + NUL = 77 */
    assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 32,
                                    (const uint8_t *)"m", 1, out, 96),
                     SL_ETOOBIG);
    assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 32,
                                    (const uint8_t *)"m", 1, out, 97), SL_OK);
    assert_int_equal(strlen(out), 96);
    assert_int_equal(sl_sign_header(SL_SIG_HMAC_SHA256, seed, 32,
                                    (const uint8_t *)"m", 1, out, 76),
                     SL_ETOOBIG);
    assert_int_equal(sl_sign_header(SL_SIG_HMAC_SHA256, seed, 32,
                                    (const uint8_t *)"m", 1, out, 77), SL_OK);
    assert_int_equal(strlen(out), 76);
    assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 31,
                                    (const uint8_t *)"m", 1, out, sizeof(out)),
                     SL_EINVAL);
    assert_int_equal(sl_sign_header(SL_SIG_HMAC_SHA256, seed, 0,
                                    (const uint8_t *)"m", 1, out, sizeof(out)),
                     SL_EINVAL);
    assert_int_equal(sl_sign_header(SL_SIG_NONE, seed, 32,
                                    (const uint8_t *)"m", 1, out, sizeof(out)),
                     SL_EINVAL);
}

/* ---- the sluice-sig header -------------------------------------------- */

static void test_sig_parse_edges(void **state)
{
    uint8_t sig[64], out[SL_SIG_MAX];
    char b64[100], hdr[200];
    const char *hex =
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    size_t len = 0;
    sl_sig_alg alg = SL_SIG_NONE;

    (void)state;
    for (size_t i = 0; i < 64; i++)
        sig[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(sl_b64_encode(sig, 64, b64, sizeof(b64)), SL_OK);
    assert_int_equal(strlen(b64), 88);

    snprintf(hdr, sizeof(hdr), "ed25519=%s", b64);
    assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len), SL_OK);
    assert_int_equal(alg, SL_SIG_ED25519);
    assert_int_equal(len, 64);
    assert_memory_equal(out, sig, 64);

    /* hex in upper case (and mixed) is accepted */
    snprintf(hdr, sizeof(hdr), "hmac-sha256=%s",
             "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
    assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len), SL_OK);
    assert_int_equal(alg, SL_SIG_HMAC_SHA256);
    assert_int_equal(len, 32);
    assert_int_equal(out[0], 0xb0);
    assert_int_equal(out[31], 0xf7);
    snprintf(hdr, sizeof(hdr), "hmac-sha256=%s",
             "b0344C61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len), SL_OK);

    /* malformed: each must be SL_EINVAL */
    {
        char bad[24][200];
        size_t nb = 0;
        snprintf(bad[nb++], 200, "%s", "");
        snprintf(bad[nb++], 200, "%s", "ed25519=");
        snprintf(bad[nb++], 200, "%s", "ed25519");
        snprintf(bad[nb++], 200, "%s", "hmac-sha256=");
        snprintf(bad[nb++], 200, "%s", "=abc");
        snprintf(bad[nb++], 200, "ED25519=%s", b64);             /* case */
        snprintf(bad[nb++], 200, "rsa=%s", b64);                 /* unknown */
        snprintf(bad[nb++], 200, "hmac-sha1=%s", hex);
        snprintf(bad[nb++], 200, "ed25519:%s", b64);             /* separator */
        snprintf(bad[nb++], 200, " ed25519=%s", b64);            /* leading */
        snprintf(bad[nb++], 200, "ed25519= %s", b64);
        snprintf(bad[nb++], 200, "ed25519=%s ", b64);            /* trailing */
        snprintf(bad[nb++], 200, "ed25519=%s\n", b64);
        snprintf(bad[nb++], 200, "ed25519=%sAAAA", b64);         /* garbage */
        snprintf(bad[nb++], 200, "ed25519=%.86s", b64);          /* no padding */
        snprintf(bad[nb++], 200, "ed25519=%.84s", b64);          /* 63 bytes */
        snprintf(bad[nb++], 200, "ed25519=%.32s", b64);
        snprintf(bad[nb++], 200, "ed25519=%s", hex);             /* hex, 48 B */
        snprintf(bad[nb++], 200, "hmac-sha256=%.63s", hex);      /* short */
        snprintf(bad[nb++], 200, "hmac-sha256=%s0", hex);        /* long */
        snprintf(bad[nb++], 200, "hmac-sha256=%.63sg", hex);     /* non-hex */
        snprintf(bad[nb++], 200, "hmac-sha256=%s ", hex);
        snprintf(bad[nb++], 200, "hmac-sha256=%s", b64);         /* base64 */
        snprintf(bad[nb++], 200, "ed25519=ed25519=%s", b64);
        for (size_t i = 0; i < nb; i++) {
            if (sl_sig_parse(slice_of(bad[i]), &alg, out, &len) != SL_EINVAL)
                fail_msg("accepted malformed header [%zu] \"%s\"", i, bad[i]);
        }
    }

    /* 65 bytes of signature (88 chars without padding is 66 bytes) */
    {
        uint8_t big[66] = { 0 };
        char b[100];
        assert_int_equal(sl_b64_encode(big, 65, b, sizeof(b)), SL_OK);
        snprintf(hdr, sizeof(hdr), "ed25519=%s", b);
        assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len),
                         SL_EINVAL);
        assert_int_equal(sl_b64_encode(big, 66, b, sizeof(b)), SL_OK);
        snprintf(hdr, sizeof(hdr), "ed25519=%s", b);
        assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len),
                         SL_EINVAL);
    }

    /* non-zero padding bits: the char before "==" carries 2 data bits and
     * 4 bits that must be zero; setting the lowest one must be refused */
    snprintf(hdr, sizeof(hdr), "ed25519=%s", b64);
    {
        static const char abc[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *eq = strstr(hdr + 8, "==");
        const char *pos;
        assert_non_null(eq);
        pos = strchr(abc, eq[-1]);
        assert_non_null(pos);
        assert_int_equal((pos - abc) & 15, 0);
        eq[-1] = abc[(pos - abc) | 1];
        assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, out, &len),
                         SL_EINVAL);
    }

    /* an embedded NUL is malformed, not a terminator */
    snprintf(hdr, sizeof(hdr), "hmac-sha256=%s", hex);
    {
        sl_slice s = { (const uint8_t *)hdr, strlen(hdr) };
        hdr[20] = '\0';
        assert_int_equal(sl_sig_parse(s, &alg, out, &len), SL_EINVAL);
    }
}

/* ---- base64: RFC 4648 section 10 and strictness ----------------------- */

static void test_b64_vectors(void **state)
{
    static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba",
                                   "foobar" };
    static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
                                 "Zm9vYmE=", "Zm9vYmFy" };
    char out[32];
    uint8_t dec[32];
    size_t n = 99;

    (void)state;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(sl_b64_encode((const uint8_t *)plain[i],
                                       strlen(plain[i]), out, sizeof(out)),
                         SL_OK);
        assert_string_equal(out, enc[i]);
        assert_int_equal(sl_b64_decode(enc[i], strlen(enc[i]), dec,
                                       sizeof(dec), &n), SL_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], n);
    }
    /* "+" and "/" are the standard alphabet's last two letters */
    {
        const uint8_t b[3] = { 0xfb, 0xff, 0xbf };
        assert_int_equal(sl_b64_encode(b, 3, out, sizeof(out)), SL_OK);
        assert_string_equal(out, "+/+/");
        assert_int_equal(sl_b64_decode("+/+/", 4, dec, sizeof(dec), &n), SL_OK);
        assert_int_equal(n, 3);
        assert_memory_equal(dec, b, 3);
    }
}

static void test_b64_strict(void **state)
{
    static const char *bad[] = {
        "Zg", "Zg=", "Zg===", "Z===", "====", "Zh==", "Zm9=", "Zm9v\n",
        "Zm 9v", "=Zm9", "Zm=v", "Zg==Zg==", "Zm9v====", "Zm-_", "Zm9v*A==",
        " Zm9v", "Zm9vYg=A",
    };
    uint8_t dec[32];
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sl_b64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), &n);
        if (rc != SL_EINVAL)
            fail_msg("decode accepted \"%s\" (rc %d)", bad[i], rc);
    }
    /* NUL inside the input */
    assert_int_equal(sl_b64_decode("Zm\0v", 4, dec, sizeof(dec), &n), SL_EINVAL);
    /* every byte value as a group's first character: the alphabet's give
     * their index, every other byte (padding included) is refused */
    for (int c = 0; c < 256; c++) {
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *at = c ? memchr(alphabet, c, 64) : NULL;
        char group[4] = { (char)c, 'A', 'A', 'A' };
        int rc = sl_b64_decode(group, 4, dec, sizeof(dec), &n);

        if (at) {
            assert_int_equal(rc, SL_OK);
            assert_int_equal(n, 3);
            assert_int_equal(dec[0] >> 2, at - alphabet);
        } else if (rc != SL_EINVAL) {
            fail_msg("decode accepted byte %d (rc %d)", c, rc);
        }
    }
}

static void test_b64_limits(void **state)
{
    uint8_t in[256], dec[256];
    char enc[400];
    size_t n = 0;

    (void)state;
    /* decode: exactly enough room is fine, one byte less is SL_ETOOBIG */
    assert_int_equal(sl_b64_decode("Zm9vYmFy", 8, dec, 6, &n), SL_OK);
    assert_int_equal(n, 6);
    assert_int_equal(sl_b64_decode("Zm9vYmFy", 8, dec, 5, &n), SL_ETOOBIG);
    assert_int_equal(sl_b64_decode("Zm9vYmE=", 8, dec, 5, &n), SL_OK);
    assert_int_equal(sl_b64_decode("Zm9vYmE=", 8, dec, 4, &n), SL_ETOOBIG);
    /* encode: 6 bytes need 8 chars + NUL */
    assert_int_equal(sl_b64_encode((const uint8_t *)"foobar", 6, enc, 9), SL_OK);
    assert_int_equal(sl_b64_encode((const uint8_t *)"foobar", 6, enc, 8),
                     SL_ETOOBIG);
    assert_int_equal(sl_b64_encode((const uint8_t *)"", 0, enc, 1), SL_OK);
    assert_string_equal(enc, "");
    assert_int_equal(sl_b64_encode((const uint8_t *)"", 0, enc, 0), SL_ETOOBIG);

    /* every length and byte value round-trips */
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(255 - i);
    for (size_t len = 0; len <= sizeof(in); len++) {
        assert_int_equal(sl_b64_encode(in, len, enc, sizeof(enc)), SL_OK);
        assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
        assert_int_equal(sl_b64_decode(enc, strlen(enc), dec, sizeof(dec), &n),
                         SL_OK);
        assert_int_equal(n, len);
        assert_memory_equal(dec, in, len);
    }
}

/* ---- keys: generation and PEM files ----------------------------------- */

static void test_generate_sign_verify(void **state)
{
    uint8_t seed[32], pub[32], seed2[32], pub2[32], derived[32], sig[SL_SIG_MAX];
    const char *sha =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *meta = "{\"schema_version\":1}";
    char hdr[128];
    size_t siglen = 0;
    sl_sig_alg alg = SL_SIG_NONE;
    sl_err err = { "" };
    sl_buf m;
    sl_key *k;

    (void)state;
    assert_int_equal(sl_ed25519_generate(seed, pub), SL_OK);
    assert_int_equal(sl_ed25519_generate(seed2, pub2), SL_OK);
    assert_memory_not_equal(seed, seed2, 32);
    assert_memory_not_equal(pub, pub2, 32);
    assert_int_equal(sl_ed25519_public_from_seed(seed, derived), SL_OK);
    assert_memory_equal(derived, pub, 32);

    /* the whole upload flow: signed string, header, parse, verify */
    sl_buf_init(&m, 1 << 16);
    assert_int_equal(sl_sig_message(&m, sha, slice_of(meta)), SL_OK);
    assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 32, m.data, m.len,
                                    hdr, sizeof(hdr)), SL_OK);
    assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, sig, &siglen), SL_OK);
    k = sl_key_new(alg, pub, 32, &err);
    assert_non_null(k);
    assert_int_equal(sl_key_verify(k, m.data, m.len, sig, siglen), SL_OK);
    m.data[m.len - 2] ^= 1;   /* one byte of meta changed */
    assert_int_equal(sl_key_verify(k, m.data, m.len, sig, siglen), SL_EINVAL);
    sl_key_destroy(k);
    k = sl_key_new(SL_SIG_ED25519, pub2, 32, &err);
    assert_non_null(k);
    m.data[m.len - 2] ^= 1;
    assert_int_equal(sl_key_verify(k, m.data, m.len, sig, siglen), SL_EINVAL);
    sl_key_destroy(k);
    sl_buf_free(&m);
}

static void test_pem_roundtrip(void **state)
{
    char dir[256], priv[300], pub[300], missing[300];
    uint8_t seed[32], pubraw[32], seed_back[32], pub_back[32];
    uint8_t text[4096];
    size_t n;
    struct stat st;
    sl_err err = { "" };
    int fd;

    (void)state;
    make_tmpdir(dir, sizeof(dir));
    snprintf(priv, sizeof(priv), "%s/priv-XXXXXX", dir);
    snprintf(pub, sizeof(pub), "%s/pub-XXXXXX", dir);
    snprintf(missing, sizeof(missing), "%s/nope.pem", dir);
    assert_true((fd = mkstemp(priv)) >= 0);
    close(fd);
    assert_true((fd = mkstemp(pub)) >= 0);
    close(fd);
    assert_int_equal(sl_ed25519_generate(seed, pubraw), SL_OK);

    /* key files are new files: an existing one is refused, untouched */
    write_file(priv, "precious\n", 9);
    assert_int_equal(sl_ed25519_write_pem(priv, NULL, seed, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_int_equal(read_file(priv, text, sizeof(text)), 9);
    assert_memory_equal(text, "precious\n", 9);
    /* ... and a symbolic link is not followed (its target stays as is) */
    assert_int_equal(unlink(pub), 0);
    assert_int_equal(symlink(priv, pub), 0);
    assert_int_equal(sl_ed25519_write_pem(NULL, pub, seed, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "refusing to overwrite or follow"));
    assert_int_equal(read_file(priv, text, sizeof(text)), 9);
    /* a failure on the second file removes the first, made by this call */
    assert_int_equal(unlink(priv), 0);
    assert_int_equal(sl_ed25519_write_pem(priv, pub, seed, &err), SL_EINVAL);
    assert_int_equal(lstat(priv, &st), -1);
    assert_int_equal(unlink(pub), 0);
    /* a dangling symbolic link is not followed either */
    assert_int_equal(symlink(missing, priv), 0);
    assert_int_equal(sl_ed25519_write_pem(priv, NULL, seed, &err), SL_EINVAL);
    assert_int_equal(lstat(missing, &st), -1);
    assert_int_equal(unlink(priv), 0);

    umask(0);   /* the mode is exact whatever the umask */
    assert_int_equal(sl_ed25519_write_pem(priv, pub, seed, &err), SL_OK);
    umask(022);

    n = read_file(priv, text, sizeof(text) - 1);
    text[n] = '\0';
    assert_non_null(strstr((char *)text, "-----BEGIN PRIVATE KEY-----"));
    n = read_file(pub, text, sizeof(text) - 1);
    text[n] = '\0';
    assert_non_null(strstr((char *)text, "-----BEGIN PUBLIC KEY-----"));
    assert_int_equal(stat(priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);   /* tightened */

    assert_int_equal(sl_ed25519_read_private_pem(priv, seed_back, &err), SL_OK);
    assert_memory_equal(seed_back, seed, 32);
    assert_int_equal(sl_ed25519_read_public_pem(pub, pub_back, &err), SL_OK);
    assert_memory_equal(pub_back, pubraw, 32);

    /* wrong kind of file, missing file, not a PEM file */
    assert_int_not_equal(sl_ed25519_read_private_pem(pub, seed_back, &err), SL_OK);
    assert_int_not_equal(sl_ed25519_read_public_pem(missing, pub_back, &err),
                         SL_OK);
    assert_non_null(strstr(err.msg, "nope.pem"));
    write_file(missing, "hello\n", 6);
    assert_int_not_equal(sl_ed25519_read_public_pem(missing, pub_back, &err),
                         SL_OK);
    assert_int_not_equal(sl_ed25519_read_private_pem(missing, seed_back, &err),
                         SL_OK);
    /* a well-formed key file holding the identity point (small order): no
     * signature could verify against it, so it is refused when read */
    {
        static const char small[] = "-----BEGIN PUBLIC KEY-----\n"
            "MCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
            "-----END PUBLIC KEY-----\n";
        write_file(missing, small, sizeof(small) - 1);
        assert_int_equal(sl_ed25519_read_public_pem(missing, pub_back, &err),
                         SL_EINVAL);
        assert_non_null(strstr(err.msg, "not a usable Ed25519 public key"));
    }
    rm_tree(dir);
}

/* The sealed HMAC secret: its layout, a round trip, and every way it must
 * fail to open (another key, another creator, one byte changed, a wrong
 * version or length). */
static void test_hmac_box(void **state)
{
    uint8_t key[SL_SECRETS_KEY_LEN], other[SL_SECRETS_KEY_LEN];
    uint8_t box[SL_HMAC_BOX_MAX], box2[SL_HMAC_BOX_MAX];
    uint8_t secret[SL_HMAC_SECRET_MAX], big[SL_HMAC_SECRET_MAX + 1];
    size_t boxlen, boxlen2, len = 0;
    sl_err err = { "" };

    (void)state;
    memset(key, 0x11, sizeof(key));
    memset(other, 0x22, sizeof(other));
    assert_int_equal(sl_hmac_box_seal(key, "hugo", (const uint8_t *)"s3cret", 6,
                                      box, &boxlen), SL_OK);
    /* version, 24-byte nonce, 16-byte tag, then id length, id, secret */
    assert_int_equal(boxlen, 1 + 24 + 16 + 1 + 4 + 6);
    assert_int_equal(box[0], 1);
    for (size_t i = 0; i + 6 <= boxlen; i++)        /* not in the clear */
        assert_memory_not_equal(box + i, "s3cret", 6);
    assert_int_equal(sl_hmac_box_open(key, "hugo", box, boxlen, secret, &len,
                                      &err), SL_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(secret, "s3cret", 6);

    /* a fresh nonce each time: the same secret seals differently */
    assert_int_equal(sl_hmac_box_seal(key, "hugo", (const uint8_t *)"s3cret", 6,
                                      box2, &boxlen2), SL_OK);
    assert_int_equal(boxlen2, boxlen);
    assert_memory_not_equal(box + 1, box2 + 1, 24);

    assert_int_equal(sl_hmac_box_open(other, "hugo", box, boxlen, secret, &len,
                                      &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "does not open with this key"));
    /* a box copied into another creator's row does not open there */
    assert_int_equal(sl_hmac_box_open(key, "hugh", box, boxlen, secret, &len,
                                      &err), SL_EINVAL);
    assert_int_equal(sl_hmac_box_open(key, "hug", box, boxlen, secret, &len,
                                      &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "belongs to another creator"));
    for (size_t i = 1; i < boxlen; i++) {
        box[i] ^= 0x01;
        assert_int_equal(sl_hmac_box_open(key, "hugo", box, boxlen, secret,
                                          &len, &err), SL_EINVAL);
        box[i] ^= 0x01;
    }
    box[0] = 2;
    assert_int_equal(sl_hmac_box_open(key, "hugo", box, boxlen, secret, &len,
                                      &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "not a sealed HMAC secret"));
    box[0] = 1;
    assert_int_equal(sl_hmac_box_open(key, "hugo", box, 42, secret, &len, &err),
                     SL_EINVAL);
    assert_int_equal(sl_hmac_box_open(key, "hugo", box, boxlen - 1, secret,
                                      &len, &err), SL_EINVAL);

    /* limits: 1..256 bytes of secret, 1..255 of creator id */
    memset(big, 'x', sizeof(big));
    assert_int_equal(sl_hmac_box_seal(key, "hugo", big, 0, box, &boxlen), SL_EINVAL);
    assert_int_equal(sl_hmac_box_seal(key, "hugo", big, sizeof(big), box, &boxlen),
                     SL_EINVAL);
    assert_int_equal(sl_hmac_box_seal(key, "", big, 4, box, &boxlen), SL_EINVAL);
    assert_int_equal(sl_hmac_box_seal(key, "hugo", big, SL_HMAC_SECRET_MAX, box,
                                      &boxlen), SL_OK);
    assert_int_equal(sl_hmac_box_open(key, "hugo", box, boxlen, secret, &len,
                                      &err), SL_OK);
    assert_int_equal(len, SL_HMAC_SECRET_MAX);
}

/* The secrets key file: created once (0600, 64 hex digits and a newline),
 * then loaded; never overwritten, never through a symbolic link; refused
 * when group or others may read it or when it holds anything else. */
static void test_secrets_key_file(void **state)
{
    char dir[256], path[300], link_path[300], text[80];
    uint8_t k1[SL_SECRETS_KEY_LEN], k2[SL_SECRETS_KEY_LEN];
    struct stat st;
    sl_err err = { "" };
    int created = -1;

    (void)state;
    make_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/secrets.key", dir);
    snprintf(link_path, sizeof(link_path), "%s/link.key", dir);

    assert_int_equal(sl_secrets_key_load(path, k1, &err), SL_ENOTFOUND);
    assert_int_equal(sl_secrets_key_load_or_create(path, k1, &created, &err), SL_OK);
    assert_int_equal(created, 1);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    assert_int_equal(sl_secrets_key_load_or_create(path, k2, &created, &err), SL_OK);
    assert_int_equal(created, 0);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_int_equal(read_file(path, (uint8_t *)text, sizeof(text)), 65);
    sl_hex_encode(k1, sizeof(k1), text);   /* the file holds k1 in hex */
    {
        char disk[80] = "";
        assert_int_equal(read_file(path, (uint8_t *)disk, sizeof(disk)), 65);
        assert_memory_equal(disk, text, 64);
        assert_int_equal(disk[64], '\n');
    }

    /* a descriptor handed over as /dev/fd/N (deploy/stack.sh does so for
     * a service that cannot reach the file) is read from its start, twice */
    {
        char fdpath[32];
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(lseek(fd, 10, SEEK_SET), 10);
        snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
        memset(k2, 0, sizeof(k2));
        assert_int_equal(sl_secrets_key_load(fdpath, k2, &err), SL_OK);
        assert_memory_equal(k1, k2, sizeof(k1));
        memset(k2, 0, sizeof(k2));
        assert_int_equal(sl_secrets_key_load(fdpath, k2, &err), SL_OK);
        assert_memory_equal(k1, k2, sizeof(k1));
        assert_int_equal(close(fd), 0);
        assert_int_not_equal(sl_secrets_key_load(fdpath, k2, &err), SL_OK);
        assert_int_not_equal(sl_secrets_key_load("/dev/fd/3x", k2, &err), SL_OK);
    }

    /* a symbolic link is not followed, to load or to create */
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_equal(sl_secrets_key_load(link_path, k2, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(sl_secrets_key_load_or_create(link_path, k2, &created, &err),
                     SL_EINVAL);
    assert_int_equal(unlink(link_path), 0);
    assert_int_equal(symlink("nowhere.key", link_path), 0);   /* dangling */
    assert_int_equal(sl_secrets_key_load_or_create(link_path, k2, &created, &err),
                     SL_EINVAL);
    snprintf(path + strlen(dir), sizeof(path) - strlen(dir), "/nowhere.key");
    assert_int_equal(lstat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/secrets.key", dir);
    assert_int_equal(unlink(link_path), 0);

    /* readable by others, or writable by the group: refused, not loaded;
     * group read-only is allowed (service user and operator may share one) */
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(sl_secrets_key_load(path, k2, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "mode 0604"));
    assert_int_equal(chmod(path, 0660), 0);
    assert_int_equal(sl_secrets_key_load(path, k2, &err), SL_EINVAL);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(sl_secrets_key_load(path, k2, &err), SL_OK);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_int_equal(chmod(path, 0600), 0);

    /* anything but 64 hex digits (and a newline) is refused */
    assert_int_equal(unlink(path), 0);
    write_file(path, "abcd\n", 5);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(sl_secrets_key_load(path, k2, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "64 hex digits"));
    rm_tree(dir);
}

/* Runs a shell command; fails the test when it does not exit 0. */
static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static void test_openssl_cli_interop(void **state)
{
    char dir[256], path[6][300], cmd[1200], hdr[128];
    uint8_t seed[32], pub[32], back[32], sig[128], ours[SL_SIG_MAX];
    uint8_t a[4096], b[4096];
    const char *sha =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    size_t n, na, nb, ourlen = 0;
    sl_sig_alg alg = SL_SIG_NONE;
    sl_err err = { "" };
    sl_buf m;
    sl_key *k;

    (void)state;
    if (!have_openssl_cli())
        skip();
    make_tmpdir(dir, sizeof(dir));
    snprintf(path[0], 300, "%s/key.pem", dir);
    snprintf(path[1], 300, "%s/pub.pem", dir);
    snprintf(path[2], 300, "%s/msg.bin", dir);
    snprintf(path[3], 300, "%s/sig.bin", dir);
    snprintf(path[4], 300, "%s/cli-key.pem", dir);
    snprintf(path[5], 300, "%s/cli-pub.pem", dir);

    /* our key files, the CLI signs, we verify */
    assert_int_equal(sl_ed25519_generate(seed, pub), SL_OK);
    assert_int_equal(sl_ed25519_write_pem(path[0], path[1], seed, &err), SL_OK);
    sl_buf_init(&m, 1 << 16);
    assert_int_equal(sl_sig_message(&m, sha,
                     slice_of("{\"upload_id\":\"u-1\",\"schema_version\":1}")),
                     SL_OK);
    write_file(path[2], m.data, m.len);
    snprintf(cmd, sizeof(cmd), "openssl pkeyutl -sign -inkey '%s' -rawin "
             "-in '%s' -out '%s' 2>/dev/null", path[0], path[2], path[3]);
    run(cmd);
    n = read_file(path[3], sig, sizeof(sig));
    assert_int_equal(n, 64);
    k = sl_key_new(SL_SIG_ED25519, pub, 32, &err);
    assert_non_null(k);
    assert_int_equal(sl_key_verify(k, m.data, m.len, sig, n), SL_OK);
    sig[10] ^= 1;
    assert_int_equal(sl_key_verify(k, m.data, m.len, sig, n), SL_EINVAL);
    sig[10] ^= 1;
    /* Ed25519 is deterministic: our header carries the CLI's signature */
    assert_int_equal(sl_sign_header(SL_SIG_ED25519, seed, 32, m.data, m.len,
                                    hdr, sizeof(hdr)), SL_OK);
    assert_int_equal(sl_sig_parse(slice_of(hdr), &alg, ours, &ourlen), SL_OK);
    assert_int_equal(ourlen, 64);
    assert_memory_equal(ours, sig, 64);
    sl_key_destroy(k);

    /* the CLI's public key derived from our private file equals ours */
    snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s' -pubout -out '%s' "
             "2>/dev/null", path[0], path[5]);
    run(cmd);
    na = read_file(path[1], a, sizeof(a));
    nb = read_file(path[5], b, sizeof(b));
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    /* the CLI verifies our signature with our public key file */
    write_file(path[3], ours, 64);
    snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey '%s' "
             "-rawin -in '%s' -sigfile '%s' >/dev/null 2>&1",
             path[1], path[2], path[3]);
    run(cmd);

    /* CLI-generated key files load, and their halves match */
    snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 -out '%s' "
             "2>/dev/null && openssl pkey -in '%s' -pubout -out '%s' "
             "2>/dev/null", path[4], path[4], path[5]);
    run(cmd);
    assert_int_equal(sl_ed25519_read_private_pem(path[4], seed, &err), SL_OK);
    assert_int_equal(sl_ed25519_read_public_pem(path[5], pub, &err), SL_OK);
    assert_int_equal(sl_ed25519_public_from_seed(seed, back), SL_OK);
    assert_memory_equal(back, pub, 32);

    /* a non-Ed25519 key is refused by name */
    snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm EC -pkeyopt "
             "ec_paramgen_curve:P-256 -out '%s' 2>/dev/null", path[4]);
    run(cmd);
    assert_int_not_equal(sl_ed25519_read_private_pem(path[4], seed, &err), SL_OK);
    assert_non_null(strstr(err.msg, "not an ed25519 key"));

    sl_buf_free(&m);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sig_message),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_key_new_errors),
        cmocka_unit_test(test_sign_header_errors),
        cmocka_unit_test(test_sig_parse_edges),
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_strict),
        cmocka_unit_test(test_b64_limits),
        cmocka_unit_test(test_generate_sign_verify),
        cmocka_unit_test(test_pem_roundtrip),
        cmocka_unit_test(test_hmac_box),
        cmocka_unit_test(test_secrets_key_file),
        cmocka_unit_test(test_openssl_cli_interop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
