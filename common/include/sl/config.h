/*
 * config.h -- layered key/value configuration.
 *
 * Sources, later ones win: built-in defaults (the component's config map),
 * a config file (`-c FILE`, else $SLUICE_CONFIG), the environment, then
 * command-line `-X key=value` flags.
 *
 * File format: one `key = value` per line, `#` comments, blank lines.
 * Environment: every key of the config map is read from SLUICE_<KEY> with
 * dots turned into underscores and letters upper-cased
 * (`batch.size` -> SLUICE_BATCH_SIZE); in addition SLUICE_KAFKA_BROKERS sets
 * `kafka.bootstrap.servers` and SLUICE_PG_DSN sets `pg.dsn`.
 * Keys starting with `kafka.` are passed through to librdkafka (prefix
 * removed); `pg.dsn` is the libpq conninfo.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "sl/common.h"

typedef struct sl_config sl_config;

typedef enum sl_cfg_type {
    SL_CFG_STR,
    SL_CFG_INT,    /* int64, decimal */
    SL_CFG_SIZE,   /* int64 bytes, accepts k/m/g suffixes (binary) */
    SL_CFG_BOOL    /* true/false/1/0/yes/no/on/off */
} sl_cfg_type;

/* One declared option: the table validates values and prints help. */
typedef struct sl_cfg_entry {
    sl_cfg_type type;
    const char *key;
    const char *def;      /* default as text, NULL for none */
    const char *desc;
} sl_cfg_entry;

#define SL_CFG_END { SL_CFG_STR, NULL, NULL, NULL }

sl_config *sl_config_new(void);
void sl_config_destroy(sl_config *cfg);

/* Declares a map of options; defaults are set.  Maps may be added several
 * times (runner options + processor options).  Returns SL_OK. */
int sl_config_declare(sl_config *cfg, const sl_cfg_entry *map);

/* Sets one key from text; validates declared keys by type.  Undeclared keys
 * are accepted only under the `kafka.` and `pg.` prefixes. */
int sl_config_set(sl_config *cfg, const char *key, const char *val, sl_err *err);
int sl_config_load_file(sl_config *cfg, const char *path, sl_err *err);
int sl_config_load_env(sl_config *cfg, sl_err *err);
/* Parses `-c FILE`, `-X key=value`, `-v` (debug log) and `-h`.  Loads, in
 * order: file, env, flags.  Returns SL_OK, 1 when help was printed, or an
 * error. `usage` is printed with the declared options on -h. */
int sl_config_from_args(sl_config *cfg, int argc, char **argv,
                        const char *usage, sl_err *err);

/* Getters; a missing key yields NULL / 0 / `def`. */
const char *sl_config_get(const sl_config *cfg, const char *key);
int64_t sl_config_int(const sl_config *cfg, const char *key);
int     sl_config_bool(const sl_config *cfg, const char *key);

/* Calls fn for every key starting with prefix (prefix stripped). */
int sl_config_each_prefix(const sl_config *cfg, const char *prefix,
                          int (*fn)(void *u, const char *k, const char *v),
                          void *u);

void sl_config_print_help(const sl_config *cfg, FILE *out);

#endif
