/* SPDX-License-Identifier: MIT */
/*
 * "Did you mean ...?" suggestions by edit distance, then by prefix.
 * Owns: nothing.
 */
#include "suggest.h"

#include <limits.h>
#include <string.h>

int
suggest_distance(const char *a, const char *b)
{
	int row[65], prev, tmp, cost;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > 64 || lb > 64)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	int bestd = 3, d;
	size_t i, wl = strlen(word);

	for (i = 0; i < n; i++) {
		if (cands[i] == NULL)
			continue;
		d = suggest_distance(word, cands[i]);
		if (d < bestd && (size_t)d < strlen(cands[i])) {
			bestd = d;
			best = cands[i];
		}
	}
	if (best != NULL || wl < 2)
		return best;
	for (i = 0; i < n; i++)
		if (cands[i] != NULL && strncmp(cands[i], word, wl) == 0)
			return cands[i];
	return NULL;
}
