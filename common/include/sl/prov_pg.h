/*
 * prov_pg.h -- provenance rows in PostgreSQL: the one module that knows
 * the layout of provenance_chains (one row per run of events a writer
 * appends to an owner's chain, read back through the provenance_events
 * view one row an event: 028_provenance_chains.sql), chain_heads and
 * head_seals (010_chain_heads.sql).  Every writer of events -- commit,
 * takedown, and any service that extends an owner's chain (a review
 * decision) -- appends through it, reads a chain back through it, and
 * seals the new heads through it.
 *
 * An owner is (kind, id): "sample" and "review" by upload id, "rejection"
 * by its source position.  Events are stored with seq, stage, outcome,
 * the canonical text that was hashed (its "prev" the previous event's
 * hash, or for the first the content hash the chain is anchored to) and
 * its hash.
 *
 * Functions returning int give SL_OK, SL_ENOMEM, SL_EINVAL where stated,
 * or what sl_pg_fail() makes of a failed statement (SL_EIO: the connection
 * is gone; SL_ERR) with err and, when sqlstate is not NULL, the server's
 * SQLSTATE ("" when none).  They run inside the caller's transaction.
 */
#ifndef SL_PROV_PG_H
#define SL_PROV_PG_H

#include <libpq-fe.h>

#include "sl/audit.h"
#include "sl/common.h"
#include "sl/crypto.h"
#include "sl/pg.h"
#include "sl/prov.h"

/* The head of a chain once events are appended: what a seal signs. */
typedef struct sl_prov_head {
    int64_t seq;
    char hash[SL_SHA256_HEX];
} sl_prov_head;

/* ---- writing events -------------------------------------------------------- */

/* Starts a binary COPY into provenance_chains (sl_pg_copy_begin's codes). */
int sl_prov_pg_copy_begin(sl_pg_copy *cp, PGconn *c, sl_err *err);

/* Adds events [from, count) of chain pc as one row of owner (kind, id) to
 * an open COPY: the first event's seq, then arrays of their stages,
 * outcomes, canonical texts and hashes in seq order.  The
 * link to the event before (or, for the first, to the content hash the
 * chain is anchored to) is the "prev" inside the canonical text, stored
 * once (026).  head, if not NULL, gets the last event added; nothing when
 * from >= count. */
void sl_prov_pg_copy_events(sl_pg_copy *cp, const char *kind, const char *id,
                            const sl_prov_chain *pc, size_t from,
                            sl_prov_head *head);

/* Appends events [from, count) of pc to owner (kind, id)'s stored chain:
 * sl_prov_pg_copy_events in a COPY of its own.  head as there. */
int sl_prov_pg_append(PGconn *c, const char *kind, const char *id,
                      const sl_prov_chain *pc, size_t from,
                      sl_prov_head *head, char sqlstate[6], sl_err *err);

/* ---- reading events -------------------------------------------------------- */

/* Columns of the result sl_prov_pg_events() returns. */
enum {
    SL_PROV_PG_SEQ, SL_PROV_PG_STAGE, SL_PROV_PG_OUTCOME, SL_PROV_PG_CANONICAL,
    SL_PROV_PG_HASH, SL_PROV_PG_RECORDED   /* ISO 8601, ms, Z */
};

/* Owner (kind, id)'s events in seq order, one row each (none: an owner
 * without a stored chain).  *out is the caller's to PQclear. */
int sl_prov_pg_events(PGconn *c, const char *kind, const char *id,
                      PGresult **out, char sqlstate[6], sl_err *err);

/* Row i of an sl_prov_pg_events() result, as the audit checker reads it;
 * strings borrowed from r. */
sl_audit_event sl_prov_pg_event_at(const PGresult *r, int i);

/* Owner (kind, id)'s stored chain, parsed so events can be appended to
 * it: SL_OK with *out (NULL when the owner has no events), SL_EINVAL with
 * err when the stored events do not form a chain the parser accepts.  The
 * chain is not verified: sl_prov_chain_verify() is the caller's. */
int sl_prov_pg_chain(PGconn *c, const char *kind, const char *id,
                     sl_prov_chain **out, char sqlstate[6], sl_err *err);

/* ---- heads and seals ------------------------------------------------------- */

/* Registers a signing key's public half in audit_keys under purpose
 * ("commit", "operator", ...); a key already there is left as it is. */
int sl_prov_pg_register_key(PGconn *c, const char *key_id, const char *purpose,
                            char sqlstate[6], sl_err *err);

/* Seals heads[0..n) with signer: numbers a new seal, signs the heads
 * (sl_audit_seal_sign), stores the seal in head_seals and one chain_heads
 * row per head.  *seal_id (may be NULL) gets the seal's number. */
int sl_prov_pg_seal(PGconn *c, const sl_audit_signer *signer,
                    const sl_audit_headref *heads, size_t n, int64_t *seal_id,
                    char sqlstate[6], sl_err *err);

/* Columns of the result sl_prov_pg_head() returns. */
enum {
    SL_PROV_PG_HEAD_SEQ, SL_PROV_PG_HEAD_HASH, SL_PROV_PG_HEAD_SEAL,
    SL_PROV_PG_HEAD_KEY, SL_PROV_PG_HEAD_SIG,
    SL_PROV_PG_HEAD_PURPOSE   /* NULL: the key is not registered */
};

/* Owner (kind, id)'s signed head of highest seq with its seal and key
 * (no row: none stored).  *out is the caller's to PQclear. */
int sl_prov_pg_head(PGconn *c, const char *kind, const char *id,
                    PGresult **out, char sqlstate[6], sl_err *err);

/* Every head a seal covers, for checking its signature: *refs (malloc'd,
 * strings borrowed from *keep, both the caller's to free) and *n. */
int sl_prov_pg_seal_heads(PGconn *c, const char *seal_id,
                          sl_audit_headref **refs, size_t *n, PGresult **keep,
                          char sqlstate[6], sl_err *err);

/* Locks chain_heads against other writers of heads (commit, takedown)
 * until the transaction ends; readers go on. */
int sl_prov_pg_lock_heads(PGconn *c, char sqlstate[6], sl_err *err);

/* Of heads[0..n) (chains read without a head), the indexes (0-based, in
 * order) of those that still have no chain_heads row and still end at the
 * given event -- sealable -- as column 0 of *out, the caller's to PQclear.
 * Run after sl_prov_pg_lock_heads(), in the same transaction. */
int sl_prov_pg_still_unsealed(PGconn *c, const sl_audit_headref *heads,
                              size_t n, PGresult **out, char sqlstate[6],
                              sl_err *err);

/* ---- SQL for readers that stream many owners at once ---------------------- */

/* An owner table's rows (owner kind `kind`, owner id expression `id`)
 * joined with their events as alias e, one row per event (NULLs for an
 * owner without events). */
#define SL_PROV_PG_EVENTS_JOIN(kind, id) " LEFT JOIN provenance_events e" \
    " ON e.owner_kind = '" kind "' AND e.owner_id = " id

/* A scalar sub-select: the hash of owner (kind, id)'s last stored event,
 * NULL when it has none -- the last element of its row of highest
 * first_seq: one index probe, where the same question to the
 * provenance_events view unnests and sorts every event of the owner
 * (3.6 against 8.3 us a sample: tests/bench/README.md).  The reader needs
 * SELECT on provenance_chains. */
#define SL_PROV_PG_LAST_HASH(kind, id) "(SELECT pc.hash[cardinality(pc.hash)]" \
    " FROM provenance_chains pc WHERE pc.owner_kind = '" kind "'" \
    " AND pc.owner_id = " id " ORDER BY pc.first_seq DESC LIMIT 1)"

/* The owner's signed head of highest seq as alias h (NULLs when none). */
#define SL_PROV_PG_HEAD_JOIN(kind, id) " LEFT JOIN LATERAL (SELECT hh.seq," \
    " hh.head_hash, hh.seal_id FROM chain_heads hh WHERE hh.owner_kind = '" \
    kind "' AND hh.owner_id = " id " ORDER BY hh.seq DESC LIMIT 1) h ON true"

/* The select-list of both joins: the event's seq, stage, outcome,
 * canonical, hash, then the head's seq, hash and seal id. */
#define SL_PROV_PG_EVENT_HEAD_COLS "e.seq, e.stage, e.outcome, e.canonical," \
    " e.hash, h.seq, h.head_hash, h.seal_id"

/* A condition: the owner has events but no chain_heads row at all (a
 * chain written before migration 010). */
#define SL_PROV_PG_UNSEALED(kind, id) "NOT EXISTS (SELECT 1 FROM chain_heads u" \
    " WHERE u.owner_kind = '" kind "' AND u.owner_id = " id ") AND EXISTS" \
    " (SELECT 1 FROM provenance_events u WHERE u.owner_kind = '" kind "'" \
    " AND u.owner_id = " id ")"

/* Every sealed head with its seal (alias h, s): seal_id, owner_kind,
 * owner_id, seq, head_hash, key_id, signature, whether the key is
 * registered; a WHERE and ORDER BY may follow. */
#define SL_PROV_PG_SEAL_SELECT "SELECT h.seal_id, h.owner_kind, h.owner_id," \
    " h.seq, h.head_hash, s.key_id, s.signature, (k.key_id IS NOT NULL)" \
    " FROM chain_heads h JOIN head_seals s ON s.seal_id = h.seal_id" \
    " LEFT JOIN audit_keys k ON k.key_id = s.key_id"

#endif
