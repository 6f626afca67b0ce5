/*
 * embed.h -- files from schemas/ compiled into the binary at build time
 * (migrations in schemas/sql/, JSON schemas and rule files in schemas/).
 * Data is NUL-terminated; len excludes the NUL.
 */
#ifndef SL_EMBED_H
#define SL_EMBED_H

#include <stddef.h>

typedef struct sl_embedded {
    const char *name;   /* base name, e.g. "001_init.sql" */
    const char *data;
    size_t len;
} sl_embedded;

const sl_embedded *sl_embed_get(const char *name);
const sl_embedded *sl_embed_all(size_t *n);

#endif
