/*
 * entropy.c -- the generic secret detector's validator (entropy.h): a
 * keyword-led value is a secret when it is random enough for its alphabet
 * and is not a placeholder.  Thresholds after detect-secrets (base64 4.5,
 * hex 3.0 bits per byte at its default limits) scaled by the rule's
 * min_entropy, and capped for short values.
 */
#include "entropy.h"

#include <math.h>
#include <string.h>

#include "validators.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Whether p[0..n) contains word, ASCII case-insensitively. */
static int has_word(const uint8_t *p, size_t n, const char *word)
{
    size_t w = strlen(word);

    for (size_t i = 0; i + w <= n; i++) {
        size_t k = 0;
        while (k < w && lower(p[i + k]) == word[k])
            k++;
        if (k == w)
            return 1;
    }
    return 0;
}

static int placeholder(const uint8_t *p, size_t n)
{
    static const char *const words[] = {
        "xxxx", "example", "placeholder", "changeme", "your", "dummy",
        "sample", "redacted", "fake", "test", "${", "{{", "<", "%s", "...",
    };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (has_word(p, n, words[i]))
            return 1;
    /* a variable's reference: $VAR, ${VAR}, $(cmd) */
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '$' && (p[i + 1] == '{' || p[i + 1] == '(' || p[i + 1] == '_' ||
                            (lower(p[i + 1]) >= 'a' && lower(p[i + 1]) <= 'z')))
            return 1;
    return 0;
}

/* An identifier, a file name or a path rather than a secret: a name
 * ending in a short extension (018_ledger.sql), snake_case
 * (sl_keyfile_hex32_load), or no digit and words joined by '.', '_', '/'
 * or '-' (EXCLUDED.key_material, /Users/name, EC_KEY_new_by_curve_name):
 * a generated token of 16+ bytes holds a digit with a probability above
 * 94%. */
static int identifier(const uint8_t *p, size_t n, int dig)
{
    size_t ext = 0, unders = 0;
    int snake = 1;

    /* a file name: ends in '.' and 1 to 4 lower-case letters (.sql, .pem) */
    while (ext < n && ext < 5 && p[n - 1 - ext] >= 'a' && p[n - 1 - ext] <= 'z')
        ext++;
    if (ext >= 1 && ext <= 4 && ext < n && p[n - 1 - ext] == '.')
        return 1;
    /* snake_case: lower-case words and digits joined by 2+ underscores */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '_')
            unders += i > 0 && i + 1 < n && p[i - 1] != '_';
        else if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            snake = 0;
    }
    if (snake && unders >= 2)
        return 1;
    if (dig)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '.' || p[i] == '_' || p[i] == '/' || p[i] == '-')
            return 1;
    return 0;
}

int sl_valid_secret_entropy(const uint8_t *p, size_t n, double min_bits)
{
    int lo = 0, up = 0, dig = 0, hex = 1, run = 1;
    size_t n_up = 0;
    double want, cap;

    if (n < 8 || placeholder(p, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        lo |= c >= 'a' && c <= 'z';
        up |= c >= 'A' && c <= 'Z';
        n_up += c >= 'A' && c <= 'Z';
        dig |= c >= '0' && c <= '9';
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            hex = 0;
        run = i && p[i - 1] == c ? run + 1 : 1;
        if (run >= 4)
            return 0;
    }
    if (lo + up + dig < 2 || identifier(p, n, dig))
        return 0;
    if (!dig && n_up < 2)        /* a capitalised word: Authorization */
        return 0;
    want = hex ? min_bits * 0.75 : min_bits;
    cap = 0.85 * log2((double)n);
    if (want > cap)
        want = cap;
    return sl_entropy(p, n) >= want;
}
