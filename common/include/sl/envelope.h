/*
 * envelope.h -- what a message says about its upload, read once, by one
 * set of rules, for every stage.
 *
 * An upload travels as its bytes (the message value) and headers: the
 * creator's signed metadata in sluice-meta and, from the scan stage on,
 * the scan result in sluice-scan (schemas/README.md).  sl_envelope_read()
 * hashes the value once and reads both headers; validate, scan, license
 * and commit ask the envelope instead of parsing them with rules of their
 * own.  Each stage still decides what a problem means for it (which
 * reason code, in which order): the envelope only says what is there.
 *
 * The rules, the strictest any stage applied before they were one:
 *
 *   sluice-meta  the last header of that name, with a value
 *                (else SL_META_ABSENT); JSON without a duplicate key at
 *                any level, and an object (else SL_META_MALFORMED);
 *                upload_id, creator_id, dataset_id, content_type and
 *                created_at strings, and sha256, when present, 64
 *                lowercase hex digits (else SL_META_INVALID); created_at
 *                an RFC 3339 date-time that PostgreSQL's timestamptz
 *                stores (sl_time_parse_us; else SL_META_BAD_TIME).
 *                filename, license.expression, license.terms_url and
 *                license.attribution are read as strings (NULL when
 *                absent or not a string), attestation as it is: what
 *                a missing license or attestation means is the license
 *                stage's to say (license_missing, attestation_missing).
 *   sluice-scan  absent (SL_SCANHDR_ABSENT), or JSON without a duplicate
 *                key, an object, outcome a string, and original_sha256 /
 *                redacted_sha256, when present, 64 lowercase hex digits
 *                (else SL_SCANHDR_INVALID, and none of its fields is
 *                believed).
 *
 * The full schema (unknown fields, lengths, id patterns) is validate's
 * gate (sl/jschema.h on upload-meta.schema.json); these rules are what
 * every stage relies on for the fields it reads.
 *
 * Ownership: the envelope borrows the message's bytes (meta, scan and the
 * key are views into it) and owns the parsed documents; its strings are
 * valid until sl_envelope_clear(), and no longer than the message.
 */
#ifndef SL_ENVELOPE_H
#define SL_ENVELOPE_H

#include <jansson.h>

#include "sl/common.h"
#include "sl/crypto.h"
#include "sl/msg.h"

typedef enum sl_meta_state {
    SL_META_OK = 0,
    SL_META_ABSENT,      /* no sluice-meta header, or one without a value */
    SL_META_MALFORMED,   /* not JSON, a duplicate key, or not an object */
    SL_META_INVALID,     /* a field the stages read missing or ill-formed */
    SL_META_BAD_TIME     /* created_at not a storable RFC 3339 date-time */
} sl_meta_state;

typedef enum sl_scanhdr_state {
    SL_SCANHDR_ABSENT = 0,
    SL_SCANHDR_OK,
    SL_SCANHDR_INVALID   /* present, but not a scan result */
} sl_scanhdr_state;

typedef struct sl_envelope {
    char sha256[SL_SHA256_HEX];        /* of the value, lowercase hex */

    /* sluice-meta */
    sl_meta_state meta_state;
    char meta_detail[256];             /* why, when not SL_META_OK */
    sl_slice meta;                     /* its exact bytes; ptr NULL: absent */
    json_t *meta_doc;                  /* with SL_ENV_META_DOC: the object,
                                        * owned; NULL unless it parsed to
                                        * one (any meta_state but ABSENT
                                        * and MALFORMED).  NULL without. */
    /* Members of meta_doc (NULL: absent or not a string); with
     * SL_META_OK the first five are set and sha256 is NULL or hex. */
    const char *upload_id, *creator_id, *dataset_id, *content_type,
               *created_at, *declared_sha256, *filename;
    const char *license_expression, *license_terms_url, *license_attribution;
    const json_t *attestation;         /* with SL_ENV_ATTESTATION: the
                                        * member as it is, or NULL.  NULL
                                        * without. */
    int64_t created_us;                /* created_at, with SL_META_OK */

    /* sluice-scan */
    sl_scanhdr_state scan_state;
    sl_slice scan;                     /* its exact bytes; ptr NULL: absent */
    const char *scan_outcome;          /* with SL_SCANHDR_OK */
    const char *detected_type;         /* NULL: absent or not a string */
    char original_sha256[SL_SHA256_HEX];   /* "" unless named (redacted) */
    char redacted_sha256[SL_SHA256_HEX];   /* "" unless named */

    /* How each header was read: 1 by the event parser (what tests and
     * the fuzzer compare). */
    unsigned char meta_fast, scan_fast;

    /* Private to envelope.c. */
    int meta_sha256_present;
    json_t *meta_own_, *scan_own_, *att_own_;
    char *strs_;                       /* the fast path's strings */
} sl_envelope;

/* What sl_envelope_read_with() builds besides the members above. */
#define SL_ENV_META_DOC     0x1u   /* meta_doc (validate's schema check) */
#define SL_ENV_ATTESTATION  0x2u   /* attestation (the license stage) */
#define SL_ENV_ALL          (SL_ENV_META_DOC | SL_ENV_ATTESTATION)
/* Both headers read by jansson alone: the reference the tests and the
 * fuzzer compare the event parser's reads against. */
#define SL_ENV_JANSSON      0x4u

/* Reads message m into e (e need not be initialised; clear it with
 * sl_envelope_clear() whatever this returns).  SL_OK, or SL_ENOMEM when
 * the value cannot be hashed or a document not allocated: a fault of
 * the process, not a verdict on the message. */
int  sl_envelope_read(sl_envelope *e, const sl_msg *m);

/* The same, building only what want names (SL_ENV_*): a header in the
 * form sluicectl and the stages write (printable ASCII, no escapes;
 * envelope.c says exactly) is read by yajl's event parser straight into
 * the members, about 7x cheaper than jansson's tree, and with
 * SL_ENV_META_DOC into the document too (the read in about half the
 * time json_loadb's takes); any other header is read by jansson as
 * before.  Both ways give the same states, details, members and
 * documents for every input (test_envelope and fuzz_envelope compare
 * them against SL_ENV_JANSSON reads).  sl_envelope_read() is
 * sl_envelope_read_with(e, m, SL_ENV_ALL). */
int  sl_envelope_read_with(sl_envelope *e, const sl_msg *m, unsigned want);
void sl_envelope_clear(sl_envelope *e);

/* The hash the provenance chain starts at: what the creator signed.  The
 * scan result's original_sha256 when it names one (the bytes were
 * redacted), else the value's. */
const char *sl_envelope_origin(const sl_envelope *e);

/* The upload id an outcome of message m is recorded under (validate's
 * replay claims, commit's rows): the metadata's upload_id when the
 * metadata is an object with that string, else the message key when it
 * is 1..255 bytes of UTF-8 without NUL, else NULL.  *len receives its
 * length; the id is borrowed from e or m and not NUL-terminated when it
 * is the key. */
const char *sl_envelope_upload_id(const sl_envelope *e, const sl_msg *m,
                                  size_t *len);

#endif
