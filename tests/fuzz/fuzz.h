/*
 * fuzz.h -- what the libFuzzer harnesses in tests/fuzz/ share: the entry
 * points libFuzzer calls, a check that stops the run with a message (a
 * property broken is a finding, like a crash), and a NUL-terminated copy
 * of the input for parsers that take C strings.
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test promises: abort (a libFuzzer crash, with
 * the input saved) when it does not hold. */
#define FUZZ_CHECK(cond, ...)                                              \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "fuzz: %s:%d: check failed: %s: ", __FILE__,   \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* Setup that must work (loading the built-in rules, a key): stop at once. */
#define FUZZ_SETUP(cond, what)                                             \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "fuzz: setup failed: %s\n", (what));          \
            exit(2);                                                       \
        }                                                                  \
    } while (0)

/* The input as a C string (cut at its first NUL, as a C caller would see
 * it); malloc'd, NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* 1 when [p, p+n) is valid UTF-8 (strict: no overlongs, no surrogates). */
static inline int fuzz_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = p[i];
        size_t k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 2, cp = c & 0x1Fu;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 3, cp = c & 0x0Fu;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4, cp = c & 0x07u;
        else
            return 0;
        if (n - i < k)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3Fu);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k;
    }
    return 1;
}

#endif
