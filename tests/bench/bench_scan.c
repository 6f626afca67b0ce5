/*
 * bench_scan.c -- throughput of the PII / secret rule engine
 * (services/scan/rules.c) with the shipped rule set: prints figures and
 * asserts nothing.
 *
 * Generates, in memory and from a fixed seed, an English-like corpus
 * (default 100 MiB): sentences from a common-word list with the numbers
 * prose carries (years, prices, percentages, times, page and order
 * numbers, version strings, ISO timestamps, ISBNs, UUIDs, git hashes) and,
 * on average every SL_BENCH_PII_EVERY bytes (default 3,400: three per
 * 10 KiB), a sentence holding one synthetic finding -- e-mail, phone, card
 * (valid Luhn), SSN, IBAN (valid mod 97), IP, MAC, NI number, date of
 * birth, Bitcoin address, AWS / GitHub / Stripe / JWT / generic secret.
 * Then, on one thread:
 *   1. the whole corpus in one sl_scan_text call (best of 5): MB/s by
 *      the wall clock and by the thread's CPU clock;
 *   2. the corpus cut into 1 KiB samples, each scanned on its own (best
 *      of 3): samples/s and MB/s;
 *   3. for scale, the first 4 MiB with SL_SCAN_EXHAUSTIVE (every rule run
 *      by PCRE2 over every byte, no prefilter): MB/s;
 *   4. the scan stage's whole decision (sl_scan_decide), 1 KiB and 1 MiB
 *      samples: samples/s and the outcomes;
 *   5. the sluice-scan header's text for 1 KiB samples, as the stage
 *      writes it (sl_scan_decide_text) and as jansson dumps the decision's
 *      tree: CPU us a sample each (best of 3).  SL_BENCH_PII_EVERY=100000000
 *      gives samples without findings, the direct writer's case.
 * Also prints findings per rule and how many start offsets PCRE2 was
 * allowed to try, as a share of bytes x rules.
 *
 * usage: bench_scan [MiB]        env: SL_BENCH_PII_EVERY
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"
#include "scan.h"

/* ---- corpus ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

static const char *const words[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he",
    "was", "for", "on", "are", "with", "as", "his", "they", "be", "at",
    "one", "have", "this", "from", "or", "had", "by", "not", "word", "but",
    "what", "some", "we", "can", "out", "other", "were", "all", "there",
    "when", "up", "use", "your", "how", "said", "an", "each", "she",
    "which", "do", "their", "time", "if", "will", "way", "about", "many",
    "then", "them", "write", "would", "like", "so", "these", "her", "long",
    "make", "thing", "see", "him", "two", "has", "look", "more", "day",
    "could", "go", "come", "did", "number", "sound", "no", "most", "people",
    "my", "over", "know", "water", "than", "call", "first", "who", "may",
    "down", "side", "been", "now", "find", "any", "new", "work", "part",
    "take", "get", "place", "made", "live", "where", "after", "back",
    "little", "only", "round", "man", "year", "came", "show", "every",
    "good", "me", "give", "our", "under", "name", "very", "through", "just",
    "form", "sentence", "great", "think", "say", "help", "low", "line",
    "differ", "turn", "cause", "much", "mean", "before", "move", "right",
    "boy", "old", "too", "same", "tell", "does", "set", "three", "want",
    "air", "well", "also", "play", "small", "end", "put", "home", "read",
    "hand", "port", "large", "spell", "add", "even", "land", "here", "must",
    "big", "high", "such", "follow", "act", "why", "ask", "men", "change",
    "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build",
    "self", "earth", "father", "head", "stand", "own", "page", "should",
    "country", "found", "answer", "school", "grow", "study", "still",
    "learn", "plant", "cover", "food", "sun", "four", "between", "state",
    "keep", "eye", "never", "last", "let", "thought", "city", "tree",
    "cross", "farm", "hard", "start", "might", "story", "saw", "far", "sea",
    "draw", "left", "late", "run", "while", "press", "close", "night",
    "real", "life", "few", "north", "open", "seem", "together", "next",
    "white", "children", "begin", "got", "walk", "example", "ease", "paper",
    "group", "always", "music", "those", "both", "mark", "often", "letter",
    "until", "mile", "river", "car", "feet", "care", "second", "book",
    "carry", "took", "science", "eat", "room", "friend", "began", "idea",
    "fish", "mountain", "stop", "once", "base", "hear", "horse", "cut",
    "sure", "watch", "color", "face", "wood", "main", "enough", "plain",
    "girl", "usual", "young", "ready", "above", "ever", "red", "list",
    "though", "feel", "talk", "bird", "soon", "body", "dog", "family",
    "direct", "pose", "leave", "song", "measure", "door", "product",
    "black", "short", "numeral", "class", "wind", "question", "happen",
    "complete", "ship", "area", "half", "rock", "order", "fire", "south",
    "problem", "piece", "told", "knew", "pass", "since", "top", "whole",
    "king", "space", "heard", "best", "hour", "better", "true", "during",
    "hundred", "five", "remember", "step", "early", "hold", "west",
    "ground", "interest", "reach", "fast", "verb", "sing", "listen", "six",
    "table", "travel", "less", "morning", "ten", "simple", "several",
    "vowel", "toward", "war", "lay", "against", "pattern", "slow", "center",
    "love", "person", "money", "serve", "appear", "road", "map", "rain",
    "rule", "govern", "pull", "cold", "notice", "voice", "unit", "power",
    "town", "fine", "certain", "fly", "fall", "lead", "cry", "dark",
    "machine", "note", "wait", "plan", "figure", "star", "box", "noun",
    "field", "rest", "correct", "able", "pound", "done", "beauty", "drive",
    "stood", "contain", "front", "teach", "week", "final", "gave", "green",
    "quick", "develop", "ocean", "warm", "free", "minute", "strong",
    "special", "mind", "behind", "clear", "tail", "produce", "fact",
    "street", "inch", "multiply", "nothing", "course", "stay", "wheel",
    "full", "force", "blue", "object", "decide", "surface", "deep", "moon",
    "island", "foot", "system", "busy", "test", "record", "boat", "common",
    "gold", "possible", "plane", "stead", "dry", "wonder", "laugh",
    "thousand", "ago", "ran", "check", "game", "shape", "equate", "hot",
    "miss", "brought", "heat", "snow", "tire", "bring", "yes", "distant",
    "fill", "east", "paint", "language", "among", "London", "Monday",
    "Paris", "John", "Mary", "Google", "America", "English", "Europe",
    "January", "Smith", "Company", "Street", "University", "Council",
    "access", "password", "key", "token", "private", "client", "secret",
    "author", "keyboard", "monkey", "authority", "clients", "privately",
    "secretary", "passwords", "keys", "tokens", "email", "at", "@", "+",
};

#define NWORDS (sizeof(words) / sizeof(words[0]))

typedef struct corpus {
    char *p;
    size_t n, cap;
} corpus;

static void put(corpus *c, const char *s, size_t n)
{
    if (c->n + n > c->cap)
        n = c->cap - c->n;
    memcpy(c->p + c->n, s, n);
    c->n += n;
}

static void puts_(corpus *c, const char *s) { put(c, s, strlen(s)); }

static void putf(corpus *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(corpus *c, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(c, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

static void rand_chars(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet);

    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[rn((unsigned)k)];
    out[n] = '\0';
}

/* A number the way prose carries them. */
static void put_number(corpus *c)
{
    static const char hex[] = "0123456789abcdef";
    char b[64];

    /* Mostly the numbers of prose; about one in six a near-miss a scanner
     * must not report (order numbers, versions, timestamps, ISBNs, epoch
     * millis, UUIDs, git hashes, section numbers). */
    unsigned k = rn(60);

    if (k < 12) {
        putf(c, "%u", 1900 + rn(130));
        return;
    }
    if (k < 24) {
        putf(c, "%u", rn(100));
        return;
    }
    switch (k) {
    case 24: case 25: case 26: case 27: putf(c, "%u.%u%%", rn(100), rn(10)); break;
    case 28: case 29: case 30: case 31: putf(c, "$%u.%02u", rn(500), rn(100)); break;
    case 32: case 33: case 34: putf(c, "%u:%02u", 1 + rn(12), rn(60)); break;
    case 35: case 36: case 37: putf(c, "page %u", 1 + rn(400)); break;
    case 38: case 39: case 40: putf(c, "%u,%03u", 1 + rn(999), rn(1000)); break;
    case 41: case 42: putf(c, "%u km", rn(1000)); break;
    case 43: case 44: putf(c, "%u-%u", 1 + rn(50), 51 + rn(50)); break;
    case 45: case 46: putf(c, "(%u) %u", rn(10), rn(1000)); break;
    case 47: putf(c, "order #%u", 100000 + rn(900000000)); break;
    case 48: putf(c, "version %u.%u.%u", rn(10), rn(20), rn(50)); break;
    case 49: putf(c, "v%u.%u.%u.%u", rn(10), rn(10), rn(10), rn(100)); break;
    case 50: putf(c, "20%02u-%02u-%02u %02u:%02u:%02u", rn(30), 1 + rn(12),
                  1 + rn(28), rn(24), rn(60), rn(60)); break;
    case 51: putf(c, "ISBN 978-0-%03u-%05u-%u", rn(1000), rn(100000), rn(10)); break;
    case 52: putf(c, "%llu", 1600000000000ull + rnd() % 100000000000ull); break;
    case 53:
        rand_chars(b, 32, hex);
        putf(c, "%.8s-%.4s-%.4s-%.4s-%.12s", b, b + 8, b + 12, b + 16, b + 20);
        break;
    case 54: rand_chars(b, 40, hex); puts_(c, b); break;
    case 55: putf(c, "section %u.%u.%u.%u", rn(9), rn(9), rn(9), rn(9)); break;
    case 56: putf(c, "%u.%u", rn(100), rn(100)); break;
    default: putf(c, "%u", rn(10000)); break;
    }
}

static void luhn_fill(char *d, size_t n)   /* n digits, last = check */
{
    int sum = 0;

    for (size_t i = 0; i + 1 < n; i++) {
        int v = d[n - 2 - i] - '0';

        if (!(i & 1)) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    d[n - 1] = (char)('0' + (10 - sum % 10) % 10);
}

static void put_finding(corpus *c)
{
    static const char *const first[] = { "john", "mary", "li", "fatima",
                                         "pierre", "anna", "raj", "olu" };
    static const char *const dom[] = { "example.com", "mail.example.org",
                                       "corp.example.net", "uni.example.ac.uk" };
    char b[128];
    unsigned k = rn(16);

    switch (k) {
    case 0:
        putf(c, "Write to %s.%s%u@%s for details. ", first[rn(8)],
             first[rn(8)], rn(100), dom[rn(4)]);
        break;
    case 1:
        putf(c, "Call +44 20 7946 %04u or (%u) 555-%04u today. ", rn(10000),
             200 + rn(800), rn(10000));
        break;
    case 2:
        memcpy(b, "4", 1);
        for (int i = 1; i < 16; i++)
            b[i] = (char)('0' + rn(10));
        luhn_fill(b, 16);
        putf(c, "Card %.4s %.4s %.4s %.4s was charged. ", b, b + 4, b + 8, b + 12);
        break;
    case 3:
        putf(c, "Her SSN is %03u-%02u-%04u. ", 1 + rn(665), 1 + rn(99),
             1 + rn(9999));
        break;
    case 4: {
        /* DE IBAN with a correct check: 98 - (BBAN + "1314" + "00") mod 97 */
        char bban[19];
        unsigned rem = 0;

        for (int i = 0; i < 18; i++)
            bban[i] = (char)('0' + rn(10));
        bban[18] = '\0';
        for (int i = 0; i < 18; i++)
            rem = (rem * 10 + (unsigned)(bban[i] - '0')) % 97;
        rem = (rem * 100 + 13) % 97;
        rem = (rem * 100 + 14) % 97;
        rem = (rem * 100) % 97;
        putf(c, "Pay to IBAN DE%02u %.4s %.4s %.4s %.4s %.2s please. ",
             98 - rem, bban, bban + 4, bban + 8, bban + 12, bban + 16);
        break;
    }
    case 5:
        putf(c, "The server at 10.%u.%u.%u answered. ", rn(256), rn(256), rn(256));
        break;
    case 6:
        putf(c, "Device 00:1a:2b:%02x:%02x:%02x joined. ", rn(256), rn(256), rn(256));
        break;
    case 7:
        putf(c, "NI number AB %02u %02u %02u C on file. ", rn(100), rn(100), rn(100));
        break;
    case 8:
        putf(c, "She was born on %u %s %u. ", 1 + rn(28),
             rn(2) ? "March" : "October", 1950 + rn(50));
        break;
    case 9:
        puts_(c, "Donations: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or "
                 "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4. ");
        break;
    case 10:
        rand_chars(b, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        putf(c, "aws_access_key_id = AKIA%s\n", b);
        break;
    case 11:
        rand_chars(b, 36, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        putf(c, "export GITHUB_TOKEN=ghp_%s\n", b);
        break;
    case 12:
        puts_(c, "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                 "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                 "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n");
        break;
    case 13:
        rand_chars(b, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        putf(c, "\"db_password\": \"%s\",\n", b);
        break;
    case 14:
        rand_chars(b, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        putf(c, "STRIPE_KEY=sk_live_%s\n", b);
        break;
    default:
        putf(c, "Reach me at %s@%s or +1 415 555 %04u. ", first[rn(8)],
             dom[rn(4)], rn(10000));
        break;
    }
}

static void make_corpus(corpus *c, size_t size, size_t pii_every)
{
    size_t next_pii = pii_every / 2;

    c->p = malloc(size);
    c->cap = size;
    c->n = 0;
    if (!c->p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    while (c->n < size) {
        unsigned len = 6 + rn(16);

        for (unsigned i = 0; i < len && c->n < size; i++) {
            const char *w = words[rn(NWORDS)];
            char cap[32];

            if (rn(25) == 0) {
                put_number(c);
            } else if (i == 0) {
                snprintf(cap, sizeof(cap), "%s", w);
                if (cap[0] >= 'a' && cap[0] <= 'z')
                    cap[0] = (char)(cap[0] - 32);
                puts_(c, cap);
            } else {
                puts_(c, w);
            }
            if (i + 1 < len)
                puts_(c, rn(12) == 0 ? ", " : " ");
        }
        puts_(c, rn(8) == 0 ? ".\n\n" : ". ");
        if (c->n >= next_pii) {
            put_finding(c);
            next_pii = c->n + pii_every / 2 + rn((unsigned)pii_every);
        }
    }
}

/* ---- timing ---------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a shared machine, closer to "per core". */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define REPS 5

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100;
    const char *pe = getenv("SL_BENCH_PII_EVERY");
    size_t pii_every = pe ? (size_t)strtoul(pe, NULL, 10) : 3400;
    sl_rules *rules;
    sl_scanner *sc;
    sl_findings f;
    sl_err err;
    corpus c;
    double t0, c0, best = 1e99, best_cpu = 1e99;
    size_t nrules, total_findings = 0, *per_rule;
    sl_scan_stats st;

    if (mib == 0 || pii_every < 100) {
        fprintf(stderr, "usage: bench_scan [MiB]   (SL_BENCH_PII_EVERY >= 100)\n");
        return 2;
    }
    if (sl_rules_load_builtin(&rules, &err) != SL_OK) {
        fprintf(stderr, "bench_scan: %s\n", err.msg);
        return 1;
    }
    nrules = sl_rules_count(rules);
    per_rule = calloc(nrules, sizeof(size_t));
    sc = sl_scanner_new(rules);
    sl_findings_init(&f, 10u * 1000 * 1000);

    t0 = now_s();
    make_corpus(&c, mib << 20, pii_every);
    {
        size_t digits = 0, upper = 0;

        for (size_t i = 0; i < c.n; i++) {
            digits += c.p[i] >= '0' && c.p[i] <= '9';
            upper += c.p[i] >= 'A' && c.p[i] <= 'Z';
        }
        printf("corpus: %zu MiB generated in %.2f s, a finding planted every "
               "~%zu bytes; digits %.2f%%, capitals %.2f%% of bytes\n",
               mib, now_s() - t0, pii_every, 100.0 * (double)digits / (double)c.n,
               100.0 * (double)upper / (double)c.n);
    }
    printf("rules: %zu (version %s, sha256 %.16s...)\n", nrules,
           sl_rules_version(rules), sl_rules_hash(rules));

    /* 1. whole corpus */
    for (int rep = 0; rep < REPS; rep++) {
        double t, tc;

        t0 = now_s();
        c0 = cpu_s();
        if (sl_scan_text(sc, (const uint8_t *)c.p, c.n, &f) != SL_OK) {
            fprintf(stderr, "bench_scan: scan failed\n");
            return 1;
        }
        tc = cpu_s() - c0;
        t = now_s() - t0;
        if (t < best)
            best = t;
        if (tc < best_cpu)
            best_cpu = tc;
    }
    for (size_t i = 0; i < f.count; i++)
        per_rule[f.items[i].rule]++;
    total_findings = f.count;
    sl_scanner_stats(sc, &st);
    printf("\nwhole corpus, one call:   %8.1f MB/s wall, %.1f MB/s per CPU second "
           "(best of %d; %.3f s)\n", (double)c.n / best / 1e6,
           (double)c.n / best_cpu / 1e6, REPS, best);
    printf("  findings: %zu (%.2f per 10 KiB)%s\n", total_findings,
           (double)total_findings * 10240.0 / (double)c.n,
           f.incomplete ? "  [incomplete: match limit hit]" : "");
    printf("  PCRE2 calls %.0f per scan; start offsets tried %.4f%% of bytes x rules\n",
           (double)st.matcher_calls / REPS,
           100.0 * (double)st.start_positions / REPS / ((double)c.n * (double)nrules));
    printf("  %-24s %9s %12s %14s\n", "rule", "findings", "PCRE2 calls", "start offsets");
    for (size_t r = 0; r < nrules; r++) {
        uint64_t calls, pos;

        sl_scanner_rule_stats(sc, r, &calls, &pos);
        printf("  %-24s %9zu %12.0f %14.0f\n", sl_rules_id(rules, r), per_rule[r],
               (double)calls / REPS, (double)pos / REPS);
    }

    /* 2. 1 KiB samples */
    {
        size_t ns = c.n / 1024, found = 0;
        double t = 1e99, tc = 1e99;

        for (int rep = 0; rep < 3; rep++) {
            double w0 = now_s(), k0 = cpu_s(), w, k;

            found = 0;
            for (size_t i = 0; i < ns; i++) {
                if (sl_scan_text(sc, (const uint8_t *)c.p + i * 1024, 1024, &f) != SL_OK) {
                    fprintf(stderr, "bench_scan: scan failed\n");
                    return 1;
                }
                found += f.count;
            }
            k = cpu_s() - k0;
            w = now_s() - w0;
            if (w < t)
                t = w;
            if (k < tc)
                tc = k;
        }
        printf("\n1 KiB samples, one call each: %9.0f samples/s wall, %.0f per CPU "
               "second (best of 3; %.1f MB/s, %zu samples, %.2f us each, %zu findings)\n",
               (double)ns / t, (double)ns / tc, (double)ns * 1024.0 / t / 1e6, ns,
               t / (double)ns * 1e6, found);
    }

    /* 3. no prefilter, for scale */
    {
        sl_scanner *ex = sl_scanner_new(rules);
        size_t n = c.n < (4u << 20) ? c.n : (4u << 20);
        double t;

        sl_findings g;
        int same;

        sl_findings_init(&g, f.max);
        sl_scanner_set_flags(ex, SL_SCAN_EXHAUSTIVE);
        t0 = now_s();
        sl_scan_text(ex, (const uint8_t *)c.p, n, &f);
        t = now_s() - t0;
        sl_scan_text(sc, (const uint8_t *)c.p, n, &g);
        same = f.count == g.count &&
               memcmp(f.items, g.items, f.count * sizeof(sl_finding)) == 0;
        printf("\nno prefilter (SL_SCAN_EXHAUSTIVE), first %zu MiB: %.1f MB/s, "
               "%zu findings (%s the prefiltered scan's)\n", n >> 20,
               (double)n / t / 1e6, f.count, same ? "identical to" : "DIFFERENT from");
        sl_findings_free(&g);
        sl_scanner_destroy(ex);
    }

    /* 4. the scan stage's whole decision per sample (sl_scan_decide: file
     *    type, text extraction, rules, the dataset policy, the findings
     *    summary), as the processor makes it, without Kafka */
    {
        sl_config *cfg = sl_config_new();
        sl_scan *stage = NULL;
        sl_scan_report rep;
        size_t sizes[2] = { 1024, 1u << 20 };

        if (!cfg || sl_config_declare(cfg, sl_scan_config) != SL_OK ||
            sl_scan_new(&stage, cfg, NULL, &err) != SL_OK) {
            fprintf(stderr, "bench_scan: scan stage: %s\n", err.msg);
            return 1;
        }
        sl_scan_report_init(&rep);
        for (int k = 0; k < 2; k++) {
            size_t ns = c.n / sizes[k], counts[4] = { 0 };
            double w0 = now_s(), k0 = cpu_s(), w, kc;
            for (size_t i = 0; i < ns; i++) {
                sl_slice one = { (const uint8_t *)c.p + i * sizes[k], sizes[k] };
                if (sl_scan_decide(stage, one, "text/plain", NULL, NULL, &rep) != SL_OK) {
                    fprintf(stderr, "bench_scan: decide failed\n");
                    return 1;
                }
                counts[rep.outcome[0] == 'a' ? 0 : rep.outcome[0] == 'r' &&
                       rep.outcome[2] == 'd' ? 1 : rep.outcome[0] == 'f' ? 2 : 3]++;
            }
            kc = cpu_s() - k0;
            w = now_s() - w0;
            printf("\nscan stage decision, %s samples: %9.0f samples/s wall, %.0f per "
                   "CPU second, %.1f MB/s (%.2f us each; accepted %zu, redacted %zu, "
                   "flagged %zu, rejected %zu)\n", k ? "1 MiB" : "1 KiB",
                   (double)ns / w, (double)ns / kc, (double)ns * (double)sizes[k] / w / 1e6,
                   w / (double)ns * 1e6, counts[0], counts[1], counts[2], counts[3]);
        }
        /* 5. the sluice-scan header's text for 1 KiB samples: the tree
         *    dumped by jansson (the stage before), against the stage's
         *    path now (sl_scan_decide_text: written directly when a
         *    sample lists no findings); best of 3 each, alternated */
        {
            size_t ns = c.n / 1024, bytes[2] = { 0, 0 };
            double fastest[2] = { 0, 0 };

            for (int round = 0; round < 3; round++) {
                for (int mode = 0; mode < 2; mode++) {
                    double k0 = cpu_s(), kc;
                    bytes[mode] = 0;
                    for (size_t i = 0; i < ns; i++) {
                        sl_slice one = { (const uint8_t *)c.p + i * 1024, 1024 };
                        char *text;
                        int rc = mode ? sl_scan_decide_text(stage, one, "text/plain",
                                                            NULL, NULL, NULL, &rep)
                                      : sl_scan_decide(stage, one, "text/plain",
                                                       NULL, NULL, &rep);
                        if (rc != SL_OK) {
                            fprintf(stderr, "bench_scan: decide failed\n");
                            return 1;
                        }
                        text = mode ? rep.summary_text
                                    : json_dumps(rep.summary, JSON_COMPACT |
                                                 JSON_REAL_PRECISION(4));
                        if (!text) {
                            fprintf(stderr, "bench_scan: no summary text\n");
                            return 1;
                        }
                        bytes[mode] += strlen(text);
                        if (!mode)
                            free(text);
                    }
                    kc = (cpu_s() - k0) / (double)ns * 1e6;
                    if (round == 0 || kc < fastest[mode])
                        fastest[mode] = kc;
                }
            }
            printf("\nthe sluice-scan header's text, 1 KiB samples (CPU, best of 3): "
                   "decided as a tree and dumped by jansson %.2f us a sample, "
                   "sl_scan_decide_text %.2f us (%.2f us less; %s text)\n",
                   fastest[0], fastest[1], fastest[0] - fastest[1],
                   bytes[0] == bytes[1] ? "the same length of" : "DIFFERENT");
        }
        sl_scan_report_free(&rep);
        sl_scan_destroy(stage);
        sl_config_destroy(cfg);
    }

    sl_findings_free(&f);
    sl_scanner_destroy(sc);
    sl_rules_destroy(rules);
    free(per_rule);
    free(c.p);
    return 0;
}
