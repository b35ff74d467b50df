/* SPDX-License-Identifier: MIT */
/*
 * PQconnectPoll() steps that do cryptography, on worker threads (see
 * pgpoll.h). Workers touch nothing of libevent: they take a job from the
 * queue under the lock, make the call, put the job on the done list and
 * write the eventfd; the loop's event on it hands the results back.
 * Owns: the workers, both queues, the eventfd and its event.
 */
#include "pgpoll.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

struct pgpoll_job {
	PGconn *conn;		      /* the caller's; ours once abandoned */
	PostgresPollingStatusType st; /* the call's result (worker) */
	struct pgpoll_job **slot;     /* the owner's pointer; NULL: abandoned */
	atomic_bool abandoned;	      /* set with slot = NULL: do not call */
	pgpoll_fn *fn;		      /* called on the loop with st */
	void *arg;
	struct pgpoll_job *next; /* in todo or done, under lock */
};

/* Process-wide: one loop thread uses it (libpq's own state is too). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;	       /* todo is not empty, or stopping */
	struct pgpoll_job *todo;       /* FIFO, under lock */
	struct pgpoll_job **todo_tail; /* under lock */
	struct pgpoll_job *done;       /* FIFO, under lock */
	struct pgpoll_job **done_tail; /* under lock */
	bool stopping;		       /* under lock */
	pthread_t threads[PGPOLL_MAX_THREADS];
	int nthreads;	    /* loop thread only */
	uint64_t steps;	    /* loop thread only: jobs submitted */
	uint64_t abandoned; /* loop thread only: ...whose owner let go */
	int efd;	    /* eventfd: a job is done */
	struct event *ev;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .todo_tail = &pool.todo,
    .done_tail = &pool.done,
    .efd = -1,
};

static void *
pgpoll_worker(void *unused)
{
	struct pgpoll_job *j;
	uint64_t one = 1;
	int prio;

	(void)unused;
	/*
	 * Behind the loop: when a worker and the loop want the same CPU, the
	 * loop's timers and HTTP answers go first. A thread's nice value is
	 * its own on Linux; raising it needs no privilege (a seccomp filter
	 * may refuse it: then the worker runs at the loop's).
	 */
	errno = 0;
	prio = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(),
		    prio + PGPOLL_NICE > 19 ? 19 : prio + PGPOLL_NICE);
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (pool.todo == NULL && !pool.stopping)
			pthread_cond_wait(&pool.wake, &pool.lock);
		if (pool.stopping) /* what is left is abandoned: not run */
			break;
		j = pool.todo;
		pool.todo = j->next;
		if (pool.todo == NULL)
			pool.todo_tail = &pool.todo;
		pthread_mutex_unlock(&pool.lock);

		/* an attempt past its deadline needs no more login */
		if (!atomic_load(&j->abandoned))
			j->st = PQconnectPoll(j->conn);

		pthread_mutex_lock(&pool.lock);
		j->next = NULL;
		*pool.done_tail = j;
		pool.done_tail = &j->next;
		/* a full counter (never, at 2^64-2) would only mean it is set */
		while (write(pool.efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* The loop: hand the finished jobs back to their owners. */
static void
pgpoll_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pgpoll_job *list, *j;
	PostgresPollingStatusType st;
	pgpoll_fn *fn;
	void *fnarg;
	uint64_t n;
	ssize_t got;

	(void)what;
	(void)arg;
	/* EAGAIN: an earlier wake-up took it; the list says what is done */
	got = read(fd, &n, sizeof(n));
	(void)got;
	pthread_mutex_lock(&pool.lock);
	list = pool.done;
	pool.done = NULL;
	pool.done_tail = &pool.done;
	pthread_mutex_unlock(&pool.lock);
	while ((j = list) != NULL) {
		list = j->next;
		if (j->slot == NULL) { /* its owner let go: close for it */
			pool.abandoned++;
			PQfinish(j->conn);
			free(j);
			continue;
		}
		/*
		 * The owner may abandon jobs still on list from its callback:
		 * that only clears their slot, so each is looked at afresh.
		 */
		*j->slot = NULL;
		fn = j->fn;
		fnarg = j->arg;
		st = j->st;
		free(j);
		fn(fnarg, st);
	}
}

int
pgpoll_start(struct event_base *base, int nthreads, char *err, size_t errlen)
{
	sigset_t all, old;
	long cpus;
	int rc;

	if (pool.nthreads > 0) {
		snprintf(err, errlen, "workers already running");
		return -1;
	}
	if (nthreads <= 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = cpus < 1
		    ? 1
		    : (int)(cpus > PGPOLL_MAX_THREADS ? PGPOLL_MAX_THREADS
						      : cpus);
	}
	if (nthreads > PGPOLL_MAX_THREADS)
		nthreads = PGPOLL_MAX_THREADS;
	pool.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool.efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	pool.ev = event_new(
	    base, pool.efd, EV_READ | EV_PERSIST, pgpoll_done_cb, NULL);
	if (pool.ev == NULL || event_add(pool.ev, NULL) != 0) {
		snprintf(err, errlen, "cannot watch the eventfd");
		pgpoll_stop();
		return -1;
	}
	pool.stopping = false;
	/* signals are the loop's (libevent's handlers): never a worker's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < nthreads; i++) {
		rc =
		    pthread_create(&pool.threads[i], NULL, pgpoll_worker, NULL);
		if (rc != 0) {
			snprintf(err, errlen,
			    "cannot start a worker thread: %s", strerror(rc));
			break;
		}
		pool.nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pool.nthreads < nthreads) {
		pgpoll_stop();
		return -1;
	}
	return 0;
}

/* Free a list of jobs left at stop. */
static void
pgpoll_drop(struct pgpoll_job *list)
{
	struct pgpoll_job *j;

	while ((j = list) != NULL) {
		list = j->next;
		if (j->slot == NULL)
			PQfinish(j->conn);
		else /* its owner still holds conn and will finish it */
			*j->slot = NULL;
		free(j);
	}
}

void
pgpoll_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < pool.nthreads; i++)
		pthread_join(pool.threads[i], NULL);
	pool.nthreads = 0;
	pgpoll_drop(pool.todo);
	pgpoll_drop(pool.done);
	pool.todo = pool.done = NULL;
	pool.todo_tail = &pool.todo;
	pool.done_tail = &pool.done;
	if (pool.ev != NULL)
		event_free(pool.ev);
	pool.ev = NULL;
	if (pool.efd >= 0)
		close(pool.efd);
	pool.efd = -1;
}

int
pgpoll_threads(void)
{
	return pool.nthreads;
}

uint64_t
pgpoll_steps(void)
{
	return pool.steps;
}

uint64_t
pgpoll_abandoned(void)
{
	return pool.abandoned;
}

int
pgpoll_submit(PGconn *conn, struct pgpoll_job **slot, pgpoll_fn *fn, void *arg)
{
	struct pgpoll_job *j;

	if (pool.nthreads == 0)
		return -1;
	switch (PQstatus(conn)) {
	case CONNECTION_SSL_STARTUP:	   /* the TLS handshake */
	case CONNECTION_GSS_STARTUP:	   /* GSSAPI encryption */
	case CONNECTION_AWAITING_RESPONSE: /* authentication: SCRAM */
		break;
	default: /* connect, startup packet, parameters: cheap */
		return -1;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -1;
	j->conn = conn;
	j->slot = slot;
	j->fn = fn;
	j->arg = arg;
	*slot = j;
	pool.steps++;
	pthread_mutex_lock(&pool.lock);
	*pool.todo_tail = j;
	pool.todo_tail = &j->next;
	pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

void
pgpoll_finish(PGconn *conn, struct pgpoll_job **slot)
{
	if (slot != NULL && *slot != NULL) {
		(*slot)->slot = NULL; /* the done callback closes conn */
		atomic_store(&(*slot)->abandoned, true);
		*slot = NULL;
		return;
	}
	PQfinish(conn);
}
