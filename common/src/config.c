/*
 * config.c -- layered key/value configuration (see sl/config.h).
 *
 * A small ordered list of entries; each remembers its declared type so
 * values are validated when they are set, whatever the source.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sl/config.h"
#include "sl/log.h"

typedef struct cfg_item {
    char *key;
    char *val;                 /* NULL when unset */
    const sl_cfg_entry *decl;  /* NULL for pass-through keys */
} cfg_item;

struct sl_config {
    cfg_item *items;
    size_t n, cap;
};

sl_config *sl_config_new(void)
{
    return calloc(1, sizeof(sl_config));
}

void sl_config_destroy(sl_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->items[i].key);
        free(cfg->items[i].val);
    }
    free(cfg->items);
    free(cfg);
}

static cfg_item *find(const sl_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->items[i].key, key) == 0)
            return &cfg->items[i];
    return NULL;
}

static cfg_item *add(sl_config *cfg, const char *key)
{
    cfg_item *it;

    if (cfg->n == cfg->cap) {
        size_t ncap = cfg->cap ? cfg->cap * 2 : 32;
        cfg_item *p = realloc(cfg->items, ncap * sizeof(*p));
        if (!p)
            return NULL;
        cfg->items = p;
        cfg->cap = ncap;
    }
    it = &cfg->items[cfg->n];
    it->key = strdup(key);
    if (!it->key)
        return NULL;
    it->val = NULL;
    it->decl = NULL;
    cfg->n++;
    return it;
}

/* Parses an int64 with an optional binary size suffix. */
static int parse_int(const char *s, int allow_suffix, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s)
        return SL_EINVAL;
    if (allow_suffix && *end) {
        int64_t mul;
        switch (tolower((unsigned char)*end)) {
        case 'k': mul = 1024; break;
        case 'm': mul = 1024 * 1024; break;
        case 'g': mul = 1024LL * 1024 * 1024; break;
        default: return SL_EINVAL;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (v > INT64_MAX / mul || v < INT64_MIN / mul)
            return SL_EINVAL;
        v *= mul;
    }
    if (*end)
        return SL_EINVAL;
    *out = v;
    return SL_OK;
}

static int parse_bool(const char *s)
{
    static const char *t[] = { "true", "1", "yes", "on" };
    static const char *f[] = { "false", "0", "no", "off" };

    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, t[i]) == 0) return 1;
        if (strcasecmp(s, f[i]) == 0) return 0;
    }
    return -1;
}

static int check_value(const sl_cfg_entry *d, const char *val, sl_err *err)
{
    int64_t v;

    switch (d->type) {
    case SL_CFG_INT:
        if (parse_int(val, 0, &v) != SL_OK) {
            sl_err_set(err, "config key \"%s\": \"%s\" is not an integer",
                       d->key, val);
            return SL_EINVAL;
        }
        break;
    case SL_CFG_SIZE:
        if (parse_int(val, 1, &v) != SL_OK || v < 0) {
            sl_err_set(err, "config key \"%s\": \"%s\" is not a size "
                       "(bytes, or with k/m/g)", d->key, val);
            return SL_EINVAL;
        }
        break;
    case SL_CFG_BOOL:
        if (parse_bool(val) < 0) {
            sl_err_set(err, "config key \"%s\": \"%s\" is not a boolean",
                       d->key, val);
            return SL_EINVAL;
        }
        break;
    case SL_CFG_STR:
        break;
    }
    return SL_OK;
}

int sl_config_declare(sl_config *cfg, const sl_cfg_entry *map)
{
    for (const sl_cfg_entry *d = map; d && d->key; d++) {
        cfg_item *it = find(cfg, d->key);
        if (!it && !(it = add(cfg, d->key)))
            return SL_ENOMEM;
        it->decl = d;
        if (d->def && !it->val && !(it->val = strdup(d->def)))
            return SL_ENOMEM;
    }
    return SL_OK;
}

int sl_config_set(sl_config *cfg, const char *key, const char *val, sl_err *err)
{
    cfg_item *it = find(cfg, key);
    char *copy;

    if (!it || !it->decl) {
        if (strncmp(key, "kafka.", 6) != 0 && strncmp(key, "pg.", 3) != 0) {
            sl_err_set(err, "unknown config key \"%s\"", key);
            return SL_EINVAL;
        }
    } else if (check_value(it->decl, val, err) != SL_OK) {
        return SL_EINVAL;
    }
    if (!it && !(it = add(cfg, key)))
        return SL_ENOMEM;
    if (!(copy = strdup(val)))
        return SL_ENOMEM;
    free(it->val);
    it->val = copy;
    return SL_OK;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int sl_config_load_file(sl_config *cfg, const char *path, sl_err *err)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0, rc = SL_OK;

    if (!f) {
        sl_err_set(err, "cannot open config file %s: %s", path, strerror(errno));
        return SL_EIO;
    }
    while (fgets(line, sizeof(line), f)) {
        char *s, *eq;
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            sl_err_set(err, "%s:%d: line too long", path, lineno);
            rc = SL_EINVAL;
            break;
        }
        s = trim(line);
        if (!*s || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            sl_err_set(err, "%s:%d: expected key = value", path, lineno);
            rc = SL_EINVAL;
            break;
        }
        *eq = '\0';
        sl_err sub;
        if ((rc = sl_config_set(cfg, trim(s), trim(eq + 1), &sub)) != SL_OK) {
            sl_err_set(err, "%s:%d: %s", path, lineno, sub.msg);
            break;
        }
    }
    fclose(f);
    return rc;
}

/* "batch.size" -> "SLUICE_BATCH_SIZE" */
static void env_name(const char *key, char *out, size_t outsz)
{
    size_t o = (size_t)snprintf(out, outsz, "SLUICE_");
    for (const char *k = key; *k && o + 1 < outsz; k++)
        out[o++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
    out[o] = '\0';
}

int sl_config_load_env(sl_config *cfg, sl_err *err)
{
    static const struct { const char *env, *key; } aliases[] = {
        { "SLUICE_KAFKA_BROKERS", "kafka.bootstrap.servers" },
        { "SLUICE_PG_DSN", "pg.dsn" },
    };
    char name[256];
    const char *v;
    int rc;

    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if ((v = getenv(aliases[i].env)) && *v &&
            (rc = sl_config_set(cfg, aliases[i].key, v, err)) != SL_OK)
            return rc;
    for (size_t i = 0; i < cfg->n; i++) {
        if (!cfg->items[i].decl)
            continue;
        env_name(cfg->items[i].key, name, sizeof(name));
        if ((v = getenv(name)) && *v) {
            sl_err sub;
            if ((rc = sl_config_set(cfg, cfg->items[i].key, v, &sub)) != SL_OK) {
                sl_err_set(err, "environment %s: %s", name, sub.msg);
                return rc;
            }
        }
    }
    return SL_OK;
}

int sl_config_from_args(sl_config *cfg, int argc, char **argv,
                        const char *usage, sl_err *err)
{
    const char *file = getenv("SLUICE_CONFIG");
    int rc, verbose = 0;

    /* First pass: find -c and -h; flags are applied after file and env. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fprintf(stdout, "%s\n", usage);
            sl_config_print_help(cfg, stdout);
            return 1;
        }
        if (strcmp(argv[i], "-c") == 0) {
            if (i + 1 >= argc) {
                sl_err_set(err, "-c needs a file");
                return SL_EINVAL;
            }
            file = argv[++i];
        } else if (strcmp(argv[i], "-X") == 0) {
            if (i + 1 >= argc) {
                sl_err_set(err, "-X needs key=value");
                return SL_EINVAL;
            }
            i++;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else {
            sl_err_set(err, "unknown argument \"%s\" (try -h)", argv[i]);
            return SL_EINVAL;
        }
    }
    if (file && *file && (rc = sl_config_load_file(cfg, file, err)) != SL_OK)
        return rc;
    if ((rc = sl_config_load_env(cfg, err)) != SL_OK)
        return rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0) {
            i++;
        } else if (strcmp(argv[i], "-X") == 0) {
            char kv[4096], *eq;
            snprintf(kv, sizeof(kv), "%s", argv[++i]);
            if (!(eq = strchr(kv, '='))) {
                sl_err_set(err, "-X %s: expected key=value", kv);
                return SL_EINVAL;
            }
            *eq = '\0';
            if ((rc = sl_config_set(cfg, kv, eq + 1, err)) != SL_OK)
                return rc;
        }
    }
    if (verbose && find(cfg, "log.level"))
        return sl_config_set(cfg, "log.level", "debug", err);
    return SL_OK;
}

const char *sl_config_get(const sl_config *cfg, const char *key)
{
    cfg_item *it = find(cfg, key);
    return it ? it->val : NULL;
}

int64_t sl_config_int(const sl_config *cfg, const char *key)
{
    const char *v = sl_config_get(cfg, key);
    int64_t out = 0;

    if (v)
        parse_int(v, 1, &out);
    return out;
}

int sl_config_bool(const sl_config *cfg, const char *key)
{
    const char *v = sl_config_get(cfg, key);
    return v ? parse_bool(v) == 1 : 0;
}

int sl_config_each_prefix(const sl_config *cfg, const char *prefix,
                          int (*fn)(void *u, const char *k, const char *v),
                          void *u)
{
    size_t pl = strlen(prefix);
    int rc;

    for (size_t i = 0; i < cfg->n; i++) {
        const cfg_item *it = &cfg->items[i];
        if (it->val && strncmp(it->key, prefix, pl) == 0 &&
            (rc = fn(u, it->key + pl, it->val)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

void sl_config_print_help(const sl_config *cfg, FILE *out)
{
    static const char *types[] = { "string", "int", "size", "bool" };

    fprintf(out, "\nOptions (-c FILE, SLUICE_<KEY> environment, -X key=value):\n");
    for (size_t i = 0; i < cfg->n; i++) {
        const sl_cfg_entry *d = cfg->items[i].decl;
        char env[256];
        if (!d)
            continue;
        env_name(d->key, env, sizeof(env));
        fprintf(out, "  %-28s %-6s %s\n  %-28s        default: %s, env: %s\n",
                d->key, types[d->type], d->desc ? d->desc : "", "",
                d->def ? d->def : "(none)", env);
    }
    fprintf(out, "  kafka.*                      passed to librdkafka "
                 "(SLUICE_KAFKA_BROKERS sets kafka.bootstrap.servers)\n"
                 "  pg.dsn                       libpq conninfo (SLUICE_PG_DSN)\n"
                 "  -v                           debug logging\n");
}
