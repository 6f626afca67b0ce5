/*
 * test_rules.c -- unit tests for services/scan/rules.c and the shipped rule
 * set schemas/scan-rules.json: positive and negative vectors per rule, a
 * valid and an invalid check digit for each validated entity, near-misses
 * that must not match (order numbers, ISBNs, timestamps, epoch millis,
 * version strings, UUIDs, git hashes), overlap resolution, exact redaction
 * bytes, rule-file errors, and the prefilter's soundness: every scan in this
 * file is repeated with SL_SCAN_EXHAUSTIVE (every rule over every byte) and
 * must give the same findings, and so must random texts built from the
 * vectors and from a digit-and-separator-heavy alphabet.
 *
 * Decision recorded here: a bare dotted quad such as "1.2.3.4" is reported
 * as an IPv4 address; it is not when written as "v1.2.3.4", when part of a
 * longer dotted run ("1.2.3.4.5"), or when one of "version", "ver", "v",
 * "release", "build", "firmware", "rev", "section", "chapter", "figure",
 * "table", "step" (and a few more) precedes it within 16 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "rules.h"
#include "sl/crypto.h"

/* ---- fixtures ------------------------------------------------------------- */

static sl_rules *rules;            /* the shipped set, from the source tree */
static char *rules_json;
static size_t rules_len;
static sl_scanner *sc, *ex;        /* prefiltered, exhaustive */
static sl_findings fd, fx;

static int setup(void **state)
{
    sl_err err;

    (void)state;
    rules_json = fx_read_text(SL_SOURCE_DIR "/schemas/scan-rules.json", &rules_len);
    if (sl_rules_load(&rules, rules_json, rules_len, &err) != SL_OK) {
        fprintf(stderr, "shipped rules: %s\n", err.msg);
        return -1;
    }
    sc = sl_scanner_new(rules);
    ex = sl_scanner_new(rules);
    if (!sc || !ex)
        return -1;
    sl_scanner_set_flags(ex, SL_SCAN_EXHAUSTIVE);
    sl_findings_init(&fd, 100000);
    sl_findings_init(&fx, 100000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_findings_free(&fd);
    sl_findings_free(&fx);
    sl_scanner_destroy(sc);
    sl_scanner_destroy(ex);
    sl_rules_destroy(rules);
    free(rules_json);
    return 0;
}

/* Scans with both scanners, checks they agree and that the findings are
 * sorted and disjoint; returns the prefiltered findings (in fd). */
static const sl_findings *scan_n(const char *text, size_t len)
{
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)text, len, &fd), SL_OK);
    assert_int_equal(sl_scan_text(ex, (const uint8_t *)text, len, &fx), SL_OK);
    if (fd.count != fx.count ||
        memcmp(fd.items, fx.items, fd.count * sizeof(sl_finding)) != 0) {
        fprintf(stderr, "prefiltered and exhaustive scans differ on: %.*s\n",
                (int)(len > 300 ? 300 : len), text);
        for (size_t i = 0; i < fd.count; i++)
            fprintf(stderr, "  pre %s %zu+%zu\n", sl_rules_id(rules, fd.items[i].rule),
                    fd.items[i].offset, fd.items[i].length);
        for (size_t i = 0; i < fx.count; i++)
            fprintf(stderr, "  exh %s %zu+%zu\n", sl_rules_id(rules, fx.items[i].rule),
                    fx.items[i].offset, fx.items[i].length);
        fail();
    }
    for (size_t i = 1; i < fd.count; i++)
        assert_true(fd.items[i - 1].offset + fd.items[i - 1].length <=
                    fd.items[i].offset);
    return &fd;
}

static const sl_findings *scan(const char *text)
{
    return scan_n(text, strlen(text));
}

static size_t rule_index(const char *id)
{
    size_t i;

    if (sl_rules_find(rules, id, &i) != SL_OK) {
        fprintf(stderr, "no rule %s\n", id);
        fail();
    }
    return i;
}

/* Asserts `text` yields exactly one finding, of rule `id`, covering the
 * first occurrence of `span`. */
static void expect_one(const char *id, const char *text, const char *span)
{
    const sl_findings *f = scan(text);
    const char *at = strstr(text, span);

    assert_non_null(at);
    if (f->count != 1 || f->items[0].rule != rule_index(id) ||
        f->items[0].offset != (size_t)(at - text) ||
        f->items[0].length != strlen(span)) {
        fprintf(stderr, "expected one %s on [%s] at \"%s\"; got %zu:\n", id,
                text, span, f->count);
        for (size_t i = 0; i < f->count; i++)
            fprintf(stderr, "  %s %zu+%zu\n", sl_rules_id(rules, f->items[i].rule),
                    f->items[i].offset, f->items[i].length);
        fail();
    }
    assert_int_equal(f->items[0].validation,
                     sl_rules_validator(rules, f->items[0].rule)
                         ? SL_VALIDATION_PASSED : SL_VALIDATION_NA);
}

/* Asserts `text` yields no finding at all. */
static void expect_none(const char *text)
{
    const sl_findings *f = scan(text);

    if (f->count != 0) {
        fprintf(stderr, "expected nothing on [%s]; got:\n", text);
        for (size_t i = 0; i < f->count; i++)
            fprintf(stderr, "  %s %zu+%zu\n", sl_rules_id(rules, f->items[i].rule),
                    f->items[i].offset, f->items[i].length);
        fail();
    }
}

/* Asserts no finding of rule `id` in `text`. */
static void expect_no(const char *id, const char *text)
{
    const sl_findings *f = scan(text);
    size_t r = rule_index(id);

    for (size_t i = 0; i < f->count; i++) {
        if (f->items[i].rule == r) {
            fprintf(stderr, "unexpected %s on [%s] at %zu+%zu\n", id, text,
                    f->items[i].offset, f->items[i].length);
            fail();
        }
    }
}

/* ---- the rule set itself --------------------------------------------------- */

static void test_shipped_set(void **state)
{
    static const char *const ids[] = {
        "email", "phone_e164", "phone_nanp", "us_ssn", "us_ssn_context",
        "credit_card", "iban", "ipv4", "ipv6", "mac_address", "uk_nino",
        "date_of_birth", "bitcoin_base58", "bitcoin_bech32",
        "phone_nanp_context", "phone_national", "us_itin", "us_itin_context", "us_passport",
        "us_driver_license", "us_bank_number", "aba_routing", "uk_nhs",
        "medical_license", "es_nif", "es_nie", "it_fiscal_code",
        "it_vat_code", "pl_pesel", "fi_personal_id", "de_tax_id", "au_abn",
        "au_acn", "au_tfn", "au_medicare", "in_aadhaar",
        "in_aadhaar_context", "in_pan", "sg_nric", "kr_rrn", "th_tnin",
        "aws_access_key_id", "github_token", "slack_token", "slack_webhook",
        "stripe_secret_key", "stripe_publishable_key", "google_api_key",
        "jwt", "pem_private_key", "generic_secret",
        /* secrets, round two */
        "aws_secret_access_key", "google_oauth_client_secret",
        "gcp_service_account_key", "azure_ad_client_secret", "azure_storage_key",
        "gitlab_token", "atlassian_api_token", "bitbucket_client_secret",
        "slack_app_token", "discord_bot_token", "discord_webhook",
        "telegram_bot_token", "square_token", "paypal_braintree_token",
        "openai_api_key", "anthropic_api_key", "huggingface_token",
        "cohere_api_key", "ai_provider_key", "npm_token", "pypi_token",
        "sendgrid_api_key", "twilio_api_key", "shopify_token",
        "digitalocean_token", "heroku_api_key", "databricks_token",
        "linear_api_key", "grafana_token", "url_credentials",
        "generic_high_entropy"
    };
    char hex[SL_SHA256_HEX];
    sl_rules *builtin;
    sl_err err;
    size_t i;

    (void)state;
    assert_int_equal(sl_rules_count(rules), sizeof(ids) / sizeof(ids[0]));
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_string_equal(sl_rules_id(rules, rule_index(ids[i])), ids[i]);
    assert_int_equal(sl_rules_find(rules, "nope", &i), SL_ENOTFOUND);
    assert_string_equal(sl_rules_version(rules), "2025.1");

    /* the hash is SHA-256 of the file bytes, and the embedded copy is the
     * same file */
    assert_int_equal(sl_sha256_hex(rules_json, rules_len, hex), SL_OK);
    assert_string_equal(sl_rules_hash(rules), hex);
    assert_int_equal(sl_rules_load_builtin(&builtin, &err), SL_OK);
    assert_string_equal(sl_rules_hash(builtin), hex);
    sl_rules_destroy(builtin);

    /* per-rule attributes */
    i = rule_index("credit_card");
    assert_string_equal(sl_rules_entity(rules, i), "credit_card");
    assert_int_equal(sl_rules_kind(rules, i), SL_RULE_PII);
    assert_int_equal(sl_rules_action(rules, i), SL_ACTION_BLOCK);
    assert_int_equal(sl_rules_severity(rules, i), SL_SEV_HIGH);
    assert_string_equal(sl_rules_validator(rules, i), "payment_card");
    assert_true(sl_rules_score(rules, i) == 1.0f);
    assert_true(sl_rules_threshold(rules, i) == 0.5f);
    assert_null(sl_rules_context_word(rules, i, 0));
    i = rule_index("phone_nanp_context");
    assert_true(sl_rules_score(rules, i) == 0.35f);
    assert_string_equal(sl_rules_context_word(rules, i, 0), "phone");
    assert_null(sl_rules_context_word(rules, i, -1));
    assert_null(sl_rules_context_word(rules, i, 1000));
    i = rule_index("aws_access_key_id");
    assert_int_equal(sl_rules_kind(rules, i), SL_RULE_SECRET);
    assert_null(sl_rules_validator(rules, i));
    i = rule_index("ipv4");
    assert_int_equal(sl_rules_action(rules, i), SL_ACTION_FLAG);
    assert_int_equal(sl_rules_severity(rules, i), SL_SEV_LOW);
    i = rule_index("email");
    assert_int_equal(sl_rules_action(rules, i), SL_ACTION_REDACT);
    assert_int_equal(sl_rules_severity(rules, i), SL_SEV_MEDIUM);
    assert_string_equal(sl_rules_validator(rules, rule_index("iban")), "iban_mod97");
    assert_string_equal(sl_rules_validator(rules, rule_index("us_ssn")), "ssn");
    assert_string_equal(sl_rules_validator(rules, rule_index("bitcoin_base58")),
                        "base58check");
    assert_string_equal(sl_rules_validator(rules, rule_index("bitcoin_bech32")),
                        "bech32");
    assert_string_equal(sl_rules_validator(rules, rule_index("generic_secret")),
                        "secret_entropy");
}

static void test_names(void **state)
{
    sl_action a;

    (void)state;
    assert_string_equal(sl_action_name(SL_ACTION_BLOCK), "block");
    assert_string_equal(sl_action_name(SL_ACTION_ALLOW), "allow");
    assert_string_equal(sl_severity_name(SL_SEV_MEDIUM), "medium");
    assert_string_equal(sl_rule_kind_name(SL_RULE_SECRET), "secret");
    assert_int_equal(sl_action_parse("redact", &a), SL_OK);
    assert_int_equal(a, SL_ACTION_REDACT);
    assert_int_equal(sl_action_parse("flag", &a), SL_OK);
    assert_int_equal(a, SL_ACTION_FLAG);
    assert_int_equal(sl_action_parse("Block", &a), SL_EINVAL);
    assert_int_equal(sl_action_parse(NULL, &a), SL_EINVAL);
    assert_true(SL_ACTION_BLOCK > SL_ACTION_REDACT && SL_ACTION_REDACT > SL_ACTION_FLAG &&
                SL_ACTION_FLAG > SL_ACTION_ALLOW);
}

/* ---- PII rules -------------------------------------------------------------- */

static void test_email(void **state)
{
    (void)state;
    expect_one("email", "Contact jane.doe+tag@mail.example.co.uk today.",
               "jane.doe+tag@mail.example.co.uk");
    expect_one("email", "<a@b.io>", "a@b.io");
    expect_one("email", "mail: J_Smith99@Example.ORG.", "J_Smith99@Example.ORG");
    expect_one("email", "Écrire à jöhn@example.com", "jöhn@example.com");
    expect_none("see icon@2x.png and logo@3x.jpeg");
    expect_none("user@localhost is local");
    expect_none("npm i lodash@4.17.21");
    expect_none("a @ b.com, @handle, foo@ bar.com");
    expect_none("x@example.c");
}

static void test_phone(void **state)
{
    (void)state;
    expect_one("phone_e164", "Call +44 20 7946 0958 now", "+44 20 7946 0958");
    expect_one("phone_e164", "tel:+491701234567.", "+491701234567");
    expect_one("phone_e164", "ring +1 (415) 555-2671", "+1 (415) 555-2671");
    expect_one("phone_nanp", "Call (415) 555-2671 today", "(415) 555-2671");
    expect_one("phone_nanp", "Call 415-555-2671.", "415-555-2671");
    expect_one("phone_nanp", "Call 415.555.2671", "415.555.2671");
    expect_one("phone_nanp", "Call 1-800-555-0199", "1-800-555-0199");
    expect_one("phone_nanp", "Call 1 (415) 555-2671", "1 (415) 555-2671");
    /* every written form: no space after the parenthesis, spaces, the 001
     * and +1 prefixes, extensions */
    expect_one("phone_nanp", "Call (415)555-2671 today", "(415)555-2671");
    expect_one("phone_nanp", "Office: 415 555 2671, ask", "415 555 2671");
    expect_one("phone_nanp", "From abroad 001-415-555-2671.", "001-415-555-2671");
    expect_one("phone_nanp", "dial 001 (415) 555-2671!", "001 (415) 555-2671");
    expect_one("phone_nanp", "(415) 555-2671 x123 is mine", "(415) 555-2671 x123");
    expect_one("phone_nanp", "415-555-2671x42.", "415-555-2671x42");
    expect_one("phone_nanp", "415.555.2671 ext. 12;", "415.555.2671 ext. 12");
    expect_one("phone_nanp", "1-800-555-0199 Ext 4021", "1-800-555-0199 Ext 4021");
    expect_one("phone_nanp", "415-555-2671 extension 7", "415-555-2671 extension 7");
    expect_one("phone_e164", "Reach +1-415-555-2671 ext. 9 any time",
               "+1-415-555-2671 ext. 9");
    expect_one("phone_e164", "Tel. +33 1 42 68 53 00.", "+33 1 42 68 53 00");
    expect_one("phone_e164", "+81-3-1234-5678", "+81-3-1234-5678");
    expect_one("phone_e164", "WhatsApp +5511987654321", "+5511987654321");
    /* bare ten digits: a phone only after a context word */
    expect_one("phone_nanp_context", "call 4155552671 or 555-1234", "4155552671");
    expect_one("phone_nanp_context", "Mobile: 14155552671", "14155552671");
    expect_one("phone_nanp_context", "fax 4155552671 x12", "4155552671 x12");
    expect_none("order 4155552671 shipped");
    /* national numbers of other countries, after a phone word */
    expect_one("phone_national", "Tel. 02 98 93 17 09", "02 98 93 17 09");
    expect_one("phone_national", "Phone: (0191) 496 0792.", "(0191) 496 0792");
    expect_one("phone_national", "Telefon 05959 48964", "05959 48964");
    expect_one("phone_national", "mobile 883 233 003", "883 233 003");
    expect_one("phone_national", "call 32 903 18 80 today", "32 903 18 80");
    expect_one("phone_national", "fax: 0883172734", "0883172734");
    expect_one("phone_national", "Tel (020)74960742", "(020)74960742");
    expect_one("phone_national", "dial 0114 4960544, or", "0114 4960544");
    expect_none("883 233 003 and 02 98 93 17 09");      /* no context */
    expect_none("call 12 34 56 and 1 2 3 4 5 6 7 8 9");  /* too few, 1s */
    expect_none("tel 2024-05-01 and 12:30:45");
    expect_one("ipv4", "Tel. (source 183.121.183.106)", "183.121.183.106");
    expect_one("ipv4", "fax: came from 32.16.249.90. Next", "32.16.249.90");
    expect_none("epoch 1714566645 and account 4155552671");
    /* too short, no leading +, area / exchange starting with 0 or 1 */
    expect_none("score +12 and +1234567");
    expect_none("utc offset 2024-05-01T12:30:45+02:00 and +0123456789");
    /* not NANP (a national number elsewhere: phone_national's) */
    expect_no("phone_nanp_context", "call 0155552671 or 555-1234 or 41555526710");
    expect_no("phone_nanp", "call 0155552671 or 555-1234 or 41555526710");
    expect_none("ids 123-456-7890 and 415-155-2671");
    expect_no("phone_nanp", "dial 002-415-555-2671 and 01-415-555-2671");
    expect_none("415-555-2671xyz and 415-555-2671-9");
    expect_none("v415.555.2671 and 415-555-26710");
    /* more than 15 digits is not E.164 */
    expect_no("phone_e164", "+1234567890123456");
}

static void test_ssn(void **state)
{
    (void)state;
    expect_one("us_ssn", "SSN 123-45-6789 on file", "123-45-6789");
    expect_one("us_ssn", "id 123 45 6789.", "123 45 6789");
    expect_one("us_ssn_context", "SSN: 123456789", "123456789");
    expect_one("us_ssn_context", "Social Security No. 234567890", "234567890");
    /* invalid ranges: area 000, 666, 9xx; group 00; serial 0000 */
    expect_none("SSN 000-12-3456");
    expect_none("SSN 666-12-3456");
    expect_none("SSN 912-34-5678");
    expect_none("SSN 123-00-4567");
    expect_none("SSN 123-45-0000");
    expect_none("SSN: 000123456");
    /* nine bare digits without context are order numbers */
    expect_none("order 123456789 shipped");
    /* mixed separators, extra digits, dates */
    expect_none("123-45 6789, 123-45-67890, 2024-05-01");
    /* part, model and serial numbers written 3-2-4 */
    expect_none("Part no. 254-42-1563 in stock");
    expect_none("serial 123-45-6789, SKU 123-45-6789");
    expect_one("us_ssn", "Part of the file: SSN 123-45-6789", "123-45-6789");
    /* an excluding word in the sentence before, then an SSN word: the SSN
     * word says what the value is; without a clause break in between the
     * excluding word still rules ("model ssn" reads as a model's number) */
    expect_one("us_ssn", "the new model. ssn 385 59 7514 cell", "385 59 7514");
    expect_one("us_ssn", "part; SSN 385-59-7514", "385-59-7514");
    expect_none("model ssn 385 59 7514");
    expect_none("Part no. SKU 254-42-1563");
    expect_one("us_ssn_context", "her social is 095369052", "095369052");
    expect_one("us_ssn_context", "Soc. Sec. No. 686408981", "686408981");
}

static void test_credit_card(void **state)
{
    (void)state;
    expect_one("credit_card", "card 4111 1111 1111 1111 exp", "4111 1111 1111 1111");
    expect_one("credit_card", "card 5555-5555-5555-4444.", "5555-5555-5555-4444");
    expect_one("credit_card", "amex 378282246310005", "378282246310005");
    expect_one("credit_card", "amex 3782 822463 10005", "3782 822463 10005");
    expect_one("credit_card", "disc 6011111111111117", "6011111111111117");
    expect_one("credit_card", "visa13 4222222222222", "4222222222222");
    /* every brand and length, grouped and not (networks' test numbers) */
    expect_one("credit_card", "visa19 4111111111111111110", "4111111111111111110");
    expect_one("credit_card", "visa19 4111 1111 1111 1111 110.", "4111 1111 1111 1111 110");
    expect_one("credit_card", "mc2 2223003122003222 ok", "2223003122003222");
    expect_one("credit_card", "mc2 2720-9900-0000-0007", "2720-9900-0000-0007");
    expect_one("credit_card", "mc 5105105105105100", "5105105105105100");
    expect_one("credit_card", "amex 3714 496353 98431", "3714 496353 98431");
    expect_one("credit_card", "discover 6445644564456445", "6445644564456445");
    expect_one("credit_card", "discover 6500-0000-0000-0002", "6500-0000-0000-0002");
    expect_one("credit_card", "diners 30569309025904", "30569309025904");
    expect_one("credit_card", "diners 3056 930902 5904", "3056 930902 5904");
    expect_one("credit_card", "diners 3852 0000 0232 37", "3852 0000 0232 37");
    expect_one("credit_card", "jcb 3566002020360505", "3566002020360505");
    expect_one("credit_card", "jcb 3530 1113 3330 0000", "3530 1113 3330 0000");
    expect_one("credit_card", "jcb15 213112345678904", "213112345678904");
    expect_one("credit_card", "jcb15 180012345678905", "180012345678905");
    expect_one("credit_card", "maestro 6759649826438453", "6759649826438453");
    expect_one("credit_card", "maestro12 501800000009", "501800000009");
    expect_one("credit_card", "maestro 6304 0000 0000 0000 018", "6304 0000 0000 0000 018");
    expect_one("credit_card", "unionpay 6200000000000005", "6200000000000005");
    expect_one("credit_card", "unionpay 6212345678901265", "6212345678901265");
    expect_one("credit_card", "unionpay19 6212345678900000003", "6212345678900000003");
    expect_one("credit_card", "mir 2200 0000 0000 0004", "2200 0000 0000 0004");
    /* Maestro's wider ranges and JCB's whole 35 block, as generators issue
     * them */
    expect_one("credit_card", "maestro 639012345679", "639012345679");
    expect_one("credit_card", "maestro 560012345677", "560012345677");
    expect_one("credit_card", "maestro 060412345674", "060412345674");
    expect_one("credit_card", "jcb 3516178403187839", "3516178403187839");
    expect_one("credit_card", "jcb15 2131-9734-7201-656", "2131-9734-7201-656");
    /* a Luhn-valid Visa-13 shape after "barcode" is an EAN-13 */
    expect_none("Barcode 4112191109304");
    expect_none("EAN: 4112191109304");
    /* a brand's prefix at a length it does not issue: Amex of 16, Visa of
     * 15, Mastercard of 15 -- each Luhn-valid */
    expect_none("x 3782822463100052 y");
    expect_none("x 411111111111116 y");
    expect_none("x 555555555555442 y");
    /* twelve digits of no Maestro range, Luhn-valid */
    expect_none("ref 411111111117 and 123456789015");
    /* followed by more digits: Luhn decides where the number ends */
    expect_one("credit_card", "4111 1111 1111 1111 12/25", "4111 1111 1111 1111");
    expect_one("credit_card", "4111111111111111 2024", "4111111111111111");
    /* wrong check digit */
    expect_none("card 4111 1111 1111 1112 exp");
    expect_none("amex 378282246310006");
    /* no issuer prefix: epoch millis, ISBN-13, long ids */
    expect_none("at 1714566645000 ms");
    expect_none("ISBN 9780306406157 and ISBN 978-0-306-40615-7");
    expect_none("ref 1234567812345670");
    /* mixed separators */
    expect_none("card 4111 1111-1111 1111");
    /* tracking numbers and other long digit runs with no brand */
    expect_none("UPS 1Z999AA10123456784, USPS 9400111899223100000000, "
                "FedEx 7489 6666 4310");
}

static void test_iban(void **state)
{
    (void)state;
    expect_one("iban", "IBAN DE89 3704 0044 0532 0130 00.", "DE89 3704 0044 0532 0130 00");
    expect_one("iban", "to GB82WEST12345698765432 now", "GB82WEST12345698765432");
    expect_one("iban", "FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606");
    /* a capitalised word after it: the validator makes PCRE2 back off */
    expect_one("iban", "BE68 5390 0754 7034 CASH", "BE68 5390 0754 7034");
    /* wrong check digits, wrong length */
    expect_none("IBAN DE88 3704 0044 0532 0130 00");
    expect_none("IBAN DE89 3704 0044 0532 0130 0");
    expect_none("MP3 AB12 CDEF GHIJ");
}

static void test_ip(void **state)
{
    (void)state;
    expect_one("ipv4", "host 10.0.0.1 up", "10.0.0.1");
    expect_one("ipv4", "at 192.168.1.254:8080", "192.168.1.254");
    expect_one("ipv4", "dns is 8.8.8.8.", "8.8.8.8");
    expect_one("ipv4", "see 1.2.3.4 now", "1.2.3.4");       /* documented */
    /* at the end of a sentence, before any punctuation */
    expect_one("ipv4", "The server is 203.0.113.7.", "203.0.113.7");
    expect_one("ipv4", "Is it 203.0.113.7?", "203.0.113.7");
    expect_one("ipv4", "It is 203.0.113.7!", "203.0.113.7");
    expect_one("ipv4", "hosts 203.0.113.7, and more", "203.0.113.7");
    expect_one("ipv4", "gw 203.0.113.7; dns", "203.0.113.7");
    expect_one("ipv4", "(203.0.113.7)", "203.0.113.7");
    expect_one("ipv4", "[203.0.113.7]", "203.0.113.7");
    expect_one("ipv4", "\"203.0.113.7\"", "203.0.113.7");
    expect_one("ipv4", "'203.0.113.7'", "203.0.113.7");
    expect_one("ipv4", "net 203.0.113.0/24", "203.0.113.0");
    expect_one("ipv4", "ip=203.0.113.7&x", "203.0.113.7");
    expect_one("ipv4", "It was 203.0.113.7.\nNext", "203.0.113.7");
    expect_one("ipv4", "It was 203.0.113.7...", "203.0.113.7");
    expect_one("ipv4", "203.0.113.7", "203.0.113.7");
    expect_none("version 1.2.3.4");
    expect_none("Version: 10.2.0.1");
    expect_none("v1.2.3.4 and ver 2.0.0.1");
    expect_none("firmware 4.1.0.12, section 1.2.3.4, figure 2.1.1.3");
    expect_none("1.2.3.4.5 and 256.1.1.1 and 1.2.3");
    /* an excluding word ends its sentence; a host word starts the next */
    expect_one("ipv4", "member table. host=214.39.20.148 status=200", "214.39.20.148");
    expect_one("ipv4", "see figure, server 10.1.2.3", "10.1.2.3");
    expect_none("table host 10.1.2.3");
    expect_none("Table 3. 10.1.2.3");
    expect_none("pi is 3.14159 and 2024.05.01.12");
    expect_one("ipv6", "from 2001:db8::8a2e:370:7334 today", "2001:db8::8a2e:370:7334");
    expect_one("ipv6", "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334.",
               "2001:0db8:85a3:0000:0000:8a2e:0370:7334");
    expect_one("ipv6", "mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128");
    expect_none("at 12:30:45 and 23:59:59.999");
    expect_none("std::vector<int> and a::b");
    expect_none("localhost ::1 and fe80::1 and ::");
}

static void test_mac(void **state)
{
    (void)state;
    expect_one("mac_address", "eth0 00:1A:2B:3C:4D:5E up", "00:1A:2B:3C:4D:5E");
    expect_one("mac_address", "hw 00-1a-2b-3c-4d-5e.", "00-1a-2b-3c-4d-5e");
    expect_none("hw 00:1A-2B:3C:4D:5E");                   /* mixed */
    expect_none("hw 00:1A:2B:3C:4D");                      /* five */
    expect_no("mac_address", "hw 00:1A:2B:3C:4D:5E:6F");   /* seven */
    expect_none("uuid 123e4567-e89b-12d3-a456-426614174000");
    /* Cisco's dotted form; a number in that shape is not one */
    expect_one("mac_address", "mac cedf.4ed7.9a7c on Gi0/1", "cedf.4ed7.9a7c");
    expect_one("mac_address", "0000.0C07.AC01.", "0000.0C07.AC01");
    expect_one("mac_address", "MAC address 6287.1054.8043.", "6287.1054.8043");
    /* "événement" holds no excluding word "v" */
    expect_one("mac_address", "événement. hw=ee01.35db.091f Époque", "ee01.35db.091f");
    expect_none("build 2024.1103.0001 and 1234.5678.90123");
    expect_none("cedf.4ed7.9a7c.1234 and cedf.4ed7");
}

static void test_uk_nino(void **state)
{
    (void)state;
    expect_one("uk_nino", "NI AB 12 34 56 C", "AB 12 34 56 C");
    expect_one("uk_nino", "NI: AB123456C.", "AB123456C");
    expect_one("uk_nino", "ni JG103759A", "JG103759A");
    expect_none("ni QQ123456C");        /* Q never first */
    expect_none("ni AD123456A");        /* D never second */
    expect_none("ni BG123456A");        /* BG unallocated */
    expect_none("ni AB123456E");        /* suffix A-D only */
    expect_none("ni AB1234567C");
}

static void test_date_of_birth(void **state)
{
    (void)state;
    expect_one("date_of_birth", "She was born on 12 March 1985.", "12 March 1985");
    expect_one("date_of_birth", "Date of birth: 1985-03-12", "1985-03-12");
    expect_one("date_of_birth", "DOB 03/12/1985", "03/12/1985");
    expect_one("date_of_birth", "birthday: March 12th, 1985", "March 12th, 1985");
    expect_one("date_of_birth", "d.o.b. 12.03.85", "12.03.85");
    expect_one("date_of_birth", "Geburtsdatum: 15.07.1976", "15.07.1976");
    expect_one("date_of_birth", "Fecha de nacimiento 22/02/1961", "22/02/1961");
    expect_one("date_of_birth", "née le 03/09/1981", "03/09/1981");
    /* a date without birth context, a year alone, an impossible date */
    expect_none("the meeting on 2024-05-01 and 12 March 1985");
    expect_none("born in 1985");
    expect_none("born 1985-02-30");
    /* context must be a word: "adobe" is not "dob" */
    expect_none("adobe 03/12/1985");
    /* context too far before */
    expect_none("born, and after a very long digression, well over thirty "
                "bytes: 1985-03-12");
}

static void test_bitcoin(void **state)
{
    (void)state;
    expect_one("bitcoin_base58", "send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa!",
               "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    expect_one("bitcoin_base58", "p2sh 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
               "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy");
    expect_none("send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb");   /* checksum */
    expect_one("bitcoin_bech32", "to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.",
               "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    expect_one("bitcoin_bech32",
               "taproot bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
               "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
    expect_none("to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5");  /* checksum */
}

/* ---- Presidio's pattern entities -------------------------------------------
 * Each: a real-format value where it is found, the same with a wrong check
 * digit or out of its ranges, and the weak ones without their context. */

static void test_us_ids(void **state)
{
    (void)state;
    expect_one("us_itin", "ITIN 912-70-1234 filed", "912-70-1234");
    expect_one("us_itin", "taxpayer no. 987 94 3210.", "987 94 3210");
    expect_one("us_itin_context", "ITIN: 912701234", "912701234");
    expect_none("id 912-45-1234 and 912-93-1234");     /* groups 45, 93 */
    expect_none("order 912701234 shipped");            /* no context */
    expect_none("ITIN 912-70 1234");                   /* mixed separators */

    expect_one("us_passport", "Passport No: 912345678", "912345678");
    expect_one("us_passport", "passport number A12345678.", "A12345678");
    expect_none("invoice 912345678 and A12345678");
    expect_none("passport 12345678 and passport AB1234567");

    expect_one("us_driver_license", "Driver's License: D1234567", "D1234567");
    expect_one("us_driver_license", "DL# 123456789 (NY)", "123456789");
    expect_one("us_driver_license", "driving licence number S123-456-78-901",
               "S123-456-78-901");
    expect_one("us_driver_license", "Driver license: L945-664-63-9235.",
               "L945-664-63-9235");
    expect_one("us_driver_license", "WA driver's license RQKDISA8MQHY",
               "RQKDISA8MQHY");
    expect_one("us_driver_license", "DL *ERQFKV9B4GU", "*ERQFKV9B4GU");
    expect_one("us_driver_license", "Licence: N710-092-93-1289", "N710-092-93-1289");
    expect_none("part D1234567 and 123456789");

    expect_one("us_bank_number", "Bank account: 000123456789", "000123456789");
    expect_one("us_bank_number", "checking acct 9876543210", "9876543210");
    expect_none("shipment 000123456789 and 9876543210");
    expect_none("account number 1234567");             /* 7 digits */

    expect_one("aba_routing", "routing number 021000021", "021000021");
    expect_one("aba_routing", "ABA 0110-0001-5", "0110-0001-5");
    /* also 9 digits after an account word: the checked routing number wins */
    expect_one("aba_routing", "account and routing 021000021", "021000021");
    expect_none("routing number 021000022");           /* check digit */
    expect_none("routing 991000021");                  /* prefix 99 */
    expect_none("ref 021000021");                      /* no context */

    expect_one("medical_license", "DEA AB1234563 on file", "AB1234563");
    expect_one("medical_license", "prescriber FM9876547", "FM9876547");
    expect_none("DEA AB1234564 and ZB1234563");        /* check, type */
}

static void test_uk_ids(void **state)
{
    (void)state;
    /* also a NANP-shaped number: the NHS number's severity wins */
    expect_one("uk_nhs", "NHS number 943 476 5919", "943 476 5919");
    expect_one("uk_nhs", "NHS: 9434765919.", "9434765919");
    expect_one("uk_nhs", "nhs no 943-476-5919", "943-476-5919");
    expect_none("NHS number 9434765918");              /* check digit */
    expect_no("uk_nhs", "NHS 943 476-5919");              /* mixed */
    expect_none("ref 9434765919");                     /* no context */
}

static void test_eu_ids(void **state)
{
    (void)state;
    expect_one("es_nif", "DNI 12345678Z.", "12345678Z");
    expect_one("es_nif", "su NIF es 12345678-Z", "12345678-Z");
    expect_one("es_nif", "12345678Z", "12345678Z");
    expect_none("DNI 12345678A");                      /* control letter */
    expect_one("es_nie", "NIE X1234567L", "X1234567L");
    expect_one("es_nie", "Y1234567X y nada", "Y1234567X");
    expect_none("NIE X1234567A and W1234567L");

    expect_one("it_fiscal_code", "CF RSSMRA85T10A562S", "RSSMRA85T10A562S");
    expect_one("it_fiscal_code", "codice fiscale: RSSMRA85T10A562S.", "RSSMRA85T10A562S");
    expect_none("CF RSSMRA85T10A562T");                /* check letter */
    expect_none("CF RSSMRA85Z10A562S");                /* month Z */
    expect_none("ABCDEF12G34H567I and RSSMRA85T10A562SX");

    expect_one("it_vat_code", "P.IVA 07643520567", "07643520567");
    expect_one("it_vat_code", "VAT number IT07643520567", "IT07643520567");
    expect_none("P.IVA 07643520568");
    expect_none("ref 07643520567");

    expect_one("pl_pesel", "PESEL 44051401359", "44051401359");
    expect_one("pl_pesel", "numer 02070803628.", "02070803628");
    expect_none("PESEL 44051401358");                  /* check digit */
    expect_none("PESEL 44151401357");                  /* month 15 */

    expect_one("fi_personal_id", "hetu 131052-308T", "131052-308T");
    expect_one("fi_personal_id", "131052A308T.", "131052A308T");
    expect_none("131052-308U and 131052Q308T and 321052-308T");

    expect_one("de_tax_id", "Steuer-ID 86095742719", "86095742719");
    expect_one("de_tax_id", "IdNr: 86 095 742 719", "86 095 742 719");
    expect_one("de_tax_id", "tax id 65929970489", "65929970489");
    expect_none("Steuer-ID 86095742718");              /* check digit */
    expect_none("Steuer-ID 12345678903");              /* no digit twice */
    expect_none("Steuer-ID 11111111119");
    expect_none("ref 86095742719");
}

static void test_apac_ids(void **state)
{
    (void)state;
    expect_one("au_abn", "ABN 51 824 753 556", "51 824 753 556");
    expect_one("au_abn", "51824753556", "51824753556");
    expect_none("ABN 51 824 753 557");
    expect_one("au_acn", "ACN 004 085 616", "004 085 616");
    expect_none("ACN 004 085 617");
    expect_none("004085616");
    expect_one("au_tfn", "TFN: 123 456 782", "123 456 782");
    expect_none("TFN 123 456 789");
    expect_none("123456782");
    expect_one("au_medicare", "Medicare card 2123 45670 1", "2123 45670 1");
    expect_one("au_medicare", "medicare 2123456701", "2123456701");
    expect_none("medicare 2123456711 and 7123456701");

    expect_one("in_aadhaar", "Aadhaar 2341 2341 2346", "2341 2341 2346");
    expect_one("in_aadhaar", "2341-2341-2346.", "2341-2341-2346");
    expect_one("in_aadhaar_context", "aadhaar: 234123412346", "234123412346");
    expect_none("Aadhaar 2341 2341 2347");             /* Verhoeff */
    expect_none("Aadhaar 1341 2341 2346");
    expect_none("234123412346");
    expect_one("in_pan", "PAN ABCPD1234E", "ABCPD1234E");
    expect_none("PAN ABCXD1234E and ABCPD12345");      /* holder type X */

    expect_one("sg_nric", "NRIC S1234567D", "S1234567D");
    expect_one("sg_nric", "FIN G1234567X.", "G1234567X");
    expect_none("NRIC S1234567A and A1234567D");

    expect_one("kr_rrn", "RRN 800101-1234560", "800101-1234560");
    expect_none("800101-1234561 and 801301-1234560 and 800101-9234560");

    expect_one("th_tnin", "Thai ID 1101700203042", "1101700203042");
    expect_one("th_tnin", "TNIN 1-1017-00203-04-2", "1-1017-00203-04-2");
    expect_none("Thai ID 1101700203043");
    expect_none("ref 1101700203042");
}

/* ---- scores and context ------------------------------------------------------ */

static void expect_score(const char *text, const char *id, float score,
                         const char *context)
{
    const sl_findings *f = scan(text);
    size_t r = rule_index(id);
    const char *w;

    if (f->count != 1 || f->items[0].rule != r) {
        fprintf(stderr, "expected one %s on [%s], got %zu\n", id, text, f->count);
        fail();
    }
    w = sl_rules_context_word(rules, r, f->items[0].context);
    if (f->items[0].score < score - 0.001f || f->items[0].score > score + 0.001f ||
        (context ? !w || strcmp(w, context) != 0 : w != NULL)) {
        fprintf(stderr, "on [%s]: score %.3f context %s, expected %.3f %s\n",
                text, (double)f->items[0].score, w ? w : "-", (double)score,
                context ? context : "-");
        fail();
    }
}

static void test_scores(void **state)
{
    (void)state;
    /* a base score, raised by a context word within the window (capped) */
    expect_score("(415) 555-2671", "phone_nanp", 0.7f, NULL);
    expect_score("Call (415) 555-2671", "phone_nanp", 1.0f, "call");
    expect_score("fax: 415.555.2671", "phone_nanp", 1.0f, "fax");
    /* a context word too far before does not count */
    expect_score("call me maybe, or write a letter, or a postcard, or just "
                 "wait: (415) 555-2671", "phone_nanp", 0.7f, NULL);
    /* under the threshold without context: no finding; with it, 0.35 +
     * 0.35 */
    expect_score("mobile 4155552671", "phone_nanp_context", 0.7f, "mobile");
    /* the nearest word names the context */
    expect_score("Phone number: 4155552671", "phone_nanp_context", 0.7f,
                 "phone number");
    expect_score("call my mobile 4155552671", "phone_nanp_context", 0.7f,
                 "mobile");
    expect_score("Tel. 02 98 93 17 09", "phone_national", 0.65f, "tel");
    expect_score("4111 1111 1111 1111", "credit_card", 1.0f, NULL);
    expect_score("SSN: 123456789", "us_ssn_context", 0.65f, "ssn");
    expect_score("DEA AB1234563", "medical_license", 0.95f, "dea");
    expect_score("AB1234563", "medical_license", 0.6f, NULL);
}

/* ---- secret rules ----------------------------------------------------------- */

static void test_secrets(void **state)
{
    (void)state;
    expect_one("aws_access_key_id", "key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE");
    expect_one("aws_access_key_id", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A");
    expect_none("AKIAIOSFODNN7EXAMPL and XAKIAIOSFODNN7EXAMPLE and AKIA");

    expect_one("github_token", "GH=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789;",
               "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");
    expect_one("github_token",
               "github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijABCDEFGHIJ"
               "0123456789abcdefghijABCDEFGHI",
               "github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijABCDEFGHIJ"
               "0123456789abcdefghijABCDEFGHI");
    expect_none("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678 and ghx_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");

    expect_one("slack_token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
               "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx");
    expect_none("xoxz-123456789012-1234567890123 and xoxb-1234");
    expect_one("slack_webhook",
               "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
               "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX");

    expect_one("stripe_secret_key", "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
               "sk_live_4eC39HqLyjWDarjtT1zdp7dc");
    expect_one("stripe_secret_key", "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
               "rk_live_4eC39HqLyjWDarjtT1zdp7dc");
    expect_one("stripe_publishable_key", "pk_live_4eC39HqLyjWDarjtT1zdp7dc",
               "pk_live_4eC39HqLyjWDarjtT1zdp7dc");
    expect_none("sk_test_4eC39HqLyjWDarjtT1zdp7dc and sk_live_short");

    expect_one("google_api_key", "key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&x",
               "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI");
    expect_none("AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsH and AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHIx");

    expect_one("jwt",
               "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
               "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
               "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c.",
               "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
               "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
               "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    /* header {"typ":"JWT"}: three parts, no "alg" */
    expect_none("Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl");

    expect_one("pem_private_key",
               "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
               "-----END RSA PRIVATE KEY-----\ny",
               "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
               "-----END RSA PRIVATE KEY-----");
    expect_one("pem_private_key",
               "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
               "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n");
    expect_none("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
                "-----END PUBLIC KEY-----");

    expect_one("generic_secret", "db_password = \"x7Gq9!pL2#vR8zK4mW\"\n",
               "x7Gq9!pL2#vR8zK4mW");
    expect_one("generic_secret", "{\"client_secret\": \"8f2a9c1e7b3d4f6a0c5eZQ\"}",
               "8f2a9c1e7b3d4f6a0c5eZQ");
    expect_one("generic_secret", "API_KEY: Zx81bQ0pL7mW3kR9tY2v", "Zx81bQ0pL7mW3kR9tY2v");
    /* the longest key the pattern allows before its operator */
    expect_one("generic_secret",
               "{\"client_secret_production_env\"    : \"Zx81bQ0pL7mW3kR9tY2v\"}",
               "Zx81bQ0pL7mW3kR9tY2v");
    expect_one("generic_secret",
               "credentials.abcdefghijklmnopqrst.abcdefghij\t= Zx81bQ0pL7mW3kR9tY2v",
               "Zx81bQ0pL7mW3kR9tY2v");
    expect_none("password: hunter2");
    expect_none("password = \"aaaaaaaaaaaaaaaaaaaa\"");     /* low entropy */
    expect_none("token = ${API_TOKEN} and token: <your-token-here>");
    expect_none("The secret: nobody knows it");
    expect_none("mypassword=Zx81bQ0pL7mW3kR9tY2v");         /* not a key word */
}

/* ---- near-misses ---------------------------------------------------------- */

static void test_near_misses(void **state)
{
    (void)state;
    expect_none("Order #4829105732 shipped; order number 100234567 and PO-2024-000123.");
    expect_none("ISBN 978-0-306-40615-7, ISBN-10 0-306-40615-2, ISBN 9780306406157.");
    expect_none("Logged at 2024-05-01 12:30:45, 2024-05-01T12:30:45Z and "
                "2024-05-01T12:30:45.123+02:00.");
    expect_none("epoch 1714566645 s, 1714566645000 ms, 1714566645000000 us");
    expect_none("upgrade to version 2.4.1, v10.0.3, release 1.2.3.4, build 5.6.7.8");
    expect_none("request 123e4567-e89b-12d3-a456-426614174000 and "
                "550E8400-E29B-41D4-A716-446655440000");
    expect_none("commit e83c5163316f89bfbde7d9ab23ca2e25604af290 (e83c516)");
    expect_none("Prices: $1,234.56, 3.5%, 12:30, page 12, 10-20 km, (555) and 2024.");
    expect_none("The quick brown fox jumps over the lazy dog. Keys, tokens, "
                "passwords and secrets are words too: key = value.");
    expect_none("");
}

/* ---- overlaps, ordering, redaction ------------------------------------------ */

static void test_overlaps(void **state)
{
    const sl_findings *f;

    (void)state;
    /* an AWS key assigned to api_key: the specific high-severity rule wins
     * over the generic entropy one on the same bytes */
    expect_one("aws_access_key_id", "api_key=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE");
    /* a JWT assigned to a token variable */
    f = scan("token = eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.");
    assert_int_equal(f->count, 1);
    assert_int_equal(f->items[0].rule, rule_index("jwt"));
    /* a card number that also reads as an E.164 number: the card wins */
    f = scan("+4222222222222");
    assert_int_equal(f->count, 1);
    assert_int_equal(f->items[0].rule, rule_index("credit_card"));
    assert_int_equal(f->items[0].offset, 1);
    /* the same phone as E.164 and NANP: the longer E.164 span wins */
    expect_one("phone_e164", "call +1 415-555-2671", "+1 415-555-2671");
    /* nine digits that two context rules read differently: the nearer
     * context word decides (the SSN before, the account number here) */
    f = scan("SSN: 364775495 Acct. no. 796284572 ok");
    assert_int_equal(f->count, 2);
    assert_int_equal(f->items[0].rule, rule_index("us_ssn_context"));
    assert_int_equal(f->items[1].rule, rule_index("us_bank_number"));
    assert_int_equal(f->items[1].offset, 25);
    f = scan("passport# 568674654 bank account no. 729171374");
    assert_int_equal(f->count, 2);
    assert_int_equal(f->items[1].rule, rule_index("us_bank_number"));
    f = scan("bank account no. 729171374, passport# 282909208");
    assert_int_equal(f->count, 2);
    assert_int_equal(f->items[0].rule, rule_index("us_bank_number"));
    assert_int_equal(f->items[1].rule, rule_index("us_passport"));
    /* several entities in one text: sorted, disjoint, each once */
    f = scan("a@b.io 4111111111111111 10.0.0.1 AKIAIOSFODNN7EXAMPLE a@b.io");
    assert_int_equal(f->count, 5);
    assert_int_equal(f->items[0].rule, rule_index("email"));
    assert_int_equal(f->items[1].rule, rule_index("credit_card"));
    assert_int_equal(f->items[2].rule, rule_index("ipv4"));
    assert_int_equal(f->items[3].rule, rule_index("aws_access_key_id"));
    assert_int_equal(f->items[4].rule, rule_index("email"));
    assert_int_equal(f->items[4].offset, 54);
}

static void test_redact(void **state)
{
    static const char text[] =
        "Mail jane@example.com or call (415) 555-2671; card 4111 1111 1111 1111.\n"
        "db_password = \"x7Gq9!pL2#vR8zK4mW\"\n";
    static const char want[] =
        "Mail [REDACTED:EMAIL] or call [REDACTED:PHONE]; card [REDACTED:CREDIT_CARD].\n"
        "db_password = \"[REDACTED:SECRET]\"\n";
    sl_buf out;
    sl_findings bad;
    const sl_findings *f;

    (void)state;
    sl_buf_init(&out, 4096);
    f = scan(text);
    assert_int_equal(f->count, 4);
    assert_int_equal(sl_redact((const uint8_t *)text, strlen(text), f, rules, &out), SL_OK);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);

    /* entities at both ends, UTF-8 around them kept byte for byte */
    f = scan("AKIAIOSFODNN7EXAMPLE → ünïcode ← 10.0.0.1");
    assert_int_equal(sl_redact((const uint8_t *)"AKIAIOSFODNN7EXAMPLE → ünïcode ← 10.0.0.1",
                               strlen("AKIAIOSFODNN7EXAMPLE → ünïcode ← 10.0.0.1"),
                               f, rules, &out), SL_OK);
    assert_int_equal(out.len, strlen("[REDACTED:AWS_ACCESS_KEY] → ünïcode ← [REDACTED:IP_ADDRESS]"));
    assert_memory_equal(out.data, "[REDACTED:AWS_ACCESS_KEY] → ünïcode ← [REDACTED:IP_ADDRESS]",
                        out.len);

    /* nothing found: a copy; and the buffer is reset first */
    f = scan("nothing here");
    assert_int_equal(sl_redact((const uint8_t *)"nothing here", 12, f, rules, &out), SL_OK);
    assert_int_equal(out.len, 12);
    assert_memory_equal(out.data, "nothing here", 12);

    /* findings that overlap, run past the text or name no rule: refused */
    sl_findings_init(&bad, 8);
    bad.items = calloc(2, sizeof(sl_finding));
    assert_non_null(bad.items);
    bad.cap = 2;
    bad.count = 2;
    bad.items[0] = (sl_finding){ 0, SL_VALIDATION_NA, 0, 5 };
    bad.items[1] = (sl_finding){ 0, SL_VALIDATION_NA, 3, 2 };
    assert_int_equal(sl_redact((const uint8_t *)"0123456789", 10, &bad, rules, &out),
                     SL_EINVAL);
    bad.count = 1;
    bad.items[0] = (sl_finding){ 0, SL_VALIDATION_NA, 8, 5 };
    assert_int_equal(sl_redact((const uint8_t *)"0123456789", 10, &bad, rules, &out),
                     SL_EINVAL);
    bad.items[0] = (sl_finding){ 999, SL_VALIDATION_NA, 0, 1 };
    assert_int_equal(sl_redact((const uint8_t *)"0123456789", 10, &bad, rules, &out),
                     SL_EINVAL);
    sl_findings_free(&bad);

    /* the output cap */
    sl_buf_free(&out);
    sl_buf_init(&out, 16);
    f = scan("mail jane@example.com");
    assert_int_equal(sl_redact((const uint8_t *)"mail jane@example.com", 21, f, rules, &out),
                     SL_ETOOBIG);
    sl_buf_free(&out);
}

/* ---- limits, stats, chunking ------------------------------------------------ */

static void test_findings_cap(void **state)
{
    sl_findings small;
    sl_scan_stats st;

    (void)state;
    sl_findings_init(&small, 2);
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)"a@b.io c@d.io", 13, &small), SL_OK);
    assert_int_equal(small.count, 2);
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)"a@b.io c@d.io e@f.io", 20, &small),
                     SL_ETOOBIG);
    assert_int_equal(small.count, 0);
    /* the scanner is fine afterwards */
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)"a@b.io", 6, &small), SL_OK);
    assert_int_equal(small.count, 1);
    sl_findings_free(&small);
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)"", 0, &fd), SL_OK);
    assert_int_equal(fd.count, 0);

    sl_scanner_stats(sc, &st);
    assert_true(st.scans > 0 && st.bytes > 0 && st.matcher_calls > 0);
    assert_true(st.start_positions <= st.bytes * sl_rules_count(rules));
}

/* Entities straddling the 64 KiB chunk boundary, and a rule (email) whose
 * anchor lies 64 bytes after the match start. */
static void test_chunk_boundaries(void **state)
{
    static const char *const items[] = {
        "jane.doe.with.a.rather.long.local.part@example.com",
        "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
        "born 12 March 1985", "SSN 123456789", "AKIAIOSFODNN7EXAMPLE",
        "2001:db8::8a2e:370:7334", "00:1A:2B:3C:4D:5E", "10.0.0.1",
    };
    const size_t n = 3 * 65536 + 100;
    char *text = malloc(n + 1);

    (void)state;
    assert_non_null(text);
    for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++) {
        size_t len = strlen(items[k]);

        for (size_t shift = 0; shift <= len + 1; shift += 3) {
            const sl_findings *f;
            size_t at = 65536 - len + shift;

            memset(text, ' ', n);
            memcpy(text + at, items[k], len);
            memcpy(text + 2 * 65536 - 2, items[k], len);
            text[n] = '\0';
            f = scan_n(text, n);
            assert_int_equal(f->count, 2);
        }
    }
    free(text);
}

/* ---- prefilter soundness: random texts ------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void test_prefilter_random(void **state)
{
    static const char *const pieces[] = {
        "jane@example.com", "+44 20 7946 0958", "(415) 555-2671", "415.555.2671",
        "123-45-6789", "SSN: 123456789", "4111 1111 1111 1111", "378282246310005",
        "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "10.0.0.1",
        "1.2.3.4", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.128",
        "00:1A:2B:3C:4D:5E", "AB 12 34 56 C", "born on 12 March 1985",
        "DOB 03/12/1985", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "AKIAIOSFODNN7EXAMPLE",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "xoxb-123456789012-1234567890123-AbCd", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
        "password = \"x7Gq9!pL2#vR8zK4mW\"", "api_key: Zx81bQ0pL7mW3kR9tY2v",
        "\"client_secret_production_env\"    : \"Zx81bQ0pL7mW3kR9tY2v\"",
        "1 (415) 555-2671",
        "credentials.abcdefghijklmnopqrst.abcdefghij\t= Zx81bQ0pL7mW3kR9tY2v",
        "2024-05-01 12:30:45", "1714566645000", "version 1.2.3.4",
        "123e4567-e89b-12d3-a456-426614174000",
        "e83c5163316f89bfbde7d9ab23ca2e25604af290", "ISBN 978-0-306-40615-7",
        "https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX",
        "call 4155552671", "001 (415) 555-2671 ext. 12", "+1-415-555-2671 x9",
        "ITIN 912-70-1234", "passport A12345678", "DL# 123456789",
        "bank account 000123456789", "routing 021000021", "NHS 943 476 5919",
        "DEA AB1234563", "12345678-Z", "X1234567L", "RSSMRA85T10A562S",
        "P.IVA 07643520567", "44051401359", "131052-308T",
        "Steuer-ID 86 095 742 719", "51 824 753 556", "ACN 004 085 616",
        "TFN 123 456 782", "medicare 2123 45670 1", "2341 2341 2346",
        "aadhaar 234123412346", "ABCPD1234E", "S1234567D", "800101-1234560",
        "Thai ID 1-1017-00203-04-2", "6759649826438453", "213112345678904",
        "3056 930902 5904", "4111 1111 1111 1111 110",
    };
    static const char alphabet[] =
        "0123456789012345678901234567890123456789 .-:/@+()=_\"'\n,"
        "abcdefABCDEFxyzKJSBGbcIAkpwsnrt";
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    char *buf = malloc(300000);

    (void)state;
    assert_non_null(buf);
    /* many short texts of noise and pieces glued with little separation */
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, target = 1 + rnd(400);

        while (len < target) {
            if (rnd(4) == 0) {
                const char *p = pieces[rnd((unsigned)npieces)];
                size_t pl = strlen(p), cut = rnd(3) == 0 ? rnd((unsigned)pl) : 0;

                memcpy(buf + len, p + cut, pl - cut);
                len += pl - cut;
            } else {
                size_t k = 1 + rnd(12);

                for (size_t j = 0; j < k; j++)
                    buf[len++] = alphabet[rnd(sizeof(alphabet) - 1)];
            }
        }
        scan_n(buf, len);
    }
    /* one long text across several chunks */
    {
        size_t len = 0;

        while (len < 290000) {
            const char *p = pieces[rnd((unsigned)npieces)];
            size_t pl = strlen(p), gap = rnd(40);

            memcpy(buf + len, p, pl);
            len += pl;
            for (size_t j = 0; j < gap; j++)
                buf[len++] = rnd(3) ? ' ' : alphabet[rnd(sizeof(alphabet) - 1)];
        }
        assert_true(scan_n(buf, len)->count > 1000);
    }
    free(buf);
}

/* ---- custom rule files ------------------------------------------------------ */

static int load(const char *json, sl_rules **out, sl_err *err)
{
    return sl_rules_load(out, json, strlen(json), err);
}

#define RULE(extra) \
    "{\"version\":\"t1\",\"rules\":[{\"id\":\"r1\",\"entity\":\"thing\"," \
    "\"kind\":\"pii\",\"action\":\"flag\",\"severity\":\"low\"" extra "}]}"

static void expect_load_error(const char *json, const char *needle1,
                              const char *needle2)
{
    sl_rules *r = (sl_rules *)1;
    sl_err err = { "" };

    assert_int_equal(load(json, &r, &err), SL_EINVAL);
    assert_null(r);
    if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2))) {
        fprintf(stderr, "error \"%s\" lacks \"%s\" / \"%s\"\n", err.msg, needle1,
                needle2 ? needle2 : "");
        fail();
    }
}

static void test_bad_rule_files(void **state)
{
    (void)state;
    expect_load_error("{\"version\": \"1\", \"rules\": [", "invalid JSON", "line 1");
    expect_load_error("[]", "top level must be an object", NULL);
    expect_load_error("{\"rules\":[]}", "version", NULL);
    expect_load_error("{\"version\":\"1\",\"rules\":[]}", "\"rules\" must be", NULL);
    expect_load_error("{\"version\":\"1\",\"rules\":[],\"extra\":1}", "unknown key \"extra\"", NULL);
    /* PCRE2 errors name the rule and the offset in the author's pattern,
     * with or without the callout wrapper a validator adds */
    expect_load_error(RULE(",\"pattern\":\"abc(def\""), "rule 'r1'",
                      "pattern error at offset 7: missing closing parenthesis");
    expect_load_error(RULE(",\"pattern\":\"ab[c\",\"validator\":\"luhn\""), "rule 'r1'",
                      "pattern error at offset 4");
    expect_load_error(RULE(",\"pattern\":\"a{3,1}\""), "rule 'r1': pattern error at offset", NULL);
    expect_load_error(RULE(",\"pattern\":\"(*UTF)abc\""), "rule 'r1'", "not allowed");
    expect_load_error(RULE(",\"pattern\":\"a*\""), "rule 'r1'", "empty string");
    expect_load_error(RULE(",\"pattern\":\"\\\\d+\",\"validator\":\"nope\""), "rule 'r1'",
                      "unknown validator 'nope'");
    expect_load_error(RULE(",\"pattern\":\"\\\\d+\",\"validator\":\"entropy\""), "rule 'r1'",
                      "min_entropy");
    expect_load_error(RULE(",\"pattern\":\"\\\\d+\",\"min_entropy\":3"), "rule 'r1'",
                      "min_entropy");
    expect_load_error(RULE(",\"pattern\":\"\\\\d+\",\"validtor\":\"luhn\""), "rule 'r1'",
                      "unknown key \"validtor\"");
    expect_load_error("{\"version\":\"1\",\"rules\":[{\"id\":\"r1\",\"entity\":\"x\","
                      "\"kind\":\"pii\",\"action\":\"nuke\",\"severity\":\"low\","
                      "\"pattern\":\"x\"}]}", "rule 'r1'", "\"action\"");
    expect_load_error("{\"version\":\"1\",\"rules\":[{\"id\":\"r1\",\"entity\":\"x\","
                      "\"kind\":\"pii\",\"action\":\"flag\",\"severity\":\"dire\","
                      "\"pattern\":\"x\"}]}", "rule 'r1'", "\"severity\"");
    expect_load_error("{\"version\":\"1\",\"rules\":[{\"id\":\"r1\",\"entity\":\"x\","
                      "\"kind\":\"pii\",\"action\":\"flag\",\"severity\":\"low\","
                      "\"pattern\":\"x\"},{\"id\":\"r1\",\"entity\":\"x\","
                      "\"kind\":\"pii\",\"action\":\"flag\",\"severity\":\"low\","
                      "\"pattern\":\"y\"}]}", "rule 'r1'", "duplicate id");
    expect_load_error("{\"version\":\"1\",\"rules\":[{\"id\":\"Bad Id\"}]}", "rule #1", "\"id\"");
    expect_load_error(RULE(",\"pattern\":\"x\",\"prefilter\":[{\"class\":\"0-9\","
                           "\"count\":5,\"span\":3}]"), "rule 'r1'", "span");
    expect_load_error(RULE(",\"pattern\":\"x\",\"prefilter\":[{\"sequence\":\"[a-\"}]"),
                      "rule 'r1'", "sequence");
    expect_load_error(RULE(",\"pattern\":\"x\",\"prefilter\":[{\"context\":true}]"),
                      "rule 'r1'", "context");
    expect_load_error(RULE(",\"pattern\":\"x\",\"prefilter\":[{\"what\":1}]"),
                      "rule 'r1'", "needs");
    expect_load_error(RULE(",\"pattern\":\"x\",\"context\":{\"words\":[]}"),
                      "rule 'r1'", "words");
}

/* A hand-made rule file: no prefilter, a "value" group, context and
 * excluding context, a sequence anchor with before / after, an icase
 * literal anchor. */
static void test_custom_rules(void **state)
{
    static const char json[] =
        "{\"version\":\"custom-7\",\"rules\":["
        " {\"id\":\"order\",\"entity\":\"order_ref\",\"kind\":\"pii\",\"action\":\"redact\","
        "  \"severity\":\"medium\",\"pattern\":\"ORD-(?<value>\\\\d{6})\\\\b\"},"
        " {\"id\":\"badge\",\"entity\":\"badge\",\"kind\":\"pii\",\"action\":\"flag\","
        "  \"severity\":\"low\",\"pattern\":\"\\\\b[A-Z]\\\\d{5}\\\\b\","
        "  \"context\":{\"words\":[\"badge\",\"staff id\"],\"window\":12},"
        "  \"exclude_context\":{\"words\":[\"test\"],\"window\":30},"
        "  \"prefilter\":[{\"sequence\":\"[A-Z]\\\\d{5}\"}]},"
        " {\"id\":\"zip\",\"entity\":\"zip\",\"kind\":\"pii\",\"action\":\"allow\","
        "  \"severity\":\"low\",\"pattern\":\"(?i)zip:?\\\\s*\\\\d{5}\","
        "  \"prefilter\":[{\"literals\":[\"ZIP\"],\"icase\":true}]}"
        "]}";
    sl_rules *r;
    sl_scanner *s, *e;
    sl_findings f, g;
    sl_err err;
    sl_buf out;
    static const char *const texts[] = {
        "ref ORD-123456 and ORD-1234567",
        "badge Q12345, staff id: B54321; Z99999 alone; test badge C11111",
        "Zip: 12345 and zIP 54321, zip:99999",
    };
    const size_t want[] = { 1, 2, 3 };

    (void)state;
    assert_int_equal(load(json, &r, &err), SL_OK);
    assert_string_equal(sl_rules_version(r), "custom-7");
    assert_int_equal(sl_rules_count(r), 3);
    assert_int_equal(sl_rules_action(r, 2), SL_ACTION_ALLOW);
    s = sl_scanner_new(r);
    e = sl_scanner_new(r);
    assert_non_null(s);
    assert_non_null(e);
    sl_scanner_set_flags(e, SL_SCAN_EXHAUSTIVE);
    sl_findings_init(&f, 100);
    sl_findings_init(&g, 100);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sl_scan_text(s, (const uint8_t *)texts[i], strlen(texts[i]), &f), SL_OK);
        assert_int_equal(sl_scan_text(e, (const uint8_t *)texts[i], strlen(texts[i]), &g), SL_OK);
        assert_int_equal(f.count, want[i]);
        assert_int_equal(g.count, f.count);
        assert_memory_equal(f.items, g.items, f.count * sizeof(sl_finding));
    }
    /* the value group narrows the finding to the digits */
    sl_scan_text(s, (const uint8_t *)texts[0], strlen(texts[0]), &f);
    assert_int_equal(f.items[0].offset, 8);
    assert_int_equal(f.items[0].length, 6);
    sl_buf_init(&out, 1024);
    assert_int_equal(sl_redact((const uint8_t *)texts[0], strlen(texts[0]), &f, r, &out), SL_OK);
    assert_memory_equal(out.data, "ref ORD-[REDACTED:ORDER_REF] and ORD-1234567", out.len);
    /* context required and excluded */
    sl_scan_text(s, (const uint8_t *)texts[1], strlen(texts[1]), &f);
    assert_int_equal(f.items[0].offset, 6);
    assert_int_equal(f.items[1].offset, strstr(texts[1], "B54321") - texts[1]);
    sl_buf_free(&out);
    sl_findings_free(&f);
    sl_findings_free(&g);
    sl_scanner_destroy(s);
    sl_scanner_destroy(e);
    sl_rules_destroy(r);
    sl_rules_destroy(NULL);
    sl_scanner_destroy(NULL);
}

/* Scores in a hand-made rule file: defaults, boost, the threshold, and the
 * load-time checks that keep a prefilter's claim true. */
static void test_custom_scores(void **state)
{
    static const char json[] =
        "{\"version\":\"s1\",\"rules\":["
        " {\"id\":\"emp\",\"entity\":\"employee_id\",\"kind\":\"pii\",\"action\":\"flag\","
        "  \"severity\":\"low\",\"pattern\":\"\\\\bE\\\\d{6}\\\\b\",\"score\":0.2,"
        "  \"threshold\":0.55,\"context\":{\"words\":[\"employee\",\"staff\"],"
        "  \"window\":8,\"boost\":0.4},\"prefilter\":[{\"context\":true}]},"
        " {\"id\":\"tag\",\"entity\":\"tag\",\"kind\":\"pii\",\"action\":\"flag\","
        "  \"severity\":\"low\",\"pattern\":\"\\\\bT\\\\d{4}\\\\b\","
        "  \"context\":{\"words\":[\"tag\"]}}"
        "]}";
    sl_rules *r;
    sl_scanner *s;
    sl_findings f;
    sl_err err;

    (void)state;
    assert_int_equal(load(json, &r, &err), SL_OK);
    assert_true(sl_rules_score(r, 0) == 0.2f);
    assert_true(sl_rules_threshold(r, 0) == 0.55f);
    /* "context" without "score": 0.3, the context word required */
    assert_true(sl_rules_score(r, 1) == 0.3f);
    assert_true(sl_rules_threshold(r, 1) == 0.5f);
    s = sl_scanner_new(r);
    assert_non_null(s);
    sl_findings_init(&f, 10);
    assert_int_equal(sl_scan_text(s, (const uint8_t *)"staff E123456, E654321 T1234",
                                  28, &f), SL_OK);
    assert_int_equal(f.count, 1);
    assert_int_equal(f.items[0].offset, 6);
    assert_true(f.items[0].score > 0.599f && f.items[0].score < 0.601f);
    assert_string_equal(sl_rules_context_word(r, 0, f.items[0].context), "staff");
    assert_int_equal(sl_scan_text(s, (const uint8_t *)"tag T1234", 9, &f), SL_OK);
    assert_int_equal(f.count, 1);
    assert_true(f.items[0].score > 0.649f && f.items[0].score < 0.651f);
    assert_int_equal(f.items[0].context, 0);
    sl_findings_free(&f);
    sl_scanner_destroy(s);
    sl_rules_destroy(r);

    expect_load_error(RULE(",\"pattern\":\"x\",\"score\":1.5"), "rule 'r1'",
                      "\"score\" and \"threshold\"");
    expect_load_error(RULE(",\"pattern\":\"x\",\"threshold\":\"high\""), "rule 'r1'",
                      "\"score\" and \"threshold\"");
    expect_load_error(RULE(",\"pattern\":\"x\",\"score\":0.4"), "rule 'r1'",
                      "never reaches the threshold");
    expect_load_error(RULE(",\"pattern\":\"x\",\"score\":0.1,\"context\":"
                           "{\"words\":[\"a\"]}"), "rule 'r1'",
                      "never reaches the threshold");
    expect_load_error(RULE(",\"pattern\":\"x\",\"score\":0.9,\"context\":"
                           "{\"words\":[\"a\"]},\"prefilter\":[{\"context\":true}]"),
                      "rule 'r1'", "under the \"threshold\"");
    expect_load_error(RULE(",\"pattern\":\"x\",\"context\":{\"words\":[\"a\"],"
                           "\"boost\":0}"), "rule 'r1'", "\"boost\"");
    expect_load_error(RULE(",\"pattern\":\"x\",\"exclude_context\":{\"words\":[\"a\"],"
                           "\"boost\":0.2}"), "rule 'r1'", "unknown key \"boost\"");
}

/* A pathological pattern hits PCRE2's match limit: the scan completes and
 * says it is incomplete. */
static void test_match_limit(void **state)
{
    sl_rules *r;
    sl_scanner *s;
    sl_findings f;
    sl_err err;
    char text[64];

    (void)state;
    assert_int_equal(load(RULE(",\"pattern\":\"(a+)+[bc]\""), &r, &err), SL_OK);
    s = sl_scanner_new(r);
    assert_non_null(s);
    sl_findings_init(&f, 10);
    memset(text, 'a', sizeof(text));
    assert_int_equal(sl_scan_text(s, (const uint8_t *)text, sizeof(text), &f), SL_OK);
    assert_int_equal(f.count, 0);
    assert_int_equal(f.incomplete, 1);
    assert_int_equal(sl_scan_text(s, (const uint8_t *)"aab", 3, &f), SL_OK);
    assert_int_equal(f.count, 1);
    assert_int_equal(f.incomplete, 0);
    sl_findings_free(&f);
    sl_scanner_destroy(s);
    sl_rules_destroy(r);
}

static void test_load_file(void **state)
{
    sl_rules *r;
    sl_err err;

    (void)state;
    assert_int_equal(sl_rules_load_file(&r, SL_SOURCE_DIR "/schemas/scan-rules.json", &err),
                     SL_OK);
    assert_string_equal(sl_rules_hash(r), sl_rules_hash(rules));
    sl_rules_destroy(r);
    assert_int_equal(sl_rules_load_file(&r, "/nonexistent/rules.json", &err), SL_EIO);
    assert_null(r);
    assert_non_null(strstr(err.msg, "/nonexistent/rules.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_set),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_us_ids),
        cmocka_unit_test(test_uk_ids),
        cmocka_unit_test(test_eu_ids),
        cmocka_unit_test(test_apac_ids),
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_custom_scores),
        cmocka_unit_test(test_ssn),
        cmocka_unit_test(test_credit_card),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_ip),
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_uk_nino),
        cmocka_unit_test(test_date_of_birth),
        cmocka_unit_test(test_bitcoin),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_near_misses),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_findings_cap),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_prefilter_random),
        cmocka_unit_test(test_bad_rule_files),
        cmocka_unit_test(test_custom_rules),
        cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_load_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
