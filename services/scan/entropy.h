/*
 * entropy.h -- the generic secret detector's validator: is a value that
 * follows a secret-sounding keyword random enough to be a credential, as
 * gitleaks' generic-api-key and detect-secrets' high-entropy plugins
 * judge it, rather than a word, an identifier or a placeholder?
 *
 * Pure function of the candidate bytes (validators.h's contract).
 */
#ifndef SL_SCAN_ENTROPY_H
#define SL_SCAN_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

/* secret_entropy: 1 when p[0..n) looks like a generated secret:
 *   - no placeholder: none of "xxxx", "example", "placeholder",
 *     "changeme", "your", "dummy", "sample", "redacted", "fake", "test"
 *     (any case), nor "${", "{{", "<", "%s", "..." (templates, elisions),
 *     nor a variable's reference ("$NAME", "$(", "$_");
 *   - not an identifier, a file name or a path: a name ending in '.' and
 *     1-4 lower-case letters, lower-case words and digits joined by two
 *     or more '_', or a value without a digit that joins words with '.',
 *     '_', '/' or '-';
 *   - at least two of lower case, upper case and digits (a hex digest
 *     counts: digits and letters; without a digit, two capitals at
 *     least, so "Authorization" is a word), and no run of 4 identical
 *     bytes;
 *   - Shannon entropy (sl_entropy) at least the threshold: min_bits for
 *     the base64 / token alphabets, min_bits * 0.75 for all-hex values
 *     (16 symbols carry at most 4 bits), and never more than 0.85 of
 *     log2(n) (a 20-byte value cannot reach 4.5 bits per byte). */
int sl_valid_secret_entropy(const uint8_t *p, size_t n, double min_bits);

#endif
