/*
 * seal.c -- sealing chain heads with the operator's key: the one place
 * sluicectl seals heads (010_chain_heads.sql), through sl/prov_pg.h.
 *
 * `takedown add` seals the heads of the chains it extended; `audit
 * seal-unsealed` seals the heads of chains written before migration 010.
 * Both do it the same way, inside the caller's transaction: register the
 * operator's public key (audit.operator.key.file) in audit_keys, then
 * sl_prov_pg_seal (sl/prov_pg.h): number the seal, sign the heads
 * (sl/audit.h has the signed bytes), store the seal and one chain_heads
 * row per head.  commit's key never leaves commit, so a chain sealed
 * here is as authentic as the operator key's custody (`audit verify
 * --trusted-key`).
 */
#include "sl/prov_pg.h"
#include "ctl.h"

int ctl_seal_heads(ctl *c, PGconn *pg, const char *what,
                   const sl_audit_headref *refs, size_t n)
{
    sl_audit_signer *signer = NULL;
    sl_err err = { "" };
    int rc = CTL_FAIL;

    if (sl_audit_signer_open(sl_config_get(c->cfg, "audit.operator.key.file"), 1,
                             &signer, &err) != SL_OK)
        return ctl_fail("%s: the operator's audit key: %s", what, err.msg);
    if (sl_prov_pg_register_key(pg, sl_audit_signer_key_id(signer), "operator",
                                NULL, &err) != SL_OK ||
        sl_prov_pg_seal(pg, signer, refs, n, NULL, NULL, &err) != SL_OK)
        ctl_fail("%s: %s", what, err.msg);
    else
        rc = CTL_OK;
    sl_audit_signer_destroy(signer);
    return rc;
}
