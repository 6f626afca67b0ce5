/*
 * audit.h -- re-verifying stored provenance chains, precisely.
 *
 * The commit stage stores each event of an owner's chain (a sample, a
 * review item or a rejection) in provenance_chains, read back as one row
 * of the provenance_events view an event: the canonical text that was
 * hashed, its hash, and copies of seq, stage and outcome for querying.
 * An auditor hands this library one owner's rows as
 * stored, plus the facts the chain must be anchored to, and is told of
 * every break, not only the first: which owner, which seq, what is wrong.
 *
 * Pure: rows in memory, no database.  The caller (sluicectl audit) streams
 * them out of PostgreSQL.  Every string given to the library is borrowed
 * for the duration of the call; every string in a reported break is
 * borrowed for the duration of the report callback.
 */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* What is wrong.  sl_audit_problem_name() gives each its stable code. */
typedef enum sl_audit_problem {
    SL_AUDIT_HASH_MISMATCH = 1, /* hash: not the SHA-256 of the canonical text */
    SL_AUDIT_EVENT_MALFORMED,   /* event_malformed: canonical is not an event */
    SL_AUDIT_NOT_CANONICAL,     /* not_canonical: an event, not in canonical form */
    SL_AUDIT_SEQ_COLUMN,        /* seq_column: stored seq != the event's */
    SL_AUDIT_STAGE_COLUMN,      /* stage_column */
    SL_AUDIT_OUTCOME_COLUMN,    /* outcome_column */
    SL_AUDIT_PREV_LINK,         /* prev_link: prev is not the previous hash */
    SL_AUDIT_FIRST_PREV,        /* first_prev: first prev is not the content hash */
    SL_AUDIT_SEQ_GAP,           /* seq_gap: events missing */
    SL_AUDIT_SEQ_DUPLICATE,     /* seq_duplicate: a seq twice, or out of order */
    SL_AUDIT_UPLOAD_ID,         /* upload_id: the event names another upload */
    SL_AUDIT_OUTPUT_MISMATCH,   /* output_mismatch: last output != stored content */
    SL_AUDIT_NO_EVENTS,         /* no_events: an owner without a chain */
    SL_AUDIT_COMMIT_MISSING,    /* commit_missing: no commit-stage event */
    SL_AUDIT_ANCHOR_MISSING,    /* anchor_missing: no content hash to anchor to */
    SL_AUDIT_CHAIN_TOO_LARGE,   /* chain_too_large: not checked (caller's cap) */
    SL_AUDIT_CONTENT_HASH,      /* content_hash: stored bytes != their key */
    SL_AUDIT_CONTENT_MISSING,   /* content_missing: referenced, not stored */
    SL_AUDIT_ORPHAN_EVENTS,     /* orphan_events: events of no existing owner */
    SL_AUDIT_HEAD_MISSING,      /* head_missing: no signed head for the chain */
    SL_AUDIT_HEAD_MISMATCH,     /* head_mismatch: the chain's last event is not
                                 * the signed head (rewritten, cut or extended) */
    SL_AUDIT_HEAD_SIGNATURE,    /* head_signature: the head's signature is invalid */
    SL_AUDIT_HEAD_KEY           /* head_key_untrusted: signed by a key not
                                 * registered, or not among the trusted ones */
} sl_audit_problem;

const char *sl_audit_problem_name(sl_audit_problem p);

/* One break.  seq is 0 when the break is about the owner as a whole. */
typedef struct sl_audit_break {
    const char *owner_kind;     /* "sample", "review", "rejection", "content" */
    const char *owner_id;
    int64_t seq;
    sl_audit_problem problem;
    const char *detail;         /* one human-readable sentence */
} sl_audit_break;

/* Where breaks go.  The library calls report (which may be NULL) once per
 * break and counts them in breaks; the caller may reset the count. */
typedef struct sl_audit_sink {
    void (*report)(void *u, const sl_audit_break *b);
    void *u;
    uint64_t breaks;
} sl_audit_sink;

/* Reports a break the caller found itself (a content row missing, events
 * of no owner...), formatted like the library's own. */
void sl_audit_report(sl_audit_sink *s, const char *owner_kind,
                     const char *owner_id, int64_t seq, sl_audit_problem p,
                     const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* One provenance_events row (an event) as stored. */
typedef struct sl_audit_event {
    int64_t seq;                /* the seq column */
    const char *stage;          /* the stage column */
    const char *outcome;        /* the outcome column */
    const char *canonical;      /* the exact text that was hashed */
    const char *hash;           /* the hash column */
} sl_audit_event;

/* The owner and the facts its chain is anchored to. */
typedef struct sl_audit_owner {
    const char *kind;           /* "sample" | "review" | "rejection" */
    const char *id;             /* provenance_events.owner_id */
    /* The owner's upload id: an event naming another one is a break.
     * NULL: not checked (a rejection whose metadata had none). */
    const char *upload_id;
    /* What the first event's prev must be: the SHA-256 of what the creator
     * signed (samples.original_sha256 when redacted, else sha256;
     * rejections.sha256).  NULL is itself a break (anchor_missing). */
    const char *origin_sha256;
    /* The stored content's hash, which the last output_sha256 recorded in
     * the chain must equal.  NULL: not checked. */
    const char *content_sha256;
    /* For owners whose row does not keep the signed content's hash (review
     * items, rejections): a first prev other than origin_sha256 is
     * accepted when the chain itself records a stage turning exactly those
     * bytes into others (an event whose input_sha256 is the first prev and
     * whose output_sha256 differs), as a redacting scan stage does. */
    int origin_may_be_redacted;
} sl_audit_owner;

/* Checks one owner's chain: evs are its rows in ascending seq (as ORDER BY
 * seq gives).  Each event: hash = SHA-256 of canonical; canonical parses as
 * an event and is in canonical form; the seq, stage and outcome columns
 * agree with it; seq runs 1, 2, 3... without gap or duplicate;
 * prev links to the previous event's stored hash, the first one to the
 * origin; the event's upload_id is the owner's.  The chain: not empty,
 * holds a commit-stage event, and its last recorded output_sha256 is the
 * stored content's.  Breaks go to s; SL_OK or SL_ENOMEM. */
int sl_audit_owner_check(sl_audit_sink *s, const sl_audit_owner *o,
                         const sl_audit_event *evs, size_t n);

/* ---- signed chain heads ------------------------------------------------
 *
 * A chain's hashes only show that its rows agree with one another: someone
 * who can write the database can rewrite a chain and recompute every hash.
 * So the writer of chains (commit; sluicectl takedown when it appends)
 * records each chain's head -- its last event's seq and hash -- in
 * chain_heads (010_chain_heads.sql) and seals the heads it writes in one
 * transaction with one Ed25519 signature (head_seals), under a key only it
 * holds whose public half is registered in audit_keys (key id = the public
 * key in hex).  One signature per batch, not per chain: signing costs
 * about 20 us, as much as all of commit's other work on a sample.  An
 * auditor needs only public keys.  The signed bytes are
 *   "sluice-head-seal-v1\n" seal_id "\n" n "\n"
 * then for each head, sorted by kind then id (bytewise):
 *   len(kind) ":" kind "\n" len(id) ":" id "\n" seq "\n" hash "\n"
 * with numbers in decimal. */
#define SL_AUDIT_KEY_HEX 65     /* 64 hex digits (public key) + NUL */
#define SL_AUDIT_SIG_HEX 129    /* 128 hex digits (signature) + NUL */

typedef struct sl_audit_signer sl_audit_signer;
/* Opens the private key file at path: 64 hex digits of an Ed25519 seed and
 * a newline.  The file must be a regular file (not a symlink: O_NOFOLLOW)
 * that neither group nor others may access.  When it does not exist and
 * create is set, a new key is written to a temporary file created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, and linked into place.  SL_OK, or
 * SL_EIO / SL_EINVAL / SL_ENOMEM / SL_ERR with err set. */
int  sl_audit_signer_open(const char *path, int create, sl_audit_signer **out,
                          sl_err *err);
void sl_audit_signer_destroy(sl_audit_signer *s);
/* The key's id: its public key in lowercase hex. */
const char *sl_audit_signer_key_id(const sl_audit_signer *s);

/* One chain head as sealed. */
typedef struct sl_audit_headref {
    const char *kind, *id;
    int64_t seq;
    const char *hash;
} sl_audit_headref;

/* Signs a seal over n heads (in any order); out gets 128 lowercase hex
 * digits.  SL_OK or SL_ENOMEM. */
int sl_audit_seal_sign(const sl_audit_signer *s, int64_t seal_id,
                       const sl_audit_headref *heads, size_t n,
                       char out[SL_AUDIT_SIG_HEX]);
/* SL_OK when signature (hex) verifies under key_id (hex public key) over
 * exactly these heads; SL_EINVAL when it does not (or is malformed);
 * SL_ENOMEM. */
int sl_audit_seal_verify(const char *key_id, const char *signature,
                         int64_t seal_id, const sl_audit_headref *heads,
                         size_t n);

/* What the auditor found of the seal covering a head. */
typedef enum sl_audit_seal_status {
    SL_AUDIT_SEAL_OK = 0,
    SL_AUDIT_SEAL_BAD,          /* missing, or its signature does not verify */
    SL_AUDIT_SEAL_UNTRUSTED     /* signed by a key not registered or trusted */
} sl_audit_seal_status;

/* A chain_heads row as stored, with its seal's verdict. */
typedef struct sl_audit_head {
    int64_t seq;
    const char *hash;
    int64_t seal_id;
    sl_audit_seal_status seal;
} sl_audit_head;

/* Checks an owner's head (NULL: none stored, head_missing) against its
 * events (evs as for sl_audit_owner_check): the head names the last
 * event's seq and stored hash (else head_mismatch: the chain was rewritten,
 * cut or extended), and its seal verified (else head_signature) with a
 * trusted key (else head_key_untrusted).  SL_OK. */
int sl_audit_head_check(sl_audit_sink *s, const sl_audit_owner *o,
                        const sl_audit_event *evs, size_t n,
                        const sl_audit_head *h);

/* Checks one contents row: SHA-256 of data (len bytes) is key.
 * Reported as owner "content" key.  SL_OK or SL_ENOMEM. */
int sl_audit_content_check(sl_audit_sink *s, const char *key,
                           const void *data, size_t len);

#endif
