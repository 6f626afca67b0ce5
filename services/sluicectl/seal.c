/*
 * seal.c -- sealing chain heads with the operator's key: the one place
 * sluicectl writes chain_heads and head_seals (010_chain_heads.sql).
 *
 * `takedown add` seals the heads of the chains it extended; `audit
 * seal-unsealed` seals the heads of chains written before migration 010.
 * Both do it the same way, inside the caller's transaction: register the
 * operator's public key (audit.operator.key.file) in audit_keys, take the
 * next seal id, sign the heads (sl/audit.h has the signed bytes), store
 * the seal and then one chain_heads row per head.  commit's key never
 * leaves commit, so a chain sealed here is as authentic as the operator
 * key's custody (`audit verify --trusted-key`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"

/* "<what>: <step>" for an error message. */
static const char *label(char *buf, size_t size, const char *what,
                         const char *step)
{
    snprintf(buf, size, "%s: %s", what, step);
    return buf;
}

int ctl_seal_heads(ctl *c, PGconn *pg, const char *what,
                   const sl_audit_headref *refs, size_t n)
{
    sl_audit_signer *signer = NULL;
    char sig[SL_AUDIT_SIG_HEX], seal[24], count[24], seqtxt[24], step[128];
    sl_err err = { "" };
    PGresult *r = NULL;
    int rc = CTL_FAIL;

    if (sl_audit_signer_open(sl_config_get(c->cfg, "audit.operator.key.file"), 1,
                             &signer, &err) != SL_OK)
        return ctl_fail("%s: the operator's audit key: %s", what, err.msg);
    {
        const char *kv[1] = { sl_audit_signer_key_id(signer) };
        if (!(r = ctl_pg_query(pg,
                label(step, sizeof(step), what, "registering the operator key"),
                "INSERT INTO audit_keys (key_id, purpose) VALUES ($1, 'operator')"
                " ON CONFLICT (key_id) DO NOTHING", 1, kv, NULL, NULL)))
            goto out;
        PQclear(r);
    }
    if (!(r = ctl_pg_query(pg,
            label(step, sizeof(step), what, "numbering the seal"),
            "SELECT nextval(pg_get_serial_sequence('head_seals', 'seal_id'))",
            0, NULL, NULL, NULL)))
        goto out;
    snprintf(seal, sizeof(seal), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    r = NULL;
    if (sl_audit_seal_sign(signer, strtoll(seal, NULL, 10), refs, n, sig) != SL_OK) {
        rc = ctl_fail("%s: out of memory", what);
        goto out;
    }
    snprintf(count, sizeof(count), "%zu", n);
    {
        const char *sv[4] = { seal, sl_audit_signer_key_id(signer), count, sig };
        if (!(r = ctl_pg_query(pg,
                label(step, sizeof(step), what, "storing the seal"),
                "INSERT INTO head_seals (seal_id, key_id, n_heads, signature)"
                " VALUES ($1, $2, $3, $4)", 4, sv, NULL, NULL)))
            goto out;
        PQclear(r);
        r = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *hv[5] = { refs[i].kind, refs[i].id, seqtxt, refs[i].hash, seal };
        snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, refs[i].seq);
        if (!(r = ctl_pg_query(pg,
                label(step, sizeof(step), what, "storing the chain head"),
                "INSERT INTO chain_heads (owner_kind, owner_id, seq, head_hash,"
                " seal_id) VALUES ($1, $2, $3::integer, $4, $5)",
                5, hv, NULL, NULL)))
            goto out;
        PQclear(r);
        r = NULL;
    }
    rc = CTL_OK;
out:
    PQclear(r);
    sl_audit_signer_destroy(signer);
    return rc;
}
