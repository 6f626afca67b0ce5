/*
 * fuzz_filetype.c -- the file-type sniffer (services/scan/filetype.c):
 * the magic-number table and its container refinements (ZIP entries,
 * ISO-BMFF brands, Matroska DocType, Debian packages), the text checks
 * (BOMs, strict UTF-8, UTF-16 by its zero bytes, 8-bit text) and the text
 * classifier (JSON / NDJSON, XML, HTML, CSV, shebangs, ...), with
 * libmagic behind them as the scan stage runs it; and the declared-type
 * functions on the input's first line as a Content-Type.
 *
 * Properties beyond "no crash": detection always answers, with a MIME type
 * that is already normalised, one of the documented encodings, a BOM
 * inside the input, and the category sl_type_category gives that type;
 * sl_type_normalize is idempotent; the compatibility and allow-list checks
 * answer 0 or 1.
 */
#include "filetype.h"
#include "fuzz.h"

static sl_ft *ft;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(sl_ft_new(&ft, NULL, 0, &err) == SL_OK, err.msg);
    return 0;
}

static int known_encoding(const char *e)
{
    static const char *const all[] = { "binary", "us-ascii", "utf-8", "utf-16le",
                                       "utf-16be", "iso-8859-1", "unknown-8bit" };

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(e, all[i]) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_ft_result r;
    char norm[SL_MIME_MAX], again[SL_MIME_MAX], declared[256];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t dn = nl ? (size_t)(nl - data) : size;
    int rc;

    memset(&r, 0, sizeof(r));
    FUZZ_CHECK(sl_ft_detect(ft, (sl_slice){ data, size }, &r) == SL_OK, "detect");
    FUZZ_CHECK(memchr(r.mime, '\0', sizeof(r.mime)) && r.mime[0], "no MIME type");
    FUZZ_CHECK(memchr(r.encoding, '\0', sizeof(r.encoding)) &&
               known_encoding(r.encoding), "encoding \"%.16s\"", r.encoding);
    FUZZ_CHECK(r.bom <= size, "BOM of %zu bytes in %zu", r.bom, size);
    FUZZ_CHECK(sl_type_normalize(r.mime, norm, sizeof(norm)) == SL_OK &&
               strcmp(norm, r.mime) == 0, "\"%s\" is not normalised", r.mime);
    FUZZ_CHECK(r.category == sl_type_category(r.mime), "\"%s\": category %s, "
               "sl_type_category says %s", r.mime, sl_ftcat_name(r.category),
               sl_ftcat_name(sl_type_category(r.mime)));

    /* The first line as what an uploader declared. */
    if (dn >= sizeof(declared))
        dn = sizeof(declared) - 1;
    memcpy(declared, data, dn);
    declared[dn] = '\0';
    rc = sl_type_normalize(declared, norm, sizeof(norm));
    FUZZ_CHECK(rc == SL_OK || rc == SL_EINVAL || rc == SL_ETOOBIG, "rc %d", rc);
    if (rc == SL_OK)
        FUZZ_CHECK(sl_type_normalize(norm, again, sizeof(again)) == SL_OK &&
                   strcmp(norm, again) == 0, "\"%s\" -> \"%s\" -> \"%s\"",
                   declared, norm, again);
    rc = sl_type_compatible(declared, r.mime);
    FUZZ_CHECK(rc == 0 || rc == 1, "compatible %d", rc);
    rc = sl_type_allowed_list(r.mime, declared);
    FUZZ_CHECK(rc == 0 || rc == 1, "allowed %d", rc);
    return 0;
}
