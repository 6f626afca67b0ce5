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

    if (nd < 12)
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

/* ---- payment cards ------------------------------------------------------- */

/* Issuer identification ranges and the lengths each issues (ISO/IEC 7812
 * prefixes as the networks publish them; JCB's whole 35 block and
 * Maestro's 56-58, 639 and 0604 as card generators such as Faker issue
 * them): a candidate's first six digits must fall in [lo, hi] and its
 * length in the mask. */
#define LEN(n) (1u << (n))
static const struct { uint32_t lo, hi, lens; } card_ranges[] = {
    { 400000, 499999, LEN(13) | LEN(16) | LEN(19) },          /* Visa */
    { 510000, 559999, LEN(16) },                              /* Mastercard */
    { 222100, 272099, LEN(16) },                              /* Mastercard 2 */
    { 340000, 349999, LEN(15) },                              /* Amex */
    { 370000, 379999, LEN(15) },
    { 601100, 601199, LEN(16) | LEN(17) | LEN(18) | LEN(19) },/* Discover */
    { 644000, 659999, LEN(16) | LEN(17) | LEN(18) | LEN(19) },
    { 622126, 622925, LEN(16) | LEN(17) | LEN(18) | LEN(19) },
    { 300000, 305999, LEN(14) | LEN(15) | LEN(16) | LEN(17) | LEN(18) |
                      LEN(19) },                              /* Diners */
    { 309500, 309599, LEN(14) | LEN(15) | LEN(16) | LEN(17) | LEN(18) |
                      LEN(19) },
    { 360000, 369999, LEN(14) | LEN(15) | LEN(16) | LEN(17) | LEN(18) |
                      LEN(19) },
    { 380000, 399999, LEN(14) | LEN(15) | LEN(16) | LEN(17) | LEN(18) |
                      LEN(19) },
    { 350000, 359999, LEN(16) | LEN(17) | LEN(18) | LEN(19) },/* JCB */
    { 213100, 213199, LEN(15) },
    { 180000, 180099, LEN(15) },
    { 501800, 501899, 0xffu << 12 },                          /* Maestro */
    { 502000, 502099, 0xffu << 12 },
    { 503800, 503899, 0xffu << 12 },
    { 560000, 589999, 0xffu << 12 },
    { 639000, 639099, 0xffu << 12 },
    { 60400, 60499, 0xffu << 12 },                           /* 0604 */
    { 630400, 630499, 0xffu << 12 },
    { 675900, 675999, 0xffu << 12 },
    { 676100, 676399, 0xffu << 12 },
    { 620000, 629999, LEN(16) | LEN(17) | LEN(18) | LEN(19) },/* UnionPay */
    { 220000, 220499, LEN(16) | LEN(17) | LEN(18) | LEN(19) },/* Mir */
    { 600000, 609999, LEN(16) },                              /* RuPay */
    { 979200, 979299, LEN(16) },                              /* Troy */
};
#undef LEN

int sl_valid_payment_card(const uint8_t *p, size_t n)
{
    uint8_t d[19];
    int nd = digits_with_seps(p, n, " -", d, 19);
    uint32_t iin = 0;
    size_t i;

    if (nd < 12)
        return 0;
    if (memchr(p, ' ', n) && memchr(p, '-', n))      /* one separator kind */
        return 0;
    for (int k = 0; k < 6; k++)
        iin = iin * 10 + d[k];
    for (i = 0; i < sizeof(card_ranges) / sizeof(card_ranges[0]); i++)
        if (iin >= card_ranges[i].lo && iin <= card_ranges[i].hi &&
            (card_ranges[i].lens >> nd) & 1)
            break;
    if (i == sizeof(card_ranges) / sizeof(card_ranges[0]))
        return 0;
    return sl_valid_luhn(p, n);
}

/* ---- national phone numbers ---------------------------------------------- */

int sl_valid_phone_national(const uint8_t *p, size_t n)
{
    int nd = 0;

    for (size_t i = 0; i < n; i++) {
        if (is_digit(p[i]))
            nd++;
        else if (!p[i] || !strchr(" .-()", p[i]))
            return 0;
    }
    return nd >= 9 && nd <= 12;
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

/* ---- national and financial identifiers ----------------------------------
 * Each collects the characters it needs (separators where the format has
 * them), then checks the structure and the check digit of its
 * specification. */

/* The digits of p, with any of `seps` skipped; -1 on another byte or
 * more than cap digits. */
static int digits_skip(const uint8_t *p, size_t n, const char *seps,
                       uint8_t *out, int cap)
{
    int nd = 0;

    for (size_t i = 0; i < n; i++) {
        if (is_digit(p[i])) {
            if (nd == cap)
                return -1;
            out[nd++] = (uint8_t)(p[i] - '0');
        } else if (!p[i] || !strchr(seps, p[i])) {
            return -1;
        }
    }
    return nd;
}

/* Letters and digits of p, upper-cased, with any of `seps` skipped; -1 on
 * another byte or more than cap characters. */
static int alnum_skip(const uint8_t *p, size_t n, const char *seps,
                      uint8_t *out, int cap)
{
    int nc = 0;

    for (size_t i = 0; i < n; i++) {
        if (is_digit(p[i]) || is_upper(p[i]) || is_lower(p[i])) {
            if (nc == cap)
                return -1;
            out[nc++] = is_lower(p[i]) ? (uint8_t)(p[i] - 32) : p[i];
        } else if (!p[i] || !strchr(seps, p[i])) {
            return -1;
        }
    }
    return nc;
}

/* Sum of d[i] * w[i] for i < n. */
static unsigned weighted(const uint8_t *d, const uint8_t *w, int n)
{
    unsigned sum = 0;

    for (int i = 0; i < n; i++)
        sum += (unsigned)d[i] * w[i];
    return sum;
}

static int all_same(const uint8_t *d, int n)
{
    for (int i = 1; i < n; i++)
        if (d[i] != d[0])
            return 0;
    return 1;
}

int sl_valid_aba_routing(const uint8_t *p, size_t n)
{
    static const uint8_t w[9] = { 3, 7, 1, 3, 7, 1, 3, 7, 1 };
    uint8_t d[9];
    int pre;

    if (digits_skip(p, n, "-", d, 9) != 9 || all_same(d, 9))
        return 0;
    pre = d[0] * 10 + d[1];
    if (!(pre <= 12 || (pre >= 21 && pre <= 32) || (pre >= 61 && pre <= 72) ||
          pre == 80))
        return 0;
    return weighted(d, w, 9) % 10 == 0;
}

int sl_valid_us_itin(const uint8_t *p, size_t n)
{
    uint8_t d[9];
    int group;

    if (digits_with_seps(p, n, "- ", d, 9) != 9 || d[0] != 9)
        return 0;
    if (n == 11 && (is_digit(p[3]) || is_digit(p[6]) || p[3] != p[6]))
        return 0;
    if (n != 9 && n != 11)
        return 0;
    group = d[3] * 10 + d[4];
    return (group >= 50 && group <= 65) || (group >= 70 && group <= 88) ||
           (group >= 90 && group <= 92) || (group >= 94 && group <= 99);
}

int sl_valid_uk_nhs(const uint8_t *p, size_t n)
{
    static const uint8_t w[10] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
    uint8_t d[10];

    if (digits_skip(p, n, " -", d, 10) != 10 || all_same(d, 10))
        return 0;
    return weighted(d, w, 10) % 11 == 0;
}

int sl_valid_dea(const uint8_t *p, size_t n)
{
    uint8_t d[7];
    unsigned sum;

    if (n != 9 || !strchr("ABCDEFGHJKLMPRSTUX", p[0]) || !p[0] ||
        !(is_upper(p[1]) || p[1] == '9'))
        return 0;
    if (digits_skip(p + 2, 7, "", d, 7) != 7)
        return 0;
    sum = d[0] + d[2] + d[4] + 2u * (d[1] + d[3] + d[5]);
    return sum % 10 == d[6];
}

int sl_valid_es_nif(const uint8_t *p, size_t n)
{
    static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
    uint8_t c[10];
    int nc = alnum_skip(p, n, "-", c, 10);
    unsigned long v = 0;
    int i = 0;

    if (nc != 9 || !is_upper(c[8]))
        return 0;
    if (c[0] == 'X' || c[0] == 'Y' || c[0] == 'Z') {     /* NIE */
        v = (unsigned long)(c[0] - 'X');
        i = 1;
    }
    for (; i < 8; i++) {
        if (!is_digit(c[i]))
            return 0;
        v = v * 10 + (unsigned long)(c[i] - '0');
    }
    return letters[v % 23] == c[8];
}

/* Italian codice fiscale: 16 characters, the digit places may hold the
 * letters LMNPQRSTUV instead (omocodia); check letter from the odd / even
 * place tables of DM 23/12/1976. */
int sl_valid_it_fiscal_code(const uint8_t *p, size_t n)
{
    static const uint8_t odd[36] = {     /* 0-9, then A-Z */
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12,
        14, 16, 10, 22, 25, 24, 23
    };
    static const char digit_places[] = { 6, 7, 9, 10, 12, 13, 14 };
    static const char months[] = "ABCDEHLMPRST";
    uint8_t c[16];
    unsigned sum = 0;
    int day;

    if (alnum_skip(p, n, "", c, 16) != 16)
        return 0;
    for (int i = 0; i < 16; i++) {
        int digit_place = 0;

        for (size_t k = 0; k < sizeof(digit_places); k++)
            digit_place |= digit_places[k] == i;
        if (digit_place ? !(is_digit(c[i]) || strchr("LMNPQRSTUV", c[i]))
                        : !is_upper(c[i]))
            return 0;
    }
    if (!strchr(months, c[8]))
        return 0;
    /* the day, 1-31 or 41-71 for women, after undoing omocodia */
    {
        int d0 = is_digit(c[9]) ? c[9] - '0' : (int)(strchr("LMNPQRSTUV", c[9]) - "LMNPQRSTUV");
        int d1 = is_digit(c[10]) ? c[10] - '0' : (int)(strchr("LMNPQRSTUV", c[10]) - "LMNPQRSTUV");

        day = d0 * 10 + d1;
        if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71)))
            return 0;
    }
    for (int i = 0; i < 15; i++) {
        int v = is_digit(c[i]) ? c[i] - '0' : c[i] - 'A';

        if ((i & 1) == 0)       /* odd places, counting from 1 */
            sum += odd[is_digit(c[i]) ? v : 10 + v];
        else
            sum += (unsigned)v;
    }
    return c[15] == 'A' + sum % 26;
}

int sl_valid_pl_pesel(const uint8_t *p, size_t n)
{
    static const uint8_t w[10] = { 1, 3, 7, 9, 1, 3, 7, 9, 1, 3 };
    uint8_t d[11];
    int month, day;

    if (digits_skip(p, n, "", d, 11) != 11 || all_same(d, 11))
        return 0;
    month = (d[2] * 10 + d[3]) % 20;    /* +20 per century: 2000s, ... */
    day = d[4] * 10 + d[5];
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    return (10 - weighted(d, w, 10) % 10) % 10 == d[10];
}

/* Finnish henkilötunnus: DDMMYY, century sign (+ - A, and since 2023 also
 * B-F and U-Y), individual number 002-899, check character. */
int sl_valid_fi_hetu(const uint8_t *p, size_t n)
{
    static const char check[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    uint8_t d[9];
    unsigned long v = 0;
    int day, month, ind;

    if (n != 11 || !strchr("+-ABCDEFUVWXY", p[6]) || !p[6])
        return 0;
    if (digits_skip(p, 6, "", d, 6) != 6 ||
        digits_skip(p + 7, 3, "", d + 6, 3) != 3)
        return 0;
    day = d[0] * 10 + d[1];
    month = d[2] * 10 + d[3];
    ind = d[6] * 100 + d[7] * 10 + d[8];
    if (day < 1 || day > 31 || month < 1 || month > 12 || ind < 2 || ind > 899)
        return 0;
    for (int i = 0; i < 9; i++)
        v = v * 10 + d[i];
    return (uint8_t)check[v % 31] == p[10];
}

/* German Steuerliche Identifikationsnummer: 11 digits, no leading zero,
 * in the first ten one digit twice or three times and the others at most
 * once, check digit ISO 7064 MOD 11,10. */
int sl_valid_de_tax_id(const uint8_t *p, size_t n)
{
    uint8_t d[11];
    int count[10] = {0}, twice = 0, product = 10;

    if (digits_skip(p, n, " /", d, 11) != 11 || d[0] == 0)
        return 0;
    for (int i = 0; i < 10; i++)
        count[d[i]]++;
    for (int k = 0; k < 10; k++) {
        if (count[k] > 3)
            return 0;
        if (count[k] >= 2)
            twice++;
    }
    if (twice != 1)
        return 0;
    for (int i = 0; i < 10; i++) {
        int sum = (d[i] + product) % 10;

        if (sum == 0)
            sum = 10;
        product = (sum * 2) % 11;
    }
    return (11 - product) % 10 == d[10];
}

int sl_valid_au_abn(const uint8_t *p, size_t n)
{
    static const uint8_t w[11] = { 10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19 };
    uint8_t d[11];

    if (digits_skip(p, n, " ", d, 11) != 11 || d[0] == 0)
        return 0;
    d[0]--;
    return weighted(d, w, 11) % 89 == 0;
}

int sl_valid_au_acn(const uint8_t *p, size_t n)
{
    static const uint8_t w[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
    uint8_t d[9];

    if (digits_skip(p, n, " ", d, 9) != 9 || all_same(d, 9))
        return 0;
    return (10 - weighted(d, w, 8) % 10) % 10 == d[8];
}

int sl_valid_au_tfn(const uint8_t *p, size_t n)
{
    static const uint8_t w[9] = { 1, 4, 3, 7, 5, 8, 6, 9, 10 };
    uint8_t d[9];

    if (digits_skip(p, n, " ", d, 9) != 9 || all_same(d, 9))
        return 0;
    return weighted(d, w, 9) % 11 == 0;
}

/* Medicare card number: 10 digits (the card's), or 11 with the person's
 * issue number; first digit 2-6, check digit ninth. */
int sl_valid_au_medicare(const uint8_t *p, size_t n)
{
    static const uint8_t w[8] = { 1, 3, 7, 9, 1, 3, 7, 9 };
    uint8_t d[11];
    int nd = digits_skip(p, n, " ", d, 11);

    if ((nd != 10 && nd != 11) || d[0] < 2 || d[0] > 6)
        return 0;
    return weighted(d, w, 8) % 10 == d[8];
}

/* Verhoeff (dihedral group D5), for India's Aadhaar: 12 digits, first 2-9,
 * not a palindrome (UIDAI never issues one). */
int sl_valid_in_aadhaar(const uint8_t *p, size_t n)
{
    static const uint8_t dm[10][10] = {
        {0,1,2,3,4,5,6,7,8,9}, {1,2,3,4,0,6,7,8,9,5}, {2,3,4,0,1,7,8,9,5,6},
        {3,4,0,1,2,8,9,5,6,7}, {4,0,1,2,3,9,5,6,7,8}, {5,9,8,7,6,0,4,3,2,1},
        {6,5,9,8,7,1,0,4,3,2}, {7,6,5,9,8,2,1,0,4,3}, {8,7,6,5,9,3,2,1,0,4},
        {9,8,7,6,5,4,3,2,1,0}
    };
    static const uint8_t pm[8][10] = {
        {0,1,2,3,4,5,6,7,8,9}, {1,5,7,6,2,8,3,0,9,4}, {5,8,0,3,7,9,6,1,4,2},
        {8,9,1,6,0,4,3,5,2,7}, {9,4,5,3,1,2,6,8,7,0}, {4,2,8,6,5,7,3,9,0,1},
        {2,7,9,3,8,0,6,4,1,5}, {7,0,4,6,9,1,3,2,5,8}
    };
    uint8_t d[12];
    int c = 0, pal = 1;

    if (digits_with_seps(p, n, " -", d, 12) != 12 || d[0] < 2 ||
        (memchr(p, ' ', n) && memchr(p, '-', n)))
        return 0;
    for (int i = 0; i < 6; i++)
        pal &= d[i] == d[11 - i];
    if (pal)
        return 0;
    for (int i = 0; i < 12; i++)
        c = dm[c][pm[i % 8][d[11 - i]]];
    return c == 0;
}

/* Singapore NRIC / FIN: S T F G, seven digits, check letter (the M
 * series of 2022 has a check letter of its own, not handled: not
 * matched). */
int sl_valid_sg_nric(const uint8_t *p, size_t n)
{
    static const uint8_t w[7] = { 2, 7, 6, 5, 4, 3, 2 };
    static const char st[] = "JZIHGFEDCBA", fg[] = "XWUTRQPNMLK";
    uint8_t d[7];
    unsigned sum;

    if (n != 9 || !strchr("STFG", p[0]) || !p[0] || !is_upper(p[8]) ||
        digits_skip(p + 1, 7, "", d, 7) != 7)
        return 0;
    sum = weighted(d, w, 7);
    if (p[0] == 'T' || p[0] == 'G')
        sum += 4;
    return (uint8_t)(p[0] == 'S' || p[0] == 'T' ? st : fg)[sum % 11] == p[8];
}

/* Korean resident registration number YYMMDD-SBBBBNC: a real date, the
 * seventh digit 1-8, check digit (11 - weighted sum mod 11) mod 10.
 * Numbers issued since October 2020 carry random digits instead: those
 * pass on structure alone only with a context word (the rule's job). */
int sl_valid_kr_rrn(const uint8_t *p, size_t n)
{
    static const uint8_t w[12] = { 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5 };
    uint8_t d[13];
    int month, day;

    if (digits_skip(p, n, "-", d, 13) != 13)
        return 0;
    if (n == 14 && p[6] != '-')
        return 0;
    month = d[2] * 10 + d[3];
    day = d[4] * 10 + d[5];
    if (month < 1 || month > 12 || day < 1 || day > 31 || d[6] < 1 || d[6] > 8)
        return 0;
    return (11 - weighted(d, w, 12) % 11) % 10 == d[12];
}

/* Thai national id: 13 digits (1-4-5-2-1 groups allowed), first 1-8,
 * check digit (11 - weighted sum mod 11) mod 10. */
int sl_valid_th_tnin(const uint8_t *p, size_t n)
{
    static const uint8_t w[12] = { 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2 };
    uint8_t d[13];

    if (digits_with_seps(p, n, " -", d, 13) != 13 || d[0] < 1 || d[0] > 8)
        return 0;
    return (11 - weighted(d, w, 12) % 11) % 10 == d[12];
}

/* Italian partita IVA: 11 digits (optionally after "IT"), Luhn-style
 * check digit. */
int sl_valid_it_vat(const uint8_t *p, size_t n)
{
    uint8_t d[11];
    unsigned sum = 0;

    if (n == 13 && p[0] == 'I' && p[1] == 'T') {      /* the EU VAT form */
        p += 2;
        n -= 2;
    }
    if (digits_skip(p, n, "", d, 11) != 11 || all_same(d, 11))
        return 0;
    for (int i = 0; i < 10; i++) {
        unsigned v = d[i];

        if (i & 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return (10 - sum % 10) % 10 == d[10];
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
ADAPT(v_card, sl_valid_payment_card)
ADAPT(v_phone_nat, sl_valid_phone_national)
ADAPT(v_aba, sl_valid_aba_routing)
ADAPT(v_itin, sl_valid_us_itin)
ADAPT(v_nhs, sl_valid_uk_nhs)
ADAPT(v_dea, sl_valid_dea)
ADAPT(v_es_nif, sl_valid_es_nif)
ADAPT(v_it_cf, sl_valid_it_fiscal_code)
ADAPT(v_it_vat, sl_valid_it_vat)
ADAPT(v_pesel, sl_valid_pl_pesel)
ADAPT(v_hetu, sl_valid_fi_hetu)
ADAPT(v_de_tax, sl_valid_de_tax_id)
ADAPT(v_abn, sl_valid_au_abn)
ADAPT(v_acn, sl_valid_au_acn)
ADAPT(v_tfn, sl_valid_au_tfn)
ADAPT(v_medicare, sl_valid_au_medicare)
ADAPT(v_aadhaar, sl_valid_in_aadhaar)
ADAPT(v_nric, sl_valid_sg_nric)
ADAPT(v_rrn, sl_valid_kr_rrn)
ADAPT(v_tnin, sl_valid_th_tnin)
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
    { "payment_card", v_card,          0 },
    { "phone_national", v_phone_nat,   0 },
    { "aba_routing", v_aba,            0 },
    { "us_itin",     v_itin,           0 },
    { "uk_nhs",      v_nhs,            0 },
    { "dea",         v_dea,            0 },
    { "es_nif",      v_es_nif,         0 },
    { "it_fiscal_code", v_it_cf,       0 },
    { "it_vat",      v_it_vat,         0 },
    { "pl_pesel",    v_pesel,          0 },
    { "fi_hetu",     v_hetu,           0 },
    { "de_tax_id",   v_de_tax,         0 },
    { "au_abn",      v_abn,            0 },
    { "au_acn",      v_acn,            0 },
    { "au_tfn",      v_tfn,            0 },
    { "au_medicare", v_medicare,       0 },
    { "in_aadhaar",  v_aadhaar,        0 },
    { "sg_nric",     v_nric,           0 },
    { "kr_rrn",      v_rrn,            0 },
    { "th_tnin",     v_tnin,           0 },
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
