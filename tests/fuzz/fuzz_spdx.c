/*
 * fuzz_spdx.c -- the SPDX license expression parser
 * (services/license/spdx.c) over the built-in SPDX License List, as the
 * license stage and `sluicectl license check` run it on the creator's
 * "license.expression".
 *
 * The input is the expression (cut at its first NUL, as the C string the
 * stage hands over).  Properties beyond "no crash": a refusal carries one
 * of the four documented codes, a detail, and a position inside the input
 * (or -1); an accepted expression normalises to text that parses again to
 * the same normal form (spdx.h: "Parsing the result gives the same
 * tree"), and a deep copy normalises the same way.
 */
#include "fuzz.h"
#include "spdx.h"

static sl_spdx *list;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(sl_spdx_load(&list, &err) == SL_OK, err.msg);
    return 0;
}

static int known_code(const char *c)
{
    return c && (!strcmp(c, SL_LICENSE_MISSING) || !strcmp(c, SL_LICENSE_INVALID) ||
                 !strcmp(c, SL_LICENSE_UNKNOWN) || !strcmp(c, SL_LICENSE_DEPRECATED));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size), *norm = NULL, *norm2 = NULL, *norm3 = NULL;
    sl_spdx_expr *e = NULL, *e2 = NULL, *dup = NULL;
    sl_spdx_error err;
    int rc;

    if (!text)
        return 0;
    memset(&err, 0, sizeof(err));
    rc = sl_spdx_parse(list, text, &e, &err);
    if (rc == SL_ENOMEM)
        goto out;
    if (rc != SL_OK) {
        FUZZ_CHECK(rc == SL_EINVAL && !e, "rc %d", rc);
        FUZZ_CHECK(known_code(err.code), "code %s", err.code ? err.code : "(null)");
        FUZZ_CHECK(memchr(err.detail, '\0', sizeof(err.detail)) && err.detail[0],
                   "detail for %s", err.code);
        FUZZ_CHECK(err.pos >= -1 && err.pos <= (long)strlen(text),
                   "pos %ld outside %zu bytes", err.pos, strlen(text));
        goto out;
    }
    FUZZ_CHECK(e != NULL, "SL_OK without a tree");
    if (!(norm = sl_spdx_normalise(e)))
        goto out;
    memset(&err, 0, sizeof(err));
    rc = sl_spdx_parse(list, norm, &e2, &err);
    FUZZ_CHECK(rc == SL_OK || rc == SL_ENOMEM, "normal form \"%s\" of \"%s\" "
               "does not parse: %s", norm, text, err.detail);
    if (rc != SL_OK || !(norm2 = sl_spdx_normalise(e2)))
        goto out;
    FUZZ_CHECK(strcmp(norm, norm2) == 0, "\"%s\" normalises to \"%s\", "
               "which normalises to \"%s\"", text, norm, norm2);
    FUZZ_CHECK(sl_spdx_expr_kind(e) == sl_spdx_expr_kind(e2) &&
               sl_spdx_expr_count(e) == sl_spdx_expr_count(e2),
               "\"%s\": the tree of the normal form differs", text);
    if ((dup = sl_spdx_expr_dup(e)) && (norm3 = sl_spdx_normalise(dup)))
        FUZZ_CHECK(strcmp(norm, norm3) == 0, "copy normalises to \"%s\"", norm3);
out:
    free(norm3);
    free(norm2);
    free(norm);
    sl_spdx_expr_destroy(dup);
    sl_spdx_expr_destroy(e2);
    sl_spdx_expr_destroy(e);
    free(text);
    return 0;
}
