/* pump_thread.h: an outbox pump (transfer.h) in a thread of its own, with a
 * database connection of its own, so that a service's answers never wait
 * behind what it sends on: intake acknowledges events while its pump reads,
 * sends and records acknowledgements in parallel. */
#ifndef RECTIFY_PUMP_THREAD_H
#define RECTIFY_PUMP_THREAD_H

#include "transfer.h"

#include <stdint.h>

typedef struct pump_thread_t pump_thread_t;

/* Starts the thread; it connects to the database at conninfo (waiting, with
 * back-off, while the database is away) and runs the pump with opts. The
 * strings of opts and conninfo must outlive the thread. NULL on failure. */
pump_thread_t *pump_thread_start(const char *conninfo, void *zmq_ctx, const pump_opts_t *opts);
/* Says that this process has just committed outbox rows (never blocks). */
void pump_thread_kick(pump_thread_t *self);
/* Waits up to drain_timeout_ms for what is in flight to be acknowledged,
 * stops the thread and frees everything. Returns the rows still in flight
 * (sent again by the next start). Safe on NULL. */
int64_t pump_thread_stop(pump_thread_t **self_p, int drain_timeout_ms);

#endif
