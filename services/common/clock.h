/* clock.h: the one clock every deadline, timeout and timestamp reads.
 * Tests set it to move through days in milliseconds. */
#ifndef RECTIFY_CLOCK_H
#define RECTIFY_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch: the set time if one is set, else real time. */
int64_t clock_now_ms(void);
/* Monotonic milliseconds, for timeouts inside a process; never set. */
int64_t clock_mono_ms(void);
/* The same in microseconds, for latency figures. */
int64_t clock_mono_us(void);
/* Sets the clock to ms (0 returns to real time). */
void clock_set_ms(int64_t ms);

#endif
