/*
 * filetype.h -- what a sample's bytes are: MIME type, text encoding and
 * policy category, and how that compares with what the uploader declared.
 *
 * Detection (sl_ft_detect) is an ordered series of checks, cheapest and
 * most certain first, because libmagic's default text checks cost ~0.5 ms
 * for 1 KiB of text while the pipeline's budget is tens of microseconds:
 *
 *   1. empty input                       -> application/x-empty
 *   2. a table of magic numbers at fixed offsets (PNG, JPEG, GIF, WebP,
 *      PDF, ZIP, gzip, bzip2, xz, zstd, 7z, RAR, tar, ELF, PE, Mach-O,
 *      WAV, AVI, MP3 with ID3, FLAC, Ogg, MP4/ISO-BMFF, Matroska, TIFF,
 *      BMP, PSD, SQLite, wasm, OLE2, ...).  Formats whose first bytes say
 *      everything are answered here, in nanoseconds, and so are the
 *      common containers, the way libmagic names them: ZIP as EPUB / ODF
 *      (a stored "mimetype" entry), OOXML (word/, xl/, ppt/ entries) or
 *      plain; ISO-BMFF by major brand (MP4, M4A, QuickTime, 3GPP, HEIC,
 *      AVIF); Matroska / WebM by DocType; Debian packages.  What needs a
 *      deeper look goes on to libmagic, with the table's answer as the
 *      fallback: OLE2 (doc / xls / msi), Ogg, ZIPs whose first entry is
 *      META-INF/, AndroidManifest.xml, doc.kml, 3D/ (jar, apk, kmz,
 *      3mf), unknown ISO-BMFF brands, Java class vs Mach-O fat.  (ELF
 *      shared objects and PIEs are both application/x-sharedlib: libmagic
 *      tells them apart only from a file descriptor.)
 *   3. text: a BOM, else strict UTF-8 without control characters other
 *      than BEL BS TAB LF FF CR ESC, else UTF-16 recognised by the
 *      pattern of zero bytes, else 8-bit text without such controls.
 *      Text never reaches libmagic: a small classifier names JSON /
 *      NDJSON (validated), XML, SVG, XHTML, HTML, CSV / TSV, Markdown,
 *      PostScript, RTF, vCard, iCalendar, ASCII PNM and shebang scripts
 *      (sh, python, perl, ruby, node, php, ...), else text/plain.
 *   4. anything else: libmagic's soft magic with every text, encoding,
 *      JSON, CSV, token and decompression check off (they cannot match
 *      bytes that failed step 3, and they are what costs).
 *
 * Step 3 scans the whole buffer (about 1 GB/s, far below the PII scan's
 * cost); libmagic is given at most the first SL_FT_MAGIC_BYTES bytes and
 * the text classifier looks at the first SL_FT_CLASSIFY_BYTES.
 *
 * Encodings are named as libmagic names them: "binary", "us-ascii",
 * "utf-8", "utf-16le", "utf-16be", "iso-8859-1" and "unknown-8bit" (8-bit
 * text using bytes 0x80-0x9F, read as Windows-1252 by the extractor).
 * UTF-16 without a BOM is recognised only for mostly-Latin text (the zero
 * high bytes are the evidence); UTF-32 is not recognised as text.
 *
 * Every MIME string this module returns is normalised (sl_type_normalize):
 * lower case, no parameters, one canonical name per type.
 *
 * Categories and default policy.  Shebang scripts are category TEXT with
 * `script` set: they are source code the PII scanner reads in full and the
 * pipeline never runs them; a dataset that must not take scripts leaves
 * their types out of its allowed list.  Native and byte-code executables
 * (ELF, PE, Mach-O, Java class / jar, Android apk / dex, wasm, Python
 * byte code, MSI) are EXECUTABLE; compressed streams, archives and disk
 * images are ARCHIVE; anything unidentified (application/octet-stream,
 * fonts, databases) is OTHER.  With no allowed-types list a dataset takes
 * TEXT, IMAGE, AUDIO, VIDEO and DOCUMENT, and refuses EXECUTABLE, ARCHIVE
 * and OTHER: bytes the scanner cannot look into are not passed silently.
 *
 * Threads: an sl_ft wraps one libmagic handle, which is not thread-safe;
 * use one per thread.  The sl_type_* functions are pure and thread-safe.
 */
#ifndef SL_SCAN_FILETYPE_H
#define SL_SCAN_FILETYPE_H

#include <stddef.h>

#include "sl/common.h"

#define SL_MIME_MAX          128
#define SL_FT_MAGIC_BYTES    (1u << 20)
#define SL_FT_CLASSIFY_BYTES (64u << 10)

typedef enum sl_ftcat {
    SL_FTCAT_OTHER = 0,
    SL_FTCAT_TEXT,
    SL_FTCAT_IMAGE,
    SL_FTCAT_AUDIO,
    SL_FTCAT_VIDEO,
    SL_FTCAT_DOCUMENT,
    SL_FTCAT_ARCHIVE,
    SL_FTCAT_EXECUTABLE,
} sl_ftcat;

/* Which step decided (figures and debugging). */
typedef enum sl_ft_via {
    SL_FT_VIA_EMPTY = 0,
    SL_FT_VIA_SNIFF,      /* the magic-number table alone */
    SL_FT_VIA_TEXT,       /* the text checks and classifier */
    SL_FT_VIA_LIBMAGIC,   /* libmagic (refining a table match, or step 4) */
} sl_ft_via;

typedef struct sl_ft_result {
    char mime[SL_MIME_MAX];   /* normalised, e.g. "image/png" */
    char encoding[16];        /* "binary", "utf-8", "utf-16le", ... */
    sl_ftcat category;
    sl_ft_via via;
    int script;               /* text starting with "#!" */
    size_t bom;               /* bytes of byte-order mark at the start */
} sl_ft_result;

/* Flags for sl_ft_new. */
#define SL_FT_LIBMAGIC_ALWAYS 0x1u  /* ask libmagic about every binary, even
                                       when the table is sure (cross-checks) */
#define SL_FT_NO_FALLBACK     0x2u  /* step 4 off: bytes nothing else knew are
                                       application/octet-stream at once,
                                       without libmagic's 150-300 us walk of
                                       its whole database (loses the rarer
                                       formats only libmagic knows) */

typedef struct sl_ft sl_ft;

/* Opens libmagic and loads its database once: `magic_db` is a path, or
 * NULL for libmagic's default (the MAGIC environment variable, else the
 * system's magic.mgc).  SL_OK, SL_ENOMEM, or SL_ERR with err filled. */
int  sl_ft_new(sl_ft **ft, const char *magic_db, unsigned flags, sl_err *err);
void sl_ft_destroy(sl_ft *ft);

/* Detects the type of `bytes` into *out.  Always SL_OK for a valid handle
 * (a libmagic failure falls back to the table's answer or to
 * application/octet-stream); SL_EINVAL for NULL arguments. */
int  sl_ft_detect(sl_ft *ft, sl_slice bytes, sl_ft_result *out);
/* The same within a work budget (budget.h; NULL: unlimited): each pass
 * over the bytes and the libmagic call are charged first, and skipped once
 * the budget is out (the answer is then application/octet-stream and
 * sl_budget_out() tells the caller). */
struct sl_budget;
int  sl_ft_detect_budget(sl_ft *ft, sl_slice bytes, sl_ft_result *out,
                         struct sl_budget *b);

/* libmagic alone on `bytes` with `magic_flags` (MAGIC_* from magic.h,
 * e.g. MAGIC_MIME_TYPE for its defaults): the raw answer copied to out.
 * For benchmarks and cross-checks.  SL_OK or SL_ERR. */
int  sl_ft_libmagic(sl_ft *ft, sl_slice bytes, int magic_flags, char *out,
                    size_t outsz);

/* ---- declared types ------------------------------------------------------ */

/* Normalises a Content-Type value: parameters (";charset=...") and
 * surrounding blanks dropped, lower case, one canonical name per type
 * (image/jpg -> image/jpeg, text/xml -> application/xml, application/x-sh
 * -> text/x-shellscript, audio/x-wav -> audio/wav, ...).  SL_OK,
 * SL_EINVAL for a value that is not "type/subtype" of token characters,
 * SL_ETOOBIG when the result does not fit outsz. */
int sl_type_normalize(const char *in, char *out, size_t outsz);

/* The alias table sl_type_normalize maps from, for the tests: entry i
 * (in table order) of sl_type_alias_count().  SL_OK or SL_EINVAL. */
size_t sl_type_alias_count(void);
int sl_type_alias(size_t i, const char **alias, const char **canon);

/* The category of a MIME type (normalised first). */
sl_ftcat sl_type_category(const char *mime);
const char *sl_ftcat_name(sl_ftcat c);       /* "text", "image", ... */

/* Whether a sample whose bytes are `detected` may carry the declared type
 * without a type_mismatch: 1 compatible, 0 a mismatch that matters.
 *   - nothing, or application/octet-stream, declared: compatible;
 *   - empty content: compatible with any declaration;
 *   - the same type after normalisation: compatible;
 *   - text-like both ways (text/x-python vs text/plain, application/json
 *     vs text/plain, text/csv vs text/markdown, SVG declared as text): all
 *     are scanned the same way, as text, so the subtype is not policed;
 *   - a generic container declared and a specific one detected or the
 *     reverse (application/zip vs a docx / jar / epub; OLE2 vs doc / xls;
 *     application/xml vs image/svg+xml; image/tiff vs camera raw), or
 *     members of one family in one category (ELF executable / shared
 *     object / PIE; PE vs DOS; MP4 / QuickTime / 3GPP; Ogg; Matroska /
 *     WebM; PNG / APNG): compatible;
 *   - an unknown declared type (category OTHER) with unidentified bytes
 *     (application/octet-stream): compatible;
 *   - anything else (image/png declared, JPEG / ELF / ZIP / text found;
 *     text declared, ELF found; a known type declared, unidentified bytes
 *     found; an unparsable declaration): a mismatch. */
int sl_type_compatible(const char *declared, const char *detected);

/* Whether a dataset whose allowed-type patterns are `patterns[0..n)` takes
 * `detected`: 1 yes, 0 no.  A pattern is a MIME type (normalised, so
 * "image/jpg" matches image/jpeg), a major type with an asterisk subtype
 * ("text/[*]": every text/ type; [*] stands for the asterisk, which a C
 * comment cannot hold after a slash), a lone asterisk or "[*]/[*]" (any
 * type), or "@category": "@text", "@image", "@audio", "@video",
 * "@document", "@archive", "@executable", "@other".  Matching is by name:
 * "text/[*]" does not take application/json, "@text" does.  With no
 * patterns (n == 0) the default policy applies: sl_ftcat_default_allowed. */
int sl_type_allowed(const char *detected, const char *const *patterns,
                    size_t n);
/* The same with the patterns in one string separated by commas and/or
 * blanks, as the dataset registry stores them ("text/[*], image/png");
 * NULL or blank means the default policy. */
int sl_type_allowed_list(const char *detected, const char *list);
/* 1 for TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT; 0 for the rest. */
int sl_ftcat_default_allowed(sl_ftcat c);

#endif
