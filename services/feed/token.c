/*
 * token.c -- the feed's bearer tokens (feed_logic.h): "slc_" (consumer) or
 * "slr_" (creator) and an sl_ws token (64 lowercase hex from libsodium's
 * CSPRNG), parsed out of an Authorization header, and the hash under which
 * feed_tokens stores them.
 *
 * The parser is strict on purpose: exactly one token of exactly the right
 * shape, so nothing malformed ever reaches a database lookup.  Its running
 * time depends only on the header's length and shape, not on the token's
 * value; the comparison with the stored token is the database's lookup of
 * the token's SHA-256, which reveals nothing usable about a valid token.
 */
#include <string.h>
#include <strings.h>

#include "feed_logic.h"
#include "sl/websec.h"

#define TOKEN_PREFIX_LEN 4

int fd_token_new(fd_holder kind, char out[FD_TOKEN_MAX])
{
    char hex[SL_WS_TOKEN_HEX];
    const char *pre = kind == FD_HOLDER_CONSUMER ? "slc_"
                    : kind == FD_HOLDER_CREATOR ? "slr_" : NULL;

    if (!pre)
        return SL_EINVAL;
    if (sl_ws_token_new(hex) != SL_OK)
        return SL_ERR;
    memcpy(out, pre, TOKEN_PREFIX_LEN);
    memcpy(out + TOKEN_PREFIX_LEN, hex, SL_WS_TOKEN_HEX);   /* with NUL */
    return SL_OK;
}

int fd_token_check(const char *token, fd_holder *kind)
{
    fd_holder k;

    if (!token)
        return SL_EINVAL;
    if (!strncmp(token, "slc_", TOKEN_PREFIX_LEN))
        k = FD_HOLDER_CONSUMER;
    else if (!strncmp(token, "slr_", TOKEN_PREFIX_LEN))
        k = FD_HOLDER_CREATOR;
    else
        return SL_EINVAL;
    if (!sl_ws_token_valid(token + TOKEN_PREFIX_LEN))
        return SL_EINVAL;
    if (kind)
        *kind = k;
    return SL_OK;
}

int fd_token_hash(const char *token, char out[SL_SHA256_HEX])
{
    if (fd_token_check(token, NULL) != SL_OK)
        return SL_EINVAL;
    return sl_sha256_hex(token, FD_TOKEN_MAX - 1, out);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int fd_bearer_parse(const char *authorization, char out[FD_TOKEN_MAX],
                    fd_holder *kind)
{
    const char *p = authorization, *tok;
    size_t n;
    fd_holder k;

    if (!p)
        return SL_EINVAL;
    while (is_ows(*p))                     /* field values carry no OWS, */
        p++;                               /* but a lenient parser may pass it */
    if (strncasecmp(p, "Bearer", 6) != 0 || p[6] != ' ')
        return SL_EINVAL;
    p += 6;
    while (*p == ' ')                      /* 1*SP (RFC 9110 11.4) */
        p++;
    tok = p;
    n = strnlen(tok, FD_TOKEN_MAX);
    if (n < FD_TOKEN_MAX - 1)
        return SL_EINVAL;
    p = tok + FD_TOKEN_MAX - 1;
    while (is_ows(*p))
        p++;
    if (*p)
        return SL_EINVAL;
    memcpy(out, tok, FD_TOKEN_MAX - 1);
    out[FD_TOKEN_MAX - 1] = '\0';
    if (fd_token_check(out, &k) != SL_OK) {
        memset(out, 0, FD_TOKEN_MAX);
        return SL_EINVAL;
    }
    *kind = k;
    return SL_OK;
}
