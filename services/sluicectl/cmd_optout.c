/*
 * cmd_optout.c -- `sluicectl optout add|list|remove`: creators who opted
 * out of training (table creator_optouts).  The license stage rejects an
 * opted-out creator's uploads as opted_out, and `add` withdraws the
 * samples of theirs already accepted, in the same transaction as the
 * entry and exactly as a takedown withdraws content (withdraw.c): each
 * locked in upload_id order, marked withdrawn (kept, not deleted), one
 * provenance event -- stage "optout", outcome "withdrawn", reason
 * "opted_out" -- chained to its history, and a tombstone for the feed
 * (feed_changes, kind "optout").  Every entry says who asked, when and
 * why; the free-text reason stays in creator_optouts.  Removing an
 * opt-out does not bring withdrawn samples back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define OPTOUT_STAGE   "optout"
#define OPTOUT_VERSION "sluicectl/optout-1"
#define OPTOUT_REASON  "opted_out"

/* How an opt-out withdraws a sample (withdraw.c). */
static const ctl_withdrawal optout_withdrawal = {
    "optout add", OPTOUT_STAGE, OPTOUT_VERSION, OPTOUT_REASON, "optout"
};

static const char optout_usage[] =
    "usage: sluicectl optout <command>\n"
    "Creators who opted out of training: the license stage rejects their\n"
    "uploads (opted_out) and their accepted samples are withdrawn.\n"
    "pg.dsn / SLUICE_PG_DSN.\n";

static const char add_usage[] =
    "usage: sluicectl optout add CREATOR --reason TEXT [--by WHO]\n"
    "Record that a registered creator opted out of training.  Their new\n"
    "uploads are rejected as opted_out, and in the same transaction every\n"
    "sample of theirs already accepted is withdrawn (kept, not deleted),\n"
    "as a takedown withdraws content: an \"optout\" provenance event\n"
    "chained to its history, and a tombstone in the feed's changes.\n"
    "Prints each sample withdrawn.  Adding an existing opt-out changes\n"
    "nothing, except to withdraw samples of theirs accepted since.\n"
    "  --reason TEXT   why (stored with the entry; up to 1000 bytes)\n"
    "  --by WHO        who asked or recorded it (default $SUDO_USER, $USER,\n"
    "                  else \"operator\")\n";

static const char list_usage[] =
    "usage: sluicectl optout list [--json]\n"
    "List opt-outs: creator, who, when, why.  --json: one JSON array.\n";

static const char remove_usage[] =
    "usage: sluicectl optout remove CREATOR\n"
    "Withdraw a creator's opt-out: their new uploads are accepted again.\n"
    "Samples withdrawn by the opt-out stay withdrawn.\n";

/* Records the opt-out (a concurrent one for the same creator waits on the
 * key until this one ends, then finds the row).  Columns: whether the
 * creator exists, whether the entry is new, and the entry's who, when and
 * why. */
static PGresult *record_optout(PGconn *pg, const char *id, const char *by,
                               const char *reason)
{
    const char *vals[3] = { id, by, reason };

    return ctl_pg_query(pg, "optout add",
        "WITH cr AS (SELECT creator_id FROM creators WHERE creator_id = $1),"
        " ins AS (INSERT INTO creator_optouts (creator_id, requested_by, reason)"
        "         SELECT creator_id, $2, $3 FROM cr"
        "         ON CONFLICT (creator_id) DO NOTHING RETURNING creator_id)"
        " SELECT (SELECT count(*) FROM cr), (SELECT count(*) FROM ins),"
        "  o.requested_by, to_char(o.created_at AT TIME ZONE 'UTC',"
        "                          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), o.reason"
        " FROM (SELECT 1) one"
        " LEFT JOIN creator_optouts o ON o.creator_id = $1",
        3, vals, NULL, NULL);
}

/* The creator's accepted samples, locked in upload_id order (the columns
 * ctl_withdraw_all reads, then the dataset). */
static PGresult *lock_samples(PGconn *pg, const char *id)
{
    const char *vals[1] = { id };

    return ctl_pg_query(pg, "optout add: locking the samples",
        "SELECT upload_id, sha256, coalesce(original_sha256, sha256),"
        " dataset_id FROM samples"
        " WHERE creator_id = $1 AND status = 'accepted'"
        " ORDER BY upload_id FOR UPDATE", 1, vals, NULL, NULL);
}

static void print_withdrawn(PGresult *rows, const int64_t *seqs)
{
    for (int i = 0; i < PQntuples(rows); i++) {
        ctl_esc e = { 0 };
        printf("withdrawn: upload %s (dataset %s), provenance event %"
               PRId64 "\n", ctl_e(&e, PQgetvalue(rows, i, 0)),
               ctl_e(&e, PQgetvalue(rows, i, 3)), seqs[i]);
        ctl_esc_free(&e);
    }
    printf("%d sample%s withdrawn\n", PQntuples(rows),
           PQntuples(rows) == 1 ? "" : "s");
}

static int optout_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "reason", required_argument, NULL, 'r' },
        { "by", required_argument, NULL, 'b' },
        { 0 }
    };
    const char *reason = NULL, *by = NULL, *id;
    PGconn *pg = NULL;
    PGresult *r = NULL, *rows = NULL;
    int64_t *seqs = NULL;
    int opt, rc, in_txn = 0, existed;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "optout add", add_usage)) != -1) {
        switch (opt) {
        case 'r': reason = optarg; break;
        case 'b': by = optarg; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("optout add", argc - optind ?
                               "expected exactly one creator ID" :
                               "missing creator ID");
    id = argv[optind];
    if (!reason)
        return ctl_usage_error("optout add", "--reason is required");
    if (ctl_check_note(reason, CTL_NOTE_MAX) != SL_OK)
        return ctl_usage_error("optout add", "--reason must be 1 to %d bytes "
                               "without control characters", CTL_NOTE_MAX);
    by = ctl_operator(by);
    if (ctl_check_note(by, 128) != SL_OK)
        return ctl_usage_error("optout add", "--by must be 1 to 128 bytes "
                               "without control characters");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) ||
        ctl_pg_exec(pg, "optout add: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if (!(r = record_optout(pg, id, by, reason)))
        goto out;
    if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
        rc = ctl_fail("optout add: no creator \"%s\"", id);
        goto out;
    }
    existed = strcmp(PQgetvalue(r, 0, 1), "0") == 0;
    if (!(rows = lock_samples(pg, id)))
        goto out;
    if (!(seqs = calloc((size_t)PQntuples(rows) + 1, sizeof(*seqs)))) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if (ctl_withdraw_all(c, pg, &optout_withdrawal, rows, seqs) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "optout add: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    if (existed) {
        ctl_esc e = { 0 };
        printf("creator %s already opted out (by %s at %s: %s)%s\n", id,
               ctl_e(&e, PQgetvalue(r, 0, 2)), PQgetvalue(r, 0, 3),
               ctl_e(&e, PQgetvalue(r, 0, 4)), PQntuples(rows) ?
               "; withdrawing samples accepted since" : "; nothing changed");
        ctl_esc_free(&e);
    } else
        printf("creator %s opted out (by %s)\n", id, by);
    if (PQntuples(rows))
        print_withdrawn(rows, seqs);
    rc = CTL_OK;
out:
    free(seqs);
    PQclear(r);
    PQclear(rows);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
    PQfinish(pg);
    return rc;
}

static int optout_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = {
        "CREATOR", "BY", "CREATED", "REASON"
    };
    static const int cols[] = { 0, 1, 2, 3 };
    static const ctl_list_field fields[] = {
        { "creator_id", 0, 0 }, { "requested_by", 1, 0 },
        { "created_at", 2, 0 }, { "reason", 3, 0 },
    };
    static const ctl_list_spec list = {
        "optout list", list_usage,
        "SELECT creator_id, requested_by,"
        " to_char(created_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), reason"
        " FROM creator_optouts ORDER BY created_at, creator_id",
        4, headers, cols, "no opt-outs recorded", 4, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

static int optout_remove(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    const char *id;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "optout remove", remove_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (argc - optind != 1)
        return ctl_usage_error("optout remove", argc - optind ?
                               "expected exactly one creator ID" :
                               "missing creator ID");
    id = argv[optind];
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[1] = { id };
        if (!(r = ctl_pg_query(pg, "optout remove",
                "WITH del AS (DELETE FROM creator_optouts WHERE creator_id = $1"
                "             RETURNING creator_id)"
                " SELECT (SELECT count(*) FROM del),"
                "  (SELECT count(*) FROM creators WHERE creator_id = $1)",
                1, vals, NULL, NULL)))
            goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        printf("creator %s: opt-out removed\n", id);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        rc = ctl_fail("optout remove: no creator \"%s\"", id);
        goto out;
    } else
        printf("creator %s had not opted out; nothing changed\n", id);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_optout(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", optout_add, "record a creator's opt-out, withdrawing their samples" },
        { "list", optout_list, "list opt-outs" },
        { "remove", optout_remove, "withdraw a creator's opt-out" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "optout", subs, argc, argv, optout_usage);
}
