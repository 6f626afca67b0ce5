/*
 * prov_pg.c -- provenance rows in PostgreSQL (see sl/prov_pg.h): events
 * COPYed in or read back in seq order, chains rebuilt from the stored
 * events, chain heads sealed and read.  The only file that names the
 * columns of provenance_chains, chain_heads and head_seals for writing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sl/prov_pg.h"

int sl_prov_pg_copy_begin(sl_pg_copy *cp, PGconn *c, sl_err *err)
{
    return sl_pg_copy_begin_binary(cp, c,
        "COPY provenance_chains (owner_kind, owner_id, first_seq, stage,"
        " outcome, canonical, hash) FROM STDIN WITH (FORMAT binary)", err);
}

/* One text[] field: column `col` of events [from, to) of pc. */
enum { COL_STAGE, COL_OUTCOME, COL_CANONICAL, COL_HASH };

static void copy_column(sl_pg_copy *cp, const sl_prov_chain *pc, size_t from,
                        size_t to, int col)
{
    sl_pg_copy_text_array_begin(cp, to - from);
    for (size_t i = from; i < to; i++) {
        const char *v[4];
        sl_prov_get(pc, i, &v[COL_CANONICAL], &v[COL_HASH], &v[COL_STAGE],
                    &v[COL_OUTCOME], NULL);
        sl_pg_copy_array_text(cp, v[col], strlen(v[col]));
    }
    sl_pg_copy_text_array_end(cp);
}

void sl_prov_pg_copy_events(sl_pg_copy *cp, const char *kind, const char *id,
                            const sl_prov_chain *pc, size_t from,
                            sl_prov_head *head)
{
    size_t n = sl_prov_count(pc);
    const char *hash;
    int64_t first, last;

    if (from >= n)
        return;
    /* A parsed chain numbers its events 1, 2, 3... (sl_prov_parse), so
     * the row's events are seq first, first + 1, ... */
    sl_prov_get(pc, from, NULL, NULL, NULL, NULL, &first);
    sl_prov_get(pc, n - 1, NULL, &hash, NULL, NULL, &last);
    sl_pg_copy_str(cp, kind);
    sl_pg_copy_str(cp, id);
    sl_pg_copy_int32(cp, first > 0 && first <= INT32_MAX ? (int32_t)first : -1);
    copy_column(cp, pc, from, n, COL_STAGE);
    copy_column(cp, pc, from, n, COL_OUTCOME);
    copy_column(cp, pc, from, n, COL_CANONICAL);
    copy_column(cp, pc, from, n, COL_HASH);
    sl_pg_copy_row_end(cp);
    if (head) {
        head->seq = last;
        snprintf(head->hash, sizeof(head->hash), "%s", hash);
    }
}

/* Ends a COPY, with the server's SQLSTATE when it failed. */
static int copy_end(sl_pg_copy *cp, char sqlstate[6], sl_err *err)
{
    int rc = sl_pg_copy_end(cp, err);

    if (rc != SL_OK && sqlstate)
        snprintf(sqlstate, 6, "%s", cp->sqlstate);
    return rc;
}

int sl_prov_pg_append(PGconn *c, const char *kind, const char *id,
                      const sl_prov_chain *pc, size_t from,
                      sl_prov_head *head, char sqlstate[6], sl_err *err)
{
    sl_pg_copy cp;
    int rc;

    if (sqlstate)
        sqlstate[0] = '\0';
    if ((rc = sl_prov_pg_copy_begin(&cp, c, err)) != SL_OK)
        return rc;
    sl_prov_pg_copy_events(&cp, kind, id, pc, from, head);
    return copy_end(&cp, sqlstate, err);
}

int sl_prov_pg_events(PGconn *c, const char *kind, const char *id,
                      PGresult **out, char sqlstate[6], sl_err *err)
{
    const char *p[2] = { kind, id };

    return sl_pg_run(c, "reading provenance events",
        "SELECT seq, stage, outcome, canonical, hash,"
        " to_char(recorded_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        " FROM provenance_events WHERE owner_kind = $1 AND owner_id = $2"
        " ORDER BY seq", 2, p, PGRES_TUPLES_OK, out, sqlstate, err);
}

sl_audit_event sl_prov_pg_event_at(const PGresult *r, int i)
{
    return (sl_audit_event){
        .seq = strtoll(PQgetvalue(r, i, SL_PROV_PG_SEQ), NULL, 10),
        .stage = PQgetvalue(r, i, SL_PROV_PG_STAGE),
        .outcome = PQgetvalue(r, i, SL_PROV_PG_OUTCOME),
        .canonical = PQgetvalue(r, i, SL_PROV_PG_CANONICAL),
        .hash = PQgetvalue(r, i, SL_PROV_PG_HASH),
    };
}

int sl_prov_pg_chain(PGconn *c, const char *kind, const char *id,
                     sl_prov_chain **out, char sqlstate[6], sl_err *err)
{
    PGresult *r = NULL;
    json_t *arr = NULL;
    char *header = NULL;
    int rc;

    *out = NULL;
    if ((rc = sl_prov_pg_events(c, kind, id, &r, sqlstate, err)) != SL_OK)
        return rc;
    rc = SL_ENOMEM;
    if (PQntuples(r) == 0) {
        rc = SL_OK;
        goto out;
    }
    /* The stored rows as the sluice-prov header they came from. */
    if (!(arr = json_array()))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_pack("{s:s, s:s}",
                              "event", PQgetvalue(r, i, SL_PROV_PG_CANONICAL),
                              "hash", PQgetvalue(r, i, SL_PROV_PG_HASH));
        if (!o || json_array_append_new(arr, o) != 0)
            goto out;
    }
    if (!(header = json_dumps(arr, JSON_COMPACT)))
        goto out;
    rc = (*out = sl_prov_parse(SL_SLICE_STR(header), err)) ? SL_OK : SL_EINVAL;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "out of memory");
    free(header);
    json_decref(arr);
    PQclear(r);
    return rc;
}

int sl_prov_pg_register_key(PGconn *c, const char *key_id, const char *purpose,
                            char sqlstate[6], sl_err *err)
{
    const char *p[2] = { key_id, purpose };

    return sl_pg_run(c, "registering the audit key",
        "INSERT INTO audit_keys (key_id, purpose) VALUES ($1, $2)"
        " ON CONFLICT (key_id) DO NOTHING", 2, p, PGRES_COMMAND_OK, NULL,
        sqlstate, err);
}

int sl_prov_pg_seal(PGconn *c, const sl_audit_signer *signer,
                    const sl_audit_headref *heads, size_t n, int64_t *seal_id,
                    char sqlstate[6], sl_err *err)
{
    char sig[SL_AUDIT_SIG_HEX], seal[24], count[24];
    PGresult *r = NULL;
    sl_pg_copy cp;
    int rc;

    if (sqlstate)
        sqlstate[0] = '\0';
    if ((rc = sl_pg_run(c, "numbering the seal",
            "SELECT nextval(pg_get_serial_sequence('head_seals', 'seal_id'))",
            0, NULL, PGRES_TUPLES_OK, &r, sqlstate, err)) != SL_OK)
        return rc;
    snprintf(seal, sizeof(seal), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (seal_id)
        *seal_id = strtoll(seal, NULL, 10);
    if (sl_audit_seal_sign(signer, strtoll(seal, NULL, 10), heads, n, sig) != SL_OK) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    snprintf(count, sizeof(count), "%zu", n);
    {
        const char *p[4] = { seal, sl_audit_signer_key_id(signer), count, sig };
        if ((rc = sl_pg_run(c, "storing the seal",
                "INSERT INTO head_seals (seal_id, key_id, n_heads, signature)"
                " VALUES ($1, $2, $3, $4)", 4, p, PGRES_COMMAND_OK, NULL,
                sqlstate, err)) != SL_OK)
            return rc;
    }
    if ((rc = sl_pg_copy_begin(&cp, c, "COPY chain_heads (owner_kind, owner_id,"
                               " seq, head_hash, seal_id) FROM STDIN", err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        sl_pg_copy_str(&cp, heads[i].kind);
        sl_pg_copy_str(&cp, heads[i].id);
        sl_pg_copy_int(&cp, heads[i].seq);
        sl_pg_copy_str(&cp, heads[i].hash);
        sl_pg_copy_str(&cp, seal);
        sl_pg_copy_row_end(&cp);
    }
    return copy_end(&cp, sqlstate, err);
}

int sl_prov_pg_head(PGconn *c, const char *kind, const char *id,
                    PGresult **out, char sqlstate[6], sl_err *err)
{
    const char *p[2] = { kind, id };

    return sl_pg_run(c, "reading the chain head",
        "SELECT h.seq, h.head_hash, h.seal_id, s.key_id, s.signature, k.purpose"
        " FROM chain_heads h LEFT JOIN head_seals s ON s.seal_id = h.seal_id"
        " LEFT JOIN audit_keys k ON k.key_id = s.key_id"
        " WHERE h.owner_kind = $1 AND h.owner_id = $2 ORDER BY h.seq DESC LIMIT 1",
        2, p, PGRES_TUPLES_OK, out, sqlstate, err);
}

int sl_prov_pg_seal_heads(PGconn *c, const char *seal_id,
                          sl_audit_headref **refs, size_t *n, PGresult **keep,
                          char sqlstate[6], sl_err *err)
{
    const char *p[1] = { seal_id };
    PGresult *r;
    int rc;

    *refs = NULL;
    *n = 0;
    *keep = NULL;
    if ((rc = sl_pg_run(c, "reading the seal",
            "SELECT owner_kind, owner_id, seq, head_hash FROM chain_heads"
            " WHERE seal_id = $1", 1, p, PGRES_TUPLES_OK, &r, sqlstate,
            err)) != SL_OK)
        return rc;
    if (!(*refs = calloc((size_t)PQntuples(r) + 1, sizeof(**refs)))) {
        PQclear(r);
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    for (int i = 0; i < PQntuples(r); i++)
        (*refs)[i] = (sl_audit_headref){ PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                         strtoll(PQgetvalue(r, i, 2), NULL, 10),
                                         PQgetvalue(r, i, 3) };
    *n = (size_t)PQntuples(r);
    *keep = r;
    return SL_OK;
}

int sl_prov_pg_lock_heads(PGconn *c, char sqlstate[6], sl_err *err)
{
    return sl_pg_run(c, "locking chain_heads",
                     "LOCK TABLE chain_heads IN SHARE ROW EXCLUSIVE MODE", 0,
                     NULL, PGRES_COMMAND_OK, NULL, sqlstate, err);
}

int sl_prov_pg_still_unsealed(PGconn *c, const sl_audit_headref *heads,
                              size_t n, PGresult **out, char sqlstate[6],
                              sl_err *err)
{
    sl_buf k, id, seq, hash;
    char num[24];
    int rc = SL_ENOMEM;

    sl_buf_init(&k, 64u << 20);
    sl_buf_init(&id, 64u << 20);
    sl_buf_init(&seq, 64u << 20);
    sl_buf_init(&hash, 64u << 20);
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof(num), "%" PRId64, heads[i].seq);
        if (sl_pg_array_add(&k, heads[i].kind) != SL_OK ||
            sl_pg_array_add(&id, heads[i].id) != SL_OK ||
            sl_pg_array_add(&seq, num) != SL_OK ||
            sl_pg_array_add(&hash, heads[i].hash) != SL_OK)
            goto out;
    }
    if (sl_pg_array_close(&k) != SL_OK || sl_pg_array_close(&id) != SL_OK ||
        sl_pg_array_close(&seq) != SL_OK || sl_pg_array_close(&hash) != SL_OK)
        goto out;
    {
        const char *p[4] = { (const char *)k.data, (const char *)id.data,
                             (const char *)seq.data, (const char *)hash.data };
        rc = sl_pg_run(c, "re-reading the heads",
            "SELECT u.i - 1 FROM unnest($1::text[], $2::text[], $3::integer[],"
            " $4::text[]) WITH ORDINALITY AS u(k, id, seq, hash, i)"
            " WHERE NOT EXISTS (SELECT 1 FROM chain_heads h"
            "  WHERE h.owner_kind = u.k AND h.owner_id = u.id)"
            " AND EXISTS (SELECT 1 FROM provenance_events e"
            "  WHERE e.owner_kind = u.k AND e.owner_id = u.id"
            "  AND e.seq = u.seq AND e.hash = u.hash)"
            " AND NOT EXISTS (SELECT 1 FROM provenance_events e"
            "  WHERE e.owner_kind = u.k AND e.owner_id = u.id AND e.seq > u.seq)"
            " ORDER BY u.i", 4, p, PGRES_TUPLES_OK, out, sqlstate, err);
    }
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "out of memory");
    sl_buf_free(&k);
    sl_buf_free(&id);
    sl_buf_free(&seq);
    sl_buf_free(&hash);
    return rc;
}
