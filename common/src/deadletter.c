/*
 * deadletter.c -- the size rules of sl/deadletter.h.  The order of what
 * goes first once a dead letter is too large: the value, then the input
 * headers (a creator's), then the processor's own headers; the key goes
 * only when it alone is larger than key_max_bytes.
 */
#include "sl/deadletter.h"

size_t sl_deadletter_size(const sl_dl_sizes *s, const sl_dl_plan *p)
{
    return SL_DL_RECORD_OVERHEAD + s->reject_headers +
           (p->key ? s->key : 0) + (p->value ? s->value : 0) +
           (p->in_headers ? s->in_headers : 0) +
           (p->out_headers ? s->out_headers : 0);
}

sl_dl_plan sl_deadletter_minimal(const sl_dl_sizes *s, const sl_dl_limits *l)
{
    sl_dl_plan p = { 0, s->key <= l->key_max_bytes, 0, 0 };

    return p;
}

sl_dl_plan sl_deadletter_plan(const sl_dl_sizes *s, const sl_dl_limits *l,
                              int withhold)
{
    sl_dl_plan p = { 1, 1, 1, 1 };

    if (!withhold && sl_deadletter_size(s, &p) <= l->max_bytes)
        return p;
    p = sl_deadletter_minimal(s, l);
    p.out_headers = s->out_headers <= l->headers_max_bytes;
    if (p.out_headers && sl_deadletter_size(s, &p) > l->max_bytes)
        p.out_headers = 0;
    p.in_headers = s->in_headers <= l->headers_max_bytes;
    if (p.in_headers && sl_deadletter_size(s, &p) > l->max_bytes)
        p.in_headers = 0;
    return p;
}
