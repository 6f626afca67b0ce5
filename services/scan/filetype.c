/*
 * filetype.c -- MIME type, encoding and category of a sample's bytes, and
 * the declared-type rules (normalisation, compatibility, allowed types).
 *
 * The order of checks is the point of this file (filetype.h explains it):
 * a table of magic numbers, then text checks and a cheap text classifier,
 * and libmagic only where it adds something (containers whose exact type
 * needs a deeper look, and bytes nothing else recognised), called with the
 * text checks off because those are what cost half a millisecond.
 */
#include "filetype.h"

#include <ctype.h>
#include <magic.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "budget.h"
#include "textenc.h"

/* libmagic for bytes known not to be text: soft magic (the database), tar
 * and CDF; no text / encoding / JSON / CSV / token checks (they cannot
 * match, and they are the slow part), no looking inside compressed data,
 * no ELF details (they need a file descriptor). */
#ifndef MAGIC_NO_CHECK_CSV
#define MAGIC_NO_CHECK_CSV 0
#endif
#ifndef MAGIC_NO_CHECK_JSON
#define MAGIC_NO_CHECK_JSON 0
#endif
#define FT_MAGIC_BINARY_FLAGS                                              \
    (MAGIC_MIME_TYPE | MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING |     \
     MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_TOKENS |    \
     MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_APPTYPE)

#define OCTET "application/octet-stream"

struct sl_ft {
    magic_t magic;
    unsigned flags;
    int cur_flags;      /* what libmagic is set to now */
};

/* ==== declared types: tables ============================================== */

#define SH  "text/x-shellscript"
#define PY  "text/x-python"
#define PE  "application/vnd.microsoft.portable-executable"

/* Alias -> canonical name.  Keys are normalised spellings (lower case). */
static const struct { const char *alias, *canon; } aliases[] = {
    /* text and source code */
    { "application/javascript", "text/javascript" },
    { "application/x-javascript", "text/javascript" },
    { "application/ecmascript", "text/javascript" },
    { "text/ecmascript", "text/javascript" },
    { "text/x-javascript", "text/javascript" },
    { "application/x-json", "application/json" },
    { "text/json", "application/json" },
    { "text/x-json", "application/json" },
    { "application/jsonl", "application/x-ndjson" },
    { "application/jsonlines", "application/x-ndjson" },
    { "application/x-jsonlines", "application/x-ndjson" },
    { "application/ndjson", "application/x-ndjson" },
    { "text/xml", "application/xml" },
    { "application/x-xml", "application/xml" },
    { "text/x-markdown", "text/markdown" },
    { "text/comma-separated-values", "text/csv" },
    { "application/csv", "text/csv" },
    { "application/x-csv", "text/csv" },
    { "text/x-csv", "text/csv" },
    { "text/tsv", "text/tab-separated-values" },
    { "application/x-python", PY },
    { "application/x-python-script", PY },
    { "text/x-python3", PY },
    { "text/x-python-script", PY },
    { "application/x-sh", SH },
    { "application/x-shellscript", SH },
    { "application/x-bash", SH },
    { "text/x-sh", SH },
    { "text/x-shell", SH },
    { "text/x-csrc", "text/x-c" },
    { "text/x-chdr", "text/x-c" },
    { "text/x-c++src", "text/x-c++" },
    { "text/x-c++hdr", "text/x-c++" },
    { "text/x-java-source", "text/x-java" },
    { "application/x-perl", "text/x-perl" },
    { "application/x-ruby", "text/x-ruby" },
    { "application/x-php", "text/x-php" },
    { "application/x-httpd-php", "text/x-php" },
    { "application/x-yaml", "application/yaml" },
    { "text/yaml", "application/yaml" },
    { "text/x-yaml", "application/yaml" },
    { "text/x-toml", "application/toml" },
    { "text/x-sql", "application/sql" },
    { "text/x-patch", "text/x-diff" },
    { "application/rtf", "text/rtf" },
    { "application/x-rtf", "text/rtf" },
    { "text/x-vcard", "text/vcard" },
    { "text/directory", "text/vcard" },
    /* images */
    { "image/jpg", "image/jpeg" },
    { "image/pjpeg", "image/jpeg" },
    { "image/x-jpeg", "image/jpeg" },
    { "image/x-png", "image/png" },
    { "image/vnd.mozilla.apng", "image/apng" },
    { "image/x-ms-bmp", "image/bmp" },
    { "image/x-bmp", "image/bmp" },
    { "image/x-icon", "image/vnd.microsoft.icon" },
    { "image/svg", "image/svg+xml" },
    { "image/tif", "image/tiff" },
    { "image/x-tiff", "image/tiff" },
    /* audio and video */
    { "audio/x-wav", "audio/wav" },
    { "audio/wave", "audio/wav" },
    { "audio/vnd.wave", "audio/wav" },
    { "audio/x-pn-wav", "audio/wav" },
    { "audio/mp3", "audio/mpeg" },
    { "audio/x-mp3", "audio/mpeg" },
    { "audio/mpeg3", "audio/mpeg" },
    { "audio/x-mpeg", "audio/mpeg" },
    { "audio/x-flac", "audio/flac" },
    { "audio/x-m4a", "audio/mp4" },
    { "audio/m4a", "audio/mp4" },
    { "audio/x-aiff", "audio/aiff" },
    { "audio/mid", "audio/midi" },
    { "audio/x-midi", "audio/midi" },
    { "video/x-m4v", "video/mp4" },
    { "video/avi", "video/x-msvideo" },
    { "video/msvideo", "video/x-msvideo" },
    { "video/x-matroska-3d", "video/x-matroska" },
    /* documents */
    { "application/x-pdf", "application/pdf" },
    { "application/cdfv2", "application/x-ole-storage" },
    /* archives */
    { "application/x-zip-compressed", "application/zip" },
    { "application/x-zip", "application/zip" },
    { "application/x-gzip", "application/gzip" },
    { "application/x-rar-compressed", "application/vnd.rar" },
    { "application/x-rar", "application/vnd.rar" },
    { "application/x-zstd", "application/zstd" },
    { "application/x-bzip", "application/x-bzip2" },
    { "application/x-iso9660", "application/x-iso9660-image" },
    /* executables */
    { "application/x-msdownload", PE },
    { "application/x-ms-dos-executable", PE },
    { "application/x-winexe", PE },
    { "application/x-msdos-program", "application/x-dosexec" },
    { "application/x-mach-o-executable", "application/x-mach-binary" },
    { "application/x-mach-o", "application/x-mach-binary" },
    { "application/x-elf", "application/x-executable" },
    { "application/x-java-applet", "application/java-vm" },
    { "application/x-java-vm", "application/java-vm" },
    { "application/x-java-archive", "application/java-archive" },
    /* other */
    { "application/x-sqlite3", "application/vnd.sqlite3" },
    { "application/x-font-ttf", "font/ttf" },
    { "binary/octet-stream", OCTET },
    { "application/binary", OCTET },
    { "inode/x-empty", "application/x-empty" },
};

/* Script interpreters: a shebang's program, or libmagic's
 * text/x-script.NAME, to a type. */
static const struct { const char *name, *mime; } interpreters[] = {
    { "sh", SH }, { "bash", SH }, { "dash", SH }, { "zsh", SH },
    { "ksh", SH }, { "mksh", SH }, { "ash", SH }, { "csh", SH },
    { "tcsh", SH }, { "fish", SH }, { "busybox", SH }, { "shell", SH },
    { "python", PY }, { "pypy", PY },
    { "perl", "text/x-perl" }, { "ruby", "text/x-ruby" },
    { "node", "text/javascript" }, { "nodejs", "text/javascript" },
    { "deno", "text/javascript" }, { "bun", "text/javascript" },
    { "php", "text/x-php" }, { "lua", "text/x-lua" },
    { "tclsh", "text/x-tcl" }, { "wish", "text/x-tcl" }, { "tcl", "text/x-tcl" },
    { "awk", "text/x-awk" }, { "gawk", "text/x-awk" },
    { "mawk", "text/x-awk" }, { "nawk", "text/x-awk" },
    { "rscript", "text/x-r" },
};

static const struct { const char *mime; sl_ftcat cat; } categories[] = {
    { "application/x-empty", SL_FTCAT_TEXT },  /* zero bytes are valid text */
    { "application/json", SL_FTCAT_TEXT },
    { "application/x-ndjson", SL_FTCAT_TEXT },
    { "application/xml", SL_FTCAT_TEXT },
    { "application/yaml", SL_FTCAT_TEXT },
    { "application/toml", SL_FTCAT_TEXT },
    { "application/sql", SL_FTCAT_TEXT },
    { "application/x-tex", SL_FTCAT_TEXT },
    { "application/x-latex", SL_FTCAT_TEXT },
    { "application/x-subrip", SL_FTCAT_TEXT },
    { "application/pgp-keys", SL_FTCAT_TEXT },
    { "application/pgp-signature", SL_FTCAT_TEXT },
    { "application/x-pem-file", SL_FTCAT_TEXT },
    { "application/mbox", SL_FTCAT_TEXT },
    { "application/x-wine-extension-ini", SL_FTCAT_TEXT },
    { "application/pdf", SL_FTCAT_DOCUMENT },
    { "application/postscript", SL_FTCAT_DOCUMENT },
    { "application/msword", SL_FTCAT_DOCUMENT },
    { "application/x-ole-storage", SL_FTCAT_DOCUMENT },
    { "application/epub+zip", SL_FTCAT_DOCUMENT },
    { "application/zip", SL_FTCAT_ARCHIVE },
    { "application/gzip", SL_FTCAT_ARCHIVE },
    { "application/x-tar", SL_FTCAT_ARCHIVE },
    { "application/x-7z-compressed", SL_FTCAT_ARCHIVE },
    { "application/vnd.rar", SL_FTCAT_ARCHIVE },
    { "application/x-bzip2", SL_FTCAT_ARCHIVE },
    { "application/x-xz", SL_FTCAT_ARCHIVE },
    { "application/zstd", SL_FTCAT_ARCHIVE },
    { "application/x-lzip", SL_FTCAT_ARCHIVE },
    { "application/x-lzma", SL_FTCAT_ARCHIVE },
    { "application/x-lz4", SL_FTCAT_ARCHIVE },
    { "application/x-compress", SL_FTCAT_ARCHIVE },
    { "application/x-cpio", SL_FTCAT_ARCHIVE },
    { "application/x-archive", SL_FTCAT_ARCHIVE },
    { "application/x-iso9660-image", SL_FTCAT_ARCHIVE },
    { "application/x-rpm", SL_FTCAT_ARCHIVE },
    { "application/vnd.debian.binary-package", SL_FTCAT_ARCHIVE },
    { "application/vnd.ms-cab-compressed", SL_FTCAT_ARCHIVE },
    { "application/x-apple-diskimage", SL_FTCAT_ARCHIVE },
    { "application/x-executable", SL_FTCAT_EXECUTABLE },
    { "application/x-sharedlib", SL_FTCAT_EXECUTABLE },
    { "application/x-pie-executable", SL_FTCAT_EXECUTABLE },
    { "application/x-object", SL_FTCAT_EXECUTABLE },
    { "application/x-coredump", SL_FTCAT_EXECUTABLE },
    { "application/x-mach-binary", SL_FTCAT_EXECUTABLE },
    { PE, SL_FTCAT_EXECUTABLE },
    { "application/x-dosexec", SL_FTCAT_EXECUTABLE },
    { "application/java-vm", SL_FTCAT_EXECUTABLE },
    { "application/java-archive", SL_FTCAT_EXECUTABLE },
    { "application/vnd.android.package-archive", SL_FTCAT_EXECUTABLE },
    { "application/x-dex", SL_FTCAT_EXECUTABLE },
    { "application/wasm", SL_FTCAT_EXECUTABLE },
    { "application/x-msi", SL_FTCAT_EXECUTABLE },
    { "application/x-bytecode.python", SL_FTCAT_EXECUTABLE },
};

/* Families for sl_type_compatible.  `generic` marks the container name a
 * specific member may be declared or detected as; `members` says whether
 * two specific members are interchangeable (when in one category, or both
 * audio / video). */
typedef struct family {
    const char *name;
    int members;
} family;

static const family fam_zip = { "zip", 0 }, fam_ole = { "ole", 0 },
    fam_xml = { "xml", 0 }, fam_tiff = { "tiff", 0 }, fam_elf = { "elf", 1 },
    fam_pe = { "pe", 1 }, fam_mp4 = { "mp4", 1 }, fam_ogg = { "ogg", 1 },
    fam_mkv = { "mkv", 1 }, fam_png = { "png", 1 };

static const struct {
    const char *mime;
    const family *fam;
    int generic;
} families[] = {
    { "application/zip", &fam_zip, 1 },
    { "application/java-archive", &fam_zip, 0 },
    { "application/vnd.android.package-archive", &fam_zip, 0 },
    { "application/epub+zip", &fam_zip, 0 },
    { "application/x-ole-storage", &fam_ole, 1 },
    { "application/msword", &fam_ole, 0 },
    { "application/vnd.ms-excel", &fam_ole, 0 },
    { "application/vnd.ms-powerpoint", &fam_ole, 0 },
    { "application/vnd.ms-outlook", &fam_ole, 0 },
    { "application/x-msi", &fam_ole, 0 },
    { "application/xml", &fam_xml, 1 },
    { "image/tiff", &fam_tiff, 1 },
    { "image/x-canon-cr2", &fam_tiff, 0 },
    { "image/x-nikon-nef", &fam_tiff, 0 },
    { "image/x-adobe-dng", &fam_tiff, 0 },
    { "image/x-sony-arw", &fam_tiff, 0 },
    { "application/x-executable", &fam_elf, 0 },
    { "application/x-sharedlib", &fam_elf, 0 },
    { "application/x-pie-executable", &fam_elf, 0 },
    { "application/x-object", &fam_elf, 0 },
    { "application/x-coredump", &fam_elf, 0 },
    { PE, &fam_pe, 0 },
    { "application/x-dosexec", &fam_pe, 0 },
    { "video/mp4", &fam_mp4, 0 },
    { "audio/mp4", &fam_mp4, 0 },
    { "video/quicktime", &fam_mp4, 0 },
    { "video/3gpp", &fam_mp4, 0 },
    { "video/3gpp2", &fam_mp4, 0 },
    { "audio/3gpp", &fam_mp4, 0 },
    { "image/heic", &fam_mp4, 0 },
    { "image/heif", &fam_mp4, 0 },
    { "image/avif", &fam_mp4, 0 },
    { "application/ogg", &fam_ogg, 1 },
    { "audio/ogg", &fam_ogg, 0 },
    { "video/ogg", &fam_ogg, 0 },
    { "audio/opus", &fam_ogg, 0 },
    { "video/x-matroska", &fam_mkv, 0 },
    { "audio/x-matroska", &fam_mkv, 0 },
    { "video/webm", &fam_mkv, 0 },
    { "audio/webm", &fam_mkv, 0 },
    { "image/png", &fam_png, 0 },
    { "image/apng", &fam_png, 0 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The interpreter name of a path or program word: basename, lower case,
 * version digits and dots dropped ("/usr/bin/python3.11" -> "python"). */
static const char *interpreter_mime(const char *name, size_t len)
{
    char buf[32];
    size_t n;

    for (size_t i = len; i > 0; i--)
        if (name[i - 1] == '/') {
            name += i;
            len -= i;
            break;
        }
    while (len > 0 && (isdigit((unsigned char)name[len - 1]) ||
                       name[len - 1] == '.' || name[len - 1] == '-'))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return NULL;
    for (n = 0; n < len; n++)
        buf[n] = (char)tolower((unsigned char)name[n]);
    buf[n] = '\0';
    for (size_t i = 0; i < COUNT(interpreters); i++)
        if (strcmp(buf, interpreters[i].name) == 0)
            return interpreters[i].mime;
    return NULL;
}

static int is_token_char(int c)
{
    return isalnum(c) || (c && strchr("!#$&-^_.+", c) != NULL);
}

/* aliases[] by alias in strcmp order (equal aliases by position, so the
 * first of them wins as a scan of the table would find it): written once,
 * under pthread_once, then only read.  A linear scan of the 102 aliases,
 * several times a sample, cost about 1.3 us of the scan stage's 11 us
 * decision of a 1 KiB sample (bench_scan, tests/bench/README.md). */
_Static_assert(COUNT(aliases) <= UINT8_MAX, "alias index is a uint8_t");
static pthread_once_t alias_once = PTHREAD_ONCE_INIT;
static uint8_t alias_order[COUNT(aliases)];

static int alias_cmp(const void *a, const void *b)
{
    uint8_t x = *(const uint8_t *)a, y = *(const uint8_t *)b;
    int c = strcmp(aliases[x].alias, aliases[y].alias);

    return c ? c : (x > y) - (x < y);
}

static void alias_sort(void)
{
    for (size_t i = 0; i < COUNT(aliases); i++)
        alias_order[i] = (uint8_t)i;
    qsort(alias_order, COUNT(aliases), sizeof(alias_order[0]), alias_cmp);
}

/* The canonical name of alias t, or NULL. */
static const char *alias_canon(const char *t)
{
    size_t lo = 0, hi = COUNT(aliases);

    (void)pthread_once(&alias_once, alias_sort);
    while (lo < hi) {           /* the first position not below t */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(aliases[alias_order[mid]].alias, t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < COUNT(aliases) && strcmp(aliases[alias_order[lo]].alias, t) == 0)
        return aliases[alias_order[lo]].canon;
    return NULL;
}

size_t sl_type_alias_count(void)
{
    return COUNT(aliases);
}

int sl_type_alias(size_t i, const char **alias, const char **canon)
{
    if (i >= COUNT(aliases) || !alias || !canon)
        return SL_EINVAL;
    *alias = aliases[i].alias;
    *canon = aliases[i].canon;
    return SL_OK;
}

int sl_type_normalize(const char *in, char *out, size_t outsz)
{
    char tmp[SL_MIME_MAX];
    const char *s, *e, *canon;
    size_t n = 0, slash = 0;

    if (!in || !out || outsz == 0)
        return SL_EINVAL;
    s = in;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s;
    while (*e && *e != ';')
        e++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if ((size_t)(e - s) >= sizeof(tmp))
        return SL_ETOOBIG;
    for (const char *c = s; c < e; c++) {
        int ch = tolower((unsigned char)*c);

        if (ch == '/') {
            if (slash || n == 0)
                return SL_EINVAL;
            slash = n + 1;
        } else if (!is_token_char(ch)) {
            return SL_EINVAL;
        }
        tmp[n++] = (char)ch;
    }
    if (!slash || slash == n)
        return SL_EINVAL;
    tmp[n] = '\0';

    if (!(canon = alias_canon(tmp)))
        canon = tmp;
    if (canon == tmp && starts_with(tmp, "text/x-script.")) {
        const char *m = interpreter_mime(tmp + 14, strlen(tmp + 14));

        if (m)
            canon = m;
    }
    if (strlen(canon) >= outsz)
        return SL_ETOOBIG;
    memmove(out, canon, strlen(canon) + 1);
    return SL_OK;
}

/* Category of a normalised type. */
static sl_ftcat category_of(const char *m)
{
    if (starts_with(m, "text/"))
        return SL_FTCAT_TEXT;
    for (size_t i = 0; i < COUNT(categories); i++)
        if (strcmp(m, categories[i].mime) == 0)
            return categories[i].cat;
    if (starts_with(m, "image/"))
        return SL_FTCAT_IMAGE;
    if (starts_with(m, "audio/"))
        return SL_FTCAT_AUDIO;
    if (starts_with(m, "video/"))
        return SL_FTCAT_VIDEO;
    if (starts_with(m, "text/") || starts_with(m, "message/"))
        return SL_FTCAT_TEXT;
    if (starts_with(m, "application/vnd.openxmlformats-officedocument.") ||
        starts_with(m, "application/vnd.oasis.opendocument.") ||
        starts_with(m, "application/vnd.ms-"))
        return SL_FTCAT_DOCUMENT;
    if (ends_with(m, "+json") || ends_with(m, "+xml"))
        return SL_FTCAT_TEXT;
    return SL_FTCAT_OTHER;
}

sl_ftcat sl_type_category(const char *mime)
{
    char m[SL_MIME_MAX];

    if (!mime || sl_type_normalize(mime, m, sizeof(m)) != SL_OK)
        return SL_FTCAT_OTHER;
    return category_of(m);
}

const char *sl_ftcat_name(sl_ftcat c)
{
    static const char *const names[] = {
        "other", "text", "image", "audio", "video", "document", "archive",
        "executable",
    };

    return (unsigned)c < COUNT(names) ? names[c] : "other";
}

int sl_ftcat_default_allowed(sl_ftcat c)
{
    switch (c) {
    case SL_FTCAT_TEXT:
    case SL_FTCAT_IMAGE:
    case SL_FTCAT_AUDIO:
    case SL_FTCAT_VIDEO:
    case SL_FTCAT_DOCUMENT:
        return 1;
    default:
        return 0;
    }
}

static const family *family_of(const char *m, int *generic)
{
    *generic = 0;
    for (size_t i = 0; i < COUNT(families); i++)
        if (strcmp(m, families[i].mime) == 0) {
            *generic = families[i].generic;
            return families[i].fam;
        }
    if (starts_with(m, "application/vnd.openxmlformats-officedocument.") ||
        starts_with(m, "application/vnd.oasis.opendocument."))
        return &fam_zip;
    if (ends_with(m, "+xml"))
        return &fam_xml;
    return NULL;
}

/* Text the scanner reads as text, whatever the declared subtype. */
static int text_like(const char *m, sl_ftcat c)
{
    return c == SL_FTCAT_TEXT || strcmp(m, "image/svg+xml") == 0;
}

static int av(sl_ftcat c)
{
    return c == SL_FTCAT_AUDIO || c == SL_FTCAT_VIDEO;
}

int sl_type_compatible(const char *declared, const char *detected)
{
    char d[SL_MIME_MAX], t[SL_MIME_MAX];
    const family *fd, *ft;
    int gd, gt;
    sl_ftcat cd, ct;
    const char *s = declared;

    while (s && (*s == ' ' || *s == '\t'))
        s++;
    if (!s || !*s)
        return 1;
    if (!detected || sl_type_normalize(detected, t, sizeof(t)) != SL_OK)
        return 0;
    if (sl_type_normalize(declared, d, sizeof(d)) != SL_OK)
        return 0;
    if (strcmp(d, OCTET) == 0 || strcmp(t, "application/x-empty") == 0 ||
        strcmp(d, t) == 0)
        return 1;
    cd = category_of(d);
    ct = category_of(t);
    if (text_like(d, cd) && text_like(t, ct))
        return 1;
    fd = family_of(d, &gd);
    ft = family_of(t, &gt);
    if (fd && fd == ft) {
        if (gd || gt)
            return 1;
        if (fd->members && (cd == ct || (av(cd) && av(ct))))
            return 1;
    }
    if (cd == SL_FTCAT_OTHER && strcmp(t, OCTET) == 0)
        return 1;
    return 0;
}

/* ---- allowed types ---------------------------------------------------- */

static int pattern_match(const char *t, sl_ftcat ct, const char *pat,
                         size_t len)
{
    char buf[SL_MIME_MAX];

    while (len > 0 && isspace((unsigned char)*pat))
        pat++, len--;
    while (len > 0 && isspace((unsigned char)pat[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, pat, len);
    buf[len] = '\0';
    if (strcmp(buf, "*") == 0 || strcmp(buf, "*/*") == 0)
        return 1;
    if (buf[0] == '@') {
        for (size_t i = 1; buf[i]; i++)
            buf[i] = (char)tolower((unsigned char)buf[i]);
        return strcmp(buf + 1, sl_ftcat_name(ct)) == 0;
    }
    if (len > 2 && strcmp(buf + len - 2, "/*") == 0) {
        const char *slash = strchr(t, '/');

        return slash && (size_t)(slash - t) == len - 2 &&
               strncasecmp(t, buf, len - 2) == 0;
    }
    if (sl_type_normalize(buf, buf, sizeof(buf)) != SL_OK)
        return 0;
    return strcmp(buf, t) == 0;
}

int sl_type_allowed(const char *detected, const char *const *patterns,
                    size_t n)
{
    char t[SL_MIME_MAX];
    sl_ftcat ct;

    if (!detected || sl_type_normalize(detected, t, sizeof(t)) != SL_OK)
        return 0;
    ct = category_of(t);
    if (!patterns || n == 0)
        return sl_ftcat_default_allowed(ct);
    for (size_t i = 0; i < n; i++)
        if (patterns[i] && pattern_match(t, ct, patterns[i], strlen(patterns[i])))
            return 1;
    return 0;
}

int sl_type_allowed_list(const char *detected, const char *list)
{
    char t[SL_MIME_MAX];
    sl_ftcat ct;
    const char *s = list;
    int any = 0;

    if (!detected || sl_type_normalize(detected, t, sizeof(t)) != SL_OK)
        return 0;
    ct = category_of(t);
    while (s && *s) {
        size_t k;

        while (*s == ',' || isspace((unsigned char)*s))
            s++;
        k = strcspn(s, ", \t\r\n");
        if (k == 0)
            break;
        any = 1;
        if (pattern_match(t, ct, s, k))
            return 1;
        s += k;
    }
    return any ? 0 : sl_ftcat_default_allowed(ct);
}

/* ==== step 2: the magic-number table ====================================== */

typedef struct sniff {
    const char *mime;
    int refine;         /* ask libmagic for the exact type */
    char buf[SL_MIME_MAX];
} sniff;

static int at(const uint8_t *p, size_t n, size_t off, const char *sig,
              size_t len)
{
    return n >= off && n - off >= len && memcmp(p + off, sig, len) == 0;
}

#define AT(off, lit) at(p, n, (off), (lit), sizeof(lit) - 1)
#define FOUND(m, r)            \
    do {                       \
        s->mime = (m);         \
        s->refine = (r);       \
        return 1;              \
    } while (0)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static int name_is(const uint8_t *name, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

static int name_starts(const uint8_t *name, size_t len, const char *lit)
{
    return len >= strlen(lit) && memcmp(name, lit, strlen(lit)) == 0;
}

/* ZIP: what libmagic would say, from the local file headers, for the
 * common cases: EPUB / ODF (a stored first entry "mimetype" holding the
 * type), OOXML (a word/, xl/ or ppt/ entry after [Content_Types].xml or
 * _rels/), a plain archive.  First entries libmagic knows more about
 * (META-INF/ for jar, AndroidManifest.xml, doc.kml, 3D/ for 3MF, ...),
 * data descriptors and OOXML without a telling entry set *refine. */
static const char *zip_kind(const uint8_t *p, size_t n, sniff *s, int *refine)
{
    size_t i = 0;
    int ooxml = 0;

    *refine = 0;
    for (int k = 0; k < 64 && i <= n && n - i >= 30 && memcmp(p + i, "PK\x03\x04", 4) == 0; k++) {
        unsigned flags = le16(p + i + 6), method = le16(p + i + 8);
        size_t csize = le32(p + i + 18), fnlen = le16(p + i + 26),
               xlen = le16(p + i + 28), data;
        const uint8_t *name = p + i + 30;

        if (fnlen > n - i - 30)
            break;
        data = i + 30 + fnlen + xlen;
        if (k == 0) {
            if (name_is(name, fnlen, "mimetype") && method == 0 && data <= n &&
                csize <= n - data && csize > 0 && csize < sizeof(s->buf)) {
                char t[SL_MIME_MAX];

                memcpy(t, p + data, csize);
                t[csize] = '\0';
                if (strchr(t, '/') && sl_type_normalize(t, s->buf, sizeof(s->buf)) == SL_OK)
                    return s->buf;
                *refine = 1;
                return "application/zip";
            }
            if (name_starts(name, fnlen, "META-INF/") ||
                name_is(name, fnlen, "AndroidManifest.xml") ||
                name_is(name, fnlen, "classes.dex") || name_is(name, fnlen, "doc.kml") ||
                name_starts(name, fnlen, "3D/") || name_is(name, fnlen, "mimetype")) {
                *refine = 1;
                return "application/zip";
            }
        }
        if (name_starts(name, fnlen, "word/"))
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        if (name_starts(name, fnlen, "xl/"))
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        if (name_starts(name, fnlen, "ppt/"))
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
        ooxml |= name_is(name, fnlen, "[Content_Types].xml") ||
                 name_starts(name, fnlen, "_rels/") || name_starts(name, fnlen, "docProps/");
        if (!ooxml)
            return "application/zip";
        if ((flags & 8) || data > n || csize > n - data)
            break;              /* sizes in a data descriptor, or cut short */
        i = data + csize;
    }
    *refine = 1;
    return "application/zip";
}

/* ISO base media (MP4 and relatives): the major brand, as libmagic names
 * it; NULL for brands left to libmagic. */
static const char *bmff_brand(const uint8_t *b)
{
    static const struct { const char brand[5], *mime; } brands[] = {
        { "isom", "video/mp4" }, { "iso2", "video/mp4" }, { "iso3", "video/mp4" },
        { "iso4", "video/mp4" }, { "iso5", "video/mp4" }, { "iso6", "video/mp4" },
        { "mp41", "video/mp4" }, { "mp42", "video/mp4" }, { "avc1", "video/mp4" },
        { "dash", "video/mp4" }, { "M4V ", "video/mp4" }, { "M4VH", "video/mp4" },
        { "M4VP", "video/mp4" }, { "M4A ", "audio/mp4" }, { "M4B ", "audio/mp4" },
        { "MSNV", "audio/mp4" }, { "qt  ", "video/quicktime" },
        { "heic", "image/heic" }, { "heix", "image/heic" }, { "heim", "image/heic" },
        { "heis", "image/heic" }, { "hevc", "image/heic" }, { "hevx", "image/heic" },
        { "mif1", "image/heif" }, { "msf1", "image/heif-sequence" },
        { "avif", "image/avif" }, { "avis", "image/avif" },
        { "crx ", "image/x-canon-cr3" },
    };

    for (size_t i = 0; i < COUNT(brands); i++)
        if (memcmp(b, brands[i].brand, 4) == 0)
            return brands[i].mime;
    if (memcmp(b, "3gp", 3) == 0)
        return "video/3gpp";
    if (memcmp(b, "3g2", 3) == 0)
        return "video/3gpp2";
    return NULL;
}

/* Matroska / WebM: the EBML DocType element near the start. */
static const char *ebml_doctype(const uint8_t *p, size_t n)
{
    size_t lim = n < 64 ? n : 64;

    for (size_t i = 4; i + 3 <= lim; i++)
        if (p[i] == 0x42 && p[i + 1] == 0x82 && (p[i + 2] & 0x80)) {
            size_t len = p[i + 2] & 0x7f;

            if (len > lim - i - 3)
                return NULL;
            if (len == 4 && memcmp(p + i + 3, "webm", 4) == 0)
                return "video/webm";
            if (len == 8 && memcmp(p + i + 3, "matroska", 8) == 0)
                return "video/x-matroska";
            return NULL;
        }
    return NULL;
}

static int sniff_magic(const uint8_t *p, size_t n, sniff *s)
{
    /* images */
    if (AT(0, "\x89PNG\r\n\x1a\n"))
        FOUND("image/png", 0);
    if (AT(0, "\xff\xd8\xff"))
        FOUND("image/jpeg", 0);
    if (AT(0, "GIF87a") || AT(0, "GIF89a"))
        FOUND("image/gif", 0);
    if (AT(0, "II*\0") || AT(0, "MM\0*") || AT(0, "II+\0") || AT(0, "MM\0+"))
        FOUND("image/tiff", 0);
    if (AT(0, "BM") && n >= 18) {
        uint32_t dib = le32(p + 14);

        if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 ||
            dib == 108 || dib == 124)
            FOUND("image/bmp", 0);
    }
    if (AT(0, "8BPS"))
        FOUND("image/vnd.adobe.photoshop", 0);
    if (AT(0, "\0\0\0\x0cjP  \r\n\x87\n"))
        FOUND("image/jp2", 0);
    if (AT(0, "\xff\x0a") || AT(0, "\0\0\0\x0cJXL \r\n\x87\n"))
        FOUND("image/jxl", 0);
    /* RIFF: WebP, WAV, AVI; other forms go to libmagic via step 4 */
    if (AT(0, "RIFF") && n >= 12) {
        if (AT(8, "WEBP"))
            FOUND("image/webp", 0);
        if (AT(8, "WAVE"))
            FOUND("audio/wav", 0);
        if (AT(8, "AVI "))
            FOUND("video/x-msvideo", 0);
    }
    /* documents */
    if (AT(0, "%PDF-"))
        FOUND("application/pdf", 0);
    if (AT(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
        FOUND("application/x-ole-storage", 1);
    /* archives and compressed streams */
    if (AT(0, "PK\x03\x04")) {
        int refine;
        const char *m = zip_kind(p, n, s, &refine);

        FOUND(m, refine);
    }
    if (AT(0, "PK\x07\x08"))
        FOUND("application/zip", 1);
    if (AT(0, "PK\x05\x06"))
        FOUND("application/zip", 0);
    if (AT(0, "\x1f\x8b\x08"))
        FOUND("application/gzip", 0);
    if (AT(0, "BZh") && (AT(4, "1AY&SY") || AT(4, "\x17\x72\x45\x38\x50\x90")))
        FOUND("application/x-bzip2", 0);
    if (AT(0, "\xfd" "7zXZ\0"))
        FOUND("application/x-xz", 0);
    if (AT(0, "\x28\xb5\x2f\xfd"))
        FOUND("application/zstd", 0);
    if (AT(0, "7z\xbc\xaf\x27\x1c"))
        FOUND("application/x-7z-compressed", 0);
    if (AT(0, "Rar!\x1a\x07\x00") || AT(0, "Rar!\x1a\x07\x01\x00"))
        FOUND("application/vnd.rar", 0);
    if (AT(257, "ustar\0") || AT(257, "ustar  \0"))
        FOUND("application/x-tar", 0);
    if (AT(0, "LZIP"))
        FOUND("application/x-lzip", 0);
    if (AT(0, "\x04\x22\x4d\x18"))
        FOUND("application/x-lz4", 0);
    if (AT(0, "\x1f\x9d"))
        FOUND("application/x-compress", 0);
    if (AT(0, "MSCF\0\0\0\0"))
        FOUND("application/vnd.ms-cab-compressed", 0);
    if (AT(0, "!<arch>\n"))
        FOUND(AT(8, "debian-binary") ? "application/vnd.debian.binary-package"
                                     : "application/x-archive", 0);
    if (AT(0, "\xed\xab\xee\xdb"))
        FOUND("application/x-rpm", 0);
    if (AT(0, "070701") || AT(0, "070702") || AT(0, "070707"))
        FOUND("application/x-cpio", 0);
    if (AT(32769, "CD001"))
        FOUND("application/x-iso9660-image", 0);
    /* executables */
    if (AT(0, "\x7f" "ELF")) {
        unsigned et = 0;

        if (n >= 18)
            et = p[5] == 2 ? (unsigned)(p[16] << 8 | p[17])
                           : (unsigned)(p[17] << 8 | p[16]);
        switch (et) {
        case 1: FOUND("application/x-object", 0);
        case 2: FOUND("application/x-executable", 0);
        /* libmagic tells a PIE from a shared object only with a file
         * descriptor; on a buffer it says x-sharedlib too */
        case 3: FOUND("application/x-sharedlib", 0);
        case 4: FOUND("application/x-coredump", 0);
        default: FOUND("application/x-executable", 1);
        }
    }
    if (AT(0, "MZ") && n >= 64) {
        uint32_t pe = le32(p + 60);

        if (pe <= n - 4 && memcmp(p + pe, "PE\0\0", 4) == 0)
            FOUND(PE, 0);
    }
    if (AT(0, "\xfe\xed\xfa\xce") || AT(0, "\xfe\xed\xfa\xcf") ||
        AT(0, "\xce\xfa\xed\xfe") || AT(0, "\xcf\xfa\xed\xfe"))
        FOUND("application/x-mach-binary", 0);
    if (AT(0, "\xca\xfe\xba\xbe") && n >= 8)   /* Mach-O fat, or Java class */
        FOUND(be32(p + 4) < 30 ? "application/x-mach-binary"
                               : "application/java-vm", 1);
    if (AT(0, "\0asm"))
        FOUND("application/wasm", 0);
    /* audio and video */
    if (AT(0, "ID3"))
        FOUND("audio/mpeg", 0);
    if (AT(0, "fLaC"))
        FOUND("audio/flac", 0);
    if (AT(0, "OggS"))
        FOUND("audio/ogg", 1);
    if (AT(0, "FORM") && (AT(8, "AIFF") || AT(8, "AIFC")))
        FOUND("audio/aiff", 0);
    if (AT(0, "MThd\0\0\0\x06"))
        FOUND("audio/midi", 0);
    if (AT(4, "ftyp") && n >= 12) {
        const char *m = bmff_brand(p + 8);

        FOUND(m ? m : "video/mp4", m == NULL);
    }
    if (AT(0, "\x1a\x45\xdf\xa3")) {
        const char *m = ebml_doctype(p, n);

        FOUND(m ? m : "video/x-matroska", m == NULL);
    }
    /* other */
    if (AT(0, "SQLite format 3\0"))
        FOUND("application/vnd.sqlite3", 0);
    if (AT(0, "\x89HDF\r\n\x1a\n"))
        FOUND("application/x-hdf5", 0);
    if (AT(0, "wOFF"))
        FOUND("font/woff", 0);
    if (AT(0, "wOF2"))
        FOUND("font/woff2", 0);
    if (AT(0, "OTTO"))
        FOUND("font/otf", 0);
    return 0;
}

/* ==== step 3: text ======================================================== */

/* Control characters text may hold: BEL BS TAB LF FF CR ESC (libmagic's
 * choice too); any other C0 byte, or DEL, means binary. */
static int bad_control(unsigned c)
{
    return (c < 0x20 && c != 7 && c != 8 && c != 9 && c != 10 && c != 12 &&
            c != 13 && c != 27) || c == 0x7f;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whole buffer: valid UTF-8 without bad controls (an incomplete sequence
 * at the very end is accepted: samples may be cut).  *ascii = no byte
 * above 0x7F. */
static int utf8_text(const uint8_t *p, size_t n, int *ascii)
{
    size_t i = 0;
    int hi = 0;

    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;

            memcpy(&x, p + i, 8);
            /* eight printable ASCII bytes (0x20-0x7E) at once */
            if (((x & HIGHS) | ((x - ONES * 0x20) & ~x & HIGHS) |
                 (((x ^ (ONES * 0x7f)) - ONES) & ~(x ^ (ONES * 0x7f)) & HIGHS)) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            if (bad_control(p[i]))
                return 0;
            i++;
        } else {
            uint32_t cp;
            size_t k = sl_utf8_decode(p + i, n - i, &cp);

            if (k == 0) {
                /* a valid start of a sequence cut by the end of the buffer */
                size_t need = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;
                size_t left = n - i;

                if (p[i] < 0xC2 || p[i] > 0xF4 || left >= need)
                    return 0;
                for (size_t j = 1; j < left; j++)
                    if ((p[i + j] & 0xC0) != 0x80)
                        return 0;
                hi = 1;
                break;
            }
            hi = 1;
            i += k;
        }
    }
    *ascii = !hi;
    return 1;
}

/* Whole buffer as UTF-16 text: no NUL, no bad control, no unpaired
 * surrogate (a trailing odd byte is ignored). */
static int utf16_text(const uint8_t *p, size_t n, int be)
{
    size_t i = 0;

    while (n - i >= 2) {
        unsigned u = be ? (unsigned)(p[i] << 8 | p[i + 1])
                        : (unsigned)(p[i + 1] << 8 | p[i]);

        if (u >= 0xD800 && u <= 0xDFFF) {
            unsigned v;

            if (u > 0xDBFF || n - i < 4)
                return 0;
            v = be ? (unsigned)(p[i + 2] << 8 | p[i + 3])
                   : (unsigned)(p[i + 3] << 8 | p[i + 2]);
            if (v < 0xDC00 || v > 0xDFFF)
                return 0;
            i += 4;
            continue;
        }
        if (u < 0x80 && bad_control(u))
            return 0;
        i += 2;
    }
    return 1;
}

/* UTF-16 without BOM, recognised by its zero bytes: in the first 1 KiB,
 * at least 90% of the code units are ASCII characters (a zero byte in the
 * high half), then the whole buffer must be UTF-16 text.  Returns 1 for
 * little-endian, 2 for big-endian, 0 for neither. */
static int utf16_guess(const uint8_t *p, size_t n)
{
    size_t w = (n < 1024 ? n : 1024) & ~(size_t)1, units = w / 2, le = 0, be = 0;

    if (units < 2)
        return 0;
    for (size_t i = 0; i < w; i += 2) {
        le += p[i + 1] == 0 && p[i] != 0;
        be += p[i] == 0 && p[i + 1] != 0;
    }
    if (le * 10 >= units * 9 && utf16_text(p, n, 0))
        return 1;
    if (be * 10 >= units * 9 && utf16_text(p, n, 1))
        return 2;
    return 0;
}

/* 8-bit text: no bad controls at all; *c1 = uses bytes 0x80-0x9F. */
static int eightbit_text(const uint8_t *p, size_t n, int *c1)
{
    int c = 0;

    for (size_t i = 0; i < n; i++) {
        if (bad_control(p[i]))
            return 0;
        c |= p[i] >= 0x80 && p[i] < 0xA0;
    }
    *c1 = c;
    return 1;
}

/* ---- the text classifier ------------------------------------------------ */

static size_t skip_ws(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int ci_at(const uint8_t *p, size_t n, size_t i, const char *lit)
{
    size_t k = strlen(lit);

    if (i > n || n - i < k)
        return 0;
    for (size_t j = 0; j < k; j++)
        if (tolower(p[i + j]) != lit[j])
            return 0;
    return 1;
}

/* JSON.  Each helper returns 1 valid, 0 invalid, -1 when the bytes end
 * first (a prefix of valid JSON). */
static int json_string(const uint8_t *p, size_t n, size_t *i)
{
    size_t j = *i + 1;

    while (j < n) {
        uint8_t c = p[j];

        if (c == '"') {
            *i = j + 1;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (++j >= n)
                return -1;
            c = p[j];
            if (c == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (j + k >= n)
                        return -1;
                    if (!isxdigit(p[j + k]))
                        return 0;
                }
                j += 4;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return 0;
            }
        }
        j++;
    }
    return -1;
}

static int json_digits(const uint8_t *p, size_t n, size_t *j)
{
    size_t s = *j;

    while (*j < n && isdigit(p[*j]))
        (*j)++;
    if (*j == n)
        return -1;
    return *j > s;
}

static int json_number(const uint8_t *p, size_t n, size_t *i)
{
    size_t j = *i;
    int r;

    if (p[j] == '-' && ++j >= n)
        return -1;
    if (p[j] == '0') {
        if (++j >= n)
            return -1;
    } else if ((r = json_digits(p, n, &j)) <= 0) {
        return r;
    }
    if (p[j] == '.') {
        j++;
        if ((r = json_digits(p, n, &j)) <= 0)
            return r;
    }
    if (p[j] == 'e' || p[j] == 'E') {
        if (++j >= n)
            return -1;
        if ((p[j] == '+' || p[j] == '-') && ++j >= n)
            return -1;
        if ((r = json_digits(p, n, &j)) <= 0)
            return r;
    }
    *i = j;
    return 1;
}

static int json_literal(const uint8_t *p, size_t n, size_t *i, const char *lit)
{
    size_t k = strlen(lit), left = n - *i;

    if (memcmp(p + *i, lit, left < k ? left : k) != 0)
        return 0;
    if (left < k)
        return -1;
    *i += k;
    return 1;
}

#define JSON_MAX_DEPTH 256

/* One object or array starting at p[*i]. */
static int json_value(const uint8_t *p, size_t n, size_t *pi)
{
    uint8_t stack[JSON_MAX_DEPTH];
    size_t depth = 0, i = *pi;
    int r;

value:
    i = skip_ws(p, n, i);
    if (i >= n)
        return -1;
    switch (p[i]) {
    case '{':
    case '[':
        if (depth == JSON_MAX_DEPTH)
            return 0;
        stack[depth++] = p[i] == '{' ? '}' : ']';
        i = skip_ws(p, n, i + 1);
        if (i >= n)
            return -1;
        if (p[i] == stack[depth - 1]) {
            i++;
            depth--;
            goto after;
        }
        if (stack[depth - 1] == '}')
            goto key;
        goto value;
    case '"':
        r = json_string(p, n, &i);
        break;
    case 't':
        r = json_literal(p, n, &i, "true");
        break;
    case 'f':
        r = json_literal(p, n, &i, "false");
        break;
    case 'n':
        r = json_literal(p, n, &i, "null");
        break;
    default:
        if (p[i] != '-' && !isdigit(p[i]))
            return 0;
        r = json_number(p, n, &i);
        break;
    }
    if (r <= 0)
        return r;
after:
    if (depth == 0) {
        *pi = i;
        return 1;
    }
    i = skip_ws(p, n, i);
    if (i >= n)
        return -1;
    if (p[i] == ',') {
        i++;
        if (stack[depth - 1] == '}')
            goto key;
        goto value;
    }
    if (p[i] == stack[depth - 1]) {
        i++;
        depth--;
        goto after;
    }
    return 0;
key:
    i = skip_ws(p, n, i);
    if (i >= n)
        return -1;
    if (p[i] != '"')
        return 0;
    if ((r = json_string(p, n, &i)) <= 0)
        return r;
    i = skip_ws(p, n, i);
    if (i >= n)
        return -1;
    if (p[i] != ':')
        return 0;
    i++;
    goto value;
}

/* 0 not JSON, 1 one object or array, 2 several, one per line (NDJSON).
 * `complete`: p..n is the whole text, so running out is an error. */
static int json_kind(const uint8_t *p, size_t n, int complete)
{
    size_t i = 0, values = 0;
    int newline = 1;

    for (;;) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
                         p[i] == '\r')) {
            newline |= p[i] == '\n';
            i++;
        }
        if (i >= n)
            break;
        if (!newline || (p[i] != '{' && p[i] != '['))
            return 0;
        switch (json_value(p, n, &i)) {
        case 1:
            values++;
            newline = 0;
            continue;
        case -1:
            if (complete)
                return 0;
            values++;
            i = n;
            continue;
        default:
            return 0;
        }
    }
    return values == 0 ? 0 : values == 1 ? 1 : 2;
}

/* The root element of markup starting at p[i] == '<': skips the XML
 * declaration, processing instructions, comments and a DOCTYPE (noting
 * "html" / "svg" in it).  Returns the type, or NULL when it does not look
 * like markup. */
static const char *classify_markup(const uint8_t *p, size_t n, size_t i,
                                   size_t total)
{
    int xml_decl = ci_at(p, n, i, "<?xml");
    const char *doctype = NULL;
    size_t name, len = 0;
    char root[16];

    for (int guard = 0; guard < 64; guard++) {
        i = skip_ws(p, n, i);
        if (i >= n || p[i] != '<')
            return xml_decl ? "application/xml" : NULL;
        if (ci_at(p, n, i, "<?")) {
            while (i + 1 < n && !(p[i] == '?' && p[i + 1] == '>'))
                i++;
            i += 2;
        } else if (ci_at(p, n, i, "<!--")) {
            i += 4;
            while (i + 2 < n && !(p[i] == '-' && p[i + 1] == '-' && p[i + 2] == '>'))
                i++;
            i += 3;
        } else if (ci_at(p, n, i, "<!doctype")) {
            i = skip_ws(p, n, i + 9);
            if (ci_at(p, n, i, "html"))
                doctype = "html";
            else if (ci_at(p, n, i, "svg"))
                doctype = "svg";
            while (i < n && p[i] != '>')
                i++;
            i++;
        } else {
            break;
        }
    }
    if (i >= n || p[i] != '<')
        return xml_decl ? "application/xml" : NULL;
    name = ++i;
    while (i < n && (isalnum(p[i]) || p[i] == ':' || p[i] == '-' ||
                     p[i] == '_' || p[i] == '.'))
        i++;
    if (i == name || !(isalpha(p[name]) || p[name] == '_'))
        return xml_decl ? "application/xml" : NULL;
    /* the local name, after any namespace prefix */
    for (size_t j = name; j < i; j++)
        if (p[j] == ':')
            name = j + 1;
    len = i - name < sizeof(root) - 1 ? i - name : sizeof(root) - 1;
    for (size_t j = 0; j < len; j++)
        root[j] = (char)tolower(p[name + j]);
    root[len] = '\0';
    if (strcmp(root, "svg") == 0 || (doctype && strcmp(doctype, "svg") == 0))
        return "image/svg+xml";
    if (strcmp(root, "html") == 0 || (doctype && strcmp(doctype, "html") == 0))
        return xml_decl ? "application/xhtml+xml" : "text/html";
    if (xml_decl)
        return "application/xml";
    {
        static const char *const html_tags[] = {
            "head", "body", "title", "script", "style", "div", "meta",
            "iframe", "table", "p", "a", "br", "link", "span", "ul", "ol",
            "form", "img", "h1", "h2", "h3", "h4", "h5", "h6", "header",
            "nav", "section", "main", "footer",
        };

        for (size_t k = 0; k < COUNT(html_tags); k++)
            if (strcmp(root, html_tags[k]) == 0)
                return "text/html";
    }
    /* other markup: XML when the text also ends with a tag */
    {
        size_t e = total < n ? total : n;

        while (e > 0 && isspace(p[e - 1]))
            e--;
        if (total <= n && e > 0 && p[e - 1] == '>')
            return "application/xml";
    }
    return NULL;
}

/* CSV / TSV: at least two non-blank lines (three if the separator appears
 * once a line), each with the same number (>= 1) of separators outside
 * double quotes, looking at up to 64 lines.  Blank lines are ignored; a
 * last line without a newline counts only when the text is complete. */
static const char *classify_csv(const uint8_t *p, size_t n, int complete)
{
    static const uint8_t seps[3] = { ',', ';', '\t' };
    size_t first[3] = { 0 }, lines = 0, i = 0;
    int ok[3] = { 1, 1, 1 };

    while (i < n && lines < 64) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - p) : n, cnt[3] = { 0 }, len;

        if (!nl && !complete)
            break;
        if (memchr(p + i, '"', e - i)) {
            /* quoted fields, which may hold separators and newlines */
            int quoted = 0;
            size_t j;

            for (j = i; j < n; j++) {
                uint8_t c = p[j];

                if (c == '"')
                    quoted = !quoted;
                else if (!quoted && c == '\n')
                    break;
                else if (!quoted)
                    for (int k = 0; k < 3; k++)
                        cnt[k] += c == seps[k];
            }
            if (j == n && !complete)
                break;
            e = j;
        } else {
            for (size_t j = i; j < e; j++) {
                uint8_t c = p[j];

                cnt[0] += c == ',';
                cnt[1] += c == ';';
                cnt[2] += c == '\t';
            }
        }
        len = e - i;
        if (len > 0 && p[e - 1] == '\r')
            len--;
        i = e + 1;
        if (len == 0)
            continue;
        for (int k = 0; k < 3; k++) {
            if (lines == 0)
                first[k] = cnt[k];
            else if (cnt[k] != first[k])
                ok[k] = 0;
            if (first[k] == 0)
                ok[k] = 0;
        }
        lines++;
        if (!ok[0] && !ok[1] && !ok[2])
            return NULL;
    }
    for (int k = 0; k < 3; k++)
        if (ok[k] && first[k] >= 1 && (lines >= 3 || (lines == 2 && first[k] >= 2)))
            return seps[k] == '\t' ? "text/tab-separated-values" : "text/csv";
    return NULL;
}

/* Markdown: a score of line-start markers (ATX or setext heading 2, code
 * fence 2, link 1, list item 1, block quote 1), at least 3. */
static int looks_markdown(const uint8_t *p, size_t n)
{
    int heading = 0, fence = 0, link = 0, list = 0, quote = 0;
    size_t prev_len = 0;

    for (size_t i = 0; i < n;) {
        size_t e = i, len;

        while (e < n && p[e] != '\n')
            e++;
        len = e - i;
        if (len > 0 && p[i] == '#') {
            size_t h = i;

            while (h < e && p[h] == '#')
                h++;
            if (h - i <= 6 && h < e && p[h] == ' ')
                heading = 1;
        }
        if (len >= 3 && (memcmp(p + i, "```", 3) == 0 || memcmp(p + i, "~~~", 3) == 0))
            fence = 1;
        if (len >= 2 && (p[i] == '-' || p[i] == '*' || p[i] == '+') && p[i + 1] == ' ')
            list = 1;
        if (len >= 2 && p[i] == '>' && p[i + 1] == ' ')
            quote = 1;
        if (len >= 3 && prev_len > 0 && (p[i] == '=' || p[i] == '-')) {
            size_t k = i;

            while (k < e && p[k] == p[i])
                k++;
            if (k == e || (k + 1 == e && p[k] == '\r'))
                heading = 1;
        }
        for (size_t k = i; !link && k + 1 < e;) {
            const uint8_t *b = memchr(p + k, ']', e - k - 1);

            if (!b)
                break;
            k = (size_t)(b - p);
            if (p[k + 1] == '(' && memchr(p + i, '[', k - i))
                link = 1;
            k++;
        }
        prev_len = len;
        i = e + 1;
        if (heading * 2 + fence * 2 + link + list + quote >= 3)
            return 1;
    }
    return 0;
}

/* The shebang's interpreter: "#!/bin/sh", "#! /usr/bin/env -S python3 -u". */
static const char *classify_shebang(const uint8_t *p, size_t n)
{
    size_t i = 2, s, e;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    s = i;
    while (i < n && !isspace(p[i]))
        i++;
    e = i;
    if (e - s >= 4 && memcmp(p + e - 4, "/env", 4) == 0) {
        for (;;) {      /* skip env's options and VAR=value words */
            while (i < n && (p[i] == ' ' || p[i] == '\t'))
                i++;
            s = i;
            while (i < n && !isspace(p[i]))
                i++;
            e = i;
            if (e == s || (p[s] != '-' && !memchr(p + s, '=', e - s)))
                break;
        }
    }
    if (e == s)
        return NULL;
    return interpreter_mime((const char *)p + s, e - s);
}

/* Names UTF-8 (or ASCII-compatible 8-bit) text.  `complete`: p..n is the
 * whole text, not a prefix. */
static const char *classify_text(const uint8_t *p, size_t n, int complete,
                                 int *script)
{
    size_t i;
    const char *m;

    *script = 0;
    if (n >= 2 && p[0] == '#' && p[1] == '!') {
        *script = 1;
        m = classify_shebang(p, n);
        return m ? m : "text/plain";
    }
    i = skip_ws(p, n, 0);
    if (i >= n)
        return "text/plain";
    if (ci_at(p, n, i, "%!ps"))
        return "application/postscript";
    if (ci_at(p, n, i, "{\\rtf"))
        return "text/rtf";
    if (ci_at(p, n, i, "begin:vcard"))
        return "text/vcard";
    if (ci_at(p, n, i, "begin:vcalendar"))
        return "text/calendar";
    if (ci_at(p, n, i, "webvtt"))
        return "text/vtt";
    if (ci_at(p, n, i, "<?php"))
        return "text/x-php";
    if (ci_at(p, n, i, "/* xpm */"))
        return "image/x-xpixmap";
    if (i == 0 && n >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '3' && isspace(p[2]))
        return p[1] == '1' ? "image/x-portable-bitmap"
             : p[1] == '2' ? "image/x-portable-graymap"
                           : "image/x-portable-pixmap";
    if (p[i] == '{' || p[i] == '[') {
        int k = json_kind(p + i, n - i, complete);

        if (k == 1)
            return "application/json";
        if (k == 2)
            return "application/x-ndjson";
    }
    if (p[i] == '<' && (m = classify_markup(p, n, i, complete ? n : (size_t)-1)))
        return m;
    if ((m = classify_csv(p, n, complete)))
        return m;
    if (looks_markdown(p, n))
        return "text/markdown";
    return "text/plain";
}

/* ==== the handle ========================================================== */

int sl_ft_new(sl_ft **out, const char *magic_db, unsigned flags, sl_err *err)
{
    sl_ft *ft;

    if (!out)
        return SL_EINVAL;
    *out = NULL;
    ft = calloc(1, sizeof(*ft));
    if (!ft)
        return SL_ENOMEM;
    ft->flags = flags;
    ft->cur_flags = FT_MAGIC_BINARY_FLAGS;
    ft->magic = magic_open(ft->cur_flags);
    if (!ft->magic) {
        free(ft);
        if (err)
            sl_err_set(err, "libmagic: magic_open failed");
        return SL_ERR;
    }
    if (magic_load(ft->magic, magic_db) != 0) {
        if (err)
            sl_err_set(err, "libmagic: cannot load the magic database %s: %s",
                       magic_db ? magic_db : "(default)",
                       magic_error(ft->magic) ? magic_error(ft->magic) : "?");
        magic_close(ft->magic);
        free(ft);
        return SL_ERR;
    }
    *out = ft;
    return SL_OK;
}

void sl_ft_destroy(sl_ft *ft)
{
    if (!ft)
        return;
    magic_close(ft->magic);
    free(ft);
}

static const char *magic_call(sl_ft *ft, const uint8_t *p, size_t n, int flags)
{
    if (ft->cur_flags != flags) {
        if (magic_setflags(ft->magic, flags) != 0)
            return NULL;
        ft->cur_flags = flags;
    }
    return magic_buffer(ft->magic, p, n < SL_FT_MAGIC_BYTES ? n : SL_FT_MAGIC_BYTES);
}

int sl_ft_libmagic(sl_ft *ft, sl_slice bytes, int magic_flags, char *out,
                   size_t outsz)
{
    const char *r;

    if (!ft || !out || outsz == 0 || (!bytes.ptr && bytes.len))
        return SL_EINVAL;
    r = magic_call(ft, bytes.ptr ? bytes.ptr : (const uint8_t *)"", bytes.len,
                   magic_flags);
    if (!r)
        return SL_ERR;
    snprintf(out, outsz, "%s", r);
    return SL_OK;
}

/* libmagic's answer for binary bytes, normalised into out; 0 when it has
 * none better than application/octet-stream. */
static int magic_binary(sl_ft *ft, const uint8_t *p, size_t n, char *out,
                        size_t outsz, sl_budget *b)
{
    const char *r;

    /* libmagic reads at most SL_FT_MAGIC_BYTES, under its own limits on
     * indirection, name recursion, ELF headers and regex length */
    if (!sl_budget_bytes(b, "libmagic", n < SL_FT_MAGIC_BYTES ? n : SL_FT_MAGIC_BYTES))
        return 0;
    r = magic_call(ft, p, n, FT_MAGIC_BINARY_FLAGS);
    if (!r || sl_type_normalize(r, out, outsz) != SL_OK)
        return 0;
    return strcmp(out, OCTET) != 0;
}

/* Text classification on UTF-16: a UTF-8 copy of the first 8 KiB. */
static const char *classify_utf16(const uint8_t *p, size_t n, int be,
                                  int *script)
{
    uint8_t buf[8192];
    size_t i = 0, o = 0;
    uint32_t cp;
    size_t k;

    while ((k = sl_utf16_decode(p + i, n - i, be, &cp)) != 0 &&
           o + 4 <= sizeof(buf)) {
        o += sl_utf8_encode(cp, buf + o);
        i += k;
    }
    return classify_text(buf, o, n - i < 2, script);
}

static void set_str(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);

    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int sl_ft_detect(sl_ft *ft, sl_slice bytes, sl_ft_result *out)
{
    return sl_ft_detect_budget(ft, bytes, out, NULL);
}

/* Each pass over the input is charged before it runs; once the budget is
 * out the passes are skipped and the answer is application/octet-stream
 * (the caller sees sl_budget_out and decides). */
int sl_ft_detect_budget(sl_ft *ft, sl_slice bytes, sl_ft_result *out,
                        sl_budget *b)
{
    const uint8_t *p = bytes.ptr;
    size_t n = bytes.len;
    const char *mime = NULL, *enc = "binary";
    char buf[SL_MIME_MAX];
    sniff s;
    int ascii, c1, u16;

    if (!ft || !out || (!p && n))
        return SL_EINVAL;
    memset(out, 0, sizeof(*out));

    if (n == 0) {                                               /* 1 */
        mime = "application/x-empty";
        out->via = SL_FT_VIA_EMPTY;
    } else if (!sl_budget_bytes(b, "filetype", n < SL_FT_CLASSIFY_BYTES ?
                                                n : SL_FT_CLASSIFY_BYTES)) {
        mime = OCTET;
        out->via = SL_FT_VIA_SNIFF;
    } else if (sniff_magic(p, n, &s)) {                         /* 2 */
        mime = s.mime;
        out->via = SL_FT_VIA_SNIFF;
        if ((s.refine || (ft->flags & SL_FT_LIBMAGIC_ALWAYS)) &&
            magic_binary(ft, p, n, buf, sizeof(buf), b)) {
            mime = buf;
            out->via = SL_FT_VIA_LIBMAGIC;
        }
    } else {                                                    /* 3 */
        size_t cn = n < SL_FT_CLASSIFY_BYTES ? n : SL_FT_CLASSIFY_BYTES;

        out->via = SL_FT_VIA_TEXT;
        if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 &&
            sl_budget_bytes(b, "filetype", n) && utf8_text(p + 3, n - 3, &ascii)) {
            enc = "utf-8";
            out->bom = 3;
            mime = classify_text(p + 3, cn - 3, cn == n, &out->script);
        } else if (n >= 2 && (memcmp(p, "\xff\xfe", 2) == 0 ||
                              memcmp(p, "\xfe\xff", 2) == 0) &&
                   sl_budget_bytes(b, "filetype", n) &&
                   utf16_text(p + 2, n - 2, p[0] == 0xfe)) {
            enc = p[0] == 0xfe ? "utf-16be" : "utf-16le";
            out->bom = 2;
            mime = classify_utf16(p + 2, n - 2, p[0] == 0xfe, &out->script);
        } else if (sl_budget_bytes(b, "filetype", n) && utf8_text(p, n, &ascii)) {
            enc = ascii ? "us-ascii" : "utf-8";
            mime = classify_text(p, cn, cn == n, &out->script);
        } else if (sl_budget_bytes(b, "filetype", n) &&
                   (u16 = utf16_guess(p, n)) != 0) {
            enc = u16 == 2 ? "utf-16be" : "utf-16le";
            mime = classify_utf16(p, n, u16 == 2, &out->script);
        } else if (sl_budget_bytes(b, "filetype", n) && eightbit_text(p, n, &c1)) {
            enc = c1 ? "unknown-8bit" : "iso-8859-1";
            mime = classify_text(p, cn, cn == n, &out->script);
        } else if (ft->flags & SL_FT_NO_FALLBACK) {
            out->via = SL_FT_VIA_SNIFF;
            mime = OCTET;
        } else {                                                /* 4 */
            out->via = SL_FT_VIA_LIBMAGIC;
            mime = magic_binary(ft, p, n, buf, sizeof(buf), b) ? buf : OCTET;
        }
    }
    set_str(out->mime, sizeof(out->mime), mime);
    set_str(out->encoding, sizeof(out->encoding), enc);
    out->category = category_of(out->mime);
    return SL_OK;
}
