/*
 * prov.h -- provenance events and their hash chain.
 *
 * Each stage appends one event per message.  An event's canonical byte form
 * is its JSON object with sorted keys and no whitespace (jansson
 * JSON_COMPACT | JSON_SORT_KEYS), fields:
 *   seq, stage, version, time, outcome, reason, upload_id,
 *   input_sha256, output_sha256, prev
 * and, on events of stage "review" only, an optional actor (the
 * moderator's name, a non-empty string), present only when set
 * where prev is the hash of the previous event of the same upload, and for
 * the first event the content's SHA-256.  hash = lowercase hex SHA-256 of the
 * canonical bytes.  The chain travels in the sluice-prov header as a JSON
 * array of {"event": "<canonical text>", "hash": "<hex>"} objects.
 */
#ifndef SL_PROV_H
#define SL_PROV_H

#include <stdint.h>
#include "sl/common.h"
#include "sl/crypto.h"

typedef struct sl_prov_event {
    const char *stage;          /* "validate" */
    const char *version;        /* stage / rule-set / policy version */
    const char *outcome;        /* "accepted", "rejected", ... */
    const char *reason;         /* reason code or NULL */
    const char *upload_id;      /* may be NULL when unknown */
    const char *input_sha256;   /* hex, may be NULL */
    const char *output_sha256;  /* hex, may be NULL */
    int64_t time_ms;
    /* Who decided (the moderator's name): review events only.  NULL: the
     * field is absent from the event (every other stage's events). */
    const char *actor;
} sl_prov_event;

/* Appends ev to the chain in `chain` (empty slice: a new chain whose first
 * prev is `content_sha256`).  Writes the new header value into out (reset
 * first), and the new event's hash into hash_out if not NULL. */
int sl_prov_append(sl_slice chain, const char *content_sha256,
                   const sl_prov_event *ev, sl_buf *out,
                   char hash_out[SL_SHA256_HEX], sl_err *err);

/* What a stage does with the chain it received: appends ev to it when it
 * checks out (hashes and links, the first to content_sha256), otherwise
 * (absent, malformed, broken) starts a new chain there -- a broken chain is
 * never continued.  Same output and errors as sl_prov_append. */
int sl_prov_extend(sl_slice chain, const char *content_sha256,
                   const sl_prov_event *ev, sl_buf *out, sl_err *err);

/* Verifies a chain header: every hash matches its canonical bytes and every
 * prev links to the hash before it (the first to content_sha256).  Returns
 * SL_OK, or SL_EINVAL with the first break named in err. */
int sl_prov_verify(sl_slice chain, const char *content_sha256, sl_err *err);

/* Iterates events: n events; for i < n returns canonical text and hash
 * borrowed from the parsed chain.  */
typedef struct sl_prov_chain sl_prov_chain;
sl_prov_chain *sl_prov_parse(sl_slice chain, sl_err *err);
void   sl_prov_chain_destroy(sl_prov_chain *c);
size_t sl_prov_count(const sl_prov_chain *c);
int    sl_prov_get(const sl_prov_chain *c, size_t i, const char **canonical,
                   const char **hash, const char **stage, const char **outcome,
                   int64_t *seq);

/* Event i's input_sha256 and output_sha256 (NULL when null), borrowed
 * from the parsed chain.  SL_OK, or SL_EINVAL when i is out of range. */
int    sl_prov_get_hashes(const sl_prov_chain *c, size_t i, const char **input,
                          const char **output);

/* Working on a parsed chain (what the commit stage does: parse once,
 * verify, add its own event, read every event back):
 * sl_prov_chain_new starts an empty chain whose first prev is the content
 * hash; sl_prov_chain_verify checks a parsed chain as sl_prov_verify does;
 * sl_prov_chain_add appends an event linked to the last one. */
sl_prov_chain *sl_prov_chain_new(const char *content_sha256, sl_err *err);
int sl_prov_chain_verify(const sl_prov_chain *c, const char *content_sha256,
                         sl_err *err);
int sl_prov_chain_add(sl_prov_chain *c, const sl_prov_event *ev, sl_err *err);

/* One event read back from its canonical text, for auditors: the fields,
 * borrowed from rec and valid until sl_prov_record_clear() (reason,
 * upload_id, input_sha256 and output_sha256 may be NULL), and whether the
 * text is byte for byte the canonical form of those fields. */
typedef struct sl_prov_record {
    int64_t seq;
    const char *stage, *version, *time, *outcome, *reason, *upload_id;
    const char *input_sha256, *output_sha256, *prev;
    const char *actor;          /* review events: who decided; else NULL */
    int canonical;              /* 1: re-encoding gives the same bytes */
    void *doc;                  /* the parse tree; owned */
} sl_prov_record;

/* Parses len bytes of event text as strictly as a chain's events (valid
 * JSON, no duplicate keys, exactly the documented fields and types).
 * SL_OK with rec filled, also when the text is not canonical (see
 * rec->canonical); SL_EINVAL with err naming the problem when it is not an
 * event; SL_ENOMEM.  rec needs sl_prov_record_clear() after SL_OK and is
 * left empty otherwise. */
int  sl_prov_record_parse(const char *text, size_t len, sl_prov_record *rec,
                          sl_err *err);
void sl_prov_record_clear(sl_prov_record *rec);

#endif
