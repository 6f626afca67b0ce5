/*
 * args.h -- sluicectl's pure checks of command-line values: identifiers,
 * durations, lists of identifiers, the rights a grant may require.  No
 * I/O, no libpq: built as the static library sl_ctl_args so the unit tests
 * (tests/unit/test_ctl_args.c) link exactly what sluicectl runs.
 */
#ifndef SL_CTL_ARGS_H
#define SL_CTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* SL_OK when s is a sluice identifier: 1..128 chars of [A-Za-z0-9._:-],
 * starting with a letter or digit (schemas/upload-meta.schema.json). */
int ctl_check_id(const char *s);

/* SL_OK when s is an account name (consumers, moderators): 1..64 chars of
 * [A-Za-z0-9._-], starting with a letter or digit. */
int ctl_check_name(const char *s);

/* A duration "<N><unit>", unit s, m, h, d or w (e.g. "30d", "12h"), N a
 * decimal integer without sign, 1 second .. max_s seconds, into *seconds.
 * SL_OK or SL_EINVAL. */
int ctl_parse_duration(const char *s, int64_t max_s, int64_t *seconds);

/* A comma-separated list of identifiers (ctl_check_id each, no empty
 * element, at most max of them, duplicates dropped, order kept) as a
 * PostgreSQL text array literal "{a,b}" written into out (reset first;
 * identifiers need no quoting).  SL_OK, SL_EINVAL (*bad: the offending
 * element's offset in s, or -1 for too many), SL_ENOMEM / SL_ETOOBIG. */
int ctl_id_list_array(const char *s, size_t max, sl_buf *out, long *bad);

/* A generated upload id: "u-" + 32 lowercase hex digits, the first 12 ms
 * (milliseconds since the epoch, its low 48 bits, as UUIDv7 leads with
 * them), the other 20 the 10 bytes of rnd (from the CSPRNG), into out
 * (CTL_UPLOAD_ID_LEN bytes with the NUL).  An id made in a later
 * millisecond sorts after one made earlier, whatever their random parts. */
#define CTL_UPLOAD_ID_LEN 35
void ctl_upload_id_make(int64_t ms, const uint8_t rnd[10], char out[CTL_UPLOAD_ID_LEN]);

/* The rights a grant may require of a sample's bound license: keys of
 * samples.license -> 'rights' that the license stage writes as true when
 * the license allows the use (services/license/rights.c sl_license_record).
 * Given as the dataset policies' "require" words (training, commercial) or
 * the keys themselves (training_allowed, commercial_allowed). */
#define CTL_RIGHTS_TRAINING   1u
#define CTL_RIGHTS_COMMERCIAL 2u
#define CTL_RIGHTS_NAMES "training, commercial"

/* A comma-separated list of rights into a mask.  SL_OK, or SL_EINVAL with
 * *bad the offset of the unknown or empty element. */
int ctl_rights_parse(const char *s, unsigned *mask, long *bad);
/* The mask as a PostgreSQL text array of the keys, in the table's order:
 * "{training_allowed,commercial_allowed}"; "{}" for 0.  out must hold
 * CTL_RIGHTS_ARRAY_MAX bytes. */
#define CTL_RIGHTS_ARRAY_MAX 64
void ctl_rights_array(unsigned mask, char out[CTL_RIGHTS_ARRAY_MAX]);

/* SL_OK when s is an ISO 4217-shaped currency code: three of A-Z. */
int ctl_check_currency(const char *s);

#endif
