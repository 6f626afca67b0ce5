/*
 * bench_pg_lookup.c -- a batch's look-up by key, "= ANY($1::text[])", the
 * ways the stages have sent it (issue #16):
 *
 *   literal, unprepared  a text array literal ({"..","..."}) in a statement
 *                        planned for every batch (PQexecParams): commit's
 *                        and license's look-ups before;
 *   literal, prepared    the same literal to a prepared statement:
 *                        validate's before;
 *   binary, prepared     the keys sorted, each once, as one binary text[]
 *                        (sl_pg_keys_param) to a prepared statement: every
 *                        stage's now; and, to tell the sort's share, the
 *                        same in the batch's order.
 *
 * On a temporary table of ROWS random 64-digit hex keys (a B-tree primary
 * key, as contents and samples have), each way looks up KEYS keys, half of
 * them stored ones picked at random, half not, in random order; best of
 * five rounds of 20 statements.  Prints microseconds a key: wall time,
 * this process's CPU (building the parameter) and the server backend's CPU
 * (from /proc, when the server runs on this machine and its process can be
 * read).
 *
 * Then commit's look-up of a batch's hashes, on tables of contents' and
 * samples' keys (the same ROWS hashes, each in one dataset), the two ways
 * it has been asked (binary, sorted, prepared):
 *
 *   two statements  the (dataset, hash) pairs in samples, then, later in
 *                   the batch, the hashes in contents: before;
 *   one join        contents' hashes with their samples' datasets (a left
 *                   join): now;
 *
 * for keys half stored and for keys all new (a drain of new uploads).
 *
 * Then validate's claim of a run of KEYS new upload ids (ids that lead
 * with the time, after ROWS claimed ones, in a temporary table of
 * upload_claims' columns and indexes: unlogged, as upload_claims is), the
 * two ways validate sends it:
 *
 *   statement  INSERT ... SELECT FROM unnest(four binary arrays)
 *              ON CONFLICT (upload_id) DO UPDATE ... RETURNING 1: before,
 *              and still after an id claimed before;
 *   COPY       the same rows by binary COPY: now, for a run of new ids.
 *
 * Usage: SLUICE_PG_DSN=... bench_pg_lookup [ROWS [KEYS]]
 * (defaults 400000 and 5000: a long drain's contents table, a full batch).
 * A figure, not a test: it asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "sl/common.h"
#include "sl/pg.h"

#define ROUNDS 5
#define REPS   20

static double now_s(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The backend's user + system CPU in seconds, or -1 when unreadable. */
static double backend_cpu(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    p = fgets(buf, sizeof(buf), f);
    fclose(f);
    if (!p || !(p = strrchr(buf, ')')) ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Wall time, this process's CPU and the backend's, in seconds (server < 0
 * when unreadable). */
typedef struct { double wall, client, server; } costs;

static costs clocks_now(int pid)
{
    return (costs){ now_s(CLOCK_MONOTONIC), now_s(CLOCK_PROCESS_CPUTIME_ID),
                    backend_cpu(pid) };
}

/* Keeps in *best the least of each cost since t0. */
static void keep_best(costs *best, costs t0, int pid)
{
    costs t = clocks_now(pid);

    if (t.wall - t0.wall < best->wall)
        best->wall = t.wall - t0.wall;
    if (t.client - t0.client < best->client)
        best->client = t.client - t0.client;
    if (t0.server >= 0 && t.server >= 0 && t.server - t0.server < best->server)
        best->server = t.server - t0.server;
}

/* Prints the best costs as microseconds a key, then a newline. */
static void print_costs(costs best, long keys)
{
    double per = 1e6 / (double)(REPS * keys);

    printf("%8.2f %8.2f ", best.wall * per, best.client * per);
    if (best.server < 1e29)
        printf("%8.2f\n", best.server * per);
    else
        printf("%8s\n", "-");
}

static void hex_key(char out[65])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 64; i++)
        out[i] = hex[rand() % 16];
    out[64] = '\0';
}

/* Whether r has status want (reported with `what` when not); clears r. */
static int result_is(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
    int ok = PQresultStatus(r) == want;

    if (!ok)
        fprintf(stderr, "bench_pg_lookup: %s: %s", what, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

static int exec_ok(PGconn *c, const char *sql)
{
    return result_is(c, PQexec(c, sql), PGRES_COMMAND_OK, sql);
}

typedef enum { LITERAL_UNPREPARED, LITERAL_PREPARED, BINARY_UNSORTED,
               BINARY_PREPARED, N_WAYS } way;

static const char *const way_name[] = {
    "literal, unprepared (commit, license before)",
    "literal, prepared (validate before)",
    "binary, in the batch's order, prepared",
    "binary, sorted, prepared (now)",
};

#define LOOKUP_SQL "SELECT k FROM bench_keys WHERE k = ANY($1::text[])"

/* commit's look-ups of a batch's hashes (services/commit/commit_pg.c),
 * before and now, on tables of the same keys as contents and samples. */
static const struct {
    const char *name, *sql;
} hash_stmts[] = {
    { "pairs", "SELECT dataset_id, sha256 FROM bench_samples "
               "WHERE sha256 = ANY($1::text[])" },
    { "contents", "SELECT sha256 FROM bench_contents WHERE sha256 = ANY($1::text[])" },
    { "hashes", "SELECT c.sha256, s.dataset_id FROM bench_contents c "
                "LEFT JOIN bench_samples s ON s.sha256 = c.sha256 "
                "WHERE c.sha256 = ANY($1::text[])" },
};

/* Runs the prepared statement `name` on the keys (sorted, each once);
 * the number of rows it returned, -1 on failure. */
static int run_prepared(PGconn *c, const char *name, const char **keys, size_t n)
{
    sl_buf b;
    const char *v[1];
    int len[1], fmt[1] = { 1 }, found = -1;
    PGresult *r;

    sl_buf_init(&b, (size_t)1 << 30);
    if (sl_pg_keys_param(&b, keys, n) == SL_OK) {
        v[0] = (const char *)b.data;
        len[0] = (int)b.len;
        r = PQexecPrepared(c, name, 1, v, len, fmt, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            found = PQntuples(r);
        else
            fprintf(stderr, "bench_pg_lookup: %s", PQerrorMessage(c));
        PQclear(r);
    }
    sl_buf_free(&b);
    return found;
}

/* Best of ROUNDS rounds of REPS batches in *best.  two: before's two
 * statements, else the join.  *rows gets the rows a batch returned (the
 * two statements' added); 0 on success. */
static int time_hashes(PGconn *c, int pid, int two, char (*lookups)[65],
                       const char **keys, size_t n, costs *best, int *rows)
{
    *best = (costs){ 1e30, 1e30, 1e30 };
    for (int round = 0; round < ROUNDS; round++) {
        costs t0 = clocks_now(pid);

        for (int k = 0; k < REPS; k++) {
            int found = 0, f;

            for (int s = two ? 0 : 2; s < (two ? 2 : 3); s++) {
                for (size_t i = 0; i < n; i++)
                    keys[i] = lookups[i];
                if ((f = run_prepared(c, hash_stmts[s].name, keys, n)) < 0)
                    return -1;
                found += f;
            }
            *rows = found;
        }
        keep_best(best, t0, pid);
    }
    return 0;
}

/* commit's hash look-ups, before and now; 0 on success. */
static int bench_hashes(PGconn *c, int pid, char (*stored)[65], long rows,
                        char (*lookups)[65], const char **keys, long nkeys)
{
    static const char *const mix_name[] = { "half stored", "all new" };

    if (!exec_ok(c, "CREATE TEMP TABLE bench_contents (sha256 text PRIMARY KEY)") ||
        !exec_ok(c, "CREATE TEMP TABLE bench_samples (dataset_id text, sha256 text, "
                    "UNIQUE (sha256, dataset_id))") ||
        !exec_ok(c, "INSERT INTO bench_contents SELECT k FROM bench_keys") ||
        !exec_ok(c, "INSERT INTO bench_samples SELECT 'dataset-1', k FROM bench_keys") ||
        !exec_ok(c, "ANALYZE bench_contents, bench_samples"))
        return -1;
    for (size_t s = 0; s < sizeof(hash_stmts) / sizeof(hash_stmts[0]); s++)
        if (!result_is(c, PQprepare(c, hash_stmts[s].name, hash_stmts[s].sql, 1, NULL),
                       PGRES_COMMAND_OK, "prepare"))
            return -1;
    printf("bench_pg_lookup: commit's look-up of a batch's hashes (%ld keys, "
           "%ld stored, each in one dataset), us a key\n", nkeys, rows);
    printf("  %-30s %-12s %8s %8s %8s\n", "way", "keys", "wall", "client", "server");
    for (int mix = 0; mix < 2; mix++) {
        int rows_two = -1, rows_one = -1;

        for (long i = 0; i < nkeys; i++) {
            if (mix == 0 && i % 2)
                memcpy(lookups[i], stored[rand() % rows], 65);
            else
                hex_key(lookups[i]);
        }
        for (int two = 1; two >= 0; two--) {
            costs best;

            if (time_hashes(c, pid, two, lookups, keys, (size_t)nkeys, &best,
                            two ? &rows_two : &rows_one) != 0)
                return -1;
            printf("  %-30s %-12s ", two ? "two statements (before)" :
                   "one join (now)", mix_name[mix]);
            print_costs(best, nkeys);
        }
        /* The two statements find each stored hash twice (in samples, in
         * contents), the join once (with its dataset). */
        if (rows_two != 2 * rows_one) {
            fprintf(stderr, "bench_pg_lookup: the two ways disagree: %d rows "
                    "against %d\n", rows_two, rows_one);
            return -1;
        }
    }
    return 0;
}

/* validate's claim statement ("claim" in services/validate/validate_pg.c). */
#define CLAIM_SQL \
    "INSERT INTO bench_claims AS c (upload_id, topic, partition, \"offset\") " \
    "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) " \
    "ON CONFLICT (upload_id) DO UPDATE SET \"offset\" = EXCLUDED.\"offset\" " \
    "WHERE c.topic = EXCLUDED.topic AND c.partition = EXCLUDED.partition " \
    "AND EXCLUDED.\"offset\" < c.\"offset\" RETURNING 1"
#define CLAIM_TOPIC "sluice.uploads"

/* Claims ids[0..n) at offsets from *offset on (advanced) by the statement
 * (copy 0) or by binary COPY; the rows claimed, -1 on failure. */
static int claim_run(PGconn *c, int copy, char (*ids)[35], size_t n, int64_t *offset)
{
    static const unsigned oids[4] = { SL_PG_TEXT, SL_PG_TEXT, SL_PG_INT4, SL_PG_INT8 };
    static const int fmt[4] = { 1, 1, 1, 1 };
    sl_buf arr[4];
    const char *v[4];
    int len[4], claimed = -1;
    sl_err err;

    if (copy) {
        sl_pg_copy cp;

        if (sl_pg_copy_begin_binary(&cp, c, "COPY bench_claims (upload_id, topic, "
                                    "partition, \"offset\") FROM STDIN WITH (FORMAT binary)",
                                    &err) != SL_OK) {
            fprintf(stderr, "bench_pg_lookup: %s\n", err.msg);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            sl_pg_copy_str(&cp, ids[i]);
            sl_pg_copy_str(&cp, CLAIM_TOPIC);
            sl_pg_copy_int32(&cp, (int32_t)(*offset % 3));
            sl_pg_copy_int(&cp, (*offset)++);
            sl_pg_copy_row_end(&cp);
        }
        if (sl_pg_copy_end(&cp, &err) != SL_OK) {
            fprintf(stderr, "bench_pg_lookup: %s\n", err.msg);
            return -1;
        }
        return (int)n;
    }
    for (int a = 0; a < 4; a++)
        sl_buf_init(&arr[a], (size_t)1 << 26);
    for (int a = 0; a < 4; a++)
        if (sl_pg_barray_begin(&arr[a], oids[a], n) != SL_OK)
            goto out;
    for (size_t i = 0; i < n; i++) {
        if (sl_pg_barray_text(&arr[0], ids[i], strlen(ids[i])) != SL_OK ||
            sl_pg_barray_text(&arr[1], CLAIM_TOPIC, strlen(CLAIM_TOPIC)) != SL_OK ||
            sl_pg_barray_int4(&arr[2], (int32_t)(*offset % 3)) != SL_OK ||
            sl_pg_barray_int8(&arr[3], (*offset)++) != SL_OK)
            goto out;
    }
    for (int a = 0; a < 4; a++) {
        v[a] = (const char *)arr[a].data;
        len[a] = (int)arr[a].len;
    }
    PGresult *r = PQexecPrepared(c, "claim", 4, v, len, fmt, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        claimed = PQntuples(r);
    else
        fprintf(stderr, "bench_pg_lookup: %s", PQerrorMessage(c));
    PQclear(r);
out:
    for (int a = 0; a < 4; a++)
        sl_buf_free(&arr[a]);
    return claimed;
}

/* validate's claims of runs of new ids, before and now; 0 on success. */
static int bench_claims(PGconn *c, int pid, long rows, long nkeys)
{
    char (*ids)[35] = calloc((size_t)nkeys, sizeof(*ids));
    int64_t offset = rows, t = rows;
    int rc = -1;

    if (!ids)
        return -1;
    /* ROWS claims before, ids as sluicectl makes them ("u-", the time in
     * 16 hex digits here, then 16 random ones), so every new id sorts
     * after them, as a drain's do. */
    if (!exec_ok(c, "CREATE TEMP TABLE bench_claims (upload_id text PRIMARY KEY, "
                    "topic text NOT NULL, partition integer NOT NULL, "
                    "\"offset\" bigint NOT NULL, "
                    "claimed_at timestamptz NOT NULL DEFAULT now())") ||
        !exec_ok(c, "CREATE INDEX ON bench_claims USING brin (claimed_at)") ||
        !exec_ok(c, "INSERT INTO bench_claims (upload_id, topic, partition, \"offset\") "
                    "SELECT 'u-' || lpad(to_hex(i), 16, '0') || left(md5(i::text), 16), "
                    "'" CLAIM_TOPIC "', i % 3, i FROM generate_series(0, (SELECT count(*) "
                    "FROM bench_keys) - 1) i") ||
        !exec_ok(c, "VACUUM ANALYZE bench_claims") ||
        !result_is(c, PQprepare(c, "claim", CLAIM_SQL, 4, NULL), PGRES_COMMAND_OK,
                   "prepare"))
        goto out;
    printf("bench_pg_lookup: validate's claim of a run of %ld new upload ids "
           "(%ld claimed before), us an id\n", nkeys, rows);
    printf("  %-30s %8s %8s %8s\n", "way", "wall", "client", "server");
    {
        costs best[2] = { { 1e30, 1e30, 1e30 }, { 1e30, 1e30, 1e30 } };

        /* Rounds alternate the ways, so both meet the table as large. */
        for (int round = 0; round < ROUNDS; round++) {
            for (int copy = 0; copy < 2; copy++) {
                costs t0 = clocks_now(pid);

                for (int k = 0; k < REPS; k++) {
                    for (long i = 0; i < nkeys; i++) {
                        snprintf(ids[i], sizeof(ids[i]), "u-%016llx%08x%08x",
                                 (unsigned long long)t++, (unsigned)rand(),
                                 (unsigned)rand());
                    }
                    if (claim_run(c, copy, ids, (size_t)nkeys, &offset) != nkeys) {
                        fprintf(stderr, "bench_pg_lookup: a run of new ids was "
                                "not claimed whole\n");
                        goto out;
                    }
                }
                keep_best(&best[copy], t0, pid);
            }
        }
        printf("  %-30s ", "statement (before)");
        print_costs(best[0], nkeys);
        printf("  %-30s ", "COPY (now)");
        print_costs(best[1], nkeys);
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

/* One statement the given way; the number of rows found, -1 on failure. */
static int run_once(PGconn *c, way w, const char **keys, size_t n)
{
    sl_buf b;
    const char *v[1];
    int len[1], fmt[1] = { 1 }, found = -1;
    PGresult *r;

    sl_buf_init(&b, (size_t)1 << 30);
    if (w == BINARY_PREPARED) {
        if (sl_pg_keys_param(&b, keys, n) != SL_OK)
            goto out;
    } else if (w == BINARY_UNSORTED) {
        if (sl_pg_barray_begin(&b, SL_PG_TEXT, n) != SL_OK)
            goto out;
        for (size_t i = 0; i < n; i++)
            if (sl_pg_barray_text(&b, keys[i], strlen(keys[i])) != SL_OK)
                goto out;
    } else {
        for (size_t i = 0; i < n; i++)
            if (sl_pg_array_add(&b, keys[i]) != SL_OK)
                goto out;
        if (sl_pg_array_close(&b) != SL_OK)
            goto out;
    }
    v[0] = (const char *)b.data;
    len[0] = (int)b.len;
    if (w == LITERAL_UNPREPARED)
        r = PQexecParams(c, LOOKUP_SQL, 1, NULL, v, NULL, NULL, 0);
    else if (w == LITERAL_PREPARED)
        r = PQexecPrepared(c, "lookup", 1, v, NULL, NULL, 0);
    else
        r = PQexecPrepared(c, "lookup", 1, v, len, fmt, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        found = PQntuples(r);
    else
        fprintf(stderr, "bench_pg_lookup: %s", PQerrorMessage(c));
    PQclear(r);
out:
    sl_buf_free(&b);
    return found;
}

int main(int argc, char **argv)
{
    const char *dsn = getenv("SLUICE_PG_DSN");
    long rows = argc > 1 ? atol(argv[1]) : 400000;
    long nkeys = argc > 2 ? atol(argv[2]) : 5000;
    char (*stored)[65] = NULL, (*lookups)[65] = NULL;
    const char **keys = NULL;
    PGconn *c = NULL;
    PGresult *r;
    int pid, rc = 1, expected = -1;

    if (!dsn || !*dsn || rows < 2 || nkeys < 2 || nkeys > rows) {
        fprintf(stderr, "usage: SLUICE_PG_DSN=... bench_pg_lookup [ROWS [KEYS]] "
                "(KEYS <= ROWS)\n");
        return 2;
    }
    c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_pg_lookup: %s", PQerrorMessage(c));
        goto out;
    }
    pid = PQbackendPID(c);
    stored = calloc((size_t)rows, sizeof(*stored));
    lookups = calloc((size_t)nkeys, sizeof(*lookups));
    keys = calloc((size_t)nkeys, sizeof(*keys));
    if (!stored || !lookups || !keys)
        goto out;
    srand(16);
    for (long i = 0; i < rows; i++)
        hex_key(stored[i]);
    /* The stages' session settings (common/src/pgconn.c); and room for the
     * temporary table in memory, as a stage's tables have in shared_buffers
     * (set before the session's first temporary table). */
    if (!exec_ok(c, "SET enable_seqscan = off") || !exec_ok(c, "SET jit = off") ||
        !exec_ok(c, "SET temp_buffers = '512MB'") ||
        !exec_ok(c, "CREATE TEMP TABLE bench_keys (k text PRIMARY KEY)"))
        goto out;
    if (!result_is(c, PQexec(c, "COPY bench_keys FROM STDIN"), PGRES_COPY_IN, "COPY"))
        goto out;
    for (long i = 0; i < rows; i++) {
        stored[i][64] = '\n';
        if (PQputCopyData(c, stored[i], 65) != 1)
            goto out;
        stored[i][64] = '\0';
    }
    if (PQputCopyEnd(c, NULL) != 1)
        goto out;
    if (!result_is(c, PQgetResult(c), PGRES_COMMAND_OK, "COPY"))
        goto out;
    while ((r = PQgetResult(c)))
        PQclear(r);
    if (!exec_ok(c, "ANALYZE bench_keys"))
        goto out;
    if (!result_is(c, PQprepare(c, "lookup", LOOKUP_SQL, 1, NULL), PGRES_COMMAND_OK,
                   "prepare"))
        goto out;
    for (long i = 0; i < nkeys; i++) {
        if (i % 2)
            memcpy(lookups[i], stored[rand() % rows], 65);
        else
            hex_key(lookups[i]);
    }
    printf("bench_pg_lookup: %ld keys a statement, %ld rows, half of the keys "
           "stored; best of %d rounds of %d statements, us a key\n",
           nkeys, rows, ROUNDS, REPS);
    printf("  %-46s %8s %8s %8s\n", "way", "wall", "client", "server");
    for (int w = 0; w < N_WAYS; w++) {
        costs best = { 1e30, 1e30, 1e30 };

        for (int round = 0; round < ROUNDS; round++) {
            costs t0 = clocks_now(pid);

            for (int k = 0; k < REPS; k++) {
                for (long i = 0; i < nkeys; i++)
                    keys[i] = lookups[i];   /* the batch's order each time */
                int found = run_once(c, (way)w, keys, (size_t)nkeys);

                if (found < 0 || (expected >= 0 && found != expected)) {
                    fprintf(stderr, "bench_pg_lookup: found %d rows, not %d\n",
                            found, expected);
                    goto out;
                }
                expected = found;   /* every way finds the same rows */
            }
            keep_best(&best, t0, pid);
        }
        printf("  %-46s ", way_name[w]);
        print_costs(best, nkeys);
    }
    if (bench_hashes(c, pid, stored, rows, lookups, keys, nkeys) != 0)
        goto out;
    if (bench_claims(c, pid, rows, nkeys) != 0)
        goto out;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench_pg_lookup: failed\n");
    free(stored);
    free(lookups);
    free(keys);
    PQfinish(c);
    return rc;
}
