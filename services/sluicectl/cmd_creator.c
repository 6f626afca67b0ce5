/*
 * cmd_creator.c -- `sluicectl creator add|list|disable|enable`: the
 * registry of creators and the keys the validate stage checks uploads
 * against (table creators: an Ed25519 public key, 32 raw bytes, or an HMAC
 * secret, stored as bytea through a binary parameter).
 *
 * `add --generate-key` writes the key files inside the database transaction
 * that registers the public key, so a failure on either side leaves neither
 * a registered key without its private half nor key files for a creator
 * that was not added.  Key files are always new files (sl_keyfile_create:
 * O_EXCL | O_NOFOLLOW, mode 0600 for private keys).
 *
 * An HMAC secret is stored sealed (sl_hmac_box_seal) in hmac_secret_box
 * under the secrets key file (secrets.key.file, created on first use), with
 * key_material left empty; `seal-secrets` seals the plaintext secrets of
 * rows written before migration 011.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sl/crypto.h"
#include "ctl.h"

#define HMAC_SECRET_WEAK 16

static const char creator_usage[] =
    "usage: sluicectl creator <command>\n"
    "Manage registered creators and their signing keys (pg.dsn / SLUICE_PG_DSN).\n";

static const char add_usage[] =
    "usage: sluicectl creator add ID (--ed25519-pub FILE | --generate-key PRIVFILE |\n"
    "                                 --hmac-secret-file FILE)\n"
    "                             [--name NAME] [--unverified] [--replace]\n"
    "Register a creator and the key its uploads are signed with.\n"
    "  --ed25519-pub FILE        Ed25519 public key, PEM (SubjectPublicKeyInfo)\n"
    "  --generate-key PRIVFILE   make a fresh Ed25519 key: private key PEM to\n"
    "                            PRIVFILE (mode 0600), public key PEM to\n"
    "                            PRIVFILE.pub; neither may exist yet\n"
    "  --hmac-secret-file FILE   HMAC-SHA256 shared secret: the file's exact\n"
    "                            bytes (1 to 256; mind a trailing newline)\n"
    "  --name NAME               display name\n"
    "  --unverified              register as not verified (uploads are\n"
    "                            rejected until verified)\n"
    "  --replace                 replace the key (and name, if given) of an\n"
    "                            existing creator; its status is kept\n";

static const char list_usage[] =
    "usage: sluicectl creator list [--json]\n"
    "List registered creators (Ed25519 public keys in base64; HMAC secrets\n"
    "are never printed).  --json: one JSON array.\n";

static const char disable_usage[] =
    "usage: sluicectl creator disable ID\n"
    "Disable a creator: the validate stage rejects its new uploads.\n";

static const char seal_usage[] =
    "usage: sluicectl creator seal-secrets\n"
    "Seal every HMAC secret still stored in plaintext (creators registered\n"
    "before migration 011) under the secrets key file (secrets.key.file,\n"
    "created mode 0600 when missing), and clear the plaintext.  validate\n"
    "refuses HMAC creators whose secret is not sealed.\n";

static const char enable_usage[] =
    "usage: sluicectl creator enable ID\n"
    "Enable a disabled creator again.\n";

/* The key to register, from one of the three sources. */
typedef struct add_key {
    const char *alg;                  /* "ed25519" / "hmac-sha256" */
    uint8_t *material;                /* Ed25519: key_material; HMAC: the secret */
    size_t len;
    uint8_t box[SL_HMAC_BOX_MAX];     /* HMAC: hmac_secret_box */
    size_t boxlen;
    uint8_t seed[32];                 /* --generate-key only */
    char pub_path[4096];
} add_key;

static int path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 || errno != ENOENT;
}

static int load_key(const char *pub_file, const char *gen_file,
                    const char *hmac_file, add_key *k)
{
    sl_err err = { "" };

    if (pub_file) {
        k->alg = "ed25519";
        if (!(k->material = malloc(32)))
            return ctl_fail("out of memory");
        k->len = 32;
        if (sl_ed25519_read_public_pem(pub_file, k->material, &err) != SL_OK)
            return ctl_fail("creator add: %s", err.msg);
        return CTL_OK;
    }
    if (hmac_file) {
        k->alg = "hmac-sha256";
        if (ctl_read_file(hmac_file, CTL_HMAC_SECRET_MAX, &k->material,
                          &k->len, &err) != SL_OK)
            return ctl_fail("creator add: HMAC secret: %s", err.msg);
        if (k->len == 0)
            return ctl_fail("creator add: HMAC secret file %s is empty",
                            hmac_file);
        if (k->len < HMAC_SECRET_WEAK)
            fprintf(stderr, "sluicectl: warning: the HMAC secret is only %zu "
                    "bytes; 32 random bytes are recommended\n", k->len);
        return CTL_OK;
    }
    k->alg = "ed25519";
    if ((size_t)snprintf(k->pub_path, sizeof(k->pub_path), "%s.pub", gen_file)
        >= sizeof(k->pub_path))
        return ctl_fail("creator add: key file name too long");
    if (path_exists(gen_file) || path_exists(k->pub_path))
        return ctl_fail("creator add: %s already exists; refusing to overwrite "
                        "a key file", path_exists(gen_file) ? gen_file
                                                            : k->pub_path);
    if (!(k->material = malloc(32)))
        return ctl_fail("out of memory");
    k->len = 32;
    if (sl_ed25519_generate(k->seed, k->material) != SL_OK)
        return ctl_fail("creator add: cannot generate an Ed25519 key");
    return CTL_OK;
}

static int seal_secret(ctl *c, const char *id, add_key *k);

static int creator_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "ed25519-pub", required_argument, NULL, 'P' },
        { "generate-key", required_argument, NULL, 'G' },
        { "hmac-secret-file", required_argument, NULL, 'H' },
        { "name", required_argument, NULL, 'n' },
        { "unverified", no_argument, NULL, 'U' },
        { "replace", no_argument, NULL, 'R' },
        { 0 }
    };
    const char *pub_file = NULL, *gen_file = NULL, *hmac_file = NULL;
    const char *name = NULL, *id;
    int unverified = 0, replace = 0, sources, opt, rc;
    int files_written = 0, in_txn = 0, inserted;
    add_key key = { 0 };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    sl_err err = { "" };

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "creator add", add_usage)) != -1) {
        switch (opt) {
        case 'P': pub_file = optarg; break;
        case 'G': gen_file = optarg; break;
        case 'H': hmac_file = optarg; break;
        case 'n': name = optarg; break;
        case 'U': unverified = 1; break;
        case 'R': replace = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("creator add", argc - optind ?
                               "expected exactly one creator ID" :
                               "missing creator ID");
    id = argv[optind];
    if (ctl_check_id(id) != SL_OK)
        return ctl_usage_error("creator add", "\"%s\" is not a valid ID "
                               "(1-128 of A-Z a-z 0-9 . _ : -, starting with "
                               "a letter or digit)", id);
    sources = !!pub_file + !!gen_file + !!hmac_file;
    if (sources != 1)
        return ctl_usage_error("creator add", "give exactly one of "
                               "--ed25519-pub, --generate-key, "
                               "--hmac-secret-file");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if ((rc = load_key(pub_file, gen_file, hmac_file, &key)) != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    if (hmac_file && seal_secret(c, id, &key) != CTL_OK)
        goto out;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (ctl_pg_exec(pg, "creator add: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    {
        /* An HMAC secret goes in sealed; key_material stays empty. */
        int hmac = key.boxlen > 0;
        const char *vals[7] = { id, name ? name : "", key.alg,
                                hmac ? "" : (const char *)key.material,
                                unverified ? "false" : "true",
                                hmac ? (const char *)key.box : NULL,
                                name ? "true" : "false" };
        const int lens[7] = { 0, 0, 0, hmac ? 0 : (int)key.len, 0,
                              (int)key.boxlen, 0 };
        const int fmts[7] = { 0, 0, 0, 1, 0, 1, 0 };
        const char *sql = replace ?
            "INSERT INTO creators (creator_id, display_name, key_alg,"
            " key_material, verified, hmac_secret_box)"
            " VALUES ($1, $2, $3, $4, $5::boolean, $6)"
            " ON CONFLICT (creator_id) DO UPDATE SET"
            "  display_name = CASE WHEN $7::boolean THEN EXCLUDED.display_name"
            "                 ELSE creators.display_name END,"
            "  key_alg = EXCLUDED.key_alg,"
            "  key_material = EXCLUDED.key_material,"
            "  hmac_secret_box = EXCLUDED.hmac_secret_box,"
            "  verified = EXCLUDED.verified,"
            "  updated_at = now()"
            " RETURNING (xmax = 0) AS inserted" :
            "INSERT INTO creators (creator_id, display_name, key_alg,"
            " key_material, verified, hmac_secret_box)"
            " VALUES ($1, $2, $3, $4, $5::boolean, $6)"
            " ON CONFLICT (creator_id) DO NOTHING"
            " RETURNING true AS inserted";
        if (!(r = ctl_pg_query(pg, "creator add", sql, replace ? 7 : 6, vals,
                               lens, fmts)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("creator add: creator \"%s\" already exists (use "
                      "--replace to replace its key)", id);
        goto out;
    }
    inserted = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (gen_file) {
        if (sl_ed25519_write_pem(gen_file, key.pub_path, key.seed, &err)
            != SL_OK) {
            /* it removed what it created, and touched nothing else */
            rc = ctl_fail("creator add: writing the key files: %s", err.msg);
            goto out;
        }
        files_written = 1;
    }
    in_txn = 0;
    if (ctl_pg_exec(pg, "creator add: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    files_written = 0;           /* keep them */
    printf("creator %s %s (%s, %s)\n", id, inserted ? "added" : "replaced",
           key.alg, unverified ? "unverified" : "verified");
    if (gen_file)
        printf("private key written to %s, public key to %s\n", gen_file,
               key.pub_path);
    rc = CTL_OK;
out:
    PQclear(r);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
    if (files_written) {
        unlink(gen_file);
        unlink(key.pub_path);
    }
    PQfinish(pg);
    if (key.material)
        OPENSSL_cleanse(key.material, key.len);
    free(key.material);
    OPENSSL_cleanse(key.seed, sizeof(key.seed));
    return rc;
}

/* Loads (or creates) the secrets key file named by secrets.key.file. */
static int secrets_key(ctl *c, uint8_t skey[SL_SECRETS_KEY_LEN], const char *cmd)
{
    const char *path = sl_config_get(c->cfg, "secrets.key.file");
    sl_err err = { "" };
    int created = 0;

    if (!path || !*path)
        return ctl_fail("%s: secrets.key.file is empty", cmd);
    if (sl_secrets_key_load_or_create(path, skey, &created, &err) != SL_OK)
        return ctl_fail("%s: %s", cmd, err.msg);
    if (created)
        fprintf(stderr, "sluicectl: created the secrets key file %s (mode "
                "0600); validate must read the same file\n", path);
    return CTL_OK;
}

/* Seals k->material (an HMAC secret) for creator id into k->box. */
static int seal_secret(ctl *c, const char *id, add_key *k)
{
    uint8_t skey[SL_SECRETS_KEY_LEN];
    int rc;

    if ((rc = secrets_key(c, skey, "creator add")) != CTL_OK)
        return rc;
    rc = sl_hmac_box_seal(skey, id, k->material, k->len, k->box, &k->boxlen);
    OPENSSL_cleanse(skey, sizeof(skey));
    return rc == SL_OK ? CTL_OK : ctl_fail("creator add: cannot seal the "
                                           "HMAC secret");
}

/* seal-secrets: every plaintext HMAC secret sealed, in one transaction. */
static int creator_seal(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    uint8_t skey[SL_SECRETS_KEY_LEN], box[SL_HMAC_BOX_MAX];
    PGconn *pg = NULL;
    PGresult *r = NULL, *u = NULL;
    int opt, rc, in_txn = 0, n = 0;
    size_t boxlen;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "creator seal-secrets", seal_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (optind < argc)
        return ctl_usage_error("creator seal-secrets", "unexpected argument "
                               "\"%s\"", argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if ((rc = secrets_key(c, skey, "creator seal-secrets")) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) ||
        ctl_pg_exec(pg, "creator seal-secrets: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if (!(r = ctl_pg_query(pg, "creator seal-secrets",
            "SELECT creator_id, encode(key_material, 'hex') FROM creators"
            " WHERE key_alg = 'hmac-sha256' AND hmac_secret_box IS NULL"
            " ORDER BY creator_id FOR UPDATE", 0, NULL, NULL, NULL)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *hex = PQgetvalue(r, i, 1);
        uint8_t secret[SL_HMAC_SECRET_MAX];
        size_t len = strlen(hex) / 2;
        int ok = len >= 1 && len <= SL_HMAC_SECRET_MAX &&
                 sl_hex_decode(hex, 2 * len, secret, len) == SL_OK &&
                 sl_hmac_box_seal(skey, id, secret, len, box, &boxlen) == SL_OK;
        OPENSSL_cleanse(secret, sizeof(secret));
        if (!ok) {
            ctl_esc e = { 0 };
            ctl_fail("creator seal-secrets: creator %s has no usable HMAC "
                     "secret (%zu bytes); nothing sealed", ctl_e(&e, id), len);
            ctl_esc_free(&e);
            goto out;
        }
        {
            const char *vals[2] = { id, (const char *)box };
            const int lens[2] = { 0, (int)boxlen }, fmts[2] = { 0, 1 };
            PQclear(u);
            if (!(u = ctl_pg_query(pg, "creator seal-secrets",
                    "UPDATE creators SET hmac_secret_box = $2,"
                    " key_material = ''::bytea, updated_at = now()"
                    " WHERE creator_id = $1", 2, vals, lens, fmts)))
                goto out;
        }
        n++;
    }
    in_txn = 0;
    if (ctl_pg_exec(pg, "creator seal-secrets: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    printf("sealed %d HMAC secret%s\n", n, n == 1 ? "" : "s");
    rc = CTL_OK;
out:
    OPENSSL_cleanse(skey, sizeof(skey));
    PQclear(u);
    PQclear(r);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));
    PQfinish(pg);
    return rc;
}

static int no_args(ctl *c, int argc, char **argv, const char *cmd,
                   const char *usage, const struct option *longopts,
                   const char *shortopts, int *json)
{
    int opt;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, shortopts, longopts, cmd,
                             usage)) != -1) {
        if (opt == 'j' && json)
            *json = 1;
        else
            return ctl_getopt_exit(opt);
    }
    return CTL_OK;
}

static int creator_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "json", no_argument, NULL, 'j' }, { 0 }
    };
    static const char *const headers[] = {
        "ID", "NAME", "ALG", "STATUS", "VERIFIED", "CREATED", "KEY"
    };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    ctl_table *t = NULL;
    json_t *arr = NULL;
    int json = 0, rc;

    if ((rc = no_args(c, argc, argv, "creator list", list_usage, longopts,
                      CTL_COMMON_SHORT, &json)) != CTL_OK)
        return rc;
    if (optind < argc)
        return ctl_usage_error("creator list", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (!(r = ctl_pg_query(pg, "creator list",
            "SELECT creator_id, display_name, key_alg, status, verified,"
            " to_char(created_at AT TIME ZONE 'UTC',"
            "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
            " CASE WHEN key_alg = 'ed25519'"
            "      THEN encode(key_material, 'base64') END,"
            " hmac_secret_box IS NOT NULL"
            " FROM creators ORDER BY creator_id", 0, NULL, NULL, NULL)))
        goto out;
    if (json) {
        if (!(arr = json_array()))
            goto oom;
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}",
                "creator_id", PQgetvalue(r, i, 0),
                "display_name", PQgetvalue(r, i, 1),
                "key_alg", PQgetvalue(r, i, 2),
                "status", PQgetvalue(r, i, 3),
                "verified", strcmp(PQgetvalue(r, i, 4), "t") == 0,
                "created_at", PQgetvalue(r, i, 5));
            if (!o || json_array_append_new(arr, o) != 0)
                goto oom;
            if (!PQgetisnull(r, i, 6) &&
                json_object_set_new(o, "public_key",
                                    json_string(PQgetvalue(r, i, 6))) != 0)
                goto oom;
        }
        rc = ctl_print_json(arr);
        arr = NULL;
        goto out;
    }
    if (!(t = ctl_table_new(7, headers)))
        goto oom;
    for (int i = 0; i < PQntuples(r); i++) {
        char keytext[128];
        if (PQgetisnull(r, i, 6))
            snprintf(keytext, sizeof(keytext), "%s",
                     strcmp(PQgetvalue(r, i, 7), "t") == 0 ? "(secret, sealed)" :
                     "(secret in plaintext: run `creator seal-secrets`)");
        else
            snprintf(keytext, sizeof(keytext), "%s", PQgetvalue(r, i, 6));
        const char *row[7] = {
            PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
            PQgetvalue(r, i, 3),
            strcmp(PQgetvalue(r, i, 4), "t") == 0 ? "yes" : "no",
            PQgetvalue(r, i, 5), keytext
        };
        if (ctl_table_add(t, row) != SL_OK)
            goto oom;
    }
    if (ctl_table_rows(t) == 0)
        printf("no creators registered\n");
    else
        ctl_table_print(t, stdout, "");
    rc = CTL_OK;
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    json_decref(arr);
    ctl_table_destroy(t);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

/* disable / enable: one status change, reporting a no-op as such. */
static int set_status(ctl *c, int argc, char **argv, const char *cmd,
                      const char *usage, const char *status)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    const char *id;
    int rc;

    if ((rc = no_args(c, argc, argv, cmd, usage, longopts, CTL_COMMON_SHORT,
                      NULL)) != CTL_OK)
        return rc;
    if (argc - optind != 1)
        return ctl_usage_error(cmd, argc - optind ? "expected exactly one "
                               "creator ID" : "missing creator ID");
    id = argv[optind];
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[2] = { id, status };
        if (!(r = ctl_pg_query(pg, cmd,
                "WITH old AS (SELECT status FROM creators"
                "             WHERE creator_id = $1 FOR UPDATE)"
                " UPDATE creators c SET status = $2,"
                "  updated_at = CASE WHEN old.status = $2 THEN c.updated_at"
                "               ELSE now() END"
                " FROM old WHERE c.creator_id = $1"
                " RETURNING old.status", 2, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("%s: creator \"%s\" not found", cmd, id);
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), status) == 0)
        printf("creator %s was already %s\n", id,
               strcmp(status, "active") == 0 ? "enabled" : "disabled");
    else
        printf("creator %s %s\n", id,
               strcmp(status, "active") == 0 ? "enabled" : "disabled");
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int creator_disable(ctl *c, int argc, char **argv)
{
    return set_status(c, argc, argv, "creator disable", disable_usage,
                      "disabled");
}

static int creator_enable(ctl *c, int argc, char **argv)
{
    return set_status(c, argc, argv, "creator enable", enable_usage, "active");
}

int ctl_cmd_creator(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", creator_add, "register a creator and its key" },
        { "list", creator_list, "list creators" },
        { "disable", creator_disable, "stop accepting a creator's uploads" },
        { "enable", creator_enable, "accept a disabled creator's uploads again" },
        { "seal-secrets", creator_seal, "seal HMAC secrets stored in plaintext" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "creator", subs, argc, argv, creator_usage);
}
