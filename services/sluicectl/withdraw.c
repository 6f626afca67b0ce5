/*
 * withdraw.c -- withdrawing accepted samples, the one way every operator
 * command does it (`takedown add`, `optout add`).
 *
 * In the caller's open transaction, for each sample the caller locked
 * (SELECT ... FOR UPDATE in upload_id order, so concurrent withdrawals
 * neither fork a chain nor deadlock): one provenance event appended to its
 * stored chain (stage and reason from the caller: "takedown"/"taken_down",
 * "optout"/"opted_out"; outcome "withdrawn") linked to the last stored
 * event; then feed_withdraw() (017_feed.sql: status 'withdrawn', the feed's
 * tombstone and wake-up) and the release of the sample's quota; finally the
 * chains' new heads sealed with the operator's key.  The row and its
 * content are kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/audit.h"
#include "sl/prov_pg.h"
#include "sl/quota_pg.h"
#include "ctl.h"

#define WITHDRAW_OUTCOME "withdrawn"

/* The sample's stored chain (NULL: none stored) with the withdrawal event
 * appended, through sl/prov_pg.h.  CTL_OK with *pc, or CTL_FAIL after the
 * error is printed. */
static int extend_chain(PGconn *pg, const ctl_withdrawal *w,
                        const char *upload, const char *sha,
                        const char *origin, sl_prov_chain **pc)
{
    sl_prov_event ev = {
        .stage = w->stage, .version = w->version,
        .outcome = WITHDRAW_OUTCOME, .reason = w->reason,
        .upload_id = upload, .input_sha256 = sha, .output_sha256 = sha,
        .time_ms = sl_now_ms(),
    };
    sl_err err = { "" };
    int rc = sl_prov_pg_chain(pg, "sample", upload, pc, NULL, &err);

    if (rc == SL_EINVAL)
        return ctl_fail("%s: upload %s: the stored provenance chain cannot "
                        "be read, so the %s event cannot be chained to it: "
                        "%s\nHint: see `sluicectl audit verify --upload %s`; "
                        "nothing was changed.", w->what, upload, w->stage,
                        err.msg, upload);
    if (rc != SL_OK)
        return ctl_fail("%s: %s", w->what, err.msg);
    if (!*pc) {
        /* No stored chain (never written by the commit stage): start one
         * anchored, like any chain, to the signed content. */
        fprintf(stderr, "sluicectl: warning: upload %s has no provenance "
                "events; its %s event starts a chain\n", upload, w->stage);
        if (!(*pc = sl_prov_chain_new(origin, &err)))
            return ctl_fail("%s: upload %s: %s", w->what, upload, err.msg);
    } else if (sl_prov_chain_verify(*pc, origin, &err) != SL_OK) {
        /* A broken chain is the auditor's finding, not a reason to keep
         * content up: the event still links to the last stored event. */
        fprintf(stderr, "sluicectl: warning: upload %s: the stored "
                "provenance chain does not verify (%s); the %s event is "
                "appended to its last event (see `sluicectl audit verify "
                "--upload %s`)\n", upload, err.msg, w->stage, upload);
    }
    if (sl_prov_chain_add(*pc, &ev, &err) != SL_OK)
        return ctl_fail("%s: upload %s: %s", w->what, upload, err.msg);
    return CTL_OK;
}

/* feed_withdraw(): the sample withdrawn with its tombstone; a withdrawn
 * sample no longer counts against its day's quota. */
static int withdraw_sample(PGconn *pg, const ctl_withdrawal *w,
                           const char *upload)
{
    const char *vals[3] = { upload, w->kind, w->reason };
    sl_err err = { "" };
    PGresult *r;
    int rc = CTL_OK;

    if (!(r = ctl_pg_query(pg, w->what,
            "SELECT dataset_id, creator_id, size, accepted_day"
            " FROM feed_withdraw($1, $2, $3)", 3, vals, NULL, NULL)))
        return CTL_FAIL;
    if (PQntuples(r) == 1 &&
        sl_quota_pg_release(pg, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                            PQgetvalue(r, 0, 3),
                            strtoll(PQgetvalue(r, 0, 2), NULL, 10), NULL,
                            &err) != SL_OK)
        rc = ctl_fail("%s: %s", w->what, err.msg);
    PQclear(r);
    return rc;
}

/* Appends the event to a sample's stored chain and withdraws it.  *head:
 * the chain's new last event. */
static int withdraw_one(PGconn *pg, const ctl_withdrawal *w,
                        const char *upload, const char *sha,
                        const char *origin, sl_prov_head *head)
{
    sl_prov_chain *pc = NULL;
    sl_err err = { "" };
    int rc = CTL_FAIL;

    if (extend_chain(pg, w, upload, sha, origin, &pc) != CTL_OK)
        goto out;
    if (sl_prov_pg_append(pg, "sample", upload, pc, sl_prov_count(pc) - 1,
                          head, NULL, &err) != SL_OK) {
        rc = ctl_fail("%s: storing the provenance event: %s", w->what,
                      err.msg);
        goto out;
    }
    rc = withdraw_sample(pg, w, upload);
out:
    sl_prov_chain_destroy(pc);
    return rc;
}

int ctl_withdraw_all(ctl *c, PGconn *pg, const ctl_withdrawal *w,
                     PGresult *rows, int64_t *seqs)
{
    size_t n = (size_t)PQntuples(rows);
    sl_prov_head *heads = calloc(n + 1, sizeof(*heads));
    sl_audit_headref *refs = calloc(n + 1, sizeof(*refs));
    int rc = CTL_FAIL;

    if (!heads || !refs) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (withdraw_one(pg, w, PQgetvalue(rows, (int)i, 0),
                         PQgetvalue(rows, (int)i, 1),
                         PQgetvalue(rows, (int)i, 2), &heads[i]) != CTL_OK)
            goto out;
        seqs[i] = heads[i].seq;
        refs[i] = (sl_audit_headref){ "sample", PQgetvalue(rows, (int)i, 0),
                                      heads[i].seq, heads[i].hash };
    }
    rc = n > 0 ? ctl_seal_heads(c, pg, w->what, refs, n) : CTL_OK;
out:
    free(heads);
    free(refs);
    return rc;
}
