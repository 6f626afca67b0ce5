/*
 * deadletter.h -- what a dead letter keeps, so that it always fits.
 *
 * A refused message goes to the rejected topic with its key, value and
 * headers plus the sluice-reject-* headers.  A message near the broker's
 * size limit, or one with huge headers, would make a dead letter the
 * producer refuses; the runner would then abort and retry the batch for
 * ever.  sl_deadletter_plan() decides, from sizes alone, which parts a dead
 * letter keeps:
 *
 *   whole     everything, when it fits in max_bytes and the processor did
 *             not ask to withhold the value;
 *   withheld  no value (its SHA-256 and size travel in headers); the
 *             headers the processor added and the input headers as long
 *             as each group stays within headers_max_bytes and the whole
 *             within max_bytes; the key up to key_max_bytes;
 *   minimal   (sl_deadletter_minimal, the fallback when the producer still
 *             refuses) the key up to key_max_bytes and the reject headers.
 *
 * Header sizes are counted as name + value + SL_DL_HEADER_OVERHEAD bytes.
 * Pure: no Kafka.
 */
#ifndef SL_DEADLETTER_H
#define SL_DEADLETTER_H

#include <stddef.h>

#define SL_DL_HEADER_OVERHEAD 8     /* per header: varints, attributes */
#define SL_DL_RECORD_OVERHEAD 128   /* per record and its batch */

typedef struct sl_dl_sizes {
    size_t key, value;
    size_t in_headers;       /* input headers the dead letter would copy */
    size_t out_headers;      /* headers the processor added */
    size_t reject_headers;   /* sluice-reject-*, always kept */
} sl_dl_sizes;

typedef struct sl_dl_limits {
    size_t max_bytes;           /* dead_letter.max.bytes */
    size_t headers_max_bytes;   /* dead_letter.headers.max.bytes */
    size_t key_max_bytes;       /* larger keys are dropped once withheld */
} sl_dl_limits;

typedef struct sl_dl_plan {
    int value, key, in_headers, out_headers;   /* 1: kept */
} sl_dl_plan;

/* withhold: the processor asked to keep the value out (and the operator
 * did not opt in to keeping it). */
sl_dl_plan sl_deadletter_plan(const sl_dl_sizes *s, const sl_dl_limits *l,
                              int withhold);
sl_dl_plan sl_deadletter_minimal(const sl_dl_sizes *s, const sl_dl_limits *l);
/* The bytes a dead letter of that plan takes, as counted above. */
size_t sl_deadletter_size(const sl_dl_sizes *s, const sl_dl_plan *p);

#endif
