/*
 * test_validators.c -- unit tests for services/scan/validators.c: for every
 * validator a valid value and the same value with a wrong check digit (or
 * the structural equivalent), published vectors where they exist (BIP 173 /
 * BIP 350, the Bitcoin genesis address, test card numbers, the IBAN
 * registry's examples, jwt.io's sample token), and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "validators.h"

#define V(fn, s) fn((const uint8_t *)(s), strlen(s))

/* ---- luhn ---------------------------------------------------------------- */

static void test_luhn(void **state)
{
    (void)state;
    /* valid: test numbers of the major networks */
    assert_true(V(sl_valid_luhn, "4111111111111111"));        /* Visa */
    assert_true(V(sl_valid_luhn, "4222222222222"));           /* Visa, 13 */
    assert_true(V(sl_valid_luhn, "5555555555554444"));        /* Mastercard */
    assert_true(V(sl_valid_luhn, "378282246310005"));         /* Amex */
    assert_true(V(sl_valid_luhn, "6011111111111117"));        /* Discover */
    assert_true(V(sl_valid_luhn, "3530111333300000"));        /* JCB */
    assert_true(V(sl_valid_luhn, "4111 1111 1111 1111"));
    assert_true(V(sl_valid_luhn, "4111-1111-1111-1111"));
    assert_true(V(sl_valid_luhn, "3782 822463 10005"));
    /* wrong check digit */
    assert_false(V(sl_valid_luhn, "4111111111111112"));
    assert_false(V(sl_valid_luhn, "5555555555554445"));
    assert_false(V(sl_valid_luhn, "378282246310006"));
    assert_false(V(sl_valid_luhn, "4111 1111 1111 1110"));
    /* transposed digits change the sum */
    assert_false(V(sl_valid_luhn, "4111111111111161"));
    /* malformed */
    assert_false(V(sl_valid_luhn, "411111111111"));           /* 12 digits */
    assert_false(V(sl_valid_luhn, "41111111111111111113"));   /* 20 digits */
    assert_false(V(sl_valid_luhn, "4111  1111 1111 1111"));   /* double sep */
    assert_false(V(sl_valid_luhn, "-4111111111111111"));
    assert_false(V(sl_valid_luhn, "4111111111111111-"));
    assert_false(V(sl_valid_luhn, "4111x11111111111"));
    assert_false(V(sl_valid_luhn, ""));
    /* all zeros pass Luhn arithmetically: the rule pattern's issuer
     * prefixes keep them out, not the validator */
    assert_true(V(sl_valid_luhn, "0000000000000"));
}

/* ---- iban ---------------------------------------------------------------- */

static void test_iban(void **state)
{
    (void)state;
    assert_true(V(sl_valid_iban, "DE89370400440532013000"));
    assert_true(V(sl_valid_iban, "DE89 3704 0044 0532 0130 00"));
    assert_true(V(sl_valid_iban, "GB82 WEST 1234 5698 7654 32"));
    assert_true(V(sl_valid_iban, "GB29NWBK60161331926819"));
    assert_true(V(sl_valid_iban, "FR1420041010050500013M02606"));
    assert_true(V(sl_valid_iban, "NL91ABNA0417164300"));
    assert_true(V(sl_valid_iban, "BE68539007547034"));
    assert_true(V(sl_valid_iban, "NO9386011117947"));          /* shortest */
    assert_true(V(sl_valid_iban, "MT84MALT011000012345MTLCAST001S"));
    assert_true(V(sl_valid_iban, "CH9300762011623852957"));
    /* wrong check digits */
    assert_false(V(sl_valid_iban, "DE88370400440532013000"));
    assert_false(V(sl_valid_iban, "GB82 WEST 1234 5698 7654 33"));
    assert_false(V(sl_valid_iban, "NL91ABNA0417164301"));
    /* one transposition */
    assert_false(V(sl_valid_iban, "DE89370400440532031000"));
    /* length that is not the country's */
    assert_false(V(sl_valid_iban, "DE8937040044053201300"));
    assert_false(V(sl_valid_iban, "BE685390075470340"));
    /* unknown country, lower case, junk */
    assert_false(V(sl_valid_iban, "XX89370400440532013000"));
    assert_false(V(sl_valid_iban, "de89370400440532013000"));
    assert_false(V(sl_valid_iban, "DE89-3704-0044-0532-0130-00"));
    assert_false(V(sl_valid_iban, "DEXX370400440532013000"));
    assert_false(V(sl_valid_iban, ""));
}

/* ---- ssn ----------------------------------------------------------------- */

static void test_ssn(void **state)
{
    (void)state;
    assert_true(V(sl_valid_ssn, "123-45-6789"));
    assert_true(V(sl_valid_ssn, "123 45 6789"));
    assert_true(V(sl_valid_ssn, "123456789"));
    assert_true(V(sl_valid_ssn, "665-01-0001"));
    assert_true(V(sl_valid_ssn, "899-99-9999"));
    /* never issued: area 000, 666, 9xx; group 00; serial 0000 */
    assert_false(V(sl_valid_ssn, "000-12-3456"));
    assert_false(V(sl_valid_ssn, "666-12-3456"));
    assert_false(V(sl_valid_ssn, "900-12-3456"));
    assert_false(V(sl_valid_ssn, "987-65-4320"));
    assert_false(V(sl_valid_ssn, "123-00-4567"));
    assert_false(V(sl_valid_ssn, "123-45-0000"));
    assert_false(V(sl_valid_ssn, "000000000"));
    /* published samples (Woolworth wallet card, SSA pamphlet) */
    assert_false(V(sl_valid_ssn, "078-05-1120"));
    assert_false(V(sl_valid_ssn, "219-09-9999"));
    /* shape */
    assert_false(V(sl_valid_ssn, "123-456-789"));
    assert_false(V(sl_valid_ssn, "12-345-6789"));
    assert_false(V(sl_valid_ssn, "12345678"));
    assert_false(V(sl_valid_ssn, "1234567890"));
    assert_false(V(sl_valid_ssn, "123-45 6789x"));
}

/* ---- base58check --------------------------------------------------------- */

static void test_base58check(void **state)
{
    (void)state;
    /* the genesis block's address, BIP 13's P2SH example, a common one */
    assert_true(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
    assert_true(V(sl_valid_base58check, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
    assert_true(V(sl_valid_base58check, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
    /* one character changed: the double-SHA-256 checksum fails */
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
    assert_false(V(sl_valid_base58check, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz"));
    assert_false(V(sl_valid_base58check, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfMa"));
    /* characters outside the alphabet (0 O I l) */
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na"));
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivlNa"));
    /* too short / too long / non-canonical leading ones */
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPT"));
    assert_false(V(sl_valid_base58check, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaaaaa"));
    assert_false(V(sl_valid_base58check, "11A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
}

/* ---- bech32 -------------------------------------------------------------- */

static void test_bech32(void **state)
{
    (void)state;
    /* BIP 173 (witness v0, Bech32), both cases, P2WPKH and P2WSH */
    assert_true(V(sl_valid_bech32, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"));
    assert_true(V(sl_valid_bech32, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
    assert_true(V(sl_valid_bech32,
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"));
    /* BIP 350 (witness v1 taproot, Bech32m) */
    assert_true(V(sl_valid_bech32,
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"));
    assert_true(V(sl_valid_bech32, "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn4v0345"));
    assert_true(V(sl_valid_bech32,
        "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sg5tmnz"));
    /* wrong checksum character */
    assert_false(V(sl_valid_bech32, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"));
    assert_false(V(sl_valid_bech32,
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj1"));
    /* the other checksum constant for the version: v0 with Bech32m, v1
     * with Bech32 */
    assert_false(V(sl_valid_bech32, "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnqslask"));
    assert_false(V(sl_valid_bech32,
        "bc1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sagmhkq"));
    /* v0 program of 25 bytes (only 20 or 32 allowed) */
    assert_false(V(sl_valid_bech32, "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9cc7vgsh7"));
    /* mixed case, bad character ('b' is not in the charset), too short */
    assert_false(V(sl_valid_bech32, "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
    assert_false(V(sl_valid_bech32, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb"));
    assert_false(V(sl_valid_bech32, "bc1qqqqqq"));
    assert_false(V(sl_valid_bech32, "qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
}

/* ---- jwt ----------------------------------------------------------------- */

static void test_jwt(void **state)
{
    (void)state;
    /* jwt.io's sample: header {"alg":"HS256","typ":"JWT"} */
    assert_true(V(sl_valid_jwt,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"));
    /* unsecured token: {"alg":"none"}, empty signature */
    assert_true(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."));
    /* header {"typ":"JWT"}: JSON but no "alg" */
    assert_false(V(sl_valid_jwt, "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"));
    /* header {"alg":1}: alg not a string */
    assert_false(V(sl_valid_jwt, "eyJhbGciOjF9.eyJzdWIiOiIxIn0.c2ln"));
    /* header decodes to '{"notjson': not JSON */
    assert_false(V(sl_valid_jwt, "eyJub3Rqc29u.eyJzdWIiOiIxIn0.c2ln"));
    /* shape: two parts, four parts, empty payload, bad character */
    assert_false(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0"));
    assert_false(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln.c2ln"));
    assert_false(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0..c2ln"));
    assert_false(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0.eyJzdWIi+iIxIn0.c2ln"));
    assert_false(V(sl_valid_jwt, "eyJhbGciOiJub25lIn0x.eyJzdWIiOiIxIn0.c2ln"));
}

/* ---- entropy ------------------------------------------------------------- */

static void test_entropy(void **state)
{
    (void)state;
    assert_true(V(sl_entropy, "aaaaaaaa") == 0.0);
    assert_true(V(sl_entropy, "") == 0.0);
    assert_float_equal(V(sl_entropy, "abcd"), 2.0, 1e-9);
    assert_float_equal(V(sl_entropy, "0123456789abcdef"), 4.0, 1e-9);
    assert_float_equal(V(sl_entropy, "aabb"), 1.0, 1e-9);
    /* the threshold: a random-looking token passes 3.5 bits, a word and a
     * repeated pattern do not */
    assert_true(sl_valid_entropy((const uint8_t *)"x7Gq9pL2vR8zK4mW", 16, 3.5));
    assert_false(sl_valid_entropy((const uint8_t *)"passwordpassword", 16, 3.5));
    assert_false(sl_valid_entropy((const uint8_t *)"abababababababab", 16, 3.5));
    assert_false(sl_valid_entropy((const uint8_t *)"", 0, 0.1));
    /* boundary: exactly 4.0 bits passes >= 4.0 */
    assert_true(sl_valid_entropy((const uint8_t *)"0123456789abcdef", 16, 4.0));
    assert_false(sl_valid_entropy((const uint8_t *)"0123456789abcdef", 16, 4.01));
}

/* ---- ipv6 ---------------------------------------------------------------- */

static void test_ipv6(void **state)
{
    (void)state;
    assert_true(V(sl_valid_ipv6, "2001:db8::8a2e:370:7334"));
    assert_true(V(sl_valid_ipv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"));
    assert_true(V(sl_valid_ipv6, "fe80::1ff:fe23:4567:890a"));
    assert_true(V(sl_valid_ipv6, "::ffff:192.0.2.128"));
    assert_true(V(sl_valid_ipv6, "2001:DB8:0:0:8:800:200C:417A"));
    /* not addresses */
    assert_false(V(sl_valid_ipv6, "12:30:45"));
    assert_false(V(sl_valid_ipv6, "2001:db8:::1"));
    assert_false(V(sl_valid_ipv6, "1:2:3:4:5:6:7:8:9"));
    assert_false(V(sl_valid_ipv6, "2001:db8::g1"));
    assert_false(V(sl_valid_ipv6, "00:1A:2B:3C:4D:5E"));
    /* addresses, but placeholders rather than hosts */
    assert_false(V(sl_valid_ipv6, "::"));
    assert_false(V(sl_valid_ipv6, "::1"));
    assert_false(V(sl_valid_ipv6, "fe80::1"));
    assert_false(V(sl_valid_ipv6, "dead::beef"));
}

/* ---- date ---------------------------------------------------------------- */

static void test_date(void **state)
{
    (void)state;
    assert_true(V(sl_valid_date, "1985-03-12"));
    assert_true(V(sl_valid_date, "1985/3/1"));
    assert_true(V(sl_valid_date, "12/03/1985"));
    assert_true(V(sl_valid_date, "03/25/1985"));      /* M/D/Y */
    assert_true(V(sl_valid_date, "25.03.1985"));      /* D.M.Y */
    assert_true(V(sl_valid_date, "12.03.85"));
    assert_true(V(sl_valid_date, "12 March 1985"));
    assert_true(V(sl_valid_date, "12th of March 1985"));
    assert_true(V(sl_valid_date, "March 12th, 1985"));
    assert_true(V(sl_valid_date, "Sept 5, 1990"));
    assert_true(V(sl_valid_date, "29/02/2000"));      /* leap year */
    assert_true(V(sl_valid_date, "2004-02-29"));
    /* no such day or month */
    assert_false(V(sl_valid_date, "1985-13-12"));
    assert_false(V(sl_valid_date, "1985-02-30"));
    assert_false(V(sl_valid_date, "31/04/1985"));     /* neither order */
    assert_false(V(sl_valid_date, "29/02/1900"));     /* 1900 not leap */
    assert_false(V(sl_valid_date, "2023-02-29"));
    assert_false(V(sl_valid_date, "30 February 1990"));
    assert_false(V(sl_valid_date, "32 March 1985"));
    assert_false(V(sl_valid_date, "13/13/1985"));
    /* not a birth date: year range, unknown words, extra parts */
    assert_false(V(sl_valid_date, "1850-01-01"));
    assert_false(V(sl_valid_date, "12 Smarch 1985"));
    assert_false(V(sl_valid_date, "2024-05-01 12:30:45"));
    assert_false(V(sl_valid_date, "12/1985"));
    assert_false(V(sl_valid_date, "12345-01-01"));
}

/* ---- payment cards and national identifiers -------------------------------- */

static void test_payment_card(void **state)
{
    (void)state;
    /* networks' published test numbers, one per brand and length */
    assert_true(V(sl_valid_payment_card, "4111111111111111"));     /* Visa 16 */
    assert_true(V(sl_valid_payment_card, "4222222222222"));        /* Visa 13 */
    assert_true(V(sl_valid_payment_card, "4111111111111111110"));  /* Visa 19 */
    assert_true(V(sl_valid_payment_card, "5555555555554444"));     /* MC */
    assert_true(V(sl_valid_payment_card, "2223003122003222"));     /* MC 2-series */
    assert_true(V(sl_valid_payment_card, "378282246310005"));      /* Amex */
    assert_true(V(sl_valid_payment_card, "6011111111111117"));     /* Discover */
    assert_true(V(sl_valid_payment_card, "30569309025904"));       /* Diners 14 */
    assert_true(V(sl_valid_payment_card, "3566002020360505"));     /* JCB 16 */
    assert_true(V(sl_valid_payment_card, "213112345678904"));      /* JCB 15 */
    assert_true(V(sl_valid_payment_card, "501800000009"));         /* Maestro 12 */
    assert_true(V(sl_valid_payment_card, "6759649826438453"));     /* Maestro 16 */
    assert_true(V(sl_valid_payment_card, "6200000000000005"));     /* UnionPay */
    assert_true(V(sl_valid_payment_card, "2200000000000004"));     /* Mir */
    assert_true(V(sl_valid_payment_card, "3782 822463 10005"));
    assert_true(V(sl_valid_payment_card, "4111-1111-1111-1111"));
    /* Luhn-valid, but no brand issues that prefix at that length */
    assert_false(V(sl_valid_payment_card, "3782822463100052"));    /* Amex 16 */
    assert_false(V(sl_valid_payment_card, "411111111111116"));     /* Visa 15 */
    assert_false(V(sl_valid_payment_card, "555555555555442"));     /* MC 15 */
    assert_false(V(sl_valid_payment_card, "123456789015"));        /* no brand */
    assert_false(V(sl_valid_payment_card, "7111111111111119"));
    /* a brand's prefix and length, wrong Luhn; mixed separators */
    assert_false(V(sl_valid_payment_card, "4111111111111112"));
    assert_false(V(sl_valid_payment_card, "4111 1111-1111 1111"));
    assert_false(V(sl_valid_payment_card, ""));
}

static void test_us_numbers(void **state)
{
    (void)state;
    /* national phone numbers: 9-12 digits */
    assert_true(V(sl_valid_phone_national, "02 98 93 17 09"));
    assert_true(V(sl_valid_phone_national, "(0191) 496 0792"));
    assert_true(V(sl_valid_phone_national, "883233003"));
    assert_false(V(sl_valid_phone_national, "12 34 56 78"));      /* 8 */
    assert_false(V(sl_valid_phone_national, "1234567890123"));    /* 13 */
    assert_false(V(sl_valid_phone_national, "02/98/93/17/09"));
    /* ABA: the Federal Reserve Bank of Boston, JPMorgan Chase */
    assert_true(V(sl_valid_aba_routing, "011000015"));
    assert_true(V(sl_valid_aba_routing, "021000021"));
    assert_true(V(sl_valid_aba_routing, "0210-0002-1"));
    assert_false(V(sl_valid_aba_routing, "021000022"));          /* check */
    assert_false(V(sl_valid_aba_routing, "991000021"));          /* prefix */
    assert_false(V(sl_valid_aba_routing, "000000000"));
    assert_false(V(sl_valid_aba_routing, "02100002"));
    /* ITIN: group ranges */
    assert_true(V(sl_valid_us_itin, "912-70-1234"));
    assert_true(V(sl_valid_us_itin, "912 94 1234"));
    assert_true(V(sl_valid_us_itin, "999881234"));
    assert_false(V(sl_valid_us_itin, "912-93-1234"));
    assert_false(V(sl_valid_us_itin, "912-49-1234"));
    assert_false(V(sl_valid_us_itin, "812-70-1234"));            /* not 9xx */
    assert_false(V(sl_valid_us_itin, "912-70 1234"));            /* mixed */
    /* DEA: type letter, initial or 9, check digit */
    assert_true(V(sl_valid_dea, "AB1234563"));
    assert_true(V(sl_valid_dea, "M91234563"));
    assert_false(V(sl_valid_dea, "AB1234564"));
    assert_false(V(sl_valid_dea, "ZB1234563"));
    assert_false(V(sl_valid_dea, "A11234563"));
    assert_false(V(sl_valid_dea, "AB123456"));
}

static void test_uk_eu_numbers(void **state)
{
    (void)state;
    /* NHS: the NHS Digital example number */
    assert_true(V(sl_valid_uk_nhs, "9434765919"));
    assert_true(V(sl_valid_uk_nhs, "943 476 5919"));
    assert_false(V(sl_valid_uk_nhs, "9434765918"));
    assert_false(V(sl_valid_uk_nhs, "0000000000"));
    assert_false(V(sl_valid_uk_nhs, "943476591"));
    /* Spain: 12345678 mod 23 = 14 -> Z; NIE X = 0 */
    assert_true(V(sl_valid_es_nif, "12345678Z"));
    assert_true(V(sl_valid_es_nif, "12345678-Z"));
    assert_true(V(sl_valid_es_nif, "X1234567L"));
    assert_true(V(sl_valid_es_nif, "Y1234567X"));
    assert_false(V(sl_valid_es_nif, "12345678A"));
    assert_false(V(sl_valid_es_nif, "X1234567A"));
    assert_false(V(sl_valid_es_nif, "1234567Z"));
    /* Italy: the Agenzia delle Entrate's example Mario Rossi */
    assert_true(V(sl_valid_it_fiscal_code, "RSSMRA85T10A562S"));
    assert_true(V(sl_valid_it_fiscal_code, "RSSMRA85T10A56NH"));   /* omocodia */
    assert_false(V(sl_valid_it_fiscal_code, "RSSMRA85T10A562T"));
    assert_false(V(sl_valid_it_fiscal_code, "RSSMRA85Z10A562S"));  /* month */
    assert_false(V(sl_valid_it_fiscal_code, "RSSMRA85T35A562S"));  /* day 35 */
    assert_false(V(sl_valid_it_fiscal_code, "RSSMRA85T10A562"));
    assert_true(V(sl_valid_it_vat, "07643520567"));
    assert_true(V(sl_valid_it_vat, "IT07643520567"));
    assert_false(V(sl_valid_it_vat, "07643520568"));
    assert_false(V(sl_valid_it_vat, "00000000000"));
    /* Poland: PESEL of 14 May 1844 and of 8 July 2002 (month + 20) */
    assert_true(V(sl_valid_pl_pesel, "44051401359"));
    assert_true(V(sl_valid_pl_pesel, "02270803624"));
    assert_false(V(sl_valid_pl_pesel, "44051401358"));
    assert_false(V(sl_valid_pl_pesel, "44151401357"));            /* month 15 */
    assert_false(V(sl_valid_pl_pesel, "4405140135"));
    /* Finland: the DVV's example 131052-308T; new century signs */
    assert_true(V(sl_valid_fi_hetu, "131052-308T"));
    assert_true(V(sl_valid_fi_hetu, "131052A308T"));
    assert_true(V(sl_valid_fi_hetu, "131052Y308T"));
    assert_false(V(sl_valid_fi_hetu, "131052-308U"));
    assert_false(V(sl_valid_fi_hetu, "131052Q308T"));
    assert_false(V(sl_valid_fi_hetu, "321052-308T"));             /* day 32 */
    assert_false(V(sl_valid_fi_hetu, "131052-000T"));             /* 000 */
    /* Germany: one digit twice or three times, MOD 11,10 */
    assert_true(V(sl_valid_de_tax_id, "86095742719"));
    assert_true(V(sl_valid_de_tax_id, "65929970489"));            /* 9 thrice */
    assert_true(V(sl_valid_de_tax_id, "86 095 742 719"));
    assert_false(V(sl_valid_de_tax_id, "86095742718"));
    assert_false(V(sl_valid_de_tax_id, "12345678903"));           /* none twice */
    assert_false(V(sl_valid_de_tax_id, "06095742719"));           /* leading 0 */
    assert_false(V(sl_valid_de_tax_id, "11111111119"));
}

static void test_apac_numbers(void **state)
{
    (void)state;
    /* Australia: the ATO's examples */
    assert_true(V(sl_valid_au_abn, "51824753556"));
    assert_true(V(sl_valid_au_abn, "51 824 753 556"));
    assert_false(V(sl_valid_au_abn, "51824753557"));
    assert_true(V(sl_valid_au_acn, "004085616"));
    assert_true(V(sl_valid_au_acn, "000 000 019"));
    assert_false(V(sl_valid_au_acn, "004085617"));
    assert_true(V(sl_valid_au_tfn, "123456782"));
    assert_true(V(sl_valid_au_tfn, "876 543 210"));
    assert_false(V(sl_valid_au_tfn, "123456789"));
    assert_true(V(sl_valid_au_medicare, "2123456701"));
    assert_true(V(sl_valid_au_medicare, "21234567011"));          /* issue no. */
    assert_false(V(sl_valid_au_medicare, "2123456711"));
    assert_false(V(sl_valid_au_medicare, "7123456701"));          /* first 7 */
    /* India: Verhoeff */
    assert_true(V(sl_valid_in_aadhaar, "234123412346"));
    assert_true(V(sl_valid_in_aadhaar, "2341 2341 2346"));
    assert_false(V(sl_valid_in_aadhaar, "234123412347"));
    assert_false(V(sl_valid_in_aadhaar, "134123412346"));         /* first 1 */
    assert_false(V(sl_valid_in_aadhaar, "2341 2341-2346"));
    /* Singapore: one per prefix */
    assert_true(V(sl_valid_sg_nric, "S1234567D"));
    assert_true(V(sl_valid_sg_nric, "T1234567J"));
    assert_true(V(sl_valid_sg_nric, "F1234567N"));
    assert_true(V(sl_valid_sg_nric, "G1234567X"));
    assert_false(V(sl_valid_sg_nric, "M1234567X"));             /* M series */
    assert_false(V(sl_valid_sg_nric, "S1234567A"));
    assert_false(V(sl_valid_sg_nric, "A1234567D"));
    /* Korea, Thailand */
    assert_true(V(sl_valid_kr_rrn, "800101-1234560"));
    assert_true(V(sl_valid_kr_rrn, "8001011234560"));
    assert_false(V(sl_valid_kr_rrn, "800101-1234561"));
    assert_false(V(sl_valid_kr_rrn, "801301-1234560"));           /* month 13 */
    assert_false(V(sl_valid_kr_rrn, "800101-9234560"));
    assert_true(V(sl_valid_th_tnin, "1101700203042"));
    assert_true(V(sl_valid_th_tnin, "1-1017-00203-04-2"));
    assert_false(V(sl_valid_th_tnin, "1101700203043"));
    assert_false(V(sl_valid_th_tnin, "9101700203042"));           /* first 9 */
}

/* ---- registry ------------------------------------------------------------ */

static void test_registry(void **state)
{
    static const char *const names[] = { "luhn", "iban_mod97", "ssn",
                                         "base58check", "bech32", "jwt",
                                         "entropy", "ipv6", "date",
                                         "payment_card", "phone_national",
                                         "aba_routing",
                                         "us_itin", "uk_nhs", "dea", "es_nif",
                                         "it_fiscal_code", "it_vat",
                                         "pl_pesel", "fi_hetu", "de_tax_id",
                                         "au_abn", "au_acn", "au_tfn",
                                         "au_medicare", "in_aadhaar",
                                         "sg_nric", "kr_rrn", "th_tnin" };
    size_t n;
    const sl_validator *all = sl_validator_all(&n);

    (void)state;
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < n; i++) {
        const sl_validator *v = sl_validator_find(names[i]);

        assert_non_null(v);
        assert_string_equal(v->name, names[i]);
        assert_int_equal(v->needs_param, strcmp(names[i], "entropy") == 0);
        assert_ptr_equal(v, &all[i]);
    }
    assert_null(sl_validator_find("mod11"));
    assert_null(sl_validator_find(""));
    /* through the table, with the parameter */
    assert_true(sl_validator_find("luhn")->fn((const uint8_t *)"4111111111111111",
                                               16, 0));
    assert_false(sl_validator_find("entropy")->fn((const uint8_t *)"aaaa", 4, 1.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_ssn),
        cmocka_unit_test(test_base58check),
        cmocka_unit_test(test_bech32),
        cmocka_unit_test(test_jwt),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_payment_card),
        cmocka_unit_test(test_us_numbers),
        cmocka_unit_test(test_uk_eu_numbers),
        cmocka_unit_test(test_apac_numbers),
        cmocka_unit_test(test_registry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
