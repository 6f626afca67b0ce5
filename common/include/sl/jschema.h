/*
 * jschema.h -- a JSON Schema (draft 2020-12 subset) validator on jansson.
 *
 * Supported keywords: type (string or array), properties, required,
 * additionalProperties (boolean or schema), items, minItems, maxItems,
 * minLength / maxLength (in Unicode code points), pattern (PCRE2, unanchored
 * as the spec says), enum, const, minimum / maximum, format "date-time"
 * (RFC 3339) and "uri", $ref to "#/$defs/NAME".  An unsupported keyword in
 * the schema is an error at load time, never silently ignored.
 *
 * Errors name the failing location as a JSON pointer, e.g.
 *   "/license/expression: string longer than maxLength 512".
 */
#ifndef SL_JSCHEMA_H
#define SL_JSCHEMA_H

#include <jansson.h>
#include "sl/common.h"

typedef struct sl_jschema sl_jschema;

sl_jschema *sl_jschema_new(const char *text, size_t len, sl_err *err);
void sl_jschema_destroy(sl_jschema *s);
/* SL_OK when valid; SL_EINVAL with the first violation in err. */
int sl_jschema_validate(const sl_jschema *s, const json_t *doc, sl_err *err);

#endif
