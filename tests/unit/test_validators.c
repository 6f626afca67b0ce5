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

/* ---- registry ------------------------------------------------------------ */

static void test_registry(void **state)
{
    static const char *const names[] = { "luhn", "iban_mod97", "ssn",
                                         "base58check", "bech32", "jwt",
                                         "entropy", "ipv6", "date",
                                         "secret_entropy" };
    size_t n;
    const sl_validator *all = sl_validator_all(&n);

    (void)state;
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < n; i++) {
        const sl_validator *v = sl_validator_find(names[i]);

        assert_non_null(v);
        assert_string_equal(v->name, names[i]);
        assert_int_equal(v->needs_param, strcmp(names[i], "entropy") == 0 ||
                                          strcmp(names[i], "secret_entropy") == 0);
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
        cmocka_unit_test(test_registry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
