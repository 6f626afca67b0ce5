/*
 * fuzz_feed.c -- the feed's parsers of client input (services/feed:
 * cursor.c, token.c, signurl.c, range.c) as sluice-feed calls them on a
 * query string's `after`, an Authorization header, a signed URL's c / exp
 * / sig and the Range, If-None-Match and If-Range headers; and its
 * Croissant builder (croissant.c) on the texts creators control.
 *
 * The input (cut at its first NUL) is every one of those texts at once;
 * its first 8 bytes, when present, also give the representation's size.
 * Properties beyond "no crash": a cursor that decodes is canonical (it
 * encodes back to the same text) and within bigint; a parsed bearer token
 * is a well-formed token that parses again from "Bearer <token>"; a range
 * lies inside the representation; If-Range's strong match implies
 * If-None-Match's weak one; a signed URL made of fuzzed parts never
 * verifies, and one signed by the harness verifies only for its own parts;
 * the Croissant builder, given the input as every text a creator controls,
 * always yields a document that serialises, reads back equal, and names
 * the file in valid UTF-8.
 */
#include "fuzz.h"
#include "feed_logic.h"

static const uint8_t key[FD_URLKEY_BYTES] = { 7, 7, 7, 7 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_cursor(const char *text)
{
    static const fd_stream streams[] = { FD_STREAM_SAMPLES, FD_STREAM_CHANGES,
                                         FD_STREAM_UPLOADS };
    char again[FD_CURSOR_MAX];
    uint64_t seq;
    size_t i;

    for (i = 0; i < 3; i++) {
        seq = 12345;
        if (fd_cursor_decode(text, streams[i], "ds-1", &seq) != SL_OK) {
            FUZZ_CHECK(seq == 12345, "seq changed on a refusal");
            continue;
        }
        FUZZ_CHECK(seq <= INT64_MAX, "seq %llu", (unsigned long long)seq);
        if (!*text) {
            FUZZ_CHECK(seq == 0, "empty cursor at %llu", (unsigned long long)seq);
            continue;
        }
        FUZZ_CHECK(fd_cursor_encode(streams[i], "ds-1", seq, again) == SL_OK, "re-encode");
        FUZZ_CHECK(!strcmp(again, text), "not canonical: %s vs %s", again, text);
    }
}

static void check_bearer(const char *text)
{
    char tok[FD_TOKEN_MAX], tok2[FD_TOKEN_MAX], hdr[FD_TOKEN_MAX + 8];
    fd_holder k, k2;

    if (fd_bearer_parse(text, tok, &k) != SL_OK)
        return;
    FUZZ_CHECK(strlen(tok) == FD_TOKEN_MAX - 1, "token length %zu", strlen(tok));
    FUZZ_CHECK(fd_token_check(tok, &k2) == SL_OK && k2 == k, "token not well-formed");
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    FUZZ_CHECK(fd_bearer_parse(hdr, tok2, &k2) == SL_OK && !strcmp(tok, tok2),
               "no round trip");
}

static void check_range(const char *text, uint64_t size)
{
    fd_range r = { 0, 0 };
    fd_range_kind k = fd_range_parse(text, size, &r);

    FUZZ_CHECK(k == FD_RANGE_NONE || k == FD_RANGE_ONE || k == FD_RANGE_UNSATISFIABLE,
               "kind %d", (int)k);
    if (k == FD_RANGE_ONE)
        FUZZ_CHECK(r.first <= r.last && r.last < size, "range %llu-%llu of %llu",
                   (unsigned long long)r.first, (unsigned long long)r.last,
                   (unsigned long long)size);
}

static void check_etag(const char *text)
{
    static const char *tag =
        "\"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"";
    int inm = fd_etag_none_match(text, tag), ir = fd_if_range_ok(text, tag);
    const char *p = text;

    FUZZ_CHECK(inm == 0 || inm == 1, "none_match %d", inm);
    FUZZ_CHECK(ir == 0 || ir == 1, "if_range %d", ir);
    while (*p == ' ' || *p == '\t')
        p++;
    if (ir && *p)
        FUZZ_CHECK(inm, "strong match without weak match");
    /* the input as our own etag against itself (both tolerate anything) */
    (void)fd_etag_none_match(text, text);
    (void)fd_if_range_ok(text, text);
}

static void check_url(const char *text)
{
    sl_buf b;
    const char *sig;

    /* fuzzed parts: never a valid MAC (2^-256) */
    FUZZ_CHECK(fd_url_verify(key, "u-1", "acme", text, text, 0) == FD_URL_BAD, "exp/sig");
    FUZZ_CHECK(fd_url_verify(key, text, "acme", "1", text, 0) == FD_URL_BAD, "id/sig");
    sl_buf_init(&b, 4096);
    if (fd_url_sign(key, text, "acme", 1767225600, &b) == SL_OK) {
        sig = strstr((const char *)b.data, "&sig=");
        FUZZ_CHECK(sig != NULL, "no sig in %s", (const char *)b.data);
        sig += 5;
        FUZZ_CHECK(fd_url_verify(key, text, "acme", "1767225600", sig, 0) == FD_URL_OK,
                   "own URL refused");
        FUZZ_CHECK(fd_url_verify(key, text, "acmf", "1767225600", sig, 0) == FD_URL_BAD,
                   "other consumer accepted");
        FUZZ_CHECK(fd_url_verify(key, text, "acme", "1767225600", sig, 1767225601) ==
                   FD_URL_EXPIRED, "expiry");
    }
    sl_buf_free(&b);
}

/* The Croissant builder with the input as every text a creator or an
 * operator controls (file name, content type, license, creator,
 * description): always a document, which serialises and reads back equal,
 * with the file's name as valid UTF-8. */
static void check_croissant(const char *text)
{
    const fd_cr_file f = { "u-1", text, "https://x/c", 1, text,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        text, text, 3 };
    fd_cr_dataset d = { .dataset_id = "ds-1", .name = text, .description = text,
                        .date_published = text };
    json_t *doc, *back;
    const char *name;
    char *out;

    doc = fd_croissant_build(&d, &f, 1);
    if (!doc)
        return;                                  /* out of memory only */
    out = json_dumps(doc, JSON_COMPACT);
    FUZZ_CHECK(out != NULL, "manifest does not serialise");
    back = json_loads(out, 0, NULL);
    FUZZ_CHECK(back && json_equal(doc, back), "manifest does not read back");
    name = json_string_value(json_object_get(
        json_array_get(json_object_get(doc, "distribution"), 0), "name"));
    FUZZ_CHECK(name && fuzz_utf8_valid((const uint8_t *)name, strlen(name)), "name not UTF-8");
    json_decref(back);
    free(out);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    uint64_t rsize = 1000;
    size_t i;

    if (!text)
        return 0;
    if (size >= 8) {
        rsize = 0;
        for (i = 0; i < 8; i++)
            rsize = (rsize << 8) | data[i];
    }
    check_cursor(text);
    check_bearer(text);
    check_range(text, rsize);
    check_range(text, 1000);
    check_etag(text);
    check_url(text);
    check_croissant(text);
    free(text);
    return 0;
}
