/*
 * json.h -- the few jansson helpers every part of sluice shares.
 *
 * Reading: a member that must be a string, and the lowercase hex SHA-256
 * form every hash on the wire takes.  Writing: a JSON string of text that
 * may not be valid UTF-8 (a database value cut mid-character, a user's
 * input), sanitised rather than dropped.  Before writing a JSON helper
 * in a stage or a command, look here for its twin.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The string value of member `key` of object `o`; NULL when o is NULL or
 * not an object, or the member is absent or not a string.  Borrowed from
 * o (valid while o lives and the member is not replaced). */
const char *sl_json_str(const json_t *o, const char *key);

/* True when s (NUL-terminated; NULL is false) is exactly 64 lowercase hex
 * digits, the form of every SHA-256 in sluice's headers and tables. */
bool sl_hex64_ok(const char *s);
/* The same for n bytes that need not be NUL-terminated (a header value). */
bool sl_hex64_okn(const void *p, size_t n);

/* True when every byte of s is printable ASCII (0x20..0x7e; NULL is
 * false): text that jansson's compact dump writes inside a JSON string
 * with only the quote and the backslash escaped, so a writer that skips
 * jansson for such text writes the same bytes. */
bool sl_json_plain(const char *s);

/* A new JSON string of s (JSON null when s is NULL); bytes that are not
 * valid UTF-8, and NULs, are replaced (U+FFFD) or dropped as
 * sl_utf8_sanitize does.  NULL only when out of memory. */
json_t *sl_json_text(const char *s);

#endif
