/*
 * validators.c -- the check-digit and structure validators named by scan
 * rules (see validators.h for each one's contract).
 *
 * They run only on candidates PCRE2 has already matched, so clarity beats
 * speed here; still, none allocates on the heap except `jwt`, which hands
 * a decoded header of at most 2 KiB to jansson.
 */
#include "validators.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>

#include "entropy.h"
#include "sl/crypto.h"

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(uint8_t c) { return c >= 'a' && c <= 'z'; }
static uint8_t to_lower(uint8_t c)
{
    return is_upper(c) ? (uint8_t)(c + 32) : c;
}

/* Collects the digits of p into out (at most cap of them), allowing single
 * separators from `seps` between two digits.  Returns the digit count, or
 * -1 on any other byte, a leading / trailing / doubled separator, or more
 * than cap digits. */
static int digits_with_seps(const uint8_t *p, size_t n, const char *seps,
                            uint8_t *out, int cap)
{
    int nd = 0;
    int prev_sep = 1;   /* a separator may not come first */

    for (size_t i = 0; i < n; i++) {
        if (is_digit(p[i])) {
            if (nd == cap)
                return -1;
            out[nd++] = (uint8_t)(p[i] - '0');
            prev_sep = 0;
        } else if (p[i] && strchr(seps, p[i])) {
            if (prev_sep)
                return -1;
            prev_sep = 1;
        } else {
            return -1;
        }
    }
    return prev_sep && nd > 0 ? -1 : nd;
}

/* ---- luhn ---------------------------------------------------------------- */

int sl_valid_luhn(const uint8_t *p, size_t n)
{
    uint8_t d[19];
    int nd = digits_with_seps(p, n, " -", d, 19);
    int sum = 0;

    if (nd < 13)
        return 0;
    for (int i = 0; i < nd; i++) {
        int v = d[nd - 1 - i];

        if (i & 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* ---- iban ---------------------------------------------------------------- */

/* IBAN length per country, SWIFT IBAN registry (2024). */
static const struct { char cc[3]; uint8_t len; } iban_len[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
    {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28},
    {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29},
    {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
    {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

static int iban_country_len(const uint8_t cc[2])
{
    for (size_t i = 0; i < sizeof(iban_len) / sizeof(iban_len[0]); i++)
        if (iban_len[i].cc[0] == cc[0] && iban_len[i].cc[1] == cc[1])
            return iban_len[i].len;
    return 0;
}

int sl_valid_iban(const uint8_t *p, size_t n)
{
    uint8_t s[34];
    size_t len = 0;
    unsigned rem = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ')
            continue;
        if (!is_upper(p[i]) && !is_digit(p[i]))
            return 0;
        if (len == sizeof(s))
            return 0;
        s[len++] = p[i];
    }
    if (len < 15 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) ||
        !is_digit(s[3]) || iban_country_len(s) != (int)len)
        return 0;
    /* Move the first four characters to the end, letters become 10..35,
     * and the whole number mod 97 must be 1. */
    for (size_t k = 0; k < len; k++) {
        uint8_t c = s[(k + 4) % len];

        if (is_digit(c))
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    return rem == 1;
}

/* ---- ssn ----------------------------------------------------------------- */

int sl_valid_ssn(const uint8_t *p, size_t n)
{
    uint8_t d[9];
    int area, group, serial;

    if (digits_with_seps(p, n, "- ", d, 9) != 9)
        return 0;
    /* Separators, when present, sit at 3-2-4. */
    if (n == 11 && (is_digit(p[3]) || is_digit(p[6])))
        return 0;
    if (n != 9 && n != 11)
        return 0;
    area = d[0] * 100 + d[1] * 10 + d[2];
    group = d[3] * 10 + d[4];
    serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
        return 0;
    if ((area == 78 && group == 5 && serial == 1120) ||
        (area == 219 && group == 9 && serial == 9999))
        return 0;
    return 1;
}

/* ---- base58check --------------------------------------------------------- */

static int b58_value(uint8_t c)
{
    static const char alphabet[] =
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const char *q = c ? strchr(alphabet, c) : NULL;

    return q ? (int)(q - alphabet) : -1;
}

int sl_valid_base58check(const uint8_t *p, size_t n)
{
    uint8_t b[25] = {0}, h1[SL_SHA256_LEN], h2[SL_SHA256_LEN];
    size_t zeros = 0, first;

    if (n < 26 || n > 35)
        return 0;
    while (zeros < n && p[zeros] == '1')
        zeros++;
    for (size_t i = 0; i < n; i++) {
        int v = b58_value(p[i]);
        unsigned carry;

        if (v < 0)
            return 0;
        carry = (unsigned)v;
        for (size_t j = sizeof(b); j-- > 0;) {
            carry += 58u * b[j];
            b[j] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry)
            return 0;          /* longer than 25 bytes */
    }
    /* Canonical form: exactly one leading '1' per leading zero byte. */
    for (first = 0; first < sizeof(b) && b[first] == 0; first++)
        ;
    if (first != zeros)
        return 0;
    if (sl_sha256(b, 21, h1) != SL_OK || sl_sha256(h1, sizeof(h1), h2) != SL_OK)
        return 0;
    return memcmp(h2, b + 21, 4) == 0;
}

/* ---- bech32 -------------------------------------------------------------- */

#define BECH32_CONST  1u
#define BECH32M_CONST 0x2bc830a3u

static uint32_t bech32_polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = { 0x3b6a57b2u, 0x26508e6du, 0x1ea119fau,
                                     0x3d4233ddu, 0x2a1462b3u };
    uint8_t top = (uint8_t)(chk >> 25);

    chk = ((chk & 0x1ffffffu) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        if ((top >> i) & 1)
            chk ^= gen[i];
    return chk;
}

int sl_valid_bech32(const uint8_t *p, size_t n)
{
    static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    uint8_t data[90];
    size_t sep = 0, ndata, i;
    int has_lower = 0, has_upper = 0;
    uint32_t chk = 1, bits = 0;
    unsigned acc = 0, ver;
    size_t prog_len = 0;

    if (n < 8 || n > 90)
        return 0;
    for (i = 0; i < n; i++) {
        if (p[i] < 33 || p[i] > 126)
            return 0;
        has_lower |= is_lower(p[i]);
        has_upper |= is_upper(p[i]);
        if (p[i] == '1')
            sep = i;
    }
    if (has_lower && has_upper)
        return 0;
    if (sep < 1 || sep + 8 > n)     /* hrp, '1', version, 6 checksum */
        return 0;
    ndata = n - sep - 1;
    for (i = 0; i < ndata; i++) {
        const char *q = strchr(charset, to_lower(p[sep + 1 + i]));

        if (!q)
            return 0;
        data[i] = (uint8_t)(q - charset);
    }
    for (i = 0; i < sep; i++)
        chk = bech32_polymod_step(chk, to_lower(p[i]) >> 5);
    chk = bech32_polymod_step(chk, 0);
    for (i = 0; i < sep; i++)
        chk = bech32_polymod_step(chk, to_lower(p[i]) & 31);
    for (i = 0; i < ndata; i++)
        chk = bech32_polymod_step(chk, data[i]);

    /* Segwit program: version, then 5-to-8 bit regrouping without padding. */
    ver = data[0];
    if (ver > 16)
        return 0;
    for (i = 1; i < ndata - 6; i++) {
        acc = (acc << 5) | data[i];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            prog_len++;
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return 0;
    if (prog_len < 2 || prog_len > 40)
        return 0;
    if (ver == 0)
        return chk == BECH32_CONST && (prog_len == 20 || prog_len == 32);
    return chk == BECH32M_CONST;
}

/* ---- jwt ----------------------------------------------------------------- */

static int b64url_value(uint8_t c)
{
    if (is_upper(c)) return c - 'A';
    if (is_lower(c)) return c - 'a' + 26;
    if (is_digit(c)) return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Decodes unpadded base64url; -1 on a bad byte, length, or overflow. */
static long b64url_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t len = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(in[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len == cap)
                return -1;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)len;
}

int sl_valid_jwt(const uint8_t *p, size_t n)
{
    const uint8_t *dot1 = memchr(p, '.', n), *dot2;
    uint8_t hdr[2048];
    long hlen;
    json_t *j;
    int ok;

    if (!dot1)
        return 0;
    dot2 = memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - p));
    if (!dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - p)))
        return 0;
    /* Payload and signature must be base64url as well (signature may be
     * empty for alg "none"). */
    for (const uint8_t *q = dot1 + 1; q < p + n; q++)
        if (q != dot2 && b64url_value(*q) < 0)
            return 0;
    if (dot2 == dot1 + 1)
        return 0;
    hlen = b64url_decode(p, (size_t)(dot1 - p), hdr, sizeof(hdr));
    if (hlen < 2 || hdr[0] != '{')
        return 0;
    j = json_loadb((const char *)hdr, (size_t)hlen, 0, NULL);
    ok = j && json_is_object(j) && json_is_string(json_object_get(j, "alg"));
    json_decref(j);
    return ok;
}

/* ---- entropy ------------------------------------------------------------- */

double sl_entropy(const uint8_t *p, size_t n)
{
    size_t count[256] = {0};
    double h = 0.0;

    if (n == 0)
        return 0.0;
    for (size_t i = 0; i < n; i++)
        count[p[i]]++;
    for (int c = 0; c < 256; c++) {
        if (count[c]) {
            double f = (double)count[c] / (double)n;

            h -= f * log2(f);
        }
    }
    return h;
}

int sl_valid_entropy(const uint8_t *p, size_t n, double min_bits)
{
    return n > 0 && sl_entropy(p, n) >= min_bits;
}

/* ---- ipv6 ---------------------------------------------------------------- */

int sl_valid_ipv6(const uint8_t *p, size_t n)
{
    char s[64];
    unsigned char addr[16];
    int groups = 0, in_group = 0, has_v4 = 0;

    if (n < 2 || n >= sizeof(s))
        return 0;
    memcpy(s, p, n);
    s[n] = '\0';
    if (inet_pton(AF_INET6, s, addr) != 1)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '.') {
            has_v4 = 1;
            break;
        }
        if (i == n || s[i] == ':') {
            groups += in_group;
            in_group = 0;
        } else {
            in_group = 1;
        }
    }
    return groups >= 3 || has_v4;
}

/* ---- date ---------------------------------------------------------------- */

static int month_from_name(const uint8_t *w, size_t len)
{
    static const char *const names[12] = {
        "january", "february", "march", "april", "may", "june", "july",
        "august", "september", "october", "november", "december"
    };

    if (len < 3)
        return 0;
    for (int m = 0; m < 12; m++) {
        size_t full = strlen(names[m]);

        if (len > full)
            continue;
        /* The three-letter abbreviation, "sept", or the full name. */
        if (len != 3 && len != full && !(m == 8 && len == 4))
            continue;
        size_t k = 0;
        while (k < len && to_lower(w[k]) == (uint8_t)names[m][k])
            k++;
        if (k == len)
            return m + 1;
    }
    return 0;
}

static int days_in_month(int m, int y, int two_digit_year)
{
    static const int dm[12] = { 31, 29, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31 };

    if (m < 1 || m > 12)
        return 0;
    if (m == 2) {
        int leap = two_digit_year
                       ? (y % 4 == 0)
                       : ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
        return leap ? 29 : 28;
    }
    return dm[m - 1];
}

static int date_ok(int d, int m, int y, int ydigits)
{
    if (ydigits == 4 && (y < 1900 || y > 2099))
        return 0;
    if (ydigits != 4 && ydigits != 2)
        return 0;
    return d >= 1 && d <= days_in_month(m, y, ydigits == 2);
}

int sl_valid_date(const uint8_t *p, size_t n)
{
    int num[3], ndig[3], nnum = 0, month = 0;
    size_t i = 0;

    while (i < n) {
        if (is_digit(p[i])) {
            int v = 0, k = 0;

            while (i < n && is_digit(p[i])) {
                if (++k > 4)
                    return 0;
                v = v * 10 + (p[i++] - '0');
            }
            if (nnum == 3)
                return 0;
            num[nnum] = v;
            ndig[nnum++] = k;
        } else if (is_upper(p[i]) || is_lower(p[i])) {
            size_t s = i;

            while (i < n && (is_upper(p[i]) || is_lower(p[i])))
                i++;
            size_t len = i - s;
            int m = month_from_name(p + s, len);

            if (m) {
                if (month)
                    return 0;
                month = m;
            } else if (len == 2 && nnum > 0 && s > 0 && is_digit(p[s - 1]) &&
                       (memchr("sSnNrRtT", p[s], 8))) {
                continue;                     /* ordinal: 1st 2nd 3rd 4th */
            } else if (len == 2 && to_lower(p[s]) == 'o' &&
                       to_lower(p[s + 1]) == 'f') {
                continue;
            } else {
                return 0;
            }
        } else if (p[i] == ' ' || p[i] == ',' || p[i] == '.' || p[i] == '-' ||
                   p[i] == '/') {
            i++;
        } else {
            return 0;
        }
    }
    if (month) {
        /* "12 March 1985" or "March 12, 1985": a day and a year. */
        if (nnum != 2 || ndig[0] > 2)
            return 0;
        return date_ok(num[0], month, num[1], ndig[1]);
    }
    if (nnum != 3)
        return 0;
    if (ndig[0] == 4)                                   /* Y-M-D */
        return ndig[1] <= 2 && ndig[2] <= 2 &&
               date_ok(num[2], num[1], num[0], 4);
    if (ndig[0] > 2 || ndig[1] > 2)
        return 0;
    return date_ok(num[0], num[1], num[2], ndig[2]) ||  /* D/M/Y */
           date_ok(num[1], num[0], num[2], ndig[2]);    /* M/D/Y */
}

/* ---- registry ------------------------------------------------------------ */

/* Adapters to the table's signature; only entropy uses the parameter. */
#define ADAPT(name, fn)                                                   \
    static int name(const uint8_t *p, size_t n, double unused)            \
    {                                                                     \
        (void)unused;                                                     \
        return fn(p, n);                                                  \
    }
ADAPT(v_luhn, sl_valid_luhn)
ADAPT(v_iban, sl_valid_iban)
ADAPT(v_ssn, sl_valid_ssn)
ADAPT(v_b58, sl_valid_base58check)
ADAPT(v_bech32, sl_valid_bech32)
ADAPT(v_jwt, sl_valid_jwt)
ADAPT(v_ipv6, sl_valid_ipv6)
ADAPT(v_date, sl_valid_date)
#undef ADAPT

static const sl_validator validators[] = {
    { "luhn",        v_luhn,           0 },
    { "iban_mod97",  v_iban,           0 },
    { "ssn",         v_ssn,            0 },
    { "base58check", v_b58,            0 },
    { "bech32",      v_bech32,         0 },
    { "jwt",         v_jwt,            0 },
    { "entropy",     sl_valid_entropy, 1 },
    { "ipv6",        v_ipv6,           0 },
    { "date",        v_date,           0 },
    { "secret_entropy", sl_valid_secret_entropy, 1 },   /* entropy.h */
};

const sl_validator *sl_validator_find(const char *name)
{
    for (size_t i = 0; i < sizeof(validators) / sizeof(validators[0]); i++)
        if (strcmp(validators[i].name, name) == 0)
            return &validators[i];
    return NULL;
}

const sl_validator *sl_validator_all(size_t *n)
{
    *n = sizeof(validators) / sizeof(validators[0]);
    return validators;
}
