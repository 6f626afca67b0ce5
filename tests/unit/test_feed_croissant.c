/*
 * test_feed_croissant.c -- unit tests for services/feed/croissant.c: the
 * Croissant 1.1 manifest of a dataset with files of mixed types and
 * licenses -- the dataset's properties, the standard @context, version and
 * citeAs, one FileObject per sample with its own license and creator,
 * licenses as spdx.org URLs or expression text, MIME parameters dropped,
 * @ids that stay relative IRIs, hostile file names repaired.  That
 * mlcroissant accepts the document is shown by
 * tests/integration/test_feed_manifest.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "feed_logic.h"

#define SHA_A "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define SHA_B "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"
#define SHA_C "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"

static const char *const licenses[] = { "CC-BY-4.0", "CC-BY-NC-4.0", "MIT OR Apache-2.0" };
static const char *const creators[] = { "alice", "bob" };

static const fd_cr_file files[] = {
    { "u-1", "notes.txt", "https://feed.example/v1/samples/u-1/content?c=acme&exp=1&sig=00",
      12, "text/plain; charset=utf-8", SHA_A, "CC-BY-4.0", "alice", 17 },
    { "u-2:x", "photo.png", "https://feed.example/v1/samples/u-2%3Ax/content?c=acme&exp=1&sig=00",
      1234, "image/png", SHA_B, "CC-BY-NC-4.0", "bob", 5 },
    { "u-3", "", "https://feed.example/v1/samples/u-3/content?c=acme&exp=1&sig=00",
      0, "", SHA_C, "MIT OR Apache-2.0", "alice", 9 },
};

static json_t *build(void)
{
    fd_cr_dataset d = {
        .dataset_id = "ds-1", .name = "Street photos",
        .description = "Photos and notes.",
        .url = "https://feed.example/v1/datasets/ds-1",
        .date_published = "2026-12-03T12:00:00Z",
        .licenses = licenses, .n_licenses = 3,
        .creators = creators, .n_creators = 2,
        .changes_seq = 3,
    };
    return fd_croissant_build(&d, files, 3);
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void test_dataset(void **state)
{
    json_t *doc = build(), *ctx, *a;

    (void)state;
    assert_non_null(doc);
    assert_string_equal(str(doc, "@type"), "sc:Dataset");
    assert_string_equal(str(doc, "conformsTo"), "http://mlcommons.org/croissant/1.1");
    assert_string_equal(str(doc, "name"), "Street photos");
    assert_string_equal(str(doc, "description"), "Photos and notes.");
    assert_string_equal(str(doc, "url"), "https://feed.example/v1/datasets/ds-1");
    assert_string_equal(str(doc, "datePublished"), "2026-12-03T12:00:00Z");
    /* 1.<changes_seq>.<highest feed_seq of the files> */
    assert_string_equal(str(doc, "version"), "1.3.17");
    assert_string_equal(str(doc, "citeAs"),
        "@misc{sluice-ds-1, title={Street photos}, "
        "url={https://feed.example/v1/datasets/ds-1}, year={2026}}");
    assert_true(json_is_true(json_object_get(doc, "isLiveDataset")));
    a = json_object_get(doc, "license");
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "https://spdx.org/licenses/CC-BY-NC-4.0.html");
    assert_string_equal(json_string_value(json_array_get(a, 2)), "MIT OR Apache-2.0");
    a = json_object_get(doc, "creator");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(str(json_array_get(a, 0), "@type"), "sc:Person");
    assert_string_equal(str(json_array_get(a, 1), "name"), "bob");
    /* the standard 1.1 context (mlcroissant 1.1.1 make_context): 41 keys */
    ctx = json_object_get(doc, "@context");
    assert_int_equal(json_object_size(ctx), 41);
    assert_string_equal(str(ctx, "@vocab"), "https://schema.org/");
    assert_string_equal(str(ctx, "cr"), "http://mlcommons.org/croissant/");
    assert_string_equal(str(ctx, "conformsTo"), "dct:conformsTo");
    assert_string_equal(str(ctx, "isLiveDataset"), "cr:isLiveDataset");
    assert_string_equal(str(ctx, "md5"), "cr:md5");
    assert_string_equal(str(json_object_get(ctx, "name"), "@container"), "@language");
    assert_string_equal(str(json_object_get(ctx, "data"), "@type"), "@json");
    json_decref(doc);
}

static void test_files(void **state)
{
    json_t *doc = build(), *dist, *f;

    (void)state;
    assert_non_null(doc);
    dist = json_object_get(doc, "distribution");
    assert_int_equal(json_array_size(dist), 3);
    f = json_array_get(dist, 0);
    assert_string_equal(str(f, "@type"), "cr:FileObject");
    assert_string_equal(str(f, "@id"), "sample/u-1");
    assert_string_equal(str(f, "name"), "notes.txt");
    assert_string_equal(str(f, "contentUrl"), "https://feed.example/v1/samples/u-1/content?c=acme&exp=1&sig=00");
    assert_string_equal(str(f, "contentSize"), "12 B");
    assert_string_equal(str(f, "encodingFormat"), "text/plain");
    assert_string_equal(str(f, "sha256"), SHA_A);
    assert_string_equal(str(f, "license"), "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_string_equal(str(json_object_get(f, "creator"), "name"), "alice");
    f = json_array_get(dist, 1);
    assert_string_equal(str(f, "@id"), "sample/u-2%3Ax");     /* ':' is no scheme */
    assert_string_equal(str(f, "encodingFormat"), "image/png");
    assert_string_equal(str(f, "contentSize"), "1234 B");
    assert_string_equal(str(f, "license"), "https://spdx.org/licenses/CC-BY-NC-4.0.html");
    f = json_array_get(dist, 2);
    assert_string_equal(str(f, "name"), "u-3");                /* no file name */
    assert_string_equal(str(f, "encodingFormat"), "application/octet-stream");
    assert_string_equal(str(f, "contentSize"), "0 B");
    assert_string_equal(str(f, "license"), "MIT OR Apache-2.0");
    json_decref(doc);
}

static void test_defaults_and_hostile(void **state)
{
    const fd_cr_file f = { "u-9", "bad\xff\xfe.txt", "https://x/c", 5,
                           "  text/csv ;header=present", SHA_A, NULL, NULL, 0 };
    fd_cr_dataset d = { .dataset_id = "ds-{x}", .name = "" };
    json_t *doc, *o;

    (void)state;
    doc = fd_croissant_build(&d, &f, 1);
    assert_non_null(doc);
    assert_string_equal(str(doc, "name"), "ds-{x}");
    assert_string_equal(str(doc, "description"), "Samples accepted into the sluice dataset ds-{x}.");
    assert_string_equal(str(doc, "version"), "1.0.0");
    assert_string_equal(str(doc, "citeAs"), "@misc{sluice-ds-x, title={ds-x}, url={}}");
    assert_null(json_object_get(doc, "url"));
    assert_null(json_object_get(doc, "datePublished"));
    assert_int_equal(json_array_size(json_object_get(doc, "license")), 0);
    o = json_array_get(json_object_get(doc, "distribution"), 0);
    assert_string_equal(str(o, "name"), "bad\xef\xbf\xbd\xef\xbf\xbd.txt");
    assert_string_equal(str(o, "encodingFormat"), "text/csv");
    assert_null(json_object_get(o, "license"));
    assert_null(json_object_get(o, "creator"));
    json_decref(doc);
    /* no files: an empty distribution */
    doc = fd_croissant_build(&d, NULL, 0);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "distribution")), 0);
    json_decref(doc);
    assert_null(fd_croissant_build(NULL, NULL, 0));
    d.dataset_id = NULL;
    assert_null(fd_croissant_build(&d, NULL, 0));
}

/* lists given in any order, with repeats and blanks: written distinct
 * and sorted, so two callers that collect them differently agree */
static void test_given_lists_sorted(void **state)
{
    static const char *const lic[] = { "MIT", "CC-BY-4.0", "MIT", "", NULL };
    static const char *const cre[] = { "zoe", "bob", "zoe" };
    fd_cr_dataset d = { .dataset_id = "ds-1", .licenses = lic, .n_licenses = 5,
                        .creators = cre, .n_creators = 3 };
    json_t *doc, *a;

    (void)state;
    doc = fd_croissant_build(&d, NULL, 0);
    assert_non_null(doc);
    a = json_object_get(doc, "license");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "https://spdx.org/licenses/MIT.html");
    a = json_object_get(doc, "creator");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(str(json_array_get(a, 0), "name"), "bob");
    assert_string_equal(str(json_array_get(a, 1), "name"), "zoe");
    json_decref(doc);
}

/* datePublished to the second, whatever the caller's precision */
static void test_date_published(void **state)
{
    static const char *const in[][2] = {
        { "2026-12-03T13:35:36.694723Z", "2026-12-03T13:35:36Z" },
        { "2026-12-03T13:35:36Z", "2026-12-03T13:35:36Z" },
        { "2026-12-03T13:35:36+00:00", "2026-12-03T13:35:36Z" },
        { "2026-12-03T13:35:36.5+00:00", "2026-12-03T13:35:36Z" },
        { "2026-12-03T13:35:36+02:00", "2026-12-03T13:35:36+02:00" },
        { "2026-12-03T13:35:36.Z", "2026-12-03T13:35:36.Z" },
        { "2026-12-03", "2026-12-03" },
        { "2026-12-03T13:35:36Zjunk", "2026-12-03T13:35:36Zjunk" },
    };
    fd_cr_dataset d = { .dataset_id = "ds-1" };
    json_t *doc;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        d.date_published = in[i][0];
        doc = fd_croissant_build(&d, NULL, 0);
        assert_non_null(doc);
        assert_string_equal(str(doc, "datePublished"), in[i][1]);
        json_decref(doc);
    }
}

/* licenses / creators NULL: the files' distinct values, sorted, so the
 * feed and sluicectl list them the same way */
static void test_derived_lists(void **state)
{
    fd_cr_dataset d = { .dataset_id = "ds-1" };
    json_t *doc, *a;

    (void)state;
    doc = fd_croissant_build(&d, files, 3);
    assert_non_null(doc);
    a = json_object_get(doc, "license");
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "https://spdx.org/licenses/CC-BY-NC-4.0.html");
    assert_string_equal(json_string_value(json_array_get(a, 2)), "MIT OR Apache-2.0");
    a = json_object_get(doc, "creator");
    assert_int_equal(json_array_size(a), 2);                    /* alice twice: once */
    assert_string_equal(str(json_array_get(a, 0), "name"), "alice");
    assert_string_equal(str(json_array_get(a, 1), "name"), "bob");
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_defaults_and_hostile),
        cmocka_unit_test(test_derived_lists),
        cmocka_unit_test(test_date_published),
        cmocka_unit_test(test_given_lists_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
