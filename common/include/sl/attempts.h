/*
 * attempts.h -- how often each message has failed, across aborts.
 *
 * The runner aborts a transaction and rewinds when a processor says a
 * message cannot be handled (SL_FATAL); the message comes back after the
 * rewind.  This table counts those failures per topic/partition/offset so
 * the runner can quarantine a message after message.max.attempts instead
 * of retrying it for ever.  It is small and bounded: when full, the entry
 * touched least recently is forgotten (its count starts again, which only
 * delays a quarantine; it never loses one).  Pure: no Kafka, no clock.
 */
#ifndef SL_ATTEMPTS_H
#define SL_ATTEMPTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_attempts sl_attempts;

/* A table of at most cap (>= 1) messages; NULL when out of memory.
 * sl_attempts_destroy accepts NULL. */
sl_attempts *sl_attempts_new(size_t cap);
void sl_attempts_destroy(sl_attempts *a);

/* Records one more failure of the message at topic/partition/offset and
 * returns how many it has had so far (1 for the first).  Topic names longer
 * than 255 bytes are told apart by their first 255. */
int sl_attempts_fail(sl_attempts *a, const char *topic, int32_t partition,
                     int64_t offset);
/* Forgets the message (handled or quarantined); no-op when unknown. */
void sl_attempts_forget(sl_attempts *a, const char *topic, int32_t partition,
                        int64_t offset);
/* Messages currently counted. */
size_t sl_attempts_size(const sl_attempts *a);

/* The runner's decision after a message's n-th failure: 1 to quarantine it
 * (n reached max_attempts; max_attempts < 1 counts as 1), 0 to retry. */
int sl_attempts_exhausted(int n, int64_t max_attempts);

#endif
