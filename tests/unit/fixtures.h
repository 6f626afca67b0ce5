/*
 * fixtures.h -- helpers shared by the unit tests: hand-built messages,
 * signed uploads, an in-memory creator registry for validate, files read
 * whole or built byte by byte, and the assertions on a stage's provenance chain that every stage
 * test makes.
 */
#ifndef SL_TEST_FIXTURES_H
#define SL_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sl/config.h"
#include "sl/crypto.h"
#include "sl/msg.h"

#define FX_MAX_HEADERS 16

/* A message whose bytes live in the fixture. */
typedef struct fx_msg {
    sl_msg msg;
    sl_header hdr[FX_MAX_HEADERS];
    char *names[FX_MAX_HEADERS];
    uint8_t *vals[FX_MAX_HEADERS];
    uint8_t *key, *value;
} fx_msg;

void fx_msg_init(fx_msg *m, const char *key, const void *value, size_t len);
void fx_msg_header(fx_msg *m, const char *name, const void *v, size_t len);
void fx_msg_header_str(fx_msg *m, const char *name, const char *v);
void fx_msg_free(fx_msg *m);
/* Index of the last header called name, or -1. */
int  fx_msg_header_index(const fx_msg *m, const char *name);
/* Removes every header called name. */
void fx_msg_drop_header(fx_msg *m, const char *name);

/* Builds the metadata JSON of a valid upload (created now). Caller frees. */
char *fx_meta(const char *upload_id, const char *creator, const char *dataset,
              const char *sha_or_null);
/* A complete signed upload: key, value, meta, signature. */
void fx_upload(fx_msg *m, const char *upload_id, const char *creator,
               const char *dataset, const char *content, const char *meta,
               sl_sig_alg alg, const uint8_t *priv, size_t privlen);

/* In-memory registry for sl_validate_lookup. */
typedef struct fx_registry fx_registry;
fx_registry *fx_registry_new(void);
void fx_registry_add(fx_registry *r, const char *id, sl_sig_alg alg,
                     const uint8_t *raw, size_t len, int active, int verified);
void fx_registry_accept(fx_registry *r, const char *upload_id,
                        const char *dataset, const char *sha);
void fx_registry_fail(fx_registry *r, int fail);   /* simulate an outage */

struct sl_validate_lookup;
void fx_registry_lookup(fx_registry *r, struct sl_validate_lookup *lk);

/* A config with the declared map and its defaults. */
sl_config *fx_config(const sl_cfg_entry *map);

/* A growing byte string for hand-built files; starts { NULL, 0 }, the
 * test frees .p.  One spare byte past n is allocated but never set. */
typedef struct fx_buf {
    uint8_t *p;
    size_t n;
} fx_buf;
void fx_put(fx_buf *b, const void *p, size_t n);
void fx_puts(fx_buf *b, const char *s);
void fx_put_be32(fx_buf *b, uint32_t v);
void fx_put_le32(fx_buf *b, uint32_t v);

/* The whole file at path in a malloc'd buffer of exactly its *len bytes
 * (so ASan sees a parser reading past its end); fails the test (cmocka)
 * when it cannot be read.  Caller frees.  fx_read_text adds a NUL after
 * the *len bytes; fx_fixture reads a file of tests/fixtures/. */
uint8_t *fx_read_file(const char *path, size_t *len);
char    *fx_read_text(const char *path, size_t *len);
uint8_t *fx_fixture(const char *name, size_t *len);

/* Asserts (cmocka) the sluice-prov header a stage wrote to out: the chain
 * verifies from origin (the hex SHA-256 it starts at), holds one event per
 * name of stages (NULL-terminated, in order, numbered 1, 2, ...), and the
 * last one has this outcome, this reason (NULL: JSON null) and
 * input_sha256 == input_sha.  Returns that last event parsed; the caller
 * json_decref()s it. */
json_t *fx_check_prov(const sl_out *out, const char *origin,
                      const char *const *stages, const char *outcome,
                      const char *reason, const char *input_sha);
/* Asserts the upload id a provenance event ev (as fx_check_prov returns
 * it) records: upload_id, or JSON null when upload_id is NULL (the stage
 * did not know it yet). */
void fx_check_event_upload_id(const json_t *ev, const char *upload_id);

#endif
