/*
 * json.c -- the shared jansson helpers (see sl/json.h).
 */
#include <string.h>

#include "sl/common.h"
#include "sl/json.h"

const char *sl_json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

bool sl_hex64_okn(const void *p, size_t n)
{
    const unsigned char *s = p;

    if (!s || n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool sl_hex64_ok(const char *s)
{
    return s && sl_hex64_okn(s, strnlen(s, 65));
}

json_t *sl_json_text(const char *s)
{
    json_t *v;
    sl_buf b;

    if (!s)
        return json_null();
    if ((v = json_string(s)))
        return v;
    sl_buf_init(&b, strlen(s) * 3 + 16);
    if (sl_utf8_sanitize(&b, s, strlen(s)) == SL_OK && sl_buf_cstr(&b) == SL_OK)
        v = json_stringn((const char *)b.data, b.len);
    sl_buf_free(&b);
    return v;
}
