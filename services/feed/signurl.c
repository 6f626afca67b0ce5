/*
 * signurl.c -- signed content URLs (feed_logic.h): HMAC-SHA256 under the
 * feed's 32-byte URL key (libsodium's crypto_auth_hmacsha256, which looks
 * nothing up per call: OpenSSL's EVP_Q_mac fetched HMAC and SHA-256 from
 * its provider store for every line of a feed page, 1.8-2.3 us a MAC
 * against 1.3) over
 *   "GET\n/v1/samples/<upload_id>/content\n<consumer_id>\n<exp>"
 * as 64 lowercase hex digits, checked with sodium_memcmp (constant time).
 *
 * The ids must be printable ASCII without spaces, so the signed text has
 * one reading (no id can carry a line break into the next field).  exp is
 * decimal Unix seconds, digits only, no sign, no leading zero: one text per
 * value, so no two query strings carry the same MAC.  The MAC is checked
 * before the expiry: a forged URL is "bad", never "expired", so expiry
 * answers leak nothing about the key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "feed_logic.h"
#include "sl/crypto.h"

#define ID_MAX 256            /* longer ids than any sluice id (128) */
#define EXP_DIGITS_MAX 19     /* INT64_MAX has 19 digits */

/* 1 when s is 1..ID_MAX bytes of printable ASCII other than space. */
static int id_ok(const char *s)
{
    size_t i;

    if (!s || !*s)
        return 0;
    for (i = 0; s[i]; i++)
        if (i >= ID_MAX || (unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static int url_mac(const uint8_t key[FD_URLKEY_BYTES], const char *upload_id,
                   const char *consumer_id, int64_t exp,
                   uint8_t mac[SL_SHA256_LEN])
{
    char msg[2 * ID_MAX + 64];
    crypto_auth_hmacsha256_state st;
    int n;

    n = snprintf(msg, sizeof msg, "GET\n/v1/samples/%s/content\n%s\n%" PRId64,
                 upload_id, consumer_id, exp);
    if (n < 0 || (size_t)n >= sizeof msg)
        return SL_EINVAL;
    if (crypto_auth_hmacsha256_init(&st, key, FD_URLKEY_BYTES) != 0 ||
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg, (size_t)n) != 0 ||
        crypto_auth_hmacsha256_final(&st, mac) != 0) {
        sodium_memzero(&st, sizeof st);
        return SL_ERR;
    }
    sodium_memzero(&st, sizeof st);   /* it holds the key's pads */
    return SL_OK;
}

/* RFC 3986 unreserved characters (and those of extra) stay, every other
 * byte is %XX. */
static int pct_encode(sl_buf *out, const char *s, const char *extra)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = SL_OK;

    for (; *s && rc == SL_OK; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
            (c && strchr(extra, c)))
            rc = sl_buf_putc(out, (char)c);
        else
            rc = sl_buf_appendf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
    return rc;
}

int fd_url_sign(const uint8_t key[FD_URLKEY_BYTES], const char *upload_id,
                const char *consumer_id, int64_t exp_unix, sl_buf *out)
{
    uint8_t mac[SL_SHA256_LEN];
    char hex[2 * SL_SHA256_LEN + 1];
    int rc;

    if (!key || !id_ok(upload_id) || !id_ok(consumer_id) || exp_unix < 0)
        return SL_EINVAL;
    if ((rc = url_mac(key, upload_id, consumer_id, exp_unix, mac)) != SL_OK)
        return rc;
    sl_hex_encode(mac, sizeof mac, hex);
    if ((rc = sl_buf_append(out, "c=", 2)) != SL_OK ||
        (rc = pct_encode(out, consumer_id, "")) != SL_OK ||
        (rc = sl_buf_appendf(out, "&exp=%" PRId64 "&sig=%s", exp_unix, hex)) != SL_OK)
        return rc;
    return sl_buf_cstr(out);
}

int fd_content_url(sl_buf *out, const char *base_url, const char *upload_id,
                   const uint8_t *key, const char *consumer_id,
                   int64_t exp_unix)
{
    size_t n;
    int rc;

    if (!base_url || !*base_url || !id_ok(upload_id))
        return SL_EINVAL;
    n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    if ((rc = sl_buf_append(out, base_url, n)) != SL_OK ||
        (rc = sl_buf_append(out, "/v1/samples/", 12)) != SL_OK ||
        (rc = pct_encode(out, upload_id, ":")) != SL_OK ||
        (rc = sl_buf_append(out, "/content", 8)) != SL_OK)
        return rc;
    if (key) {
        if ((rc = sl_buf_putc(out, '?')) != SL_OK)
            return rc;
        return fd_url_sign(key, upload_id, consumer_id, exp_unix, out);
    }
    return sl_buf_cstr(out);
}

/* Decimal Unix seconds: "0", or 1..19 digits without a leading zero,
 * within int64.  SL_OK or SL_EINVAL. */
static int parse_exp(const char *s, int64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (!s || !*s || (s[0] == '0' && s[1]))
        return SL_EINVAL;
    for (i = 0; s[i]; i++) {
        if (i >= EXP_DIGITS_MAX || s[i] < '0' || s[i] > '9')
            return SL_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > INT64_MAX)
        return SL_EINVAL;
    *out = (int64_t)v;
    return SL_OK;
}

fd_url_check fd_url_verify(const uint8_t key[FD_URLKEY_BYTES],
                           const char *upload_id, const char *consumer_id,
                           const char *exp, const char *sig, int64_t now_unix)
{
    uint8_t want[SL_SHA256_LEN], given[SL_SHA256_LEN];
    int64_t e;
    size_t i;

    if (!key || !id_ok(upload_id) || !id_ok(consumer_id) ||
        parse_exp(exp, &e) != SL_OK || !sig)
        return FD_URL_BAD;
    /* lowercase hex only: one text per MAC */
    for (i = 0; i < 2 * SL_SHA256_LEN; i++)
        if (!((sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f')))
            return FD_URL_BAD;
    if (sig[i] != '\0' ||
        sl_hex_decode(sig, 2 * SL_SHA256_LEN, given, sizeof given) != SL_OK)
        return FD_URL_BAD;
    if (url_mac(key, upload_id, consumer_id, e, want) != SL_OK)
        return FD_URL_BAD;
    if (sodium_memcmp(want, given, SL_SHA256_LEN) != 0)
        return FD_URL_BAD;
    return now_unix > e ? FD_URL_EXPIRED : FD_URL_OK;
}
