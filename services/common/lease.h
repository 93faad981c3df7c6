/* lease.h: which copy of a service is the active one.
 *
 * Several copies of a service may run (on one host or several); one holds
 * the lease of its name in the table service_lease and does the work, the
 * others stand by. The holder renews the lease every third of its length;
 * a standby takes it over once it has expired, so a copy that dies or stops
 * (kill -9, SIGSTOP, a frozen host) is replaced within one lease length.
 * Fencing: before each commit of its work the holder calls lease_fence in
 * that transaction; a copy that has lost its lease without noticing (it was
 * stopped) is refused there and commits nothing. */
#ifndef RECTIFY_LEASE_H
#define RECTIFY_LEASE_H

#include "db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lease_t lease_t;

/* A lease named name for this process; endpoint (may be "") is where this
 * copy listens, published to senders while it holds the lease. Strings are
 * copied. NULL when out of memory. Takes nothing yet: see lease_tick. */
lease_t *lease_new(db_t *db, const char *name, const char *endpoint, int lease_ms);
/* Gives the lease up (when held: a standby may take it at once) and frees it. */
void lease_destroy(lease_t **self_p);

/* Renews the lease, or tries to take it, when that is due. Returns whether
 * this process holds it now. Logs each change of hands once. */
bool lease_tick(lease_t *self, int64_t now_ms);
bool lease_held(const lease_t *self);
/* Milliseconds until lease_tick has something to do. */
int64_t lease_due_in(const lease_t *self, int64_t now_ms);

/* The fencing check, inside the caller's open transaction: RC_OK when the
 * lease is still this process's and unexpired, and then renewed with that
 * transaction (the row stays locked until it ends); RC_ERR_STATE when it is
 * not (then this process stands by), RC_ERR_DB on a database failure. */
int lease_fence(lease_t *self);

/* lease_fence for a callback taking void * (inbox_opts_t.fence). */
int lease_fence_cb(void *lease);

/* The endpoint of the live holder of lease name, into out; "" when nobody
 * holds it or it published none. Returns 0 or RC_ERR_DB. */
int lease_endpoint(db_t *db, const char *name, char *out, size_t outlen);

#endif
