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
 * of the hashed events), linked to the last stored event.  Repeating a
 * takedown changes nothing, except to withdraw samples of that content
 * accepted since (uploads that were already past the license stage).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/audit.h"
#include "sl/prov.h"
#include "sl/quota_pg.h"
#include "ctl.h"

#define TAKEDOWN_STAGE   "takedown"
#define TAKEDOWN_VERSION "sluicectl/takedown-1"
#define TAKEDOWN_OUTCOME "withdrawn"
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
    "\"takedown\" provenance event chained to its history.  A sample\n"
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

/* Rebuilds a sample's stored chain (its provenance_events rows in seq
 * order, as a sluice-prov header), appends the takedown event and inserts
 * it.  *seq_out: the new event's seq. */
static int withdraw_one(PGconn *pg, const char *upload, const char *sha,
                        const char *origin, int64_t *seq_out,
                        char hash_out[SL_SHA256_HEX])
{
    const char *vals[8];
    char seqtxt[24];
    PGresult *r = NULL;
    json_t *arr = NULL;
    char *header = NULL;
    sl_prov_chain *pc = NULL;
    sl_err err = { "" };
    const char *canonical, *hash, *stage, *outcome, *prev;
    int64_t seq;
    size_t n;
    int rc = CTL_FAIL;
    sl_prov_event ev = {
        .stage = TAKEDOWN_STAGE, .version = TAKEDOWN_VERSION,
        .outcome = TAKEDOWN_OUTCOME, .reason = TAKEDOWN_REASON,
        .upload_id = upload, .input_sha256 = sha, .output_sha256 = sha,
        .time_ms = sl_now_ms(),
    };

    vals[0] = upload;
    if (!(r = ctl_pg_query(pg, "takedown add: reading the provenance chain",
            "SELECT canonical, hash FROM provenance_events"
            " WHERE owner_kind = 'sample' AND owner_id = $1 ORDER BY seq",
            1, vals, NULL, NULL)))
        goto out;
    if (PQntuples(r) == 0) {
        /* No stored chain (never written by the commit stage): start one
         * anchored, like any chain, to the signed content. */
        fprintf(stderr, "sluicectl: warning: upload %s has no provenance "
                "events; its takedown event starts a chain\n", upload);
        if (!(pc = sl_prov_chain_new(origin, &err))) {
            rc = ctl_fail("takedown add: upload %s: %s", upload, err.msg);
            goto out;
        }
    } else {
        if (!(arr = json_array()))
            goto oom;
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *o = json_pack("{s:s, s:s}", "event", PQgetvalue(r, i, 0),
                                  "hash", PQgetvalue(r, i, 1));
            if (!o || json_array_append_new(arr, o) != 0)
                goto oom;
        }
        if (!(header = json_dumps(arr, JSON_COMPACT)))
            goto oom;
        if (!(pc = sl_prov_parse(SL_SLICE_STR(header), &err))) {
            rc = ctl_fail("takedown add: upload %s: the stored provenance "
                          "chain cannot be read, so the takedown event cannot "
                          "be chained to it: %s\nHint: see `sluicectl audit "
                          "verify --upload %s`; nothing was changed.",
                          upload, err.msg, upload);
            goto out;
        }
        /* A broken chain is the auditor's finding, not a reason to keep
         * content up: the event still links to the last stored event. */
        if (sl_prov_chain_verify(pc, origin, &err) != SL_OK)
            fprintf(stderr, "sluicectl: warning: upload %s: the stored "
                    "provenance chain does not verify (%s); the takedown "
                    "event is appended to its last event (see `sluicectl "
                    "audit verify --upload %s`)\n", upload, err.msg, upload);
    }
    if (sl_prov_chain_add(pc, &ev, &err) != SL_OK) {
        rc = ctl_fail("takedown add: upload %s: %s", upload, err.msg);
        goto out;
    }
    n = sl_prov_count(pc);
    sl_prov_get(pc, n - 1, &canonical, &hash, &stage, &outcome, &seq);
    if (n >= 2)
        sl_prov_get(pc, n - 2, NULL, &prev, NULL, NULL, NULL);
    else
        prev = origin;
    snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, seq);
    PQclear(r);
    vals[0] = upload;
    vals[1] = seqtxt;
    vals[2] = stage;
    vals[3] = outcome;
    vals[4] = canonical;
    vals[5] = hash;
    vals[6] = prev;
    if (!(r = ctl_pg_query(pg, "takedown add: storing the provenance event",
            "INSERT INTO provenance_events (owner_kind, owner_id, seq, stage,"
            " outcome, canonical, hash, prev_hash)"
            " VALUES ('sample', $1, $2::integer, $3, $4, $5, $6, $7)",
            7, vals, NULL, NULL)))
        goto out;
    PQclear(r);
    snprintf(hash_out, SL_SHA256_HEX, "%s", hash);
    /* A withdrawn sample no longer counts against its day's quota. */
    if (!(r = ctl_pg_query(pg, "takedown add: withdrawing the sample",
            "UPDATE samples SET status = 'withdrawn', withdrawn_at = now()"
            " WHERE upload_id = $1 AND status = 'accepted'"
            " RETURNING dataset_id, creator_id, size,"
            " (accepted_at AT TIME ZONE 'UTC')::date::text", 1, vals, NULL, NULL)))
        goto out;
    if (PQntuples(r) == 1 &&
        sl_quota_pg_release(pg, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                            PQgetvalue(r, 0, 3),
                            strtoll(PQgetvalue(r, 0, 2), NULL, 10), NULL,
                            &err) != SL_OK) {
        rc = ctl_fail("takedown add: %s", err.msg);
        goto out;
    }
    *seq_out = seq;
    rc = CTL_OK;
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    sl_prov_chain_destroy(pc);
    free(header);
    json_decref(arr);
    PQclear(r);
    return rc;
}

/* The chains' new heads, sealed with the operator's key (ctl_seal_heads:
 * commit's key never leaves commit, so a chain a takedown extended is as
 * authentic as the operator key's custody, audit verify --trusted-key). */
static int seal_heads(ctl *c, PGconn *pg, PGresult *rows, const int64_t *seqs,
                      char (*hashes)[SL_SHA256_HEX])
{
    size_t n = (size_t)PQntuples(rows);
    sl_audit_headref *refs = calloc(n, sizeof(*refs));
    int rc;

    if (!refs)
        return ctl_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        refs[i] = (sl_audit_headref){ "sample", PQgetvalue(rows, (int)i, 0),
                                      seqs[i], hashes[i] };
    rc = ctl_seal_heads(c, pg, "takedown add", refs, n);
    free(refs);
    return rc;
}

static int takedown_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "upload", required_argument, NULL, 'u' },
        { "reason", required_argument, NULL, 'r' },
        { "by", required_argument, NULL, 'b' },
        { 0 }
    };
    const char *upload = NULL, *reason = NULL, *by = NULL;
    char sha[SL_SHA256_HEX];
    PGconn *pg = NULL;
    PGresult *r = NULL, *td = NULL, *rows = NULL;
    int64_t *seqs = NULL;
    char (*hashes)[SL_SHA256_HEX] = NULL;
    int opt, rc, in_txn = 0, existed;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "takedown add", add_usage)) != -1) {
        switch (opt) {
        case 'u': upload = optarg; break;
        case 'r': reason = optarg; break;
        case 'b': by = optarg; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if ((argc - optind == 1) == !!upload)
        return ctl_usage_error("takedown add", argc - optind > 1 ?
                               "expected one SHA-256" :
                               "give the content's SHA-256 or --upload ID "
                               "(exactly one)");
    if (!upload && parse_sha(argv[optind], sha) != SL_OK)
        return ctl_usage_error("takedown add", "\"%s\" is not a SHA-256 "
                               "(64 hex digits)", argv[optind]);
    if (!reason)
        return ctl_usage_error("takedown add", "--reason is required");
    if (ctl_check_note(reason, CTL_NOTE_MAX) != SL_OK)
        return ctl_usage_error("takedown add", "--reason must be 1 to %d "
                               "bytes without control characters",
                               CTL_NOTE_MAX);
    by = ctl_operator(by);
    if (ctl_check_note(by, 128) != SL_OK)
        return ctl_usage_error("takedown add", "--by must be 1 to 128 bytes "
                               "without control characters");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (ctl_pg_exec(pg, "takedown add: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if (upload) {
        const char *vals[1] = { upload };
        /* What the creator signed: a redacted sample stores other bytes. */
        if (!(r = ctl_pg_query(pg, "takedown add: finding the upload",
                "SELECT coalesce(original_sha256, sha256) FROM samples"
                " WHERE upload_id = $1", 1, vals, NULL, NULL)))
            goto out;
        if (PQntuples(r) == 0) {
            rc = ctl_fail("takedown add: no sample with upload ID \"%s\" "
                          "(give the content's SHA-256 to take down content "
                          "that was never accepted)", upload);
            goto out;
        }
        memcpy(sha, PQgetvalue(r, 0, 0), SL_SHA256_HEX - 1);
        sha[SL_SHA256_HEX - 1] = '\0';
        PQclear(r);
        r = NULL;
    }
    {
        /* A concurrent takedown of the same hash waits here on the key
         * until this one ends, then finds the row. */
        const char *vals[3] = { sha, by, reason };
        if (!(td = ctl_pg_query(pg, "takedown add",
                "WITH ins AS (INSERT INTO takedowns (sha256, requested_by, reason)"
                "             VALUES ($1, $2, $3)"
                "             ON CONFLICT (sha256) DO NOTHING RETURNING sha256)"
                " SELECT (SELECT count(*) FROM ins), t.requested_by,"
                "  to_char(t.created_at AT TIME ZONE 'UTC',"
                "          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), t.reason"
                " FROM (SELECT 1) one LEFT JOIN takedowns t ON t.sha256 = $1",
                3, vals, NULL, NULL)))
            goto out;
        existed = strcmp(PQgetvalue(td, 0, 0), "0") == 0;
    }
    {
        const char *vals[1] = { sha };
        if (!(rows = ctl_pg_query(pg, "takedown add: locking the samples",
                "SELECT upload_id, sha256, coalesce(original_sha256, sha256),"
                " dataset_id, creator_id FROM samples"
                " WHERE (sha256 = $1 OR original_sha256 = $1)"
                " AND status = 'accepted'"
                " ORDER BY upload_id FOR UPDATE", 1, vals, NULL, NULL)))
            goto out;
    }
    if (existed && PQntuples(rows) == 0) {
        in_txn = 0;
        if (ctl_pg_exec(pg, "takedown add: ROLLBACK", "ROLLBACK") != CTL_OK)
            goto out;
        if (PQgetisnull(td, 0, 1))
            printf("content %s already taken down; nothing changed\n", sha);
        else {
            ctl_esc e = { 0 };
            printf("content %s already taken down (by %s at %s: %s); "
                   "nothing changed\n", sha, ctl_e(&e, PQgetvalue(td, 0, 1)),
                   PQgetvalue(td, 0, 2), ctl_e(&e, PQgetvalue(td, 0, 3)));
            ctl_esc_free(&e);
        }
        rc = CTL_OK;
        goto out;
    }
    if (!(seqs = calloc((size_t)PQntuples(rows) + 1, sizeof(*seqs)))) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if (!(hashes = calloc((size_t)PQntuples(rows) + 1, sizeof(*hashes)))) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    for (int i = 0; i < PQntuples(rows); i++)
        if (withdraw_one(pg, PQgetvalue(rows, i, 0), PQgetvalue(rows, i, 1),
                         PQgetvalue(rows, i, 2), &seqs[i], hashes[i]) != CTL_OK)
            goto out;
    if (PQntuples(rows) > 0 && seal_heads(c, pg, rows, seqs, hashes) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "takedown add: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    if (existed)
        printf("content %s was already taken down; withdrawing samples "
               "accepted since\n", sha);
    else
        printf("content %s taken down (by %s)\n", sha, by);
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
    rc = CTL_OK;
out:
    free(seqs);
    free(hashes);
    PQclear(r);
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
