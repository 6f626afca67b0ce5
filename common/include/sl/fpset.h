/*
 * fpset.h -- a capped set of 64-bit fingerprints (open addressing).
 *
 * Used for "seen before" caches in front of a database that stays the
 * authority: a full set refuses new entries (SL_ETOOBIG) and the caller
 * decides to clear it.  The table grows with the entries, up to twice the
 * cap; an add that needs it to grow and finds no memory returns SL_ENOMEM,
 * which callers treat as full.  Fingerprint 0 is reserved; sl_fpset_fp()
 * never returns it.
 *
 * Fingerprints are keyed with a random per-process key (libsodium
 * SipHash-2-4-128, keyed BLAKE2b for inputs over 512 bytes; key from
 * randombytes_buf at first use), so nobody outside the process can craft
 * two inputs that collide; they are not stable across processes and must
 * never be stored.
 *
 * A set made with sl_fpset_new_exact() also keeps, per entry, the value's
 * whole 128-bit keyed digest.  The *_val and *_key calls compare it on a
 * fingerprint hit, so two values whose 64-bit fingerprints collide are two
 * entries and one is never "seen" because of the other (a false hit needs
 * a 128-bit collision of a secret-keyed hash).  Use them when a hit
 * decides something (a replay, a duplicate); the plain calls compare
 * fingerprints only.
 */
#ifndef SL_FPSET_H
#define SL_FPSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_fpset sl_fpset;

sl_fpset *sl_fpset_new(size_t max_entries);
sl_fpset *sl_fpset_new_exact(size_t max_entries);
void sl_fpset_destroy(sl_fpset *s);
/* Each add returns SL_OK, SL_ETOOBIG (full) or SL_ENOMEM (see above). */
int  sl_fpset_add(sl_fpset *s, uint64_t fp);
int  sl_fpset_has(const sl_fpset *s, uint64_t fp);
size_t sl_fpset_count(const sl_fpset *s);
/* Bytes its tables hold now (they grow with the entries, not the cap). */
size_t sl_fpset_bytes(const sl_fpset *s);
void sl_fpset_clear(sl_fpset *s);
/* Adds every entry of src into dst (SL_ETOOBIG if dst fills up, SL_ENOMEM
 * if it cannot grow).  Both plain or both exact (SL_EINVAL otherwise). */
int  sl_fpset_merge(sl_fpset *dst, const sl_fpset *src);

/* A keyed 64-bit fingerprint of up to two byte strings (the first one's
 * length is hashed too, so the split is unambiguous). */
uint64_t sl_fpset_fp(const void *a, size_t alen, const void *b, size_t blen);

/* Exact membership of the value (a, b) whose fingerprint is fp (normally
 * sl_fpset_fp(a, alen, b, blen)).  On a plain set they act as add / has. */
int  sl_fpset_add_val(sl_fpset *s, uint64_t fp, const void *a, size_t alen,
                      const void *b, size_t blen);
int  sl_fpset_has_val(const sl_fpset *s, uint64_t fp, const void *a,
                      size_t alen, const void *b, size_t blen);

/* The same with the hash computed once (sl_fpset_key), for a value looked
 * up in several sets; k->fp == sl_fpset_fp() of the same value. */
typedef struct sl_fpkey {
    uint64_t fp;
    uint8_t digest[16];
} sl_fpkey;
void sl_fpset_key(sl_fpkey *k, const void *a, size_t alen, const void *b,
                  size_t blen);
int  sl_fpset_add_key(sl_fpset *s, const sl_fpkey *k);
int  sl_fpset_has_key(const sl_fpset *s, const sl_fpkey *k);

#endif
