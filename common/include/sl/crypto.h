/*
 * crypto.h -- hashing, signatures and encodings on OpenSSL 3.
 *
 * The upload signature (schemas/README.md) covers the bytes
 *   "sluice-upload-v1\n" + lowercase hex SHA-256 of the value + "\n" + meta
 * and travels in the sluice-sig header as "ed25519=<base64>" or
 * "hmac-sha256=<hex>".  HMAC comparison is constant-time.
 */
#ifndef SL_CRYPTO_H
#define SL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "sl/common.h"

#define SL_SHA256_LEN 32
#define SL_SHA256_HEX 65   /* 64 hex chars + NUL */
#define SL_SIG_DOMAIN "sluice-upload-v1\n"

int  sl_sha256(const void *p, size_t n, uint8_t out[SL_SHA256_LEN]);
int  sl_sha256_hex(const void *p, size_t n, char out[SL_SHA256_HEX]);

/* Builds the signed string into `out` (reset first). */
int  sl_sig_message(sl_buf *out, const char *sha_hex, sl_slice meta);

typedef enum sl_sig_alg {
    SL_SIG_NONE = 0,
    SL_SIG_ED25519,
    SL_SIG_HMAC_SHA256
} sl_sig_alg;

const char *sl_sig_alg_name(sl_sig_alg a);   /* "ed25519" / "hmac-sha256" */
sl_sig_alg  sl_sig_alg_parse(const char *s); /* SL_SIG_NONE if unknown */

#define SL_SIG_MAX 64
/* Parses a sluice-sig header value.  SL_EINVAL on any malformation. */
int sl_sig_parse(sl_slice hdr, sl_sig_alg *alg, uint8_t sig[SL_SIG_MAX],
                 size_t *siglen);

/* A creator's verification key: Ed25519 public key (32 raw bytes) or an
 * HMAC secret (1..256 bytes).  Built once, reused for every message. */
typedef struct sl_key sl_key;
sl_key *sl_key_new(sl_sig_alg alg, const uint8_t *raw, size_t len, sl_err *err);
void    sl_key_destroy(sl_key *k);
sl_sig_alg sl_key_alg(const sl_key *k);
/* SL_OK when the signature is valid, SL_EINVAL when it is not. */
int     sl_key_verify(sl_key *k, const uint8_t *msg, size_t n,
                      const uint8_t *sig, size_t siglen);
/* An Ed25519 key's 32 raw public bytes into pub: SL_OK, or SL_EINVAL for
 * another kind of key. */
int     sl_key_ed25519_public(const sl_key *k, uint8_t pub[32]);
/* Ed25519 verification with raw public bytes, exactly as sl_key_verify
 * with that key; it touches no key state, so threads may call it at once
 * (after an Ed25519 sl_key_new has initialised the library). */
int     sl_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n,
                          const uint8_t *sig, size_t siglen);

/* Signing, for sluicectl and tests. priv: Ed25519 32-byte seed or HMAC
 * secret.  Writes the complete header value ("ed25519=..."), NUL-ended. */
int sl_sign_header(sl_sig_alg alg, const uint8_t *priv, size_t privlen,
                   const uint8_t *msg, size_t n, char *out, size_t outsz);

/* The same, with the key loaded once for many signatures. */
typedef struct sl_signer sl_signer;
sl_signer *sl_signer_new(sl_sig_alg alg, const uint8_t *priv, size_t len,
                         sl_err *err);
int  sl_signer_sign(sl_signer *s, const uint8_t *msg, size_t n, char *out,
                    size_t outsz);
void sl_signer_destroy(sl_signer *s);

/* Creates a new file for key material: open(O_CREAT | O_EXCL | O_NOFOLLOW)
 * with exactly `mode`, so an existing file or a symbolic link at path is
 * never overwritten or followed.  Returns the open descriptor (>= 0), or
 * SL_EINVAL (it exists) / SL_EIO with err naming the path. */
int sl_keyfile_create(const char *path, unsigned mode, sl_err *err);

/* Opens key material for reading (O_RDONLY | O_NOFOLLOW | O_CLOEXEC): a
 * symbolic link is refused (ELOOP).  A path /dev/fd/N names a descriptor
 * the process was handed (deploy/stack.sh does so for services whose user
 * cannot reach the file); it is duplicated, so read it with pread() from
 * offset 0.  Returns the descriptor, or -1 with errno set. */
int sl_keyfile_open_read(const char *path);

/* A 32-byte key kept as 64 hex digits (and an optional newline) in a file
 * of its own: read through sl_keyfile_open_read (no symbolic link), a
 * regular file readable by its owner only (group_read: and by its group,
 * read-only).  `what` names it in errors ("secrets key file").  SL_OK;
 * SL_ENOTFOUND when it does not exist; SL_EINVAL or SL_EIO otherwise. */
int sl_keyfile_hex32_load(const char *path, const char *what, int group_read,
                          uint8_t key[32], sl_err *err);
/* The same, creating the file with a fresh random key when it does not
 * exist (mode 0600, written to a temporary file and linked into place: it
 * never replaces a file or follows a link, and a concurrent creator's key
 * wins).  *created = 1 when this call made it. */
int sl_keyfile_hex32_load_or_create(const char *path, const char *what,
                                    int group_read, uint8_t key[32],
                                    int *created, sl_err *err);

/* Ed25519 key material: generate, and PEM (PKCS#8 / SPKI) files. */
int sl_ed25519_generate(uint8_t seed[32], uint8_t pub[32]);
int sl_ed25519_public_from_seed(const uint8_t seed[32], uint8_t pub[32]);
int sl_ed25519_write_pem(const char *priv_path, const char *pub_path,
                         const uint8_t seed[32], sl_err *err);
/* Reads a public key PEM file (SPKI) into raw 32 bytes. */
int sl_ed25519_read_public_pem(const char *path, uint8_t pub[32], sl_err *err);
/* Reads a private key PEM file (PKCS#8) into the raw 32-byte seed. */
int sl_ed25519_read_private_pem(const char *path, uint8_t seed[32], sl_err *err);

/* ---- HMAC secrets at rest ---------------------------------------------
 * An HMAC creator's secret is stored sealed (libsodium crypto_secretbox,
 * XSalsa20-Poly1305) under a key kept in a file only validate and
 * `sluicectl creator add` read.  The box binds the creator id:
 *   0x01 || nonce (24 random bytes) || secretbox(u8 id length || id || secret)
 * The key file holds 64 hex digits and a newline, mode 0600. */
#define SL_SECRETS_KEY_LEN 32
#define SL_HMAC_SECRET_MAX 256
#define SL_HMAC_BOX_MAX (1 + 24 + 16 + 1 + 255 + SL_HMAC_SECRET_MAX)

/* Reads the key file: a regular file (a symbolic link is not followed),
 * mode 0600 or 0640 at most (no access for others, group read-only), 64
 * hex digits and an optional newline.  SL_OK; SL_ENOTFOUND when it does not exist; SL_EINVAL
 * or SL_EIO with err saying what is wrong. */
int sl_secrets_key_load(const char *path, uint8_t key[SL_SECRETS_KEY_LEN],
                        sl_err *err);
/* The same, but creates the file with a fresh random key when it does not
 * exist (mode 0600; written to a temporary file and linked into place, so
 * it never replaces a file or follows a link, and a concurrent creator's
 * key wins).  *created = 1 when this call made it. */
int sl_secrets_key_load_or_create(const char *path,
                                  uint8_t key[SL_SECRETS_KEY_LEN],
                                  int *created, sl_err *err);
/* Seals secret (1..SL_HMAC_SECRET_MAX bytes) for creator_id (1..255
 * bytes) into out (at least SL_HMAC_BOX_MAX bytes), with a fresh nonce.
 * SL_OK or SL_EINVAL. */
int sl_hmac_box_seal(const uint8_t key[SL_SECRETS_KEY_LEN],
                     const char *creator_id, const uint8_t *secret,
                     size_t len, uint8_t *out, size_t *outlen);
/* Opens a box sealed for creator_id into secret (SL_HMAC_SECRET_MAX bytes).
 * SL_EINVAL (err says why) when the format is wrong, the key is not the
 * one it was sealed under, a byte changed, or it belongs to another
 * creator. */
int sl_hmac_box_open(const uint8_t key[SL_SECRETS_KEY_LEN],
                     const char *creator_id, const uint8_t *box,
                     size_t boxlen, uint8_t secret[SL_HMAC_SECRET_MAX],
                     size_t *len, sl_err *err);

/* Base64 (standard alphabet, padded).  decode returns SL_EINVAL on bad input
 * and SL_ETOOBIG when it would exceed outsz. */
int sl_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz);
int sl_b64_decode(const char *in, size_t n, uint8_t *out, size_t outsz,
                  size_t *outlen);

#endif
