/*
 * cmd_moderator.c -- `sluicectl moderator add|list|disable|passwd`: the
 * accounts of the review dashboard (table moderators, 012_review.sql).
 *
 * A password is read from a file (never from the command line, where ps
 * shows it; one trailing newline is dropped), checked and hashed with
 * Argon2id (sl/websec.h: libsodium crypto_pwhash_str), and only the hash
 * is stored.  Disabling an account or changing its password ends every
 * session it has (review_sessions.revoked_at), in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl/websec.h"
#include "ctl.h"

static const char moderator_usage[] =
    "usage: sluicectl moderator <command>\n"
    "Manage the accounts of the review dashboard (sluice-review).\n";

static const char add_usage[] =
    "usage: sluicectl moderator add NAME [--role moderator|lead] --password-file FILE\n"
    "Create a moderator account.  NAME: 1-64 of A-Z a-z 0-9 . _ -, starting\n"
    "with a letter or digit.  FILE holds the password (12 to 1024 bytes; one\n"
    "trailing newline is ignored); only its Argon2id hash is stored.  A lead\n"
    "may also reverse decisions.\n";

static const char list_usage[] =
    "usage: sluicectl moderator list [--json]\n"
    "List moderator accounts (never a password or its hash).\n";

static const char disable_usage[] =
    "usage: sluicectl moderator disable NAME\n"
    "Disable an account and end its sessions.\n";

static const char passwd_usage[] =
    "usage: sluicectl moderator passwd NAME --password-file FILE\n"
    "Set a new password (and end the account's sessions).\n";

/* Reads and hashes the password in path.  CTL_OK or the exit code. */
static int hash_password_file(const char *what, const char *path,
                              char out[SL_WS_PWHASH_MAX])
{
    uint8_t *pw = NULL;
    size_t len = 0;
    sl_err err = { "" };
    int rc;

    if (ctl_read_file(path, SL_WS_PASSWORD_MAX + 2, &pw, &len, &err) != SL_OK)
        return ctl_fail("%s: password file: %s", what, err.msg);
    if (len > 0 && pw[len - 1] == '\n')
        len--;
    if (len > 0 && pw[len - 1] == '\r')
        len--;
    rc = sl_ws_password_hash((const char *)pw, len, out, &err);
    sodium_memzero(pw, len);
    free(pw);
    if (rc != SL_OK)
        return ctl_fail("%s: %s", what, err.msg);
    return CTL_OK;
}

static int moderator_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "role", required_argument, NULL, 'r' },
        { "password-file", required_argument, NULL, 'p' },
        { 0 }
    };
    const char *role = "moderator", *pwfile = NULL, *name;
    char hash[SL_WS_PWHASH_MAX];
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "moderator add", add_usage)) != -1) {
        switch (opt) {
        case 'r': role = optarg; break;
        case 'p': pwfile = optarg; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("moderator add", "expected exactly one NAME");
    name = argv[optind];
    if (ctl_check_name(name) != SL_OK)
        return ctl_usage_error("moderator add", "\"%s\" is not a valid name "
                               "(1-64 of A-Z a-z 0-9 . _ -, starting with a "
                               "letter or digit)", name);
    if (strcmp(role, "moderator") != 0 && strcmp(role, "lead") != 0)
        return ctl_usage_error("moderator add", "--role must be moderator or lead");
    if (!pwfile)
        return ctl_usage_error("moderator add", "--password-file is required");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if ((rc = hash_password_file("moderator add", pwfile, hash)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[3] = { name, role, hash };
        if (!(r = ctl_pg_query(pg, "moderator add",
                "INSERT INTO moderators (name, role, pw_hash) VALUES ($1, $2, $3)"
                " ON CONFLICT (name) DO NOTHING RETURNING name",
                3, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("moderator add: moderator \"%s\" already exists "
                      "(moderator passwd changes a password)", name);
        goto out;
    }
    printf("moderator %s added (%s)\n", name, role);
    rc = CTL_OK;
out:
    sodium_memzero(hash, sizeof hash);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int moderator_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = { "NAME", "ROLE", "STATUS", "CREATED", ">SESSIONS" };
    static const int cols[] = { 0, 1, 2, 3, 4 };
    static const ctl_list_field fields[] = {
        { "name", 0, 0 }, { "role", 1, 0 }, { "status", 2, 0 },
        { "created_at", 3, 0 }, { "live_sessions", 4, 1 },
    };
    static const ctl_list_spec list = {
        "moderator list", list_usage,
        "SELECT m.name, m.role, CASE WHEN m.disabled THEN 'disabled' ELSE 'active' END,"
        " to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " (SELECT count(*) FROM review_sessions s WHERE s.moderator = m.name"
        "  AND s.revoked_at IS NULL AND s.last_seen_at > now() - interval '1 day')"
        " FROM moderators m ORDER BY m.name",
        5, headers, cols, "no moderators", 5, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

/* Runs sql ($1 = name[, $2 = hash]) then ends the account's sessions, in
 * one transaction.  CTL_OK or CTL_FAIL. */
static int update_account(ctl *c, const char *what, const char *sql,
                          const char *name, const char *hash)
{
    const char *vals[2] = { name, hash };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int rc = CTL_FAIL;

    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    if (ctl_pg_exec(pg, what, "BEGIN") != CTL_OK)
        goto out;
    if (!(r = ctl_pg_query(pg, what, sql, hash ? 2 : 1, vals, NULL, NULL)))
        goto out;
    if (PQntuples(r) == 0) {
        rc = ctl_fail("%s: no moderator \"%s\"", what, name);
        goto out;
    }
    PQclear(r);
    if (!(r = ctl_pg_query(pg, what,
            "UPDATE review_sessions SET revoked_at = now()"
            " WHERE moderator = $1 AND revoked_at IS NULL", 1, vals, NULL, NULL)))
        goto out;
    if (ctl_pg_exec(pg, what, "COMMIT") != CTL_OK)
        goto out;
    printf("%s: %s (%s sessions ended)\n", what, name, PQcmdTuples(r));
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int one_name(ctl *c, int argc, char **argv, const char *what,
                    const char *usage, const char **pwfile)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "password-file", required_argument, NULL, 'p' },
        { 0 }
    };
    int opt;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             what, usage)) != -1) {
        if (opt == 'p' && pwfile)
            *pwfile = optarg;
        else
            return ctl_getopt_exit(opt == 'p' ? -3 : opt);
    }
    if (argc - optind != 1)
        return ctl_usage_error(what, "expected exactly one NAME");
    if (pwfile && !*pwfile)
        return ctl_usage_error(what, "--password-file is required");
    return CTL_OK;
}

static int moderator_disable(ctl *c, int argc, char **argv)
{
    int rc = one_name(c, argc, argv, "moderator disable", disable_usage, NULL);

    if (rc != CTL_OK)
        return rc;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    return update_account(c, "moderator disable",
        "UPDATE moderators SET disabled = true, updated_at = now()"
        " WHERE name = $1 RETURNING name", argv[optind], NULL);
}

static int moderator_passwd(ctl *c, int argc, char **argv)
{
    const char *pwfile = NULL;
    char hash[SL_WS_PWHASH_MAX];
    int rc = one_name(c, argc, argv, "moderator passwd", passwd_usage, &pwfile);

    if (rc != CTL_OK)
        return rc;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if ((rc = hash_password_file("moderator passwd", pwfile, hash)) != CTL_OK)
        return rc;
    rc = update_account(c, "moderator passwd",
        "UPDATE moderators SET pw_hash = $2, updated_at = now()"
        " WHERE name = $1 RETURNING name", argv[optind], hash);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int ctl_cmd_moderator(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", moderator_add, "create a moderator account" },
        { "list", moderator_list, "list moderator accounts" },
        { "disable", moderator_disable, "disable an account, ending its sessions" },
        { "passwd", moderator_passwd, "set an account's password" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "moderator", subs, argc, argv, moderator_usage);
}
