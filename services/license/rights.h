/*
 * rights.h -- what a license lets a buyer of training data do, and whether
 * a parsed SPDX expression satisfies a dataset's license policy.
 *
 * The rights table is schemas/license-rights.json (hand-curated policy
 * data, compiled in): per license id, four facts -- training allowed,
 * commercial use allowed, attribution required, share-alike.  A license
 * missing from the table has unknown rights: it fails every requirement
 * of a policy (and is treated as the most restrictive when combined).
 * `+` ("or later") is evaluated as the named version; a WITH exception
 * leaves the rights unchanged unless the table's "exceptions" section
 * says otherwise.
 *
 * Combining: `A AND B` grants training / commercial use only if both do,
 * and requires attribution / share-alike if either does.  `A OR B` lets
 * the licensee choose: the check picks, among the alternatives that
 * satisfy the policy, the one with the fewest restrictions (known rights,
 * then training, commercial, no share-alike, no attribution; first written
 * wins a tie), and reports which one it picked.
 *
 * A dataset policy (JSON, set with `sluicectl dataset`):
 *   {"version": 3,                        optional, integer or string
 *    "allowed": ["CC-BY-*", "MIT", ...],  optional: every license in the
 *                                         chosen alternative must match
 *                                         one ('*' and '?' wildcards,
 *                                         any case; matched against the
 *                                         id without "+" and exception)
 *    "require": ["training", "commercial"],       optional
 *    "forbid":  ["share_alike", "attribution"],   optional
 *    "note": "..."}                       optional, ignored
 * Unknown keys and values are refused, so a typo never loosens a policy.
 *
 * Ownership: tables and policies come from *_load / *_parse and are freed
 * with the matching *_destroy; both are immutable once built.  The table
 * and policy functions borrow the sl_spdx list only while they run.  A
 * verdict owns its strings and tree until sl_license_verdict_clear().
 */
#ifndef SL_RIGHTS_H
#define SL_RIGHTS_H

#include <jansson.h>

#include "sl/common.h"
#include "spdx.h"

#define SL_LICENSE_NOT_ALLOWED "license_not_allowed"

#define SL_LICENSE_DETAIL_MAX 512

typedef struct sl_rights {
    int known;                 /* every license involved is in the table */
    int training_allowed;
    int commercial_allowed;
    int attribution_required;
    int share_alike;
} sl_rights;

/* ---- the rights table -------------------------------------------------- */

typedef struct sl_rights_table sl_rights_table;

/* Loads the compiled-in schemas/license-rights.json.  Every license key
 * must be a listed, non-deprecated SPDX id in canonical spelling or a
 * LicenseRef-; every exception key a listed exception or AdditionRef-.
 * SL_OK, SL_ENOMEM, or SL_EINVAL / SL_ERR with err naming the problem. */
int  sl_rights_load(const sl_spdx *spdx, sl_rights_table **out, sl_err *err);
int  sl_rights_load_json(const sl_spdx *spdx, const char *json, size_t len,
                         sl_rights_table **out, sl_err *err);
void sl_rights_destroy(sl_rights_table *t);
/* The table's "version" string. */
const char *sl_rights_version(const sl_rights_table *t);

/* Rights of one license (id as in a tree leaf, any case) with an optional
 * exception.  SL_OK, or SL_ENOTFOUND with *out the unknown rights (known
 * = 0, nothing allowed, everything required). */
int  sl_rights_lookup(const sl_rights_table *t, const char *id,
                      const char *exception, sl_rights *out);

/* ---- dataset policies -------------------------------------------------- */

typedef struct sl_license_policy sl_license_policy;

/* Parses a policy object.  With spdx given, an "allowed" entry without
 * wildcards must be a listed, non-deprecated id or a LicenseRef-.
 * SL_OK, SL_ENOMEM, or SL_EINVAL with err naming the problem. */
int  sl_license_policy_from_json(const sl_spdx *spdx, const json_t *obj,
                                 sl_license_policy **out, sl_err *err);
int  sl_license_policy_parse(const sl_spdx *spdx, const char *json,
                             size_t len, sl_license_policy **out,
                             sl_err *err);
void sl_license_policy_destroy(sl_license_policy *p);
/* The policy's "version" as given (integer or string), or NULL; borrowed. */
const json_t *sl_license_policy_version(const sl_license_policy *p);

/* ---- checking ---------------------------------------------------------- */

typedef struct sl_license_verdict {
    int accepted;             /* 1: the policy is satisfied */
    const char *code;         /* NULL if accepted, else SL_LICENSE_NOT_ALLOWED */
    char detail[SL_LICENSE_DETAIL_MAX]; /* why not (which alternative fails
                                           which requirement); "" if accepted */
    /* The alternative picked: when accepted, the least restricted one that
     * satisfies the policy; when not, the least restricted one regardless
     * (what `sluicectl license check` shows as the expression's rights). */
    sl_rights rights;
    char *chosen;             /* its normalised text */
    sl_spdx_expr *branch;     /* its tree: the expression with each OR
                                 replaced by the operand picked */
} sl_license_verdict;

/* Evaluates expr against policy (NULL: no policy, anything goes) and
 * fills *out (cleared first; clear it again when done).  SL_OK whether or
 * not the policy is satisfied; SL_ENOMEM. */
int  sl_license_check(const sl_rights_table *t, const sl_spdx_expr *expr,
                      const sl_license_policy *policy,
                      sl_license_verdict *out);
void sl_license_verdict_clear(sl_license_verdict *v);

/* The bound license record, for the `sluice-license` header and the
 * sample's row: compact JSON with sorted keys,
 *   {"attribution"?, "chosen", "expression", "licenses": [{"id", "name"?,
 *    "terms_url"?}], "policy_version", "rights": {...},
 *    "rights_table_version", "spdx_list_version", "terms_url"?,
 *    "version": 1}
 * terms_url and attribution come from the upload's metadata (either may be
 * NULL); without a terms_url, a chosen alternative that is a single listed
 * license gets its SPDX page.  Meant for an accepted verdict (for a
 * rejected one it describes the alternative shown).  Malloc'd; NULL on
 * out of memory or when attribution / terms_url is not valid UTF-8. */
char *sl_license_record(const sl_spdx *spdx, const sl_rights_table *t,
                        const sl_spdx_expr *expr,
                        const sl_license_verdict *v,
                        const sl_license_policy *policy,
                        const char *terms_url, const char *attribution);

#endif
