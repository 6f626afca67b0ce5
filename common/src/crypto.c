/*
 * crypto.c -- SHA-256, upload signatures (Ed25519, HMAC-SHA256), Ed25519 key
 * files and strict base64.  OpenSSL 3 EVP interfaces do everything except
 * Ed25519 signing and verification with a loaded key, which use libsodium:
 * verification is the largest single cost of the validate stage, and
 * libsodium's takes 37 us per 1 KiB upload against OpenSSL's 65 us on the
 * development machine (signing: 15 us against 27 us).
 *
 * The validate stage checks one signature per upload, so verification keys
 * are built once (sl_key_new); an HMAC key carries its own reusable OpenSSL
 * context, so a key is used by one thread at a time.  Parsing of the wire
 * header is strict: an exact algorithm name, canonical padded base64 (no
 * whitespace, zero pad bits) or exactly 64 hex digits, nothing around them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "sl/crypto.h"

#define ED25519_KEY_LEN 32
#define ED25519_SIG_LEN 64
#define HMAC_KEY_MAX    256

struct sl_key {
    sl_sig_alg alg;
    uint8_t pub[32];        /* Ed25519 public key */
    EVP_MAC *mac;           /* HMAC implementation, fetched once */
    EVP_MAC_CTX *mac_ctx;   /* keyed once; re-initialised per message */
};

/* ---- hashing ---------------------------------------------------------- */

/* OpenSSL 3 looks EVP_sha256() up in its provider store on every
 * EVP_Digest call (an "implicit fetch"): under the stages' threads that
 * took most of a short hash's time (EVP_MD_fetch was 83% of sl_sha256 in
 * the scan stage's profile, where every hop hashes each provenance event it
 * checks or writes).  So the implementation is fetched once, under
 * pthread_once, and then only read; if that fetch fails, the implicit one
 * is used as before. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md)
        ERR_clear_error();
}

/* One-shot SHA-256 of n bytes. */
int sl_sha256(const void *p, size_t n, uint8_t out[SL_SHA256_LEN])
{
    unsigned int len = 0;

    if ((!p && n) || !out)
        return SL_EINVAL;
    (void)pthread_once(&sha256_once, sha256_fetch);
    if (EVP_Digest(n ? p : "", n, out, &len,
                   sha256_md ? sha256_md : EVP_sha256(), NULL) != 1 ||
        len != SL_SHA256_LEN) {
        ERR_clear_error();
        return SL_ERR;
    }
    return SL_OK;
}

/* SHA-256 as 64 lowercase hex digits plus NUL. */
int sl_sha256_hex(const void *p, size_t n, char out[SL_SHA256_HEX])
{
    uint8_t md[SL_SHA256_LEN];
    int rc = sl_sha256(p, n, md);

    if (rc != SL_OK)
        return rc;
    sl_hex_encode(md, sizeof(md), out);
    return SL_OK;
}

/* True when s is exactly 64 lowercase hex digits. */
static int is_sha256_hex(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return s[i] == '\0';
}

/* The signed string: domain, lowercase content hash, newline, exact meta
 * bytes.  A malformed hash is refused so two spellings of one hash can never
 * produce two different signed strings. */
int sl_sig_message(sl_buf *out, const char *sha_hex, sl_slice meta)
{
    int rc;

    if (!out || !sha_hex || (!meta.ptr && meta.len) || !is_sha256_hex(sha_hex))
        return SL_EINVAL;
    sl_buf_reset(out);
    rc = sl_buf_append(out, SL_SIG_DOMAIN, strlen(SL_SIG_DOMAIN));
    if (rc == SL_OK)
        rc = sl_buf_append(out, sha_hex, 64);
    if (rc == SL_OK)
        rc = sl_buf_putc(out, '\n');
    if (rc == SL_OK)
        rc = sl_buf_append(out, meta.ptr, meta.len);
    return rc;
}

/* ---- algorithm names and the sluice-sig header ------------------------ */

const char *sl_sig_alg_name(sl_sig_alg a)
{
    switch (a) {
    case SL_SIG_ED25519:     return "ed25519";
    case SL_SIG_HMAC_SHA256: return "hmac-sha256";
    default:                 return "none";
    }
}

sl_sig_alg sl_sig_alg_parse(const char *s)
{
    if (!s)
        return SL_SIG_NONE;
    if (strcmp(s, "ed25519") == 0)
        return SL_SIG_ED25519;
    if (strcmp(s, "hmac-sha256") == 0)
        return SL_SIG_HMAC_SHA256;
    return SL_SIG_NONE;
}

/* Splits "alg=value" (exact, case-sensitive algorithm name) and decodes the
 * value: 88 base64 chars -> 64 bytes for Ed25519, 64 hex digits (either
 * case) -> 32 bytes for HMAC.  Anything else, including surrounding
 * whitespace, is SL_EINVAL and leaves the outputs unspecified. */
int sl_sig_parse(sl_slice hdr, sl_sig_alg *alg, uint8_t sig[SL_SIG_MAX],
                 size_t *siglen)
{
    static const char ed[] = "ed25519=", hm[] = "hmac-sha256=";
    const char *p = (const char *)hdr.ptr;
    size_t edn = sizeof(ed) - 1, hmn = sizeof(hm) - 1, got = 0;

    if (!p || !alg || !sig || !siglen)
        return SL_EINVAL;
    if (hdr.len > edn && memcmp(p, ed, edn) == 0) {
        if (sl_b64_decode(p + edn, hdr.len - edn, sig, SL_SIG_MAX, &got) !=
                SL_OK || got != ED25519_SIG_LEN)
            return SL_EINVAL;
        *alg = SL_SIG_ED25519;
        *siglen = got;
        return SL_OK;
    }
    if (hdr.len > hmn && memcmp(p, hm, hmn) == 0) {
        if (sl_hex_decode(p + hmn, hdr.len - hmn, sig, SL_SHA256_LEN) != SL_OK)
            return SL_EINVAL;
        *alg = SL_SIG_HMAC_SHA256;
        *siglen = SL_SHA256_LEN;
        return SL_OK;
    }
    return SL_EINVAL;
}

/* ---- verification keys ------------------------------------------------ */

/* Builds a key ready to verify: the Ed25519 public key checked by
 * libsodium, or an HMAC context keyed once here (the secret is not kept
 * outside OpenSSL). */
sl_key *sl_key_new(sl_sig_alg alg, const uint8_t *raw, size_t len, sl_err *err)
{
    sl_key *k = NULL;
    OSSL_PARAM params[2];

    if (!raw) {
        sl_err_set(err, "no key material");
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (!k) {
        sl_err_set(err, "out of memory");
        return NULL;
    }
    k->alg = alg;
    switch (alg) {
    case SL_SIG_ED25519:
        if (len != ED25519_KEY_LEN) {
            sl_err_set(err, "ed25519 public key must be 32 bytes, got %zu", len);
            goto fail;
        }
        /* sodium_init() is idempotent and thread-safe; 1 means done before. */
        if (sodium_init() < 0) {
            sl_err_set(err, "cannot initialise libsodium");
            goto fail;
        }
        memcpy(k->pub, raw, ED25519_KEY_LEN);
        break;
    case SL_SIG_HMAC_SHA256:
        if (len < 1 || len > HMAC_KEY_MAX) {
            sl_err_set(err, "hmac secret must be 1..%d bytes, got %zu",
                       HMAC_KEY_MAX, len);
            goto fail;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        k->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        k->mac_ctx = k->mac ? EVP_MAC_CTX_new(k->mac) : NULL;
        if (!k->mac_ctx || EVP_MAC_init(k->mac_ctx, raw, len, params) != 1) {
            sl_err_set(err, "cannot set up hmac-sha256");
            goto fail;
        }
        break;
    default:
        sl_err_set(err, "unknown signature algorithm");
        goto fail;
    }
    return k;
fail:
    ERR_clear_error();
    sl_key_destroy(k);
    return NULL;
}

void sl_key_destroy(sl_key *k)
{
    if (!k)
        return;
    EVP_MAC_CTX_free(k->mac_ctx);   /* cleanses the keyed state */
    EVP_MAC_free(k->mac);
    free(k);
}

sl_sig_alg sl_key_alg(const sl_key *k)
{
    return k ? k->alg : SL_SIG_NONE;
}

/* Ed25519 verification (RFC 8032, with libsodium's refusal of
 * non-canonical and small-order points).  SL_EINVAL for a bad signature. */
int sl_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n,
                      const uint8_t *sig, size_t siglen)
{
    if (!pub || (!msg && n) || !sig || siglen != ED25519_SIG_LEN)
        return SL_EINVAL;
    if (crypto_sign_verify_detached(sig, n ? msg : (const uint8_t *)"",
                                    (unsigned long long)n, pub) != 0)
        return SL_EINVAL;
    return SL_OK;
}

int sl_key_ed25519_public(const sl_key *k, uint8_t pub[32])
{
    if (!k || k->alg != SL_SIG_ED25519)
        return SL_EINVAL;
    memcpy(pub, k->pub, ED25519_KEY_LEN);
    return SL_OK;
}

static int verify_ed25519(sl_key *k, const uint8_t *msg, size_t n,
                          const uint8_t *sig, size_t siglen)
{
    return sl_ed25519_verify(k->pub, msg, n, sig, siglen);
}

/* HMAC-SHA256 over msg, compared in constant time.  EVP_MAC_init with a
 * NULL key restarts the context with the key set in sl_key_new. */
static int verify_hmac(sl_key *k, const uint8_t *msg, size_t n,
                       const uint8_t *sig, size_t siglen)
{
    uint8_t mac[SL_SHA256_LEN];
    size_t len = 0;
    int rc = SL_ERR;

    if (siglen != SL_SHA256_LEN)
        return SL_EINVAL;
    if (EVP_MAC_init(k->mac_ctx, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(k->mac_ctx, n ? msg : (const uint8_t *)"", n) != 1 ||
        EVP_MAC_final(k->mac_ctx, mac, &len, sizeof(mac)) != 1 ||
        len != SL_SHA256_LEN) {
        ERR_clear_error();
        goto out;
    }
    rc = CRYPTO_memcmp(mac, sig, SL_SHA256_LEN) == 0 ? SL_OK : SL_EINVAL;
out:
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}

/* SL_OK for a valid signature, SL_EINVAL for an invalid one (including a
 * wrong length), SL_ERR if OpenSSL itself failed.  Not thread-safe per key:
 * the key's contexts are reused. */
int sl_key_verify(sl_key *k, const uint8_t *msg, size_t n,
                  const uint8_t *sig, size_t siglen)
{
    if (!k || (!msg && n) || !sig)
        return SL_EINVAL;
    if (k->alg == SL_SIG_ED25519)
        return verify_ed25519(k, msg, n, sig, siglen);
    if (k->alg == SL_SIG_HMAC_SHA256)
        return verify_hmac(k, msg, n, sig, siglen);
    return SL_EINVAL;
}

/* ---- signing ---------------------------------------------------------- */

/* Ed25519 signature of msg with the 32-byte seed into sig[64]. */
static int sign_ed25519(const uint8_t *seed, const uint8_t *msg, size_t n,
                        uint8_t sig[ED25519_SIG_LEN])
{
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    size_t len = ED25519_SIG_LEN;
    int rc = SL_ERR;

    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
                                        ED25519_KEY_LEN);
    md = EVP_MD_CTX_new();
    if (!pkey || !md ||
        EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
        EVP_DigestSign(md, sig, &len, n ? msg : (const uint8_t *)"", n) != 1 ||
        len != ED25519_SIG_LEN)
        goto out;
    rc = SL_OK;
out:
    if (rc != SL_OK)
        ERR_clear_error();
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return rc;
}

/* HMAC-SHA256 of msg with secret into mac[32]. */
static int sign_hmac(const uint8_t *secret, size_t len, const uint8_t *msg,
                     size_t n, uint8_t mac[SL_SHA256_LEN])
{
    size_t outlen = 0;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, len,
                   n ? msg : (const uint8_t *)"", n, mac, SL_SHA256_LEN,
                   &outlen) || outlen != SL_SHA256_LEN) {
        ERR_clear_error();
        return SL_ERR;
    }
    return SL_OK;
}

/* Writes the complete sluice-sig value for msg.  SL_ETOOBIG when out cannot
 * hold it (ed25519: 97 bytes with NUL; hmac-sha256: 77). */
int sl_sign_header(sl_sig_alg alg, const uint8_t *priv, size_t privlen,
                   const uint8_t *msg, size_t n, char *out, size_t outsz)
{
    uint8_t sig[ED25519_SIG_LEN];
    const char *name = sl_sig_alg_name(alg);
    size_t pre = strlen(name) + 1;
    int rc;

    if (!priv || (!msg && n) || !out)
        return SL_EINVAL;
    if (alg == SL_SIG_ED25519) {
        if (privlen != ED25519_KEY_LEN)
            return SL_EINVAL;
        if (outsz < pre + 88 + 1)
            return SL_ETOOBIG;
        rc = sign_ed25519(priv, msg, n, sig);
        if (rc == SL_OK) {
            memcpy(out, name, pre - 1);
            out[pre - 1] = '=';
            rc = sl_b64_encode(sig, ED25519_SIG_LEN, out + pre, outsz - pre);
        }
    } else if (alg == SL_SIG_HMAC_SHA256) {
        if (privlen < 1 || privlen > HMAC_KEY_MAX)
            return SL_EINVAL;
        if (outsz < pre + 2 * SL_SHA256_LEN + 1)
            return SL_ETOOBIG;
        rc = sign_hmac(priv, privlen, msg, n, sig);
        if (rc == SL_OK) {
            memcpy(out, name, pre - 1);
            out[pre - 1] = '=';
            sl_hex_encode(sig, SL_SHA256_LEN, out + pre);
        }
    } else {
        return SL_EINVAL;
    }
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}

/* A signing key loaded once: building an Ed25519 EVP_PKEY from its seed
 * derives the public key, which costs about as much as a signature, so a
 * producer signing many uploads keeps one of these. */
struct sl_signer {
    sl_sig_alg alg;
    uint8_t ed_sk[crypto_sign_SECRETKEYBYTES];   /* ed25519: seed || public */
    uint8_t secret[HMAC_KEY_MAX];   /* hmac */
    size_t secret_len;
};

sl_signer *sl_signer_new(sl_sig_alg alg, const uint8_t *priv, size_t len,
                         sl_err *err)
{
    sl_signer *s;

    if (!priv || (alg == SL_SIG_ED25519 && len != ED25519_KEY_LEN) ||
        (alg == SL_SIG_HMAC_SHA256 && (len < 1 || len > HMAC_KEY_MAX)) ||
        (alg != SL_SIG_ED25519 && alg != SL_SIG_HMAC_SHA256)) {
        sl_err_set(err, "signing key: wrong algorithm or key length");
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        sl_err_set(err, "out of memory");
        return NULL;
    }
    s->alg = alg;
    if (alg == SL_SIG_ED25519) {
        uint8_t pub[crypto_sign_PUBLICKEYBYTES];

        if (sodium_init() < 0 || crypto_sign_seed_keypair(pub, s->ed_sk, priv) != 0) {
            sl_err_set(err, "signing key: libsodium could not load the Ed25519 key");
            sl_signer_destroy(s);
            return NULL;
        }
    } else {
        memcpy(s->secret, priv, len);
        s->secret_len = len;
    }
    return s;
}

void sl_signer_destroy(sl_signer *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s->ed_sk, sizeof(s->ed_sk));
    OPENSSL_cleanse(s->secret, sizeof(s->secret));
    free(s);
}

int sl_signer_sign(sl_signer *s, const uint8_t *msg, size_t n, char *out,
                   size_t outsz)
{
    uint8_t sig[ED25519_SIG_LEN];
    const char *name;
    size_t pre;
    int rc = SL_ERR;

    if (!s || (!msg && n) || !out)
        return SL_EINVAL;
    name = sl_sig_alg_name(s->alg);
    pre = strlen(name) + 1;
    if (s->alg == SL_SIG_HMAC_SHA256)
        return sl_sign_header(s->alg, s->secret, s->secret_len, msg, n, out, outsz);
    if (outsz < pre + 88 + 1)
        return SL_ETOOBIG;
    if (crypto_sign_detached(sig, NULL, n ? msg : (const uint8_t *)"",
                             (unsigned long long)n, s->ed_sk) != 0)
        goto out;
    memcpy(out, name, pre - 1);
    out[pre - 1] = '=';
    rc = sl_b64_encode(sig, ED25519_SIG_LEN, out + pre, outsz - pre);
out:
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}

/* ---- Ed25519 key material --------------------------------------------- */

/* Raw seed and public key out of a private EVP_PKEY. */
static int raw_pair(EVP_PKEY *pkey, uint8_t seed[32], uint8_t pub[32])
{
    size_t slen = ED25519_KEY_LEN, plen = ED25519_KEY_LEN;

    if ((seed && (EVP_PKEY_get_raw_private_key(pkey, seed, &slen) != 1 ||
                  slen != ED25519_KEY_LEN)) ||
        (pub && (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 ||
                 plen != ED25519_KEY_LEN))) {
        ERR_clear_error();
        return SL_ERR;
    }
    return SL_OK;
}

/* A fresh key pair from OpenSSL's CSPRNG. */
int sl_ed25519_generate(uint8_t seed[32], uint8_t pub[32])
{
    EVP_PKEY *pkey;
    int rc;

    if (!seed || !pub)
        return SL_EINVAL;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    rc = pkey ? raw_pair(pkey, seed, pub) : SL_ERR;
    if (rc != SL_OK)
        ERR_clear_error();
    EVP_PKEY_free(pkey);
    return rc;
}

int sl_ed25519_public_from_seed(const uint8_t seed[32], uint8_t pub[32])
{
    EVP_PKEY *pkey;
    int rc;

    if (!seed || !pub)
        return SL_EINVAL;
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
                                        ED25519_KEY_LEN);
    rc = pkey ? raw_pair(pkey, NULL, pub) : SL_ERR;
    if (rc != SL_OK)
        ERR_clear_error();
    EVP_PKEY_free(pkey);
    return rc;
}

int sl_keyfile_create(const char *path, unsigned mode, sl_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  (mode_t)mode);

    if (fd < 0) {
        int e = errno;
        if (e == EEXIST || e == ELOOP) {
            sl_err_set(err, "%s already exists (a file or a symbolic link); "
                       "refusing to overwrite or follow it for a key file",
                       path);
            return SL_EINVAL;
        }
        sl_err_set(err, "%s: %s", path, strerror(e));
        return SL_EIO;
    }
    /* The umask may have taken bits off, never added: set exactly. */
    if (fchmod(fd, (mode_t)mode) != 0) {
        sl_err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return SL_EIO;
    }
    return fd;
}

/* A new file at path (sl_keyfile_create) as a stdio stream. */
static FILE *open_for_write(const char *path, mode_t mode, sl_err *err,
                            int *rc)
{
    int fd = sl_keyfile_create(path, mode, err);
    FILE *fp;

    if (fd < 0) {
        *rc = fd;
        return NULL;
    }
    if (!(fp = fdopen(fd, "w"))) {
        sl_err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    return fp;
}

/* Writes the PKCS#8 private key (mode 0600) and the SPKI public key (mode
 * 0644), the formats of `openssl genpkey -algorithm ed25519` and
 * `openssl pkey -pubout`.  Either path may be NULL to skip that file.
 * Both are new files (sl_keyfile_create); on failure, those this call
 * created are removed and nothing else is touched. */
int sl_ed25519_write_pem(const char *priv_path, const char *pub_path,
                         const uint8_t seed[32], sl_err *err)
{
    EVP_PKEY *pkey = NULL;
    FILE *fp = NULL;
    const char *cur = NULL;
    int rc = SL_EIO, made_priv = 0, made_pub = 0;

    if (!seed) {
        sl_err_set(err, "no seed");
        return SL_EINVAL;
    }
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
                                        ED25519_KEY_LEN);
    if (!pkey) {
        sl_err_set(err, "cannot build ed25519 key");
        rc = SL_ERR;
        goto out;
    }
    if (priv_path) {
        cur = priv_path;
        if (!(fp = open_for_write(priv_path, 0600, err, &rc)))
            goto out;
        made_priv = 1;
        if (PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) != 1)
            goto write_failed;
        if (fclose(fp) != 0) {
            fp = NULL;
            goto write_failed;
        }
        fp = NULL;
    }
    if (pub_path) {
        cur = pub_path;
        if (!(fp = open_for_write(pub_path, 0644, err, &rc)))
            goto out;
        made_pub = 1;
        if (PEM_write_PUBKEY(fp, pkey) != 1)
            goto write_failed;
        if (fclose(fp) != 0) {
            fp = NULL;
            goto write_failed;
        }
        fp = NULL;
    }
    rc = SL_OK;
    goto out;
write_failed:
    sl_err_set(err, "%s: cannot write PEM key", cur);
out:
    if (fp)
        fclose(fp);
    if (rc != SL_OK) {
        ERR_clear_error();
        if (made_priv)
            unlink(priv_path);
        if (made_pub)
            unlink(pub_path);
    }
    EVP_PKEY_free(pkey);
    return rc;
}

/* Passphrase callback refusing to prompt: encrypted keys fail to load
 * instead of blocking on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* Loads one PEM key from path; want_private picks PKCS#8 or SPKI.  The key
 * must be Ed25519. */
static EVP_PKEY *read_pem(const char *path, int want_private, sl_err *err)
{
    EVP_PKEY *pkey = NULL;
    FILE *fp;

    if (!path) {
        sl_err_set(err, "no key file given");
        return NULL;
    }
    fp = fopen(path, "r");
    if (!fp) {
        sl_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pkey = want_private ? PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL)
                        : PEM_read_PUBKEY(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    if (!pkey) {
        sl_err_set(err, "%s: no unencrypted %s key in PEM", path,
                   want_private ? "PKCS#8 private" : "SPKI public");
    } else if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        sl_err_set(err, "%s: not an ed25519 key", path);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error();
    return pkey;
}

int sl_ed25519_read_public_pem(const char *path, uint8_t pub[32], sl_err *err)
{
    EVP_PKEY *pkey;
    int rc;

    if (!pub)
        return SL_EINVAL;
    pkey = read_pem(path, 0, err);
    if (!pkey)
        return SL_EINVAL;
    rc = raw_pair(pkey, NULL, pub);
    if (rc != SL_OK)
        sl_err_set(err, "%s: cannot extract public key", path);
    EVP_PKEY_free(pkey);
    /* A key no signature can verify against (a small-order or otherwise
     * degenerate point; key generators never make one) is refused here,
     * where it is registered, rather than on every upload. */
    if (rc == SL_OK && (sodium_init() < 0 || !crypto_core_ed25519_is_valid_point(pub))) {
        sl_err_set(err, "%s: not a usable Ed25519 public key (not a point of "
                   "the curve's prime-order group)", path);
        rc = SL_EINVAL;
    }
    return rc;
}

int sl_ed25519_read_private_pem(const char *path, uint8_t seed[32], sl_err *err)
{
    EVP_PKEY *pkey;
    int rc;

    if (!seed)
        return SL_EINVAL;
    pkey = read_pem(path, 1, err);
    if (!pkey)
        return SL_EINVAL;
    rc = raw_pair(pkey, seed, NULL);
    if (rc != SL_OK)
        sl_err_set(err, "%s: cannot extract private key", path);
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- base64 ----------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard padded base64 with a NUL.  SL_ETOOBIG if out is too small. */
int sl_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    size_t i, o = 0;

    if ((!in && n) || !out)
        return SL_EINVAL;
    if (n > (SIZE_MAX - 1) / 4 * 3 - 3 || outsz < (n + 2) / 3 * 4 + 1)
        return SL_ETOOBIG;
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return SL_OK;
}

/* Each character's value plus one; 0 for a byte outside the alphabet.  A
 * table, not a chain of range tests: on the random characters of a
 * signature those tests mispredict, and validate decodes two signatures
 * a message (88 characters: 54 ns against 462, -O2, this machine). */
#define B64(c, v) [c] = (v) + 1
static const unsigned char b64_rev[256] = {
    B64('A', 0),  B64('B', 1),  B64('C', 2),  B64('D', 3),  B64('E', 4),
    B64('F', 5),  B64('G', 6),  B64('H', 7),  B64('I', 8),  B64('J', 9),
    B64('K', 10), B64('L', 11), B64('M', 12), B64('N', 13), B64('O', 14),
    B64('P', 15), B64('Q', 16), B64('R', 17), B64('S', 18), B64('T', 19),
    B64('U', 20), B64('V', 21), B64('W', 22), B64('X', 23), B64('Y', 24),
    B64('Z', 25),
    B64('a', 26), B64('b', 27), B64('c', 28), B64('d', 29), B64('e', 30),
    B64('f', 31), B64('g', 32), B64('h', 33), B64('i', 34), B64('j', 35),
    B64('k', 36), B64('l', 37), B64('m', 38), B64('n', 39), B64('o', 40),
    B64('p', 41), B64('q', 42), B64('r', 43), B64('s', 44), B64('t', 45),
    B64('u', 46), B64('v', 47), B64('w', 48), B64('x', 49), B64('y', 50),
    B64('z', 51),
    B64('0', 52), B64('1', 53), B64('2', 54), B64('3', 55), B64('4', 56),
    B64('5', 57), B64('6', 58), B64('7', 59), B64('8', 60), B64('9', 61),
    B64('+', 62), B64('/', 63),
};
#undef B64

static int b64_value(unsigned char c)
{
    return (int)b64_rev[c] - 1;
}

/* Strict decoder: length a multiple of 4, padding only at the very end,
 * no whitespace, and the unused bits before padding must be zero (so each
 * byte string has exactly one encoding). */
int sl_b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz,
                  size_t *outlen)
{
    size_t pad = 0, need, i, o = 0;

    if ((!in && n) || (!out && outsz) || !outlen)
        return SL_EINVAL;
    *outlen = 0;
    if (n % 4 != 0)
        return SL_EINVAL;
    if (n == 0)
        return SL_OK;
    if (in[n - 1] == '=')
        pad = in[n - 2] == '=' ? 2 : 1;
    need = n / 4 * 3 - pad;
    if (need > outsz)
        return SL_ETOOBIG;
    for (i = 0; i < n; i += 4) {
        int last = i + 4 == n, v[4];
        size_t used = last ? 4 - pad : 4;
        uint32_t w = 0;

        for (size_t j = 0; j < 4; j++) {
            v[j] = j < used ? b64_value((unsigned char)in[i + j]) : 0;
            if (v[j] < 0)
                return SL_EINVAL;
            w = w << 6 | (uint32_t)v[j];
        }
        if (last && pad == 2 && (w & 0xffff) != 0)
            return SL_EINVAL;
        if (last && pad == 1 && (w & 0xff) != 0)
            return SL_EINVAL;
        out[o++] = (uint8_t)(w >> 16);
        if (used > 2)
            out[o++] = (uint8_t)(w >> 8);
        if (used > 3)
            out[o++] = (uint8_t)w;
    }
    *outlen = o;
    return SL_OK;
}

/* ---- HMAC secrets at rest (crypto.h) ------------------------------------ */

#define BOX_VERSION 0x01

int sl_keyfile_open_read(const char *path)
{
    const char *p = path + sizeof("/dev/fd/") - 1;
    char *end;
    long n;

    if (strncmp(path, "/dev/fd/", sizeof("/dev/fd/") - 1) == 0 && *p) {
        errno = 0;
        n = strtol(p, &end, 10);
        if (*end || errno || n < 0 || n > INT32_MAX) {
            errno = EINVAL;
            return -1;
        }
        return fcntl((int)n, F_DUPFD_CLOEXEC, 3);
    }
    return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int sl_keyfile_hex32_load(const char *path, const char *what, int group_read,
                          uint8_t key[32], sl_err *err)
{
    char text[2 * 32 + 2];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd = sl_keyfile_open_read(path), rc = SL_EINVAL;

    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            sl_err_set(err, "%s %s does not exist", what, path);
            return SL_ENOTFOUND;
        }
        sl_err_set(err, "%s %s: %s", what, path,
                   e == ELOOP ? "is a symbolic link; refusing to follow it"
                              : strerror(e));
        return e == ELOOP ? SL_EINVAL : SL_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sl_err_set(err, "%s %s is not a regular file", what, path);
        goto out;
    }
    if (group_read && (st.st_mode & 037)) {
        sl_err_set(err, "%s %s has mode %04o: only its owner (and at most its "
                   "group, read-only) may read it (chmod 600 or 640)", what,
                   path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (!group_read && (st.st_mode & 077)) {
        sl_err_set(err, "%s %s: group or others may access it (mode %04o): "
                   "chmod 600 it", what, path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    /* 64 hex digits, or 65 bytes ending in a newline; 66 is too many */
    n = pread(fd, text, sizeof(text), 0);
    len = n > 0 ? (size_t)n : 0;
    if (len == 2 * 32 + 1 && text[len - 1] == '\n')
        len--;
    if (len != 2 * 32 || sl_hex_decode(text, len, key, 32) != SL_OK) {
        sl_err_set(err, "%s %s does not hold 64 hex digits", what, path);
        goto out;
    }
    rc = SL_OK;
out:
    sodium_memzero(text, sizeof(text));
    close(fd);
    return rc;
}

int sl_keyfile_hex32_load_or_create(const char *path, const char *what,
                                    int group_read, uint8_t key[32],
                                    int *created, sl_err *err)
{
    char tmp[4096], text[2 * 32 + 2];
    int rc = sl_keyfile_hex32_load(path, what, group_read, key, err), fd;

    *created = 0;
    if (rc != SL_ENOTFOUND)
        return rc;
    if (sodium_init() < 0) {
        sl_err_set(err, "libsodium failed to initialise");
        return SL_ERR;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new-%08x", path,
                         (unsigned)randombytes_random()) >= sizeof(tmp)) {
        sl_err_set(err, "%s name too long", what);
        return SL_EINVAL;
    }
    if ((fd = sl_keyfile_create(tmp, 0600, err)) < 0)
        return fd;
    randombytes_buf(key, 32);
    sl_hex_encode(key, 32, text);
    text[2 * 32] = '\n';
    rc = write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1) &&
         fsync(fd) == 0 ? SL_OK : SL_EIO;
    sodium_memzero(text, sizeof(text));
    if (close(fd) != 0)
        rc = SL_EIO;
    if (rc != SL_OK) {
        sl_err_set(err, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        return rc;
    }
    /* link() neither replaces nor follows what is at path. */
    if (link(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        if (e != EEXIST) {
            sl_err_set(err, "%s %s: %s", what, path, strerror(e));
            return SL_EIO;
        }
        /* another one won */
        return sl_keyfile_hex32_load(path, what, group_read, key, err);
    }
    unlink(tmp);
    *created = 1;
    return SL_OK;
}

int sl_secrets_key_load(const char *path, uint8_t key[SL_SECRETS_KEY_LEN],
                        sl_err *err)
{
    /* Group read is allowed (the validate service user and the operator
     * who runs `creator add` may share a group); nothing else. */
    return sl_keyfile_hex32_load(path, "secrets key file", 1, key, err);
}

int sl_secrets_key_load_or_create(const char *path,
                                  uint8_t key[SL_SECRETS_KEY_LEN],
                                  int *created, sl_err *err)
{
    return sl_keyfile_hex32_load_or_create(path, "secrets key file", 1, key,
                                           created, err);
}

int sl_hmac_box_seal(const uint8_t key[SL_SECRETS_KEY_LEN],
                     const char *creator_id, const uint8_t *secret,
                     size_t len, uint8_t *out, size_t *outlen)
{
    uint8_t plain[1 + 255 + SL_HMAC_SECRET_MAX];
    size_t idlen = creator_id ? strlen(creator_id) : 0, n;

    if (idlen == 0 || idlen > 255 || len == 0 || len > SL_HMAC_SECRET_MAX ||
        sodium_init() < 0)
        return SL_EINVAL;
    plain[0] = (uint8_t)idlen;
    memcpy(plain + 1, creator_id, idlen);
    memcpy(plain + 1 + idlen, secret, len);
    n = 1 + idlen + len;
    out[0] = BOX_VERSION;
    randombytes_buf(out + 1, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + 1 + crypto_secretbox_NONCEBYTES, plain, n,
                          out + 1, key);
    sodium_memzero(plain, sizeof(plain));
    *outlen = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    return SL_OK;
}

int sl_hmac_box_open(const uint8_t key[SL_SECRETS_KEY_LEN],
                     const char *creator_id, const uint8_t *box,
                     size_t boxlen, uint8_t secret[SL_HMAC_SECRET_MAX],
                     size_t *len, sl_err *err)
{
    uint8_t plain[1 + 255 + SL_HMAC_SECRET_MAX];
    const size_t head = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    size_t idlen = strlen(creator_id), n;
    int rc = SL_EINVAL;

    if (boxlen < head + 2 || boxlen > SL_HMAC_BOX_MAX || box[0] != BOX_VERSION) {
        sl_err_set(err, "not a sealed HMAC secret (version 1, %zu to %d bytes)",
                   head + 2, SL_HMAC_BOX_MAX);
        return SL_EINVAL;
    }
    n = boxlen - head;
    if (sodium_init() < 0 ||
        crypto_secretbox_open_easy(plain, box + 1 + crypto_secretbox_NONCEBYTES,
                                   boxlen - 1 - crypto_secretbox_NONCEBYTES,
                                   box + 1, key) != 0) {
        sl_err_set(err, "the sealed HMAC secret does not open with this key "
                   "(another secrets key file, or altered)");
        goto out;
    }
    if (plain[0] != idlen || n < 1 + idlen + 1 ||
        memcmp(plain + 1, creator_id, idlen) != 0) {
        sl_err_set(err, "the sealed HMAC secret belongs to another creator");
        goto out;
    }
    *len = n - 1 - idlen;
    memcpy(secret, plain + 1 + idlen, *len);
    rc = SL_OK;
out:
    sodium_memzero(plain, sizeof(plain));
    return rc;
}
