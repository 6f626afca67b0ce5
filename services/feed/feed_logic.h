/*
 * feed_logic.h -- the pure decisions of the feed (services/feed, issue #12):
 * cursors, bearer tokens, signed content URLs, HTTP Range / conditional
 * requests, and the Croissant manifest.  No I/O, no libpq, no libmicrohttpd:
 * bytes in, values out, unit-tested without a server (tests/unit/test_feed_*).
 * sluice-feed and `sluicectl dataset manifest` both link it (sl_feed_logic).
 *
 * Every input is hostile (query strings, headers): a parser never reads past
 * its input, never allocates without bound, and answers a stable result.
 */
#ifndef SL_FEED_LOGIC_H
#define SL_FEED_LOGIC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sl/common.h"
#include "sl/crypto.h"

/* ---- cursors ------------------------------------------------------------ */

/* A cursor is an opaque, stable text naming a position (a feed_seq from
 * schemas/sql/017_feed.sql) in one stream of one dataset.  It binds the
 * stream and the dataset, so a cursor of another dataset or stream is
 * refused (bad_cursor) rather than silently misread.  It carries no secret
 * and no expiry: a cursor saved today resumes in a year.  URL-safe
 * characters only ([A-Za-z0-9_-]), at most FD_CURSOR_MAX - 1 bytes. */
#define FD_CURSOR_MAX 96

typedef enum fd_stream {
    FD_STREAM_SAMPLES = 's',   /* GET /v1/datasets/{id}/samples */
    FD_STREAM_CHANGES = 'c',   /* GET /v1/datasets/{id}/changes */
    FD_STREAM_UPLOADS = 'u'    /* a creator's outcomes, GET /v1/uploads */
} fd_stream;

/* Writes the cursor for position seq of (stream, scope) into out, where
 * scope is the dataset id (or the creator id for FD_STREAM_UPLOADS).
 * SL_OK, or SL_EINVAL when scope is NULL/empty. */
int fd_cursor_encode(fd_stream stream, const char *scope, uint64_t seq,
                     char out[FD_CURSOR_MAX]);

/* seq must be <= INT64_MAX (feed_seq is a bigint): SL_EINVAL otherwise.
 * SL_ERR only when libsodium cannot start.  A cursor is 21 characters. */

/* Reads a cursor given by a client.  NULL or "" is the start (seq 0).
 * SL_OK with *seq set, or SL_EINVAL when the text is not a cursor of this
 * stream and scope (malformed, too long, another dataset, tampered). */
int fd_cursor_decode(const char *text, fd_stream stream, const char *scope,
                     uint64_t *seq);

/* ---- bearer tokens ------------------------------------------------------ */

/* Feed tokens are sl_ws tokens (64 lowercase hex, sl/websec.h) with a
 * prefix saying the holder kind: "slc_" consumer, "slr_" creator.  Printed
 * once by `sluicectl token issue`; stored as sl_ws_token_hash of the whole
 * text, prefix included. */
#define FD_TOKEN_MAX 69        /* 4 + 64 + NUL */

typedef enum fd_holder {
    FD_HOLDER_CONSUMER = 1,
    FD_HOLDER_CREATOR = 2
} fd_holder;

/* Makes a new token for a holder kind.  SL_OK or SL_ERR (no randomness). */
int fd_token_new(fd_holder kind, char out[FD_TOKEN_MAX]);

/* Extracts the token from an Authorization header value ("Bearer <tok>",
 * scheme case-insensitive, one space or more).  SL_OK with out filled and
 * *kind set; SL_EINVAL for anything else (no header, other scheme, bad
 * length, prefix or characters). */
int fd_bearer_parse(const char *authorization, char out[FD_TOKEN_MAX],
                    fd_holder *kind);

/* SL_OK when token is a well-formed feed token ("slc_"/"slr_" + 64
 * lowercase hex, nothing more), with *kind set when kind is not NULL;
 * SL_EINVAL otherwise. */
int fd_token_check(const char *token, fd_holder *kind);

/* What feed_tokens.token_sha256 stores: the lowercase hex SHA-256 of the
 * whole token text, prefix included (68 bytes).  sl_ws_token_hash cannot
 * serve here: it refuses anything but the bare 64 hex digits.  SL_OK, or
 * SL_EINVAL when token is not a well-formed feed token. */
int fd_token_hash(const char *token, char out[SL_SHA256_HEX]);

/* ---- signed content URLs ------------------------------------------------ */

/* A signed URL lets a training worker fetch one sample's content without
 * the token, until an expiry, on behalf of one consumer (whom the delivery
 * is metered to).  The MAC is HMAC-SHA256 under the feed's 32-byte URL key
 * over "GET\n/v1/samples/<upload_id>/content\n<consumer_id>\n<exp>",
 * hex-encoded; exp is Unix seconds. */
#define FD_URLKEY_BYTES 32

/* Appends the query string "c=<consumer, percent-encoded>&exp=<exp>&sig=<hex>"
 * (no leading '?') to out (NUL-terminated, not counted in len).  SL_OK;
 * SL_EINVAL on an empty id, an id with bytes outside printable ASCII or
 * with a space, an id longer than 256 bytes, or exp < 0; SL_ENOMEM or
 * SL_ETOOBIG from out. */
int fd_url_sign(const uint8_t key[FD_URLKEY_BYTES], const char *upload_id,
                const char *consumer_id, int64_t exp_unix, sl_buf *out);

typedef enum fd_url_check {
    FD_URL_OK = 0,
    FD_URL_BAD = 1,            /* missing / malformed parts or wrong MAC */
    FD_URL_EXPIRED = 2         /* MAC right, now_unix > exp */
} fd_url_check;

/* Checks the parts of a signed URL (as decoded from the query: c, exp, sig;
 * any may be NULL) in constant time on the MAC.  exp must be canonical
 * decimal (no sign, no leading zero), sig 64 lowercase hex.  The MAC is
 * checked first: a wrong MAC is FD_URL_BAD whatever the expiry.  At
 * now_unix == exp the URL still works. */
/* Appends the absolute content URL of a sample to out:
 * "<base_url>/v1/samples/<upload_id>/content" (a trailing '/' of base_url
 * dropped, the id percent-encoded outside RFC 3986 unreserved and ':'),
 * and when key is not NULL "?" and fd_url_sign's query for consumer_id
 * until exp_unix.  The feed's lines and manifests both write it.  SL_OK,
 * SL_EINVAL (empty base or id, see fd_url_sign), SL_ENOMEM, SL_ETOOBIG. */
int fd_content_url(sl_buf *out, const char *base_url, const char *upload_id,
                   const uint8_t *key, const char *consumer_id,
                   int64_t exp_unix);

fd_url_check fd_url_verify(const uint8_t key[FD_URLKEY_BYTES],
                           const char *upload_id, const char *consumer_id,
                           const char *exp, const char *sig, int64_t now_unix);

/* ---- Range and conditional requests (RFC 9110) --------------------------- */

typedef enum fd_range_kind {
    FD_RANGE_NONE = 0,         /* no Range, or one to ignore (malformed,
                                  other unit, several ranges): send 200 */
    FD_RANGE_ONE = 1,          /* one satisfiable range: send 206 */
    FD_RANGE_UNSATISFIABLE = 2 /* bytes=... with none satisfiable: send 416
                                  with Content-Range: bytes * / size */
} fd_range_kind;

typedef struct fd_range {
    uint64_t first;            /* inclusive */
    uint64_t last;             /* inclusive, < size */
} fd_range;

/* Parses a Range header against a representation of size bytes:
 * "bytes=a-b", "bytes=a-", "bytes=-n" (suffix), whitespace as RFC 9110
 * allows, numbers without overflow.  Several ranges are not served (one
 * 200 instead: allowed by RFC 9110 section 14.2). */
fd_range_kind fd_range_parse(const char *header, uint64_t size, fd_range *r);

/* The strong ETag of a content: "\"sha256:<hex>\"" (quotes included). */
#define FD_ETAG_MAX 76
int fd_etag(const char *sha256_hex, char out[FD_ETAG_MAX]);

/* If-None-Match: 1 when the header matches etag (weak comparison, "*",
 * comma lists), i.e. the answer is 304; else 0. */
int fd_etag_none_match(const char *if_none_match, const char *etag);

/* If-Range: 1 when the Range may be honoured (header absent, or exactly the
 * strong etag); 0: send the whole content (200). */
int fd_if_range_ok(const char *if_range, const char *etag);

/* ---- Croissant ---------------------------------------------------------- */

/* One dataset as a token sees it, and its files, for a Croissant 1.1
 * JSON-LD manifest (https://docs.mlcommons.org/croissant/docs/croissant-spec-1.1.html)
 * that `mlcroissant validate` accepts: @context, @type sc:Dataset,
 * conformsTo http://mlcommons.org/croissant/1.1, name, description,
 * license, creator, datePublished, url, isLiveDataset, distribution (one
 * cr:FileObject per sample: @id, name, contentUrl, contentSize,
 * encodingFormat, sha256). */
/* Besides, the builder writes citeAs (a BibTeX @misc from id, name, url
 * and the year of date_published) and version "1.<changes_seq>.<the
 * highest feed_seq of the files>", so the version moves whenever the set
 * of files does.  A license that is one SPDX identifier is written as its
 * https://spdx.org/licenses/<id>.html URL; an expression stays text. */
typedef struct fd_cr_dataset {
    const char *dataset_id;
    const char *name;          /* "" -> dataset_id */
    const char *description;
    const char *url;           /* e.g. <base>/v1/datasets/<id> */
    const char *date_published;/* RFC 3339; a UTC time is written to the
                                  second ("...T13:35:36Z") */
    const char *const *licenses;   /* SPDX expressions or URLs, any order
                                      (written distinct and sorted); NULL:
                                      the files' licenses */
    size_t n_licenses;
    const char *const *creators;   /* creator ids, likewise; NULL: the
                                      files' creators */
    size_t n_creators;
    uint64_t changes_seq;      /* the dataset's last feed_changes seq, 0: none */
} fd_cr_dataset;

typedef struct fd_cr_file {
    const char *upload_id;
    const char *name;          /* filename, or the upload id */
    const char *content_url;
    uint64_t size;
    const char *content_type;  /* encodingFormat (MIME, parameters dropped) */
    const char *sha256_hex;
    const char *license;       /* the sample's SPDX expression, NULL: none */
    const char *creator_id;    /* NULL: none */
    uint64_t feed_seq;         /* the sample's position (for version) */
} fd_cr_file;

/* The two queries of a manifest, one text for sluice-feed and `sluicectl
 * dataset manifest` so both serve the same document.  They read what
 * schemas/sql/017_feed.sql defines (feed_license_allows).
 * FD_CR_SQL_DATASET, $1 dataset id: one row (none: no such dataset) of
 *   0 dataset_id, 1 name, 2 description, 3 created_at (RFC 3339 UTC, for
 *   datePublished), 4 the dataset's last feed_changes seq (0: none).
 * FD_CR_SQL_FILES, $1 dataset id, $2 consumer id or NULL: the accepted
 *   samples in feed_seq order -- with a consumer, only those its live grant
 *   (valid now, not revoked) allows by require_rights; none without one --
 *   0 upload_id, 1 filename ('' when none), 2 size, 3 content_type,
 *   4 sha256, 5 license expression (the bound record's, else the declared
 *   one), 6 creator_id, 7 feed_seq. */
#define FD_CR_SQL_DATASET                                                     \
    "SELECT d.dataset_id, d.name, d.description,"                            \
    " to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"  \
    " coalesce((SELECT max(c.seq) FROM feed_changes c"                       \
    "           WHERE c.dataset_id = d.dataset_id), 0)"                      \
    " FROM datasets d WHERE d.dataset_id = $1"
/* Sample alias s's bound license record, jsonb or NULL: stored once per
 * distinct record (027_license_records.sql), looked up by its key. */
#define FD_SQL_LICENSE(s) \
    "(SELECT lr.record FROM license_records lr WHERE lr.sha256 = " s ".license_sha256)"

#define FD_CR_SQL_FILES                                                       \
    "SELECT s.upload_id, coalesce(s.filename, ''), s.size, s.content_type,"  \
    " s.sha256, coalesce(" FD_SQL_LICENSE("s") " ->> 'expression',"          \
    " s.license_expression),"                                                 \
    " s.creator_id, s.feed_seq"                                              \
    " FROM samples s WHERE s.dataset_id = $1 AND s.status = 'accepted'"      \
    " AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM grants g"               \
    "      WHERE g.consumer_id = $2 AND g.dataset_id = s.dataset_id"         \
    "        AND g.revoked_at IS NULL AND g.valid_from <= now()"             \
    "        AND (g.valid_until IS NULL OR now() < g.valid_until)"           \
    "        AND feed_license_allows(" FD_SQL_LICENSE("s") ","                \
    "            g.require_rights)))"                                         \
    " ORDER BY s.feed_seq"

/* A new JSON object (caller json_decref's), or NULL on ENOMEM or a NULL
 * d / dataset_id.  Strings that are not UTF-8 are repaired (U+FFFD). */
json_t *fd_croissant_build(const fd_cr_dataset *d, const fd_cr_file *files,
                           size_t n_files);

#endif /* SL_FEED_LOGIC_H */
