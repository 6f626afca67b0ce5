/*
 * fpset.h -- a capped set of 64-bit fingerprints (open addressing).
 *
 * Used for "seen before" caches in front of a database that stays the
 * authority: a full set refuses new entries (SL_ETOOBIG) and the caller
 * decides to clear it.  Fingerprint 0 is reserved; sl_fpset_fp() never
 * returns it.
 */
#ifndef SL_FPSET_H
#define SL_FPSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_fpset sl_fpset;

sl_fpset *sl_fpset_new(size_t max_entries);
void sl_fpset_destroy(sl_fpset *s);
int  sl_fpset_add(sl_fpset *s, uint64_t fp);        /* SL_OK / SL_ETOOBIG */
int  sl_fpset_has(const sl_fpset *s, uint64_t fp);
size_t sl_fpset_count(const sl_fpset *s);
void sl_fpset_clear(sl_fpset *s);
/* Adds every entry of src into dst (SL_ETOOBIG if dst fills up). */
int  sl_fpset_merge(sl_fpset *dst, const sl_fpset *src);

/* A keyed 64-bit fingerprint of up to two byte strings (FNV-1a 64 over
 * both with a separator, then a final avalanche mix). */
uint64_t sl_fpset_fp(const void *a, size_t alen, const void *b, size_t blen);

#endif
