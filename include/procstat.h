/* SPDX-License-Identifier: MIT */
/*
 * The process's own figures for /metrics: CPU, memory, descriptors.
 * Owns: nothing; reads them from the kernel and the allocator on request.
 */
#ifndef READYD_PROCSTAT_H
#define READYD_PROCSTAT_H

#include <stdint.h>

/* A field the kernel would not give is -1. */
struct procstat {
	double cpu_seconds;	 /* user + system time so far */
	int64_t resident_bytes;	 /* resident set size */
	int64_t virtual_bytes;	 /* address space size */
	int64_t heap_bytes;	 /* allocated and not freed (malloc) */
	int64_t open_fds;	 /* descriptors open now */
	int64_t max_fds;	 /* RLIMIT_NOFILE's soft limit */
	double start_time;	 /* when the process started, Unix time */
	int64_t login_workers;	 /* threads for PostgreSQL login steps */
	int64_t login_steps;	 /* login steps handed to them */
	int64_t login_abandoned; /* ...whose attempt ended first */
};

/*
 * Fill ps but for start_time, which never changes: the caller reads it
 * once with procstat_start_time() and sets it. open_fds counts
 * /proc/self/fd (one readdir, cost linear in the descriptors); heap_bytes
 * comes from the sanitizer's allocator when one is linked in, else from
 * glibc's mallinfo2().
 */
void procstat_read(struct procstat *ps);

/*
 * When the process started, Unix time (/proc/self/stat's starttime after
 * the boot time), or -1. Reads two /proc files: call it once.
 */
double procstat_start_time(void);

#endif /* READYD_PROCSTAT_H */
