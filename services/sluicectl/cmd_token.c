/*
 * cmd_token.c -- `sluicectl token issue|list|revoke`: the bearer tokens of
 * the feed (table feed_tokens, 017_feed.sql).
 *
 * A token belongs to a consumer ("slc_" + 64 hex: reads its granted
 * datasets, optionally narrowed to some, with scope read or metadata) or
 * to a creator ("slr_" + 64 hex: reads its own uploads' outcomes), made by
 * fd_token_new (services/feed/feed_logic.h).  issue prints the token once,
 * on stdout, alone on its line; the database keeps only fd_token_hash of
 * it (SHA-256 of the whole text, prefix included, lowercase hex), so
 * neither a database reader nor `token list` can ever show it again.
 * Revoking a token stops it on its next request on every feed instance:
 * the change and pg_notify('sluice_feed_auth', '') are one statement.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "feed_logic.h"
#include "ctl.h"

/* Tokens live 1 second .. 10 years; 30 days unless asked. */
#define TOKEN_TTL_DEFAULT "30d"
#define TOKEN_TTL_MAX     (INT64_C(3650) * 86400)
#define TOKEN_DATASETS_MAX 1000
#define TOKEN_LABEL_MAX   200

static const char token_usage[] =
    "usage: sluicectl token <command>\n"
    "Bearer tokens of the feed (sluice-feed): a consumer's reads its\n"
    "granted datasets, a creator's its own uploads' outcomes.  Only the\n"
    "token's SHA-256 is stored.  pg.dsn / SLUICE_PG_DSN.\n";

static const char issue_usage[] =
    "usage: sluicectl token issue (--consumer NAME | --creator ID)\n"
    "       [--datasets A,B] [--ttl 30d] [--scope read|metadata] [--label TEXT]\n"
    "Make a token and print it once on stdout (slc_<64 hex> for a consumer,\n"
    "slr_<64 hex> for a creator); what it is, on stderr.  Keep it: it\n"
    "cannot be shown again, only revoked.\n"
    "  --consumer NAME  an active consumer's token\n"
    "  --creator ID     an active creator's token (its uploads' outcomes)\n"
    "  --datasets A,B   a consumer's token reads only these datasets (still\n"
    "                   only while a grant allows); default: every granted one\n"
    "  --ttl N[smhdw]   lifetime, 1s to 3650d (default " TOKEN_TTL_DEFAULT ")\n"
    "  --scope S        read (default): lines, changes, manifests and content;\n"
    "                   metadata: no content\n"
    "  --label TEXT     a note shown by `token list` (up to 200 bytes)\n";

static const char list_usage[] =
    "usage: sluicectl token list [--consumer NAME | --creator ID] [--json]\n"
    "List tokens (never the token or its hash): ID, label, holder, scope,\n"
    "datasets, created, expires, state (active, expired, revoked,\n"
    "holder_disabled).  --json: one JSON array.\n";

static const char revoke_usage[] =
    "usage: sluicectl token revoke TOKEN_ID\n"
    "Revoke a token: it stops working on its next request, on every feed\n"
    "instance.\n";

/* What `token issue` was asked. */
typedef struct issue_args {
    const char *consumer, *creator, *datasets, *ttl, *scope, *label;
    int64_t ttl_s;
    sl_buf datasets_array;        /* "{a,b}" when --datasets */
} issue_args;

static int issue_check(issue_args *a)
{
    long bad;
    int rc;

    if (!a->consumer == !a->creator)
        return ctl_usage_error("token issue", "give --consumer NAME or "
                               "--creator ID (exactly one)");
    if (a->consumer && ctl_check_name(a->consumer) != SL_OK)
        return ctl_usage_error("token issue", "--consumer: \"%s\" is not a "
                               "consumer name", a->consumer);
    if (a->creator && ctl_check_id(a->creator) != SL_OK)
        return ctl_usage_error("token issue", "--creator: \"%s\" is not a "
                               "creator ID", a->creator);
    if (a->creator && (a->datasets || strcmp(a->scope, "read") != 0))
        return ctl_usage_error("token issue", "--datasets and --scope are "
                               "for consumers' tokens (a creator's reads its "
                               "own uploads' outcomes)");
    if (strcmp(a->scope, "read") != 0 && strcmp(a->scope, "metadata") != 0)
        return ctl_usage_error("token issue", "--scope: \"%s\" is neither "
                               "read nor metadata", a->scope);
    if (ctl_parse_duration(a->ttl, TOKEN_TTL_MAX, &a->ttl_s) != SL_OK)
        return ctl_usage_error("token issue", "--ttl: \"%s\" is not a "
                               "duration of 1s to 3650d (a number and one of "
                               "s m h d w, e.g. 30d)", a->ttl);
    if (a->label[0] && ctl_check_note(a->label, TOKEN_LABEL_MAX) != SL_OK)
        return ctl_usage_error("token issue", "--label must be up to %d "
                               "bytes without control characters",
                               TOKEN_LABEL_MAX);
    if (a->datasets &&
        (rc = ctl_id_list_array(a->datasets, TOKEN_DATASETS_MAX,
                                &a->datasets_array, &bad)) != SL_OK) {
        if (rc != SL_EINVAL)
            return ctl_fail("out of memory");
        return bad < 0
            ? ctl_usage_error("token issue", "--datasets: more than %d "
                              "datasets", TOKEN_DATASETS_MAX)
            : ctl_usage_error("token issue", "--datasets: \"%s\" is not a "
                              "comma-separated list of dataset IDs (at \"%s\")",
                              a->datasets, a->datasets + bad);
    }
    return CTL_OK;
}

/* One statement: the holder and datasets checked, the hash stored. */
static PGresult *insert_token(PGconn *pg, const issue_args *a,
                              const char *hash)
{
    char ttl[32];
    const char *vals[7] = {
        hash, a->consumer, a->creator,
        a->datasets ? (const char *)a->datasets_array.data : NULL,
        a->scope, a->label, ttl
    };

    snprintf(ttl, sizeof(ttl), "%" PRId64, a->ttl_s);
    return ctl_pg_query(pg, "token issue",
        "WITH h AS (SELECT CASE WHEN $2::text IS NOT NULL"
        "   THEN (SELECT status FROM consumers WHERE consumer_id = $2)"
        "   ELSE (SELECT status FROM creators WHERE creator_id = $3) END AS status),"
        " missing AS (SELECT d FROM unnest($4::text[]) d"
        "   WHERE NOT EXISTS (SELECT 1 FROM datasets WHERE dataset_id = d)),"
        " ins AS (INSERT INTO feed_tokens (token_sha256, consumer_id, creator_id,"
        "          datasets, scope, label, expires_at)"
        "         SELECT $1, $2, $3, $4::text[], $5, $6,"
        "          now() + $7::bigint * interval '1 second'"
        "          WHERE (SELECT status FROM h) = 'active'"
        "          AND NOT EXISTS (SELECT 1 FROM missing)"
        "         RETURNING token_id, expires_at)"
        " SELECT (SELECT status FROM h),"
        "  (SELECT string_agg(d, ',') FROM missing),"
        "  (SELECT token_id FROM ins),"
        "  (SELECT to_char(expires_at AT TIME ZONE 'UTC',"
        "          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM ins)",
        7, vals, NULL, NULL);
}

static int token_issue(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "creator", required_argument, NULL, 'r' },
        { "datasets", required_argument, NULL, 'd' },
        { "ttl", required_argument, NULL, 't' },
        { "scope", required_argument, NULL, 's' },
        { "label", required_argument, NULL, 'l' },
        { 0 }
    };
    issue_args a = { .ttl = TOKEN_TTL_DEFAULT, .scope = "read", .label = "" };
    char token[FD_TOKEN_MAX] = "", hash[SL_SHA256_HEX];
    const char *who;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    sl_buf_init(&a.datasets_array, 1 << 20);
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "token issue", issue_usage)) != -1) {
        switch (opt) {
        case 'C': a.consumer = optarg; break;
        case 'r': a.creator = optarg; break;
        case 'd': a.datasets = optarg; break;
        case 't': a.ttl = optarg; break;
        case 's': a.scope = optarg; break;
        case 'l': a.label = optarg; break;
        default:
            rc = ctl_getopt_exit(opt);
            goto out;
        }
    }
    if (optind < argc) {
        rc = ctl_usage_error("token issue", "unexpected argument \"%s\"",
                             argv[optind]);
        goto out;
    }
    if ((rc = issue_check(&a)) != CTL_OK || (rc = ctl_load_config(c)) != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    who = a.consumer ? a.consumer : a.creator;
    if (fd_token_new(a.creator ? FD_HOLDER_CREATOR : FD_HOLDER_CONSUMER,
                     token) != SL_OK ||
        fd_token_hash(token, hash) != SL_OK) {
        rc = ctl_fail("token issue: no randomness to make a token from");
        goto out;
    }
    if (!(pg = ctl_pg_connect(c)) || !(r = insert_token(pg, &a, hash)))
        goto out;
    if (PQgetisnull(r, 0, 0))
        rc = ctl_fail("token issue: no %s \"%s\"",
                      a.consumer ? "consumer" : "creator", who);
    else if (strcmp(PQgetvalue(r, 0, 0), "active") != 0)
        rc = ctl_fail("token issue: %s \"%s\" is disabled",
                      a.consumer ? "consumer" : "creator", who);
    else if (!PQgetisnull(r, 0, 1))
        rc = ctl_fail("token issue: no dataset %s", PQgetvalue(r, 0, 1));
    else {
        printf("%s\n", token);
        fflush(stdout);
        fprintf(stderr, "token %s for %s %s (scope %s%s%s), expires %s\n",
                PQgetvalue(r, 0, 2), a.consumer ? "consumer" : "creator",
                who, a.scope, a.datasets ? ", datasets " : "",
                a.datasets ? (const char *)a.datasets_array.data : "",
                PQgetvalue(r, 0, 3));
        rc = CTL_OK;
    }
out:
    sodium_memzero(token, sizeof(token));
    sl_buf_free(&a.datasets_array);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

#define TOKEN_TIME(col) \
    " to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int token_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "creator", required_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    static const char *const headers[] = {
        ">ID", "LABEL", "HOLDER", "SCOPE", "DATASETS", "CREATED", "EXPIRES",
        "STATE"
    };
    static const int cols[] = { 0, 1, 3, 4, 5, 6, 7, 8 };
    static const ctl_list_field fields[] = {
        { "token_id", 0, 1, 0 }, { "label", 1, 0, 0 },
        { "holder_kind", 2, 0, 0 }, { "holder", 3, 0, 0 },
        { "scope", 4, 0, 0 }, { "datasets", 5, 0, 1 },
        { "created_at", 6, 0, 0 }, { "expires_at", 7, 0, 0 },
        { "state", 8, 0, 0 }, { "revoked_at", 9, 0, 1 },
    };
    static const ctl_list_spec list = {
        "token list", list_usage, NULL,
        8, headers, cols, "no tokens", 10, fields,
    };
    const char *consumer = NULL, *creator = NULL;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "token list", list_usage)) != -1) {
        switch (opt) {
        case 'C': consumer = optarg; break;
        case 'r': creator = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("token list", "unexpected argument \"%s\"",
                               argv[optind]);
    if (consumer && creator)
        return ctl_usage_error("token list", "give --consumer or --creator, "
                               "not both");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[2] = { consumer, creator };
        if (!(r = ctl_pg_query(pg, "token list",
                "SELECT t.token_id, t.label,"
                " CASE WHEN t.consumer_id IS NOT NULL THEN 'consumer'"
                "  ELSE 'creator' END,"
                " coalesce(t.consumer_id, t.creator_id), t.scope,"
                " array_to_string(t.datasets, ','),"
                TOKEN_TIME("t.created_at") "," TOKEN_TIME("t.expires_at") ","
                " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
                "  WHEN t.expires_at <= now() THEN 'expired'"
                "  WHEN coalesce(k.status, cr.status) <> 'active'"
                "   THEN 'holder_disabled'"
                "  ELSE 'active' END,"
                TOKEN_TIME("t.revoked_at")
                " FROM feed_tokens t"
                " LEFT JOIN consumers k ON k.consumer_id = t.consumer_id"
                " LEFT JOIN creators cr ON cr.creator_id = t.creator_id"
                " WHERE ($1::text IS NULL OR t.consumer_id = $1)"
                " AND ($2::text IS NULL OR t.creator_id = $2)"
                " ORDER BY t.token_id", 2, vals, NULL, NULL)))
            goto out;
    }
    rc = ctl_list_output(&list, r, json);
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int token_revoke(ctl *c, int argc, char **argv)
{
    static const ctl_revoke_spec spec = {
        .what = "token", .usage = revoke_usage, .table = "feed_tokens", .id_col = "token_id",
        .id_name = "TOKEN_ID"
    };
    return ctl_revoke_by_id(c, argc, argv, &spec);
}

int ctl_cmd_token(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "issue", token_issue, "make a token and print it once" },
        { "list", token_list, "list tokens (never the token)" },
        { "revoke", token_revoke, "revoke a token" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "token", subs, argc, argv, token_usage);
}
