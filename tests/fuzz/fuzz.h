/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: libFuzzer's entry points, a reader that
 * takes fields out of the fuzzer's bytes, and output validators.
 * Owns: struct fuzz_in.
 */
#ifndef READYD_FUZZ_H
#define READYD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry points; tests/fuzz/regress.c calls them too. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print why to stderr and abort(): the fuzzer records a crash. */
void
fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The fuzzer's bytes, consumed front to back. */
struct fuzz_in {
	const uint8_t *p; /* borrowed: what is left */
	size_t n;	  /* bytes left */
};

/* The next byte, 0 once the input is used up. */
uint8_t fuzz_byte(struct fuzz_in *in);

/* The next four bytes, little-endian, zeros past the end. */
uint32_t fuzz_u32(struct fuzz_in *in);

/*
 * The bytes up to the next FUZZ_SEP (or the end) as a new NUL-terminated
 * string; an embedded NUL ends the C string early. Never NULL: aborts
 * when out of memory.
 */
#define FUZZ_SEP 0xff
char *fuzz_field(struct fuzz_in *in);

/* A new NUL-terminated copy of n bytes of d; aborts when out of memory. */
char *fuzz_strndup(const uint8_t *d, size_t n);

/*
 * Whether s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 */
bool fuzz_utf8_valid(const char *s, size_t n);

/*
 * Check the Prometheus text exposition format (0.0.4) line by line:
 * "# HELP name text", "# TYPE name kind", or one sample per line: a
 * metric name, optional {label="value",...} with only \\, \" and \n
 * escapes and no label twice, a space, a value, an optional timestamp.
 * With utf8, the whole text must be UTF-8 too. Returns 0, or -1 with
 * why filled (line number and problem).
 */
int fuzz_prom_check(
    const char *text, size_t len, bool utf8, char *why, size_t whylen);

#endif /* READYD_FUZZ_H */
