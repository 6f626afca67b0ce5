/*
 * fuzz_envelope.c -- the one reader of an upload's envelope
 * (common/src/envelope.c) on fuzzed sluice-meta and sluice-scan headers.
 *
 * The input is the sluice-meta bytes; when it holds a NUL byte, what
 * follows the first one is the sluice-scan header (and the meta header
 * ends there).  The key is a fixed upload id, the value fixed bytes.
 *
 * Properties beyond "no crash": the read succeeds; with SL_META_OK the
 * five fields every stage reads are set, a declared sha256 is 64
 * lowercase hex digits, and created_at parses to created_us; the document
 * is kept exactly when the header parsed to an object, and without it no
 * field is set; a scan result is believed whole or not at all (no hash of
 * an invalid one), its hashes 64 lowercase hex digits or empty; the
 * origin is always 64 lowercase hex digits; the recorded upload id is the
 * metadata's whenever it names one.  And every read (yajl's event parser
 * when the headers allow it; with and without the attestation and the
 * metadata document) says exactly what jansson's says (SL_ENV_JANSSON):
 * the same states, details and members, and the same document with its
 * members in the same order.
 */
#include <string.h>

#include "fuzz.h"
#include "sl/envelope.h"
#include "sl/json.h"
#include "sl/timeutil.h"
#include "../unit/envelope_same.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t meta_len = nul ? (size_t)(nul - data) : size;
    sl_header h[2] = {
        { SL_H_META, { data, meta_len } },
        { SL_H_SCAN, { nul ? nul + 1 : NULL, nul ? size - meta_len - 1 : 0 } },
    };
    sl_msg m = { .key = SL_SLICE_STR("u-fuzz"), .value = SL_SLICE_STR("hello"),
                 .headers = h, .n_headers = nul ? 2 : 1, .topic = "t",
                 .run_index = SL_RUN_NONE };
    sl_envelope e, ref;
    const char *id;
    size_t len;
    int64_t us;

    FUZZ_CHECK(sl_envelope_read(&e, &m) == SL_OK, "read failed");
    FUZZ_CHECK(sl_hex64_ok(e.sha256) && sl_hex64_ok(sl_envelope_origin(&e)),
               "hash or origin not hex");
    FUZZ_CHECK(e.meta.ptr == data && e.meta.len == meta_len, "meta bytes moved");
    if (e.meta_state == SL_META_OK) {
        FUZZ_CHECK(e.upload_id && e.creator_id && e.dataset_id && e.content_type &&
                   e.created_at, "OK without a field");
        FUZZ_CHECK(!e.declared_sha256 || sl_hex64_ok(e.declared_sha256),
                   "declared sha256 %s", e.declared_sha256);
        FUZZ_CHECK(sl_time_parse_us(e.created_at, strlen(e.created_at), &us) == SL_OK &&
                   us == e.created_us, "created_at %s", e.created_at);
    }
    if (e.meta_state == SL_META_ABSENT || e.meta_state == SL_META_MALFORMED)
        FUZZ_CHECK(!e.meta_doc && !e.upload_id && !e.creator_id && !e.dataset_id &&
                   !e.license_expression && !e.attestation,
                   "fields of metadata that is not an object");
    else
        FUZZ_CHECK(json_is_object(e.meta_doc), "state %d without the document",
                   (int)e.meta_state);
    if (e.meta_state != SL_META_OK)
        FUZZ_CHECK(e.meta_detail[0], "no detail for state %d", (int)e.meta_state);
    if (e.scan_state == SL_SCANHDR_OK) {
        FUZZ_CHECK(e.scan_outcome != NULL, "OK without outcome");
        FUZZ_CHECK(!e.original_sha256[0] || sl_hex64_ok(e.original_sha256),
                   "original %s", e.original_sha256);
        FUZZ_CHECK(!e.redacted_sha256[0] || sl_hex64_ok(e.redacted_sha256),
                   "redacted %s", e.redacted_sha256);
    } else {
        FUZZ_CHECK(!e.scan_outcome && !e.original_sha256[0] &&
                   !e.redacted_sha256[0], "believed parts of no scan result");
        FUZZ_CHECK(strcmp(sl_envelope_origin(&e), e.sha256) == 0, "origin moved");
    }
    id = sl_envelope_upload_id(&e, &m, &len);
    FUZZ_CHECK(id != NULL, "no id with a usable key");
    if (e.upload_id)
        FUZZ_CHECK(id == e.upload_id && len == strlen(id), "not the metadata's id");
    else
        FUZZ_CHECK(len == 6 && memcmp(id, "u-fuzz", 6) == 0, "not the key");
    FUZZ_CHECK(sl_envelope_read_with(&ref, &m, SL_ENV_ALL | SL_ENV_JANSSON) == SL_OK,
               "jansson's read failed");
    FUZZ_CHECK(!ref.meta_fast && !ref.scan_fast, "jansson's read took the event parser");
    for (unsigned want = 0; want <= SL_ENV_ALL; want++) {
        sl_envelope o;
        const char *diff;

        FUZZ_CHECK(sl_envelope_read_with(&o, &m, want) == SL_OK, "read_with failed");
        diff = env_differs(&ref, &o, (want & SL_ENV_ATTESTATION) != 0);
        if (!diff && (want & SL_ENV_META_DOC))
            diff = env_doc_differs(&ref, &o);
        FUZZ_CHECK(!diff, "read with %u differs in %s", want, diff ? diff : "");
        FUZZ_CHECK((want & SL_ENV_META_DOC) || !o.meta_doc, "a document not asked for");
        FUZZ_CHECK((want & SL_ENV_ATTESTATION) || !o.attestation,
                   "an attestation not asked for");
        sl_envelope_clear(&o);
    }
    sl_envelope_clear(&ref);
    sl_envelope_clear(&e);
    return 0;
}
