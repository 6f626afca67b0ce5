/*
 * msg.c -- the processor-facing message view and the output object.
 *
 * sl_out keeps every byte a processor hands it in one capped arena that is
 * reset (not freed) between messages, so the steady state allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/msg.h"

#define OUT_MAX_HEADERS 64
#define OUT_CODE_MAX    64
#define OUT_DETAIL_MAX  1024
#define OUT_TOPIC_MAX   256

typedef struct out_header {
    size_t name_off, name_len;
    size_t val_off, val_len;
} out_header;

struct sl_out {
    sl_buf arena;
    int has_value;
    size_t val_off, val_len;
    out_header hdr[OUT_MAX_HEADERS];
    sl_header view[OUT_MAX_HEADERS];   /* built on demand by sl_out_headers */
    size_t n_hdr;
    char code[OUT_CODE_MAX];
    char detail[OUT_DETAIL_MAX];
    char route[OUT_TOPIC_MAX];
    int withhold;         /* sl_out_withhold_value() */
};

size_t sl_msg_run_slot(const sl_msg *msgs, size_t n, const sl_msg *in)
{
    const sl_msg *e;

    if (!msgs || in->run_index >= n)
        return SL_RUN_NONE;
    e = &msgs[in->run_index];
    if (e->key.ptr != in->key.ptr || e->key.len != in->key.len ||
        e->value.ptr != in->value.ptr || e->value.len != in->value.len ||
        e->headers != in->headers || e->n_headers != in->n_headers ||
        e->topic != in->topic || e->partition != in->partition ||
        e->offset != in->offset)
        return SL_RUN_NONE;
    return in->run_index;
}

int sl_msg_header(const sl_msg *m, const char *name, sl_slice *out)
{
    for (size_t i = m->n_headers; i-- > 0;) {
        if (strcmp(m->headers[i].name, name) == 0) {
            *out = m->headers[i].value;
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

const char *sl_verdict_name(sl_verdict v)
{
    switch (v) {
    case SL_EMIT:   return "emit";
    case SL_REJECT: return "reject";
    case SL_ROUTE:  return "route";
    case SL_RETRY:  return "retry";
    case SL_FATAL:  return "fatal";
    case SL_ENV_FATAL: return "env_fatal";
    }
    return "unknown";
}

sl_out *sl_out_new(size_t max_bytes)
{
    sl_out *o = calloc(1, sizeof(*o));

    if (!o)
        return NULL;
    sl_buf_init(&o->arena, max_bytes);
    return o;
}

void sl_out_destroy(sl_out *o)
{
    if (!o)
        return;
    sl_buf_free(&o->arena);
    free(o);
}

void sl_out_reset(sl_out *o)
{
    sl_buf_reset(&o->arena);
    o->has_value = 0;
    o->withhold = 0;
    o->n_hdr = 0;
    o->code[0] = o->detail[0] = o->route[0] = '\0';
}

/* Copies n bytes plus a NUL into the arena; returns the offset. */
static int arena_put(sl_out *o, const void *p, size_t n, size_t *off)
{
    int rc;

    *off = o->arena.len;
    if ((rc = sl_buf_append(&o->arena, p, n)) != SL_OK)
        return rc;
    return sl_buf_append(&o->arena, "", 1);
}

int sl_out_set_value(sl_out *o, const void *p, size_t n)
{
    int rc = arena_put(o, p, n, &o->val_off);

    if (rc != SL_OK)
        return rc;
    o->val_len = n;
    o->has_value = 1;
    return SL_OK;
}

static const char *arena_str(const sl_out *o, size_t off)
{
    return (const char *)o->arena.data + off;
}

int sl_out_add_header(sl_out *o, const char *name, const void *p, size_t n,
                      int replace)
{
    size_t nl = strlen(name), i;
    out_header *h = NULL;
    int rc;

    if (replace) {
        for (i = 0; i < o->n_hdr; i++)
            if (o->hdr[i].name_len == nl &&
                memcmp(arena_str(o, o->hdr[i].name_off), name, nl) == 0)
                h = &o->hdr[i];
    }
    if (!h) {
        if (o->n_hdr == OUT_MAX_HEADERS)
            return SL_ETOOBIG;
        h = &o->hdr[o->n_hdr];
        if ((rc = arena_put(o, name, nl, &h->name_off)) != SL_OK)
            return rc;
        h->name_len = nl;
        o->n_hdr++;
    }
    if ((rc = arena_put(o, p, n, &h->val_off)) != SL_OK)
        return rc;
    h->val_len = n;
    return SL_OK;
}

int sl_out_add_header_str(sl_out *o, const char *name, const char *s, int replace)
{
    return sl_out_add_header(o, name, s, strlen(s), replace);
}

sl_verdict sl_out_reject(sl_out *o, const char *code, const char *fmt, ...)
{
    va_list ap;

    snprintf(o->code, sizeof(o->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    return SL_REJECT;
}

sl_verdict sl_out_route(sl_out *o, const char *topic)
{
    snprintf(o->route, sizeof(o->route), "%s", topic);
    return SL_ROUTE;
}

sl_verdict sl_out_fail(sl_out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    return SL_FATAL;
}

void sl_out_withhold_value(sl_out *o)
{
    o->withhold = 1;
}

int sl_out_withholds_value(const sl_out *o)
{
    return o->withhold;
}

int sl_out_has_value(const sl_out *o)
{
    return o->has_value;
}

sl_slice sl_out_value(const sl_out *o)
{
    sl_slice s = { NULL, 0 };

    if (o->has_value) {
        s.ptr = o->arena.data + o->val_off;
        s.len = o->val_len;
    }
    return s;
}

size_t sl_out_n_headers(const sl_out *o)
{
    return o->n_hdr;
}

const sl_header *sl_out_headers(const sl_out *o)
{
    sl_out *mo = (sl_out *)o;   /* the view is a cache of the arena */

    for (size_t i = 0; i < o->n_hdr; i++) {
        mo->view[i].name = arena_str(o, o->hdr[i].name_off);
        mo->view[i].value.ptr = o->arena.data + o->hdr[i].val_off;
        mo->view[i].value.len = o->hdr[i].val_len;
    }
    return o->view;
}

int sl_out_header(const sl_out *o, const char *name, sl_slice *v)
{
    const sl_header *h = sl_out_headers(o);

    for (size_t i = o->n_hdr; i-- > 0;) {
        if (strcmp(h[i].name, name) == 0) {
            *v = h[i].value;
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

const char *sl_out_reject_code(const sl_out *o)
{
    return o->code;
}

const char *sl_out_reject_detail(const sl_out *o)
{
    return o->detail;
}

const char *sl_out_route_topic(const sl_out *o)
{
    return o->route;
}
