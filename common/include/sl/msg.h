/*
 * msg.h -- the message model processors see, and the output they fill.
 *
 * sl_msg is a plain, borrowed view of one Kafka record: key, value, headers,
 * and where it came from.  The runner builds it from librdkafka's message;
 * tests build it by hand.  Nothing in it may be kept after process() returns.
 *
 * sl_out is what a processor fills: replacement value (optional), headers to
 * add, and for a rejection the reason code and detail.  It owns copies of
 * everything put into it, in a per-message arena the runner resets.
 */
#ifndef SL_MSG_H
#define SL_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "sl/common.h"

/* Header names of the wire contract (schemas/README.md). */
#define SL_H_META        "sluice-meta"
#define SL_H_SIG         "sluice-sig"
#define SL_H_SHA256      "sluice-sha256"
#define SL_H_PROV        "sluice-prov"
/* On sluice.replay only: the operators' replay request (sluicectl dlq). */
#define SL_H_REPLAY      "sluice-replay"
#define SL_H_SCAN        "sluice-scan"      /* scan stage result, JSON */
#define SL_H_LICENSE     "sluice-license"   /* license stage record, JSON */
#define SL_H_REJ_STAGE   "sluice-reject-stage"
#define SL_H_REJ_CODE    "sluice-reject-code"
#define SL_H_REJ_DETAIL  "sluice-reject-detail"
#define SL_H_REJ_TOPIC   "sluice-reject-source-topic"
#define SL_H_REJ_PART    "sluice-reject-source-partition"
#define SL_H_REJ_OFFSET  "sluice-reject-source-offset"
#define SL_H_REJ_TIME    "sluice-reject-time"
/* What became of the refused value (schemas/README.md, dead letters). */
#define SL_H_REJ_VALUE        "sluice-reject-value"   /* whole or withheld */
#define SL_H_REJ_VALUE_SHA256 "sluice-reject-value-sha256"
#define SL_H_REJ_VALUE_SIZE   "sluice-reject-value-size"
#define SL_H_REJ_HEADERS      "sluice-reject-headers" /* "dropped", if so */

typedef struct sl_header {
    const char *name;
    sl_slice value;      /* value.ptr may be NULL for a null header */
} sl_header;

typedef struct sl_msg {
    sl_slice key;
    sl_slice value;
    const sl_header *headers;
    size_t n_headers;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;   /* record timestamp, -1 if none */
    /* Its position in the run last handed to prepare() (processor.h), set
     * by the runner and by tests; SL_RUN_NONE for a message outside one. */
    size_t run_index;
} sl_msg;

#define SL_RUN_NONE SIZE_MAX

/* The slot of `in` in the run msgs[0..n) handed to prepare(): its
 * run_index, when that element is a view of the same record (key, value
 * and headers at the same addresses, same topic/partition/offset); else
 * SL_RUN_NONE (a message outside the run, or one changed since). */
size_t sl_msg_run_slot(const sl_msg *msgs, size_t n, const sl_msg *in);

/* Finds the last header named `name`; SL_OK or SL_ENOTFOUND. */
int sl_msg_header(const sl_msg *m, const char *name, sl_slice *out);

/* What a processor says about one message; processor.h states what the
 * runner does with each (SL_RETRY and SL_ENV_FATAL blame the environment,
 * SL_FATAL the message). */
typedef enum sl_verdict {
    SL_EMIT = 0,    /* produce to the stage's output topic */
    SL_REJECT,      /* dead-letter with code + detail */
    SL_ROUTE,       /* produce to the topic named with sl_out_route() */
    SL_RETRY,       /* environment unavailable (database...): abort, retry later */
    SL_FATAL,       /* this message cannot be handled: retried, then quarantined */
    SL_ENV_FATAL    /* the environment is gone for good: stop, non-zero exit */
} sl_verdict;

const char *sl_verdict_name(sl_verdict v);

typedef struct sl_out sl_out;

/* Lifetime is the runner's (or a test's). max_bytes caps all data copied in. */
sl_out *sl_out_new(size_t max_bytes);
void sl_out_destroy(sl_out *o);
void sl_out_reset(sl_out *o);

/* Replaces the outgoing value with a copy of the bytes. */
int sl_out_set_value(sl_out *o, const void *p, size_t n);
/* Adds (or replaces, if replace != 0) a header with a copy of the bytes. */
int sl_out_add_header(sl_out *o, const char *name, const void *p, size_t n,
                      int replace);
int sl_out_add_header_str(sl_out *o, const char *name, const char *s, int replace);
/* Sets the rejection reason; returns SL_REJECT for `return sl_out_reject(...)`. */
sl_verdict sl_out_reject(sl_out *o, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Routes to another topic (e.g. the flagged topic); returns SL_ROUTE. */
sl_verdict sl_out_route(sl_out *o, const char *topic);
/* Says why this message cannot be handled (the detail of its stage_error
 * dead letter if it keeps failing); returns SL_FATAL. */
sl_verdict sl_out_fail(sl_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* For a rejection: the dead letter must not carry the value (e.g. blocked
 * PII or secrets); it keeps the value's SHA-256 and size and the headers.
 * The operator may keep such values (dead_letter.keep.blocked). */
void sl_out_withhold_value(sl_out *o);

/* Read side, for the runner and tests. */
int         sl_out_has_value(const sl_out *o);
sl_slice    sl_out_value(const sl_out *o);
size_t      sl_out_n_headers(const sl_out *o);
const sl_header *sl_out_headers(const sl_out *o);
/* Finds a header the processor added; SL_OK or SL_ENOTFOUND. */
int         sl_out_header(const sl_out *o, const char *name, sl_slice *v);
const char *sl_out_reject_code(const sl_out *o);
const char *sl_out_reject_detail(const sl_out *o);
const char *sl_out_route_topic(const sl_out *o);
int         sl_out_withholds_value(const sl_out *o);

#endif
