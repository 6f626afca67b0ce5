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

/* luhn: 12-19 digits, single spaces or dashes allowed between them, Luhn
 * (mod 10) check digit. */
int sl_valid_luhn(const uint8_t *p, size_t n);

/* payment_card: a card number of a known brand: its issuer prefix and
 * length in the networks' table (Visa 13/16/19, Mastercard 51-55 and
 * 2221-2720, Amex, Discover, Diners Club, JCB, Maestro 12-19, UnionPay,
 * Mir, RuPay, Troy), one separator kind (' ' or '-'), then luhn. */
int sl_valid_payment_card(const uint8_t *p, size_t n);

/* phone_national: 9 to 12 digits, the other bytes spaces, dots, dashes or
 * parentheses (the rule's pattern places them). */
int sl_valid_phone_national(const uint8_t *p, size_t n);

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

/* ---- national and financial identifiers (Presidio parity) ----------------
 * Each takes the candidate as the rule matched it, separators included. */

/* aba_routing: 9 digits (or 4-4-1 with '-'), prefix 00-12, 21-32, 61-72
 * or 80, weights 3 7 1 sum to a multiple of 10; all-same digits rejected. */
int sl_valid_aba_routing(const uint8_t *p, size_t n);
/* us_itin: 9XX-GG-XXXX (separators '-' or ' ', both the same, or none),
 * group GG in 50-65, 70-88, 90-92 or 94-99. */
int sl_valid_us_itin(const uint8_t *p, size_t n);
/* uk_nhs: 10 digits (spaces / dashes skipped), weights 10..1 sum to a
 * multiple of 11 (the check digit's mod 11 rule); all-same rejected. */
int sl_valid_uk_nhs(const uint8_t *p, size_t n);
/* dea: US DEA registration number: registrant-type letter, a letter or
 * '9', seven digits, the last the check digit of the other six. */
int sl_valid_dea(const uint8_t *p, size_t n);
/* es_nif: Spanish DNI / NIF (8 digits) or NIE (X, Y or Z and 7 digits),
 * an optional '-', and the control letter of the number mod 23. */
int sl_valid_es_nif(const uint8_t *p, size_t n);
/* it_fiscal_code: Italian codice fiscale, 16 characters, letters and
 * digits in their places (omocodia letters allowed for digits), a month
 * letter, a day 1-31 / 41-71, and the check letter. */
int sl_valid_it_fiscal_code(const uint8_t *p, size_t n);
/* it_vat: Italian partita IVA, 11 digits (or IT and 11), Luhn-style
 * check digit. */
int sl_valid_it_vat(const uint8_t *p, size_t n);
/* pl_pesel: 11 digits, month (+20 per century) and day plausible, check
 * digit with weights 1 3 7 9. */
int sl_valid_pl_pesel(const uint8_t *p, size_t n);
/* fi_hetu: Finnish personal identity code DDMMYYCNNNX: a date, century
 * sign (+ - A-F U-Y), individual number 002-899, check character mod 31. */
int sl_valid_fi_hetu(const uint8_t *p, size_t n);
/* de_tax_id: German Steuer-IdNr, 11 digits, no leading 0, one digit
 * twice or three times among the first ten, ISO 7064 MOD 11,10. */
int sl_valid_de_tax_id(const uint8_t *p, size_t n);
/* au_abn / au_acn / au_tfn / au_medicare: the Australian business number
 * (mod 89), company number (mod 10), tax file number (mod 11) and
 * Medicare card number (first digit 2-6, mod 10 in the ninth place);
 * spaces skipped. */
int sl_valid_au_abn(const uint8_t *p, size_t n);
int sl_valid_au_acn(const uint8_t *p, size_t n);
int sl_valid_au_tfn(const uint8_t *p, size_t n);
int sl_valid_au_medicare(const uint8_t *p, size_t n);
/* in_aadhaar: 12 digits (4-4-4 with ' ' or '-'), first 2-9, not a
 * palindrome, Verhoeff check digit. */
int sl_valid_in_aadhaar(const uint8_t *p, size_t n);
/* sg_nric: Singapore NRIC / FIN, S T F G + 7 digits + check letter. */
int sl_valid_sg_nric(const uint8_t *p, size_t n);
/* kr_rrn: Korean resident registration number YYMMDD-NNNNNNN: a date,
 * seventh digit 1-8, check digit (11 - sum mod 11) mod 10. */
int sl_valid_kr_rrn(const uint8_t *p, size_t n);
/* th_tnin: Thai national id, 13 digits, first 1-8, check digit. */
int sl_valid_th_tnin(const uint8_t *p, size_t n);

#endif
