/*
 * test_secrets.c -- the secret rules of schemas/scan-rules.json, one
 * real-format fake per rule (and per form where a rule has several),
 * built at run time by concatenating a provider's prefix with
 * pseudo-random characters of its alphabet (a fixed seed), so no file in
 * the tree holds a string a push-protection scanner would flag.
 *
 * Each fake is embedded in a line the way it leaks (an assignment, a
 * header, a connection string) and must be exactly one finding of its
 * rule, at the right offset and length (the value alone for rules with a
 * "value" group), both with the prefilter and with SL_SCAN_EXHAUSTIVE;
 * each near miss (placeholder, wrong length, wrong marker, low entropy)
 * must be no secret finding at all.  Also the secret_entropy validator
 * (services/scan/entropy.c) on its own.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "entropy.h"
#include "rules.h"
#include "validators.h"

static sl_rules *rules;
static sl_scanner *sc, *ex;          /* prefiltered, exhaustive */
static sl_findings f;
static uint64_t seed = 0x9e3779b97f4a7c15ull;

#define AN     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define UPAN   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define LOWAN  "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALPHA  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define HEX    "0123456789abcdef"
#define DIGITS "0123456789"
#define B64    AN "+/"
#define URL64  AN "_-"

/* A string being built: fixed room, asserted. */
typedef struct sb {
    char s[2048];
    size_t n;
} sb;

static void put(sb *b, const char *s)
{
    size_t n = strlen(s);

    assert_true(b->n + n < sizeof(b->s));
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

/* n characters of alphabet, from the fixed-seed generator. */
static void rnd(sb *b, const char *alphabet, size_t n)
{
    size_t k = strlen(alphabet);

    assert_true(b->n + n < sizeof(b->s));
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        b->s[b->n++] = alphabet[(seed >> 11) % k];
    }
    b->s[b->n] = '\0';
}

static int setup(void **state)
{
    sl_err err;

    (void)state;
    assert_int_equal(sl_rules_load_builtin(&rules, &err), SL_OK);
    sc = sl_scanner_new(rules);
    ex = sl_scanner_new(rules);
    assert_non_null(sc);
    assert_non_null(ex);
    sl_scanner_set_flags(ex, SL_SCAN_EXHAUSTIVE);
    sl_findings_init(&f, SL_FINDINGS_DEFAULT_MAX);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_findings_free(&f);
    sl_scanner_destroy(sc);
    sl_scanner_destroy(ex);
    sl_rules_destroy(rules);
    return 0;
}

/* Scans text with both scanners; they must agree.  Leaves f filled. */
static void scan_both(const char *text)
{
    sl_findings g;
    size_t n = strlen(text);

    sl_findings_init(&g, SL_FINDINGS_DEFAULT_MAX);
    assert_int_equal(sl_scan_text(ex, (const uint8_t *)text, n, &g), SL_OK);
    assert_int_equal(sl_scan_text(sc, (const uint8_t *)text, n, &f), SL_OK);
    if (g.count != f.count)
        fprintf(stderr, "prefiltered and exhaustive scans differ on: %s\n", text);
    assert_int_equal(g.count, f.count);
    for (size_t i = 0; i < f.count; i++) {
        assert_int_equal(g.items[i].rule, f.items[i].rule);
        assert_int_equal(g.items[i].offset, f.items[i].offset);
        assert_int_equal(g.items[i].length, f.items[i].length);
    }
    sl_findings_free(&g);
}

/* before + secret + after is exactly one finding: rule, over secret. */
static void expect(const char *rule, const char *before, const char *secret,
                   const char *after)
{
    sb t = { .n = 0 };

    put(&t, before);
    put(&t, secret);
    put(&t, after);
    scan_both(t.s);
    if (f.count != 1 || strcmp(sl_rules_id(rules, f.items[0].rule), rule) != 0) {
        fprintf(stderr, "want one %s finding in: %s\n", rule, t.s);
        for (size_t i = 0; i < f.count; i++)
            fprintf(stderr, "  got %s at %zu+%zu\n",
                    sl_rules_id(rules, f.items[i].rule), f.items[i].offset,
                    f.items[i].length);
    }
    assert_int_equal(f.count, 1);
    assert_string_equal(sl_rules_id(rules, f.items[0].rule), rule);
    assert_int_equal(sl_rules_kind(rules, f.items[0].rule), SL_RULE_SECRET);
    assert_int_equal(f.items[0].offset, strlen(before));
    assert_int_equal(f.items[0].length, strlen(secret));
}

/* No secret finding in text. */
static void expect_none(const char *text)
{
    scan_both(text);
    for (size_t i = 0; i < f.count; i++) {
        if (sl_rules_kind(rules, f.items[i].rule) == SL_RULE_SECRET)
            fprintf(stderr, "unexpected %s at %zu+%zu in: %s\n",
                    sl_rules_id(rules, f.items[i].rule), f.items[i].offset,
                    f.items[i].length, text);
        assert_int_not_equal(sl_rules_kind(rules, f.items[i].rule), SL_RULE_SECRET);
    }
}

/* ---- cloud ---------------------------------------------------------------- */

static void test_cloud(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "AK"); put(&s, "IA"); rnd(&s, UPAN, 16);
    expect("aws_access_key_id", "aws_access_key_id = ", s.s, "\n");
    s.n = 0; put(&s, "AS"); put(&s, "IA"); rnd(&s, UPAN, 16);
    expect("aws_access_key_id", "temporary: ", s.s, ".");
    s.n = 0; rnd(&s, B64, 40);
    expect("aws_secret_access_key", "aws_secret_access_key = \"", s.s, "\"\n");
    expect("aws_secret_access_key", "AWS_SECRET_KEY: ", s.s, "\n");
    s.n = 0; put(&s, "AI"); put(&s, "za"); rnd(&s, URL64, 35);
    expect("google_api_key", "key=", s.s, "&q=1");
    s.n = 0; put(&s, "GOC"); put(&s, "SPX-"); rnd(&s, URL64, 28);
    expect("google_oauth_client_secret", "\"client_secret\":\"", s.s, "\"");
    s.n = 0; rnd(&s, HEX, 40);
    expect("gcp_service_account_key", "{\"type\": \"service_account\", "
           "\"project_id\": \"demo\", \"private_key_id\": \"", s.s, "\"}");
    s.n = 0; rnd(&s, AN, 3); put(&s, "8Q"); put(&s, "~"); rnd(&s, AN "_~.-", 33);
    rnd(&s, AN, 1);
    expect("azure_ad_client_secret", "client_secret=", s.s, "\n");
    s.n = 0; rnd(&s, B64, 86); put(&s, "==");
    expect("azure_storage_key", "DefaultEndpointsProtocol=https;AccountName=acct;"
           "AccountKey=", s.s, ";EndpointSuffix=core.windows.net");
    s.n = 0; put(&s, "do"); put(&s, "p_v1_"); rnd(&s, HEX, 64);
    expect("digitalocean_token", "DO_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "HR"); put(&s, "KU-AA"); rnd(&s, URL64, 58);
    expect("heroku_api_key", "HEROKU_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "da"); put(&s, "pi"); rnd(&s, HEX, 32);
    expect("databricks_token", "token ", s.s, " ");
}

/* ---- code hosts and package registries ------------------------------------ */

static void test_code_hosts(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "gh"); put(&s, "p_"); rnd(&s, AN, 36);
    expect("github_token", "GITHUB_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "github"); put(&s, "_pat_"); rnd(&s, AN, 22); put(&s, "_");
    rnd(&s, AN, 59);
    expect("github_token", "token: ", s.s, "\n");
    s.n = 0; put(&s, "gl"); put(&s, "pat-"); rnd(&s, AN, 20);
    expect("gitlab_token", "private-token: ", s.s, "\n");
    s.n = 0; put(&s, "gl"); put(&s, "ptt-"); rnd(&s, HEX, 40);
    expect("gitlab_token", "curl -F token=", s.s, " ");
    s.n = 0; put(&s, "GR134"); put(&s, "8941"); rnd(&s, AN, 20);
    expect("gitlab_token", "registration-token ", s.s, "\n");
    s.n = 0; put(&s, "ATA"); put(&s, "TT3"); rnd(&s, AN, 186);
    expect("atlassian_api_token", "JIRA_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "AT"); put(&s, "BB"); rnd(&s, AN, 32);
    expect("atlassian_api_token", "app password ", s.s, "\n");
    s.n = 0; rnd(&s, LOWAN, 64);
    expect("bitbucket_client_secret", "BITBUCKET_CLIENT_SECRET=", s.s, "\n");
    s.n = 0; put(&s, "np"); put(&s, "m_"); rnd(&s, AN, 36);
    expect("npm_token", "//registry.npmjs.org/:_authToken=", s.s, "\n");
    s.n = 0; put(&s, "pypi-AgEIcH"); put(&s, "lwaS5vcmc"); rnd(&s, URL64, 80);
    expect("pypi_token", "password = ", s.s, "\n");
}

/* ---- chat ----------------------------------------------------------------- */

static void test_chat(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "xo"); put(&s, "xb-"); rnd(&s, DIGITS, 12); put(&s, "-");
    rnd(&s, DIGITS, 13); put(&s, "-"); rnd(&s, AN, 24);
    expect("slack_token", "SLACK_BOT_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "https://hooks.sl"); put(&s, "ack.com/services/T");
    rnd(&s, UPAN, 8); put(&s, "/B"); rnd(&s, UPAN, 10); put(&s, "/");
    rnd(&s, AN, 24);
    expect("slack_webhook", "url: ", s.s, "\n");
    s.n = 0; put(&s, "xa"); put(&s, "pp-1-A"); rnd(&s, UPAN, 10); put(&s, "-");
    rnd(&s, DIGITS, 13); put(&s, "-"); rnd(&s, HEX, 64);
    expect("slack_app_token", "SLACK_APP_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "M"); rnd(&s, AN, 25); put(&s, "."); rnd(&s, URL64, 6);
    put(&s, "."); rnd(&s, AN, 38);
    expect("discord_bot_token", "client.login('", s.s, "')");
    s.n = 0; put(&s, "https://disc"); put(&s, "ord.com/api/webhooks/");
    rnd(&s, DIGITS, 18); put(&s, "/"); rnd(&s, URL64, 68);
    expect("discord_webhook", "hook = ", s.s, "\n");
    s.n = 0; put(&s, "7"); rnd(&s, DIGITS, 9); put(&s, ":A"); put(&s, "A");
    rnd(&s, URL64, 33);
    expect("telegram_bot_token", "TELEGRAM_TOKEN=", s.s, "\n");
}

/* ---- payments ------------------------------------------------------------- */

static void test_payments(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "sk"); put(&s, "_live_"); rnd(&s, AN, 24);
    expect("stripe_secret_key", "Stripe.api_key = '", s.s, "'");
    s.n = 0; put(&s, "rk"); put(&s, "_live_"); rnd(&s, AN, 24);
    expect("stripe_secret_key", "key ", s.s, "\n");
    s.n = 0; put(&s, "pk"); put(&s, "_live_"); rnd(&s, AN, 24);
    expect("stripe_publishable_key", "Stripe('", s.s, "')");
    s.n = 0; put(&s, "sq0"); put(&s, "atp-"); rnd(&s, URL64, 22);
    expect("square_token", "SQUARE_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "EA"); put(&s, "AA"); rnd(&s, URL64, 60);
    expect("square_token", "Authorization ", s.s, "\n");
    s.n = 0; put(&s, "sq0"); put(&s, "csp-"); rnd(&s, URL64, 43);
    expect("square_token", "secret ", s.s, "\n");
    s.n = 0; put(&s, "access_token$pro"); put(&s, "duction$"); rnd(&s, LOWAN, 16);
    put(&s, "$"); rnd(&s, HEX, 32);
    expect("paypal_braintree_token", "BT_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "SG"); put(&s, "."); rnd(&s, URL64, 22); put(&s, ".");
    rnd(&s, URL64, 43);
    expect("sendgrid_api_key", "SENDGRID_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "S"); put(&s, "K"); rnd(&s, HEX, 32);
    expect("twilio_api_key", "twilio sid ", s.s, "\n");
    s.n = 0; put(&s, "shp"); put(&s, "at_"); rnd(&s, HEX, 32);
    expect("shopify_token", "X-Shopify-Access-Token: ", s.s, "\n");
}

/* ---- AI and other APIs ---------------------------------------------------- */

static void test_ai(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "sk-"); put(&s, "proj-"); rnd(&s, URL64, 74); put(&s, "T3Blbk");
    put(&s, "FJ"); rnd(&s, URL64, 74);
    expect("openai_api_key", "OPENAI_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "sk-"); rnd(&s, AN, 20); put(&s, "T3Blbk"); put(&s, "FJ");
    rnd(&s, AN, 20);
    expect("openai_api_key", "openai.api_key = ", s.s, "\n");
    s.n = 0; put(&s, "sk-"); put(&s, "ant-api03-"); rnd(&s, URL64, 93); put(&s, "AA");
    expect("anthropic_api_key", "ANTHROPIC_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "sk-"); put(&s, "ant-admin01-"); rnd(&s, URL64, 93);
    put(&s, "AA");
    expect("anthropic_api_key", "x-api-key: ", s.s, "\n");
    s.n = 0; put(&s, "h"); put(&s, "f_"); rnd(&s, ALPHA, 34);
    expect("huggingface_token", "HF_TOKEN=", s.s, "\n");
    s.n = 0; rnd(&s, AN, 40);
    expect("cohere_api_key", "COHERE_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "gs"); put(&s, "k_"); rnd(&s, AN, 52);
    expect("ai_provider_key", "GROQ_API_KEY=", s.s, "\n");
    s.n = 0; put(&s, "r"); put(&s, "8_"); rnd(&s, AN, 37);
    expect("ai_provider_key", "REPLICATE_API_TOKEN=", s.s, "\n");
    s.n = 0; put(&s, "lin"); put(&s, "_api_"); rnd(&s, AN, 40);
    expect("linear_api_key", "LINEAR_KEY=", s.s, "\n");
    s.n = 0; put(&s, "gl"); put(&s, "sa_"); rnd(&s, AN, 32); put(&s, "_");
    rnd(&s, HEX, 8);
    expect("grafana_token", "GRAFANA_SA=", s.s, "\n");
}

/* ---- keys, tokens, generic ------------------------------------------------ */

static void test_generic(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    put(&s, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"); put(&s, ".");
    rnd(&s, URL64, 40); put(&s, "."); rnd(&s, URL64, 43);
    expect("jwt", "Authorization: Bearer ", s.s, "\n");
    s.n = 0; put(&s, "-----BEGIN RSA PRI"); put(&s, "VATE KEY-----\n");
    rnd(&s, B64, 64); put(&s, "\n"); rnd(&s, B64, 40);
    put(&s, "\n-----END RSA PRIVATE KEY-----");
    expect("pem_private_key", "key:\n", s.s, "\n");
    s.n = 0; rnd(&s, AN, 20);
    expect("generic_secret", "db_password = \"", s.s, "\"\n");
    s.n = 0; rnd(&s, AN, 18);
    expect("url_credentials", "DATABASE_URL=postgres://app:", s.s,
           "@db.internal:5432/app\n");
    s.n = 0; rnd(&s, AN, 32);
    expect("generic_high_entropy", "client.set_token(\"", s.s, "\")\n");
    expect("generic_high_entropy", "headers[\"Authorization\"] = f\"Bearer {'", s.s,
           "'}\"\n");
}

/* ---- near misses ---------------------------------------------------------- */

static void test_near_misses(void **state)
{
    sb s = { .n = 0 };

    (void)state;
    /* placeholders and documented examples */
    put(&s, "gl"); put(&s, "pat-XXXXXXXXXXXXXXXXXXXX");
    expect_none(s.s);
    s.n = 0; put(&s, "client_secret=bP88Q"); put(&s, "~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    expect_none(s.s);
    expect_none("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    expect_none("api_key: \"${API_KEY_FROM_THE_ENVIRONMENT}\"");
    expect_none("set_token(\"your-api-token-goes-here-1234\")");
    expect_none("postgres://user:password@localhost/db");
    expect_none("token = \"this_is_not_a_secret_value\"");
    expect_none("  key_material = EXCLUDED.key_material,");
    expect_none("key=(-X \"feed.url.key.file=$IT_DIR/feed-url.key\")");
    expect_none("ctx->key = EC_KEY_new_by_curve_name (NID_X9_62_prime192v1);");
    expect_none("const options = { key: readFileSync('server-key.pem') };");
    expect_none("foreign key: 018_ledger.sql says why");
    /* wrong length or marker */
    s.n = 0; put(&s, "gl"); put(&s, "pat-"); rnd(&s, AN, 12);
    expect_none(s.s);
    s.n = 0; put(&s, "sk-"); put(&s, "ant-api03-"); rnd(&s, URL64, 93); put(&s, "BB");
    expect_none(s.s);
    s.n = 0; put(&s, "sk-"); rnd(&s, AN, 48);
    expect_none(s.s);
    s.n = 0; put(&s, "h"); put(&s, "f_"); rnd(&s, ALPHA, 33);
    expect_none(s.s);
    s.n = 0; put(&s, "np"); put(&s, "m_"); rnd(&s, AN, 35);
    expect_none(s.s);
    s.n = 0; rnd(&s, DIGITS, 10); put(&s, ":AB"); rnd(&s, URL64, 33);
    expect_none(s.s);
    s.n = 0; put(&s, "S"); put(&s, "K"); rnd(&s, HEX, 31);
    expect_none(s.s);
    s.n = 0; put(&s, "SK"); put(&s, "00000000000000000000000000000000");
    expect_none(s.s);
    /* a private_key_id outside a service-account file: only the generic
     * rule's flag, not the service-account key's block */
    s.n = 0; rnd(&s, HEX, 40);
    expect("generic_secret", "\"private_key_id\": \"", s.s, "\"");
    /* ordinary prose with the keywords */
    expect_none("The author's token of thanks: a password-protected file, "
                "an API key rotation policy, and a secret recipe.");
}

/* ---- the validator -------------------------------------------------------- */

static int se(const char *s, double bits)
{
    return sl_valid_secret_entropy((const uint8_t *)s, strlen(s), bits);
}

static void test_secret_entropy(void **state)
{
    (void)state;
    assert_int_equal(se("Zx81bQ0pL7mW3kR9tY2vQe5N", 4.0), 1);
    assert_int_equal(se("9f86d081884c7d659a2feaa0c55ad015", 4.0), 1);  /* hex */
    assert_int_equal(se("correcthorsebatterystaple", 3.0), 0);   /* one class */
    assert_int_equal(se("CHANGEME1234567890abcd", 3.0), 0);      /* placeholder */
    assert_int_equal(se("Zx81bQ0pEXAMPLE3kR9tY2v", 3.0), 0);
    assert_int_equal(se("Zx81bQ0p{{token}}tY2v", 3.0), 0);
    assert_int_equal(se("aaaa1234bcdeFGHI", 3.0), 0);            /* a run of 4 */
    assert_int_equal(se("ab12ab12ab12ab12ab12", 3.0), 0);        /* 2 bits */
    assert_int_equal(se("Ab1", 1.0), 0);                         /* too short */
    /* identifiers, paths and variables (seen in real code) */
    assert_int_equal(se("EXCLUDED.key_material", 3.5), 0);
    assert_int_equal(se("EC_KEY_new_by_curve_name", 3.5), 0);
    assert_int_equal(se("/Users/maciej", 3.0), 0);
    assert_int_equal(se("$IT_DIR/feed-url.key", 3.0), 0);
    assert_int_equal(se("abc$(openssl_rand)9X", 3.0), 0);
    assert_int_equal(se("018_ledger.sql", 3.0), 0);
    assert_int_equal(se("Authorization", 3.0), 0);
    assert_int_equal(se("sl_keyfile_hex32_load_or_create", 3.0), 0);
    assert_int_equal(se("Zx81bQ0p.L7mW3kR9tY2v", 3.5), 1);     /* a digit: kept */
    assert_int_equal(se("QwErTyUiOpAsDfGhJkLzXcVb", 3.5), 1);  /* no separator */
    assert_true(sl_validator_find("secret_entropy") != NULL);
    assert_int_equal(sl_validator_find("secret_entropy")->needs_param, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cloud),
        cmocka_unit_test(test_code_hosts),
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_payments),
        cmocka_unit_test(test_ai),
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_near_misses),
        cmocka_unit_test(test_secret_entropy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
