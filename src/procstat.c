/* SPDX-License-Identifier: MIT */
/*
 * The process's own figures for /metrics, as Prometheus' client libraries
 * name them (process_*), plus the heap in use, which tells a leak from an
 * allocator that keeps freed pages (RSS only ever shows the high mark).
 * Owns: nothing.
 */
#include "procstat.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Set when AddressSanitizer's allocator replaces malloc. */
extern size_t
__sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static int64_t
procstat_heap(void)
{
	struct mallinfo2 mi;

	if (__sanitizer_get_current_allocated_bytes != NULL)
		return (int64_t)__sanitizer_get_current_allocated_bytes();
	mi = mallinfo2();
	/* uordblks: in use from the arenas; hblkhd: in mmap'ed chunks */
	return (int64_t)(mi.uordblks + mi.hblkhd);
}

static int64_t
procstat_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int64_t n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* Field 22 (starttime, in clock ticks since boot) of /proc/self/stat. */
double
procstat_start_time(void)
{
	char buf[1024], *p;
	unsigned long long ticks = 0;
	double boot = -1, uptime;
	FILE *f;
	size_t n;
	int field;

	f = fopen("/proc/self/stat", "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces: fields count from its ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1)
		return -1;
	f = fopen("/proc/uptime", "re");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%lf", &uptime) == 1) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		boot = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - uptime;
	}
	fclose(f);
	if (boot < 0)
		return -1;
	return boot + (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

void
procstat_read(struct procstat *ps)
{
	struct rusage ru;
	struct rlimit rl;
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size, resident;
	FILE *f;

	ps->cpu_seconds = -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		ps->cpu_seconds = (double)ru.ru_utime.tv_sec +
		    (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec +
		    (double)ru.ru_stime.tv_usec / 1e6;
	ps->resident_bytes = ps->virtual_bytes = -1;
	f = fopen("/proc/self/statm", "re");
	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
			ps->virtual_bytes = (int64_t)size * page;
			ps->resident_bytes = (int64_t)resident * page;
		}
		fclose(f);
	}
	ps->heap_bytes = procstat_heap();
	ps->open_fds = procstat_fds();
	ps->max_fds = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		ps->max_fds = (int64_t)rl.rlim_cur;
}
