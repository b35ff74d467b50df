/* SPDX-License-Identifier: MIT */
/*
 * "Did you mean ...?": the candidate closest to a misspelt word.
 * Owns: nothing.
 */
#ifndef READYD_SUGGEST_H
#define READYD_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance of a and b, or INT_MAX when one is over 64 bytes. */
int suggest_distance(const char *a, const char *b);

/*
 * The candidate closest to word: edit distance at most 2 (and less than
 * the candidate's length), else the first candidate word is a prefix of
 * (for words of 2 bytes or more). NULL entries of cands are skipped.
 * Returns one of cands (borrowed), or NULL when none is close.
 */
const char *suggest(const char *word, const char *const *cands, size_t n);

#endif /* READYD_SUGGEST_H */
