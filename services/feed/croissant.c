/*
 * croissant.c -- the Croissant 1.1 JSON-LD manifest of a dataset as one
 * token (or `sluicectl dataset manifest --consumer`) sees it
 * (feed_logic.h, fd_croissant_build).
 *
 * What `mlcroissant validate` (1.1.1) checks, and so what is written:
 * the standard 1.1 @context, exactly as mlcroissant's make_context() has
 * it (a context missing one of its keys draws a warning); conformsTo
 * http://mlcommons.org/croissant/1.1; name; the recommended citeAs,
 * datePublished, license and version (each missing one is a warning);
 * per FileObject an @id, encodingFormat, contentUrl and sha256 (md5 or
 * sha256 is an error when missing on a dataset that is not live).
 * Besides: description, creator (schema.org Person per creator id), url,
 * isLiveDataset true (samples arrive and are withdrawn while it is read),
 * and per file its contentSize ("<n> B"), its own license and creator
 * (schema.org properties of a CreativeWork, accepted without warning): a
 * dataset of mixed licenses says which file carries which.
 *
 * version is "1.<changes>.<samples>": the last withdrawal position of the
 * dataset and the last feed position among the files listed, so the
 * version moves whenever the set of files does.  A license that is one
 * SPDX identifier becomes its spdx.org URL (Croissant recommends URLs of
 * known licenses); a compound expression stays as its text.  Strings from
 * outside (file names, descriptions) that are not UTF-8 are repaired, not
 * refused: a manifest is always produced.  datePublished is written to the
 * second in UTC, whatever precision the caller's timestamp has.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_logic.h"

#define CR_CONFORMS "http://mlcommons.org/croissant/1.1"

/* A JSON string of s (NULL: ""), made valid UTF-8 without NUL first when
 * it is not.  NULL on ENOMEM. */
static json_t *jstr(const char *s)
{
    json_t *v;
    sl_buf b;

    if (!s)
        s = "";
    if ((v = json_string(s)))
        return v;
    sl_buf_init(&b, 4 * strlen(s) + 16);
    if (sl_utf8_sanitize(&b, s, strlen(s)) != SL_OK) {
        sl_buf_free(&b);
        return NULL;
    }
    v = json_stringn(b.len ? (const char *)b.data : "", b.len);
    sl_buf_free(&b);
    return v;
}

/* obj[key] = value, stealing value; 0 on failure (value freed). */
static int put(json_t *obj, const char *key, json_t *value)
{
    return value && json_object_set_new(obj, key, value) == 0;
}

static json_t *context(void)
{
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:{s:s},"
        " s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s, s:s, s:s, s:s, s:{s:s}}",
        "@language", "en",
        "@vocab", "https://schema.org/",
        "arrayShape", "cr:arrayShape",
        "citeAs", "cr:citeAs",
        "column", "cr:column",
        "conformsTo", "dct:conformsTo",
        "containedIn", "cr:containedIn",
        "cr", "http://mlcommons.org/croissant/",
        "rai", "http://mlcommons.org/croissant/RAI/",
        "data", "@id", "cr:data", "@type", "@json",
        "dataType", "@id", "cr:dataType", "@type", "@vocab",
        "dct", "http://purl.org/dc/terms/",
        "description", "@container", "@language",
        "equivalentProperty", "cr:equivalentProperty",
        "examples", "@id", "cr:examples", "@type", "@json",
        "extract", "cr:extract",
        "field", "cr:field",
        "fileProperty", "cr:fileProperty",
        "fileObject", "cr:fileObject",
        "fileSet", "cr:fileSet",
        "format", "cr:format",
        "includes", "cr:includes",
        "isArray", "cr:isArray",
        "isLiveDataset", "cr:isLiveDataset",
        "jsonPath", "cr:jsonPath",
        "key", "cr:key",
        "md5", "cr:md5",
        "name", "@container", "@language");

    if (c &&
        (!put(c, "parentField", json_string("cr:parentField")) ||
         !put(c, "path", json_string("cr:path")) ||
         !put(c, "recordSet", json_string("cr:recordSet")) ||
         !put(c, "references", json_string("cr:references")) ||
         !put(c, "regex", json_string("cr:regex")) ||
         !put(c, "repeated", json_string("cr:repeated")) ||
         !put(c, "replace", json_string("cr:replace")) ||
         !put(c, "samplingRate", json_string("cr:samplingRate")) ||
         !put(c, "sc", json_string("https://schema.org/")) ||
         !put(c, "separator", json_string("cr:separator")) ||
         !put(c, "source", json_string("cr:source")) ||
         !put(c, "subField", json_string("cr:subField")) ||
         !put(c, "transform", json_string("cr:transform")))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* 1 when s is one SPDX license identifier (idstring, optional "+"), not a
 * LicenseRef/DocumentRef and not an expression. */
static int spdx_single_id(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 100 || !strncmp(s, "LicenseRef-", 11) ||
        !strncmp(s, "DocumentRef-", 12))
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+' && i == n - 1 && i > 0)
            continue;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* A license as Croissant wants it: an spdx.org URL for one identifier,
 * the text otherwise (a URL or an expression). */
static json_t *license_value(const char *s)
{
    char url[160];

    if (!s)
        return NULL;
    if (spdx_single_id(s)) {
        snprintf(url, sizeof url, "https://spdx.org/licenses/%s.html", s);
        return json_string(url);
    }
    return jstr(s);
}

static json_t *person(const char *id)
{
    json_t *p = json_object();

    if (!p || !put(p, "@type", json_string("sc:Person")) || !put(p, "name", jstr(id))) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* The MIME type without parameters or surrounding blanks; "" becomes
 * application/octet-stream. */
static json_t *mime_value(const char *ct)
{
    size_t a = 0, b;

    if (!ct)
        ct = "";
    b = strcspn(ct, ";");
    while (a < b && (ct[a] == ' ' || ct[a] == '\t'))
        a++;
    while (b > a && (ct[b - 1] == ' ' || ct[b - 1] == '\t'))
        b--;
    if (a == b)
        return json_string("application/octet-stream");
    {
        char tmp[256];
        size_t n = b - a < sizeof tmp - 1 ? b - a : sizeof tmp - 1;
        memcpy(tmp, ct + a, n);
        tmp[n] = '\0';
        return jstr(tmp);
    }
}

/* The FileObject's @id: "sample/" and the upload id, every byte outside
 * RFC 3986 unreserved percent-encoded, so it is a relative IRI whatever
 * the id holds (a ':' would otherwise read as a scheme). */
static json_t *file_id(const char *upload_id)
{
    static const char hex[] = "0123456789ABCDEF";
    json_t *v;
    sl_buf b;
    const char *s;
    int rc;

    sl_buf_init(&b, 3 * strlen(upload_id) + 16);
    rc = sl_buf_append(&b, "sample/", 7);
    for (s = upload_id; *s && rc == SL_OK; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
            rc = sl_buf_putc(&b, (char)c);
        else
            rc = sl_buf_appendf(&b, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
    v = rc == SL_OK ? json_stringn((const char *)b.data, b.len) : NULL;
    sl_buf_free(&b);
    return v;
}

static json_t *file_object(const fd_cr_file *f)
{
    json_t *o = json_object(), *lic = NULL;
    char size[40];
    int ok;

    if (!o)
        return NULL;
    snprintf(size, sizeof size, "%" PRIu64 " B", f->size);
    ok = put(o, "@type", json_string("cr:FileObject")) &&
         put(o, "@id", file_id(f->upload_id ? f->upload_id : "")) &&
         put(o, "name", jstr(f->name && *f->name ? f->name : f->upload_id)) &&
         put(o, "contentUrl", jstr(f->content_url)) &&
         put(o, "contentSize", json_string(size)) &&
         put(o, "encodingFormat", mime_value(f->content_type)) &&
         put(o, "sha256", jstr(f->sha256_hex));
    if (ok && f->license && *f->license) {
        lic = license_value(f->license);
        ok = put(o, "license", lic);
    }
    if (ok && f->creator_id && *f->creator_id)
        ok = put(o, "creator", person(f->creator_id));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* citeAs: a BibTeX @misc entry, with the characters that would end or
 * escape a BibTeX field ({, }, \) left out of the values. */
static json_t *cite_as(const fd_cr_dataset *d, const char *name)
{
    const char *vals[3] = { d->dataset_id, name, d->url ? d->url : "" };
    sl_buf b, v[3];
    json_t *out = NULL;
    char year[5] = "";
    int i, rc = SL_OK;
    const char *s;

    if (d->date_published && strlen(d->date_published) >= 4) {
        memcpy(year, d->date_published, 4);
        year[4] = '\0';
        for (i = 0; i < 4; i++)
            if (year[i] < '0' || year[i] > '9')
                year[0] = '\0';
    }
    for (i = 0; i < 3; i++) {
        sl_buf_init(&v[i], strlen(vals[i]) + 16);
        for (s = vals[i]; *s && rc == SL_OK; s++)
            if (*s != '{' && *s != '}' && *s != '\\')
                rc = sl_buf_putc(&v[i], *s);
        if (rc == SL_OK)
            rc = sl_buf_cstr(&v[i]);
    }
    sl_buf_init(&b, 8192 + v[0].len + v[1].len + v[2].len);
    if (rc == SL_OK)
        rc = sl_buf_appendf(&b, "@misc{sluice-%s, title={%s}, url={%s}%s%s%s}",
                            (const char *)v[0].data, (const char *)v[1].data,
                            (const char *)v[2].data, year[0] ? ", year={" : "",
                            year, year[0] ? "}" : "");
    if (rc == SL_OK)
        out = jstr((const char *)b.data);
    for (i = 0; i < 3; i++)
        sl_buf_free(&v[i]);
    sl_buf_free(&b);
    return out;
}

/* datePublished to the second: an RFC 3339 UTC time with or without a
 * fraction ("2026-12-03T13:35:36.694723Z", "...36+00:00") is written
 * "2026-12-03T13:35:36Z", so the document does not depend on the
 * precision its caller's query produced; anything else as given. */
static json_t *date_value(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    char out[21];
    size_t i;
    const char *p;

    for (i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return jstr(s);
    p = s + i;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return jstr(s);
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return jstr(s);
    memcpy(out, s, sizeof shape - 1);
    out[19] = 'Z';
    out[20] = '\0';
    return json_string(out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends to arr the distinct non-empty strings of a list, sorted: the
 * caller's list (given, n_given) when it has one, else one field of the
 * files.  Licenses as license_value, creators as person.  So a manifest
 * lists them in one order whatever order its caller collected them in.
 * 0 on failure. */
static int distinct_sorted(json_t *arr, const char *const *given, size_t n_given,
                           const fd_cr_file *files, size_t n_files, int licenses)
{
    size_t n = given ? n_given : n_files, i, k = 0;
    const char **v;
    int ok = 1;

    if (!n)
        return 1;
    if (!(v = malloc(n * sizeof *v)))
        return 0;
    for (i = 0; i < n; i++) {
        const char *s = given ? given[i]
                      : licenses ? files[i].license : files[i].creator_id;
        if (s && *s)
            v[k++] = s;
    }
    qsort(v, k, sizeof *v, cmp_str);
    for (i = 0; i < k && ok; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]))
            ok = json_array_append_new(arr, licenses ? license_value(v[i])
                                                     : person(v[i])) == 0;
    free(v);
    return ok;
}

json_t *fd_croissant_build(const fd_cr_dataset *d, const fd_cr_file *files,
                           size_t n_files)
{
    json_t *doc = NULL, *arr = NULL;
    const char *name;
    char version[64], desc[512];
    uint64_t top = 0;
    size_t i;

    if (!d || !d->dataset_id || (n_files && !files))
        return NULL;
    name = d->name && *d->name ? d->name : d->dataset_id;
    for (i = 0; i < n_files; i++)
        if (files[i].feed_seq > top)
            top = files[i].feed_seq;
    snprintf(version, sizeof version, "1.%" PRIu64 ".%" PRIu64, d->changes_seq, top);
    if (!(doc = json_object()))
        return NULL;
    if (!put(doc, "@context", context()) ||
        !put(doc, "@type", json_string("sc:Dataset")) ||
        !put(doc, "conformsTo", json_string(CR_CONFORMS)) ||
        !put(doc, "name", jstr(name)))
        goto fail;
    if (d->description && *d->description) {
        if (!put(doc, "description", jstr(d->description)))
            goto fail;
    } else {
        snprintf(desc, sizeof desc, "Samples accepted into the sluice dataset %.400s.",
                 d->dataset_id);
        if (!put(doc, "description", jstr(desc)))
            goto fail;
    }
    if (!put(doc, "citeAs", cite_as(d, name)) ||
        !put(doc, "version", json_string(version)))
        goto fail;
    if (d->url && *d->url && !put(doc, "url", jstr(d->url)))
        goto fail;
    if (d->date_published && *d->date_published &&
        !put(doc, "datePublished", date_value(d->date_published)))
        goto fail;
    if (!put(doc, "isLiveDataset", json_true()))
        goto fail;
    if (!(arr = json_array()) || json_object_set_new(doc, "license", arr) != 0)
        goto fail;
    if (!distinct_sorted(arr, d->licenses, d->n_licenses, files, n_files, 1))
        goto fail;
    if (!(arr = json_array()) || json_object_set_new(doc, "creator", arr) != 0)
        goto fail;
    if (!distinct_sorted(arr, d->creators, d->n_creators, files, n_files, 0))
        goto fail;
    if (!(arr = json_array()) || json_object_set_new(doc, "distribution", arr) != 0)
        goto fail;
    for (i = 0; i < n_files; i++)
        if (json_array_append_new(arr, file_object(&files[i])) != 0)
            goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}
