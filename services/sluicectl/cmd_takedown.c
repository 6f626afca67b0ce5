/*
 * cmd_takedown.c -- `sluicectl takedown add|list`: content taken down, by
 * SHA-256 (table takedowns).  The license stage rejects new uploads of
 * that content as taken_down; samples already accepted are withdrawn here.
 *
 * add does everything in one PostgreSQL transaction: the takedowns row;
 * every accepted sample whose stored content (sha256) or signed content
 * (original_sha256: a redacted sample stores other bytes) has the hash,
 * locked (FOR UPDATE, in upload_id order) so that concurrent takedowns
 * neither fork a chain nor deadlock; for each, status 'withdrawn' (the row
 * and its content are kept) and one provenance event appended to its
 * stored chain -- stage "takedown", outcome "withdrawn", reason
 * "taken_down" (the operator's free-text reason stays in takedowns, out
 * of the hashed events), linked to the last stored event -- and a
 * tombstone for the feed (feed_changes, kind "takedown"): withdraw.c,
 * shared with `optout add`.  Repeating a
 * takedown changes nothing, except to withdraw samples of that content
 * accepted since (uploads that were already past the license stage).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/crypto.h"
#include "ctl.h"

#define TAKEDOWN_STAGE   "takedown"
#define TAKEDOWN_VERSION "sluicectl/takedown-1"
#define TAKEDOWN_REASON  "taken_down"

static const char takedown_usage[] =
    "usage: sluicectl takedown <command>\n"
    "Content taken down, by SHA-256: the license stage rejects it\n"
    "(taken_down) and accepted samples of it are withdrawn.\n"
    "pg.dsn / SLUICE_PG_DSN.\n";

static const char add_usage[] =
    "usage: sluicectl takedown add (SHA256 | --upload ID) --reason TEXT [--by WHO]\n"
    "Take content down: record the hash, and in the same transaction mark\n"
    "every accepted sample of it withdrawn (kept, not deleted) with a\n"
    "\"takedown\" provenance event chained to its history and a tombstone\n"
    "in the feed's changes (buyers delete it).  A sample\n"
    "matches when its stored or its originally signed content (a redacted\n"
    "sample's) has the hash.  Prints each sample withdrawn.  Taking the same\n"
    "content down again changes nothing (samples of it accepted since are\n"
    "withdrawn).\n"
    "  SHA256         the content's SHA-256, 64 hex digits\n"
    "  --upload ID    the content an accepted upload's creator signed\n"
    "  --reason TEXT  why (stored in the takedown entry, not in provenance\n"
    "                 events; up to 1000 bytes)\n"
    "  --by WHO       who asked or recorded it (default $SUDO_USER, $USER,\n"
    "                 else \"operator\")\n";

static const char list_usage[] =
    "usage: sluicectl takedown list [--json]\n"
    "List takedowns: hash, who, when, why, and how many samples of that\n"
    "content are withdrawn.  --json: one JSON array.\n";

/* sha: 64 hex digits, any case, into out (lowercase). */
static int parse_sha(const char *s, char out[SL_SHA256_HEX])
{
    size_t i;

    for (i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return SL_EINVAL;
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    if (s[i])
        return SL_EINVAL;
    out[64] = '\0';
    return SL_OK;
}

/* What `takedown add` was asked. */
typedef struct add_args {
    const char *upload, *reason, *by;
    char sha[SL_SHA256_HEX];   /* given, or found from the upload */
} add_args;

/* The command line into a.  *done: nothing to do (--help was printed;
 * CTL_OK). */
static int add_parse(ctl *c, int argc, char **argv, add_args *a, int *done)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "upload", required_argument, NULL, 'u' },
        { "reason", required_argument, NULL, 'r' },
        { "by", required_argument, NULL, 'b' },
        { 0 }
    };
    int opt;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "takedown add", add_usage)) != -1) {
        switch (opt) {
        case 'u': a->upload = optarg; break;
        case 'r': a->reason = optarg; break;
        case 'b': a->by = optarg; break;
        default:
            *done = 1;
            return ctl_getopt_exit(opt);
        }
    }
    if ((argc - optind == 1) == !!a->upload)
        return ctl_usage_error("takedown add", argc - optind > 1 ?
                               "expected one SHA-256" :
                               "give the content's SHA-256 or --upload ID "
                               "(exactly one)");
    if (!a->upload && parse_sha(argv[optind], a->sha) != SL_OK)
        return ctl_usage_error("takedown add", "\"%s\" is not a SHA-256 "
                               "(64 hex digits)", argv[optind]);
    if (!a->reason)
        return ctl_usage_error("takedown add", "--reason is required");
    if (ctl_check_note(a->reason, CTL_NOTE_MAX) != SL_OK)
        return ctl_usage_error("takedown add", "--reason must be 1 to %d "
                               "bytes without control characters",
                               CTL_NOTE_MAX);
    a->by = ctl_operator(a->by);
    if (ctl_check_note(a->by, 128) != SL_OK)
        return ctl_usage_error("takedown add", "--by must be 1 to 128 bytes "
                               "without control characters");
    return CTL_OK;
}

/* --upload: the content the creator signed (a redacted sample stores
 * other bytes). */
static int find_upload(PGconn *pg, add_args *a)
{
    const char *vals[1] = { a->upload };
    PGresult *r;

    if (!(r = ctl_pg_query(pg, "takedown add: finding the upload",
            "SELECT coalesce(original_sha256, sha256) FROM samples"
            " WHERE upload_id = $1", 1, vals, NULL, NULL)))
        return CTL_FAIL;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ctl_fail("takedown add: no sample with upload ID \"%s\" "
                        "(give the content's SHA-256 to take down content "
                        "that was never accepted)", a->upload);
    }
    memcpy(a->sha, PQgetvalue(r, 0, 0), SL_SHA256_HEX - 1);
    a->sha[SL_SHA256_HEX - 1] = '\0';
    PQclear(r);
    return CTL_OK;
}

/* Records the takedown (a concurrent one of the same hash waits here on
 * the key until this one ends, then finds the row).  The row says whether
 * it was there already (column 0 is "0"), and by whom, when and why. */
static PGresult *record_takedown(PGconn *pg, const add_args *a)
{
    const char *vals[3] = { a->sha, a->by, a->reason };

    return ctl_pg_query(pg, "takedown add",
        "WITH ins AS (INSERT INTO takedowns (sha256, requested_by, reason)"
        "             VALUES ($1, $2, $3)"
        "             ON CONFLICT (sha256) DO NOTHING RETURNING sha256)"
        " SELECT (SELECT count(*) FROM ins), t.requested_by,"
        "  to_char(t.created_at AT TIME ZONE 'UTC',"
        "          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), t.reason"
        " FROM (SELECT 1) one LEFT JOIN takedowns t ON t.sha256 = $1",
        3, vals, NULL, NULL);
}

/* The accepted samples of the content, locked in upload_id order. */
static PGresult *lock_samples(PGconn *pg, const char *sha)
{
    const char *vals[1] = { sha };

    return ctl_pg_query(pg, "takedown add: locking the samples",
        "SELECT upload_id, sha256, coalesce(original_sha256, sha256),"
        " dataset_id, creator_id FROM samples"
        " WHERE (sha256 = $1 OR original_sha256 = $1)"
        " AND status = 'accepted'"
        " ORDER BY upload_id FOR UPDATE", 1, vals, NULL, NULL);
}

/* How a takedown withdraws a sample (withdraw.c). */
static const ctl_withdrawal takedown_withdrawal = {
    "takedown add", TAKEDOWN_STAGE, TAKEDOWN_VERSION, TAKEDOWN_REASON,
    "takedown"
};

static void print_unchanged(const char *sha, PGresult *td)
{
    if (PQgetisnull(td, 0, 1)) {
        printf("content %s already taken down; nothing changed\n", sha);
    } else {
        ctl_esc e = { 0 };
        printf("content %s already taken down (by %s at %s: %s); "
               "nothing changed\n", sha, ctl_e(&e, PQgetvalue(td, 0, 1)),
               PQgetvalue(td, 0, 2), ctl_e(&e, PQgetvalue(td, 0, 3)));
        ctl_esc_free(&e);
    }
}

static void print_withdrawn(const add_args *a, int existed, PGresult *rows,
                            const int64_t *seqs)
{
    if (existed)
        printf("content %s was already taken down; withdrawing samples "
               "accepted since\n", a->sha);
    else
        printf("content %s taken down (by %s)\n", a->sha, a->by);
    for (int i = 0; i < PQntuples(rows); i++) {
        ctl_esc e = { 0 };
        printf("withdrawn: upload %s (dataset %s, creator %s), provenance "
               "event %" PRId64 "\n", ctl_e(&e, PQgetvalue(rows, i, 0)),
               ctl_e(&e, PQgetvalue(rows, i, 3)),
               ctl_e(&e, PQgetvalue(rows, i, 4)), seqs[i]);
        ctl_esc_free(&e);
    }
    printf("%d sample%s withdrawn\n", PQntuples(rows),
           PQntuples(rows) == 1 ? "" : "s");
}

static int takedown_add(ctl *c, int argc, char **argv)
{
    add_args a = { 0 };
    PGconn *pg = NULL;
    PGresult *td = NULL, *rows = NULL;
    int64_t *seqs = NULL;
    int rc, in_txn = 0, existed, done = 0;

    if ((rc = add_parse(c, argc, argv, &a, &done)) != CTL_OK || done ||
        (rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) ||
        ctl_pg_exec(pg, "takedown add: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if ((a.upload && find_upload(pg, &a) != CTL_OK) ||
        !(td = record_takedown(pg, &a)) || !(rows = lock_samples(pg, a.sha)))
        goto out;
    existed = strcmp(PQgetvalue(td, 0, 0), "0") == 0;
    if (existed && PQntuples(rows) == 0) {
        in_txn = 0;
        if (ctl_pg_exec(pg, "takedown add: ROLLBACK", "ROLLBACK") != CTL_OK)
            goto out;
        print_unchanged(a.sha, td);
        rc = CTL_OK;
        goto out;
    }
    if (!(seqs = calloc((size_t)PQntuples(rows) + 1, sizeof(*seqs)))) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if (ctl_withdraw_all(c, pg, &takedown_withdrawal, rows, seqs) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "takedown add: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    print_withdrawn(&a, existed, rows, seqs);
    rc = CTL_OK;
out:
    free(seqs);
    PQclear(td);
    PQclear(rows);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
    PQfinish(pg);
    return rc;
}

static int takedown_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = {
        "SHA256", "BY", "CREATED", ">WITHDRAWN", "REASON"
    };
    static const int cols[] = { 0, 1, 2, 3, 4 };
    static const ctl_list_field fields[] = {
        { "sha256", 0, 0 }, { "requested_by", 1, 0 }, { "created_at", 2, 0 },
        { "withdrawn_samples", 3, 1 }, { "reason", 4, 0 },
    };
    /* Withdrawn samples per hash in one pass: a sample counts under its
     * stored and, if different, its signed content hash. */
    static const ctl_list_spec list = {
        "takedown list", list_usage,
        "SELECT t.sha256, t.requested_by,"
        " to_char(t.created_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " coalesce(w.n, 0), t.reason"
        " FROM takedowns t LEFT JOIN ("
        "  SELECT h, count(*) AS n FROM ("
        "   SELECT sha256 AS h FROM samples WHERE status = 'withdrawn'"
        "   UNION ALL"
        "   SELECT original_sha256 FROM samples WHERE status = 'withdrawn'"
        "    AND original_sha256 IS NOT NULL AND original_sha256 <> sha256"
        "  ) x GROUP BY h) w ON w.h = t.sha256"
        " ORDER BY t.created_at, t.sha256",
        5, headers, cols, "no takedowns recorded", 5, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

int ctl_cmd_takedown(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", takedown_add, "take content down, withdrawing its samples" },
        { "list", takedown_list, "list takedowns" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "takedown", subs, argc, argv, takedown_usage);
}
