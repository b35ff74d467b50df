/* SPDX-License-Identifier: MIT */
/*
 * Replay files through a fuzz target without libFuzzer: each argument is
 * a file or a directory of inputs (names starting with "." or README
 * skipped). Built with the ordinary compiler, so every CI runs the
 * crashes the fuzzers once found. A crash aborts the run.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
regress_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((data = realloc(data, cap)) == NULL)
				fuzz_fail("out of memory");
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

static int
regress_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every file of dir in name order; returns how many, or -1. */
static long
regress_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	long count = 0;

	if (d == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				fuzz_fail("out of memory");
		}
		if ((names[n++] = strdup(e->d_name)) == NULL)
			fuzz_fail("out of memory");
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), regress_name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (count >= 0 && regress_file(path) < 0)
			count = -1;
		else if (count >= 0)
			count++;
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	long total = 0;
	int failed = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		n = S_ISDIR(st.st_mode) ? regress_dir(argv[i])
					: (regress_file(argv[i]) < 0 ? -1 : 1);
		if (n < 0)
			failed++;
		else
			total += n;
	}
	printf(
	    "%s: %ld inputs replayed, %d unreadable\n", argv[0], total, failed);
	return failed ? 1 : 0;
}
