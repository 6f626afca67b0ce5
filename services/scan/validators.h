/*
 * validators.h -- check-digit and structure validators for scan rules.
 *
 * A rule in schemas/scan-rules.json may name a validator; the engine calls
 * it on every candidate match (the rule's `value` group when it has one,
 * else the whole match) and drops the candidate when it fails, letting
 * PCRE2 backtrack to a shorter candidate.  Validators are pure functions of
 * the candidate bytes (plus one numeric parameter, used only by `entropy`):
 * no allocation that outlives the call, no logging, and never a copy of the
 * value kept anywhere.
 *
 * Each returns 1 when the candidate passes and 0 when it does not; they
 * accept any bytes (including separators where the format allows them) and
 * never read outside [p, p + n).
 */
#ifndef SL_SCAN_VALIDATORS_H
#define SL_SCAN_VALIDATORS_H

#include <stddef.h>
#include <stdint.h>

typedef int (*sl_validator_fn)(const uint8_t *p, size_t n, double param);

typedef struct sl_validator {
    const char *name;       /* as written in the rule file */
    sl_validator_fn fn;
    int needs_param;        /* 1: the rule must give min_entropy */
} sl_validator;

/* The validator called `name`, or NULL. */
const sl_validator *sl_validator_find(const char *name);
/* Every validator, for error messages and documentation. */
const sl_validator *sl_validator_all(size_t *n);

/* luhn: 13-19 digits, single spaces or dashes allowed between them, Luhn
 * (mod 10) check digit. */
int sl_valid_luhn(const uint8_t *p, size_t n);

/* iban_mod97: country code with its registered IBAN length (SWIFT
 * registry), two check digits, ISO 7064 mod 97-10 == 1.  Spaces ignored;
 * upper case only. */
int sl_valid_iban(const uint8_t *p, size_t n);

/* ssn: US Social Security number, 9 digits with optional '-' / ' '
 * separators (3-2-4).  Area 000, 666 and 900-999, group 00 and serial 0000
 * are never issued; 078-05-1120 and 219-09-9999 (published samples) are
 * rejected as well. */
int sl_valid_ssn(const uint8_t *p, size_t n);

/* base58check: Bitcoin Base58 alphabet, decodes to 25 bytes (version byte,
 * 20-byte hash, 4-byte checksum) whose checksum is the first 4 bytes of
 * SHA-256(SHA-256(version + hash)). */
int sl_valid_base58check(const uint8_t *p, size_t n);

/* bech32: a segwit address (BIP 173 / BIP 350): one case only, valid
 * Bech32 checksum for witness version 0 and Bech32m for versions 1-16,
 * program 2-40 bytes (20 or 32 for version 0). */
int sl_valid_bech32(const uint8_t *p, size_t n);

/* jwt: three base64url parts separated by '.', the first decoding to a JSON
 * object that has a string member "alg". */
int sl_valid_jwt(const uint8_t *p, size_t n);

/* Shannon entropy of the bytes, in bits per byte (0 for n == 0). */
double sl_entropy(const uint8_t *p, size_t n);
/* entropy: sl_entropy(p, n) >= min_bits. */
int sl_valid_entropy(const uint8_t *p, size_t n, double min_bits);

/* ipv6: inet_pton accepts it, and it names a host rather than a
 * placeholder: at least three non-zero-length hex groups, or an embedded
 * IPv4 address ("::", "::1", "fe80::1" are rejected). */
int sl_valid_ipv6(const uint8_t *p, size_t n);

/* date: a calendar date a person could have been born on: Y-M-D, D/M/Y or
 * M/D/Y with '-', '/' or '.', or with an English month name ("12 March
 * 1985", "March 12th, 1985"); the day exists in that month (leap years
 * included) and a four-digit year lies in 1900-2099.  Numeric dates pass
 * if either day/month order is a real date. */
int sl_valid_date(const uint8_t *p, size_t n);

#endif
