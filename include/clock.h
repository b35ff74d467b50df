/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's clock: monotonic and wall time and one-shot timers,
 * either real (CLOCK_MONOTONIC, time(), libevent timers) or fake, moved
 * by the test that owns it (clock_advance()).
 * Owns: struct clock and struct clock_timer.
 */
#ifndef READYD_CLOCK_H
#define READYD_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

struct event_base;
struct clock;
struct clock_timer;

/* Called from the loop (or clock_advance()) when a timer falls due. */
typedef void clock_timer_fn(void *arg);

/* ms as a struct timeval; a negative ms is 0. */
struct timeval clock_tv(int64_t ms);

/* Monotonic milliseconds of the real clock. */
int64_t clock_mono_ms(void);

/* The real clock, with timers on base (borrowed). NULL when out of memory. */
struct clock *clock_new(struct event_base *base);

/*
 * A fake clock reading mono_ms and wall until clock_advance() moves it;
 * its timers run only from clock_advance(). NULL when out of memory.
 */
struct clock *clock_new_fake(int64_t mono_ms, time_t wall);

/* Free c; its timers must be freed first. NULL does nothing. */
void clock_free(struct clock *c);

int64_t clock_now_ms(const struct clock *c);
int64_t clock_now_us(const struct clock *c);
time_t clock_wall(const struct clock *c);

/* A timer that calls fn(arg) once per clock_timer_add(); NULL on ENOMEM. */
struct clock_timer *
clock_timer_new(struct clock *c, clock_timer_fn *fn, void *arg);

/* (Re)arm t to fall due delay_ms from now. */
int clock_timer_add(struct clock_timer *t, int64_t delay_ms)
    __attribute__((warn_unused_result));

/*
 * When t last fell due (monotonic microseconds): the moment of the last
 * clock_timer_add() plus its delay. Read from t's callback, it gives how
 * late the timer fired.
 */
int64_t clock_timer_due_us(const struct clock_timer *t);

/* Disarm t; a no-op when it is not armed. */
void clock_timer_del(struct clock_timer *t);

/* Disarm and free t; NULL does nothing. Safe from t's own callback. */
void clock_timer_free(struct clock_timer *t);

/*
 * Fake clocks only: move time forward by ms, running each timer that
 * falls due on the way, earliest first (armed first on a tie), with the
 * clock reading its due time.
 */
void clock_advance(struct clock *c, int64_t ms);

/*
 * Fake clocks only: from now on, clock_advance() runs each timer late_ms
 * after it falls due (the clock reading due + late_ms), as a busy loop
 * would; for tests of the scheduling lag.
 */
void clock_set_late(struct clock *c, int64_t late_ms);

#endif /* READYD_CLOCK_H */
