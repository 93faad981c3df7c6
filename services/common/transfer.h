/* transfer.h: the delivery contract between two services.
 *
 * Sender side, the outbox pump: rows committed by outbox_put (in the same
 * transaction as the effect that caused them) are sent in Batch messages over
 * a DEALER socket; the receiver answers BatchAck with the highest sequence it
 * has applied, and the pump records it and forgets those rows. What is not
 * acknowledged within resend_timeout_ms, or when the pump (re)starts, is sent
 * again. One pump per destination is active at a time (the holder of the
 * lease "pump:DEST", see lease.h), so several copies of a service may run; it
 * sends to the copy of the receiver that holds the receiver's lease.
 *
 * Receiver side, the inbox: a Batch is applied in transactions of at most
 * 128 items, each together with the cursor of the highest applied sequence. A sequence at or below
 * the cursor is a repeat and is skipped; one past cursor + 1 (a gap, after a receiver crash lost
 * earlier frames) stops the batch there and is reported, so the sender re-sends in order.
 * Effectively once, in order.
 *
 * Refused, not failed: when the database refuses one item's data (SQLSTATE
 * classes 22, 23), the batch is rolled back and applied again with that item
 * refused (opts->refuse records why) or, for a consumer without refusals,
 * quarantined; the rest of the batch goes on. An item that fails for another
 * reason (not the connection) quarantine_after times in a row is quarantined:
 * stored in dead_event with its SQLSTATE, skipped, and requeued later by an
 * operator (rectifyctl requeue). Connection and server failures are only
 * retried: they say nothing about the data. So one item can hold the others
 * back for at most quarantine_after tries. */
#ifndef RECTIFY_TRANSFER_H
#define RECTIFY_TRANSFER_H

#include "db.h"
#include "rectify.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct outbox_pump_t outbox_pump_t;

typedef struct {
    const char *source;   /* this service, e.g. "intake" */
    const char *dest;     /* outbox destination, e.g. "workflow" */
    const char *endpoint; /* where the receiver listens */
    int batch_max;
    int window; /* most rows in flight */
    int resend_timeout_ms;
    int poll_interval_ms;
    int lease_ms; /* the pump's lease (one pump per destination sends) */
} pump_opts_t;

/* Creates the pump with its connected DEALER socket. The strings in opts must
 * outlive the pump. NULL on failure. */
outbox_pump_t *outbox_pump_new(db_t *db, void *zmq_ctx, const pump_opts_t *opts);
void outbox_pump_destroy(outbox_pump_t **self_p);
/* The socket to include in zmq_poll (ZMQ_POLLIN: acknowledgements). It
 * changes when the pump resets its connection: ask again before each poll. */
void *outbox_pump_socket(outbox_pump_t *self);
/* Says that this process has just committed outbox rows: send without waiting
 * for the next poll interval. */
void outbox_pump_kick(outbox_pump_t *self);
/* True when the pump has more to send right now: the service's loop should
 * not sleep before its next tick. */
bool outbox_pump_busy(const outbox_pump_t *self);
/* Reads the acknowledgements waiting on the socket. */
int outbox_pump_on_readable(outbox_pump_t *self, int64_t now_ms);
/* Sends what is new, re-sends after the timeout, retries leadership. */
int outbox_pump_tick(outbox_pump_t *self, int64_t now_ms);
/* Rows sent and not yet acknowledged by the receiver. */
int64_t outbox_pump_in_flight(const outbox_pump_t *self);
/* At shutdown: reads acknowledgements until nothing is in flight or
 * timeout_ms has passed; what stays unacknowledged is sent again by the next
 * start. Returns the rows still in flight. */
int64_t outbox_pump_drain(outbox_pump_t *self, int timeout_ms);

/* Called for each new item of a batch inside the receiver's transaction.
 * Return 0 to go on; a negative rc rolls the whole batch back (not acked). */
typedef int (*inbox_apply_fn)(void *arg, const Rectify__Transfer *item);
typedef enum {
    INBOX_BEGIN,    /* a batch starts: forget what the last one accumulated */
    INBOX_FLUSH,    /* before commit: write what apply accumulated */
    INBOX_COMMITTED /* after commit: log, wake pumps */
} inbox_phase_t;
/* Called at each phase of a batch that applies at least one new item
 * (INBOX_BEGIN for every batch). May be NULL. */
typedef int (*inbox_batch_fn)(void *arg, inbox_phase_t phase);

/* Records, inside the batch's transaction, that the database refused the
 * item's data (sqlstate, error). Return 0, or a negative rc. */
typedef int (*inbox_refuse_fn)(void *arg, const Rectify__Transfer *item, const char *sqlstate,
                               const char *error);

#define INBOX_KNOWN_SOURCES 4
/* Batch frames a receiver queues unread: a bound on its memory while it is
 * slow or stopped (the sender's frames then wait, or are sent again). */
#define INBOX_MAX_QUEUED 32

typedef struct {
    const char *consumer; /* this service, e.g. "workflow" */
    inbox_apply_fn apply;
    inbox_batch_fn batch;
    inbox_refuse_fn refuse; /* may be NULL: refused data is quarantined */
    void *arg;
    size_t max_frame;     /* larger Batch frames are dropped (logged) */
    int quarantine_after; /* tries of an item failing for other reasons */
    /* The item that failed last, and how often in a row (kept between batches). */
    struct {
        char source[32];
        int64_t seq;
        int count;
    } failing;
    /* The highest sequence known applied, per source (kept between batches):
     * a batch of repeats only is answered without a transaction. */
    struct {
        char source[32];
        int64_t through;
    } known[INBOX_KNOWN_SOURCES];
    /* Called, when not NULL, with fence_arg just before each commit: a
     * negative rc rolls the batch back (the standby fencing check). */
    int (*fence)(void *fence_arg);
    void *fence_arg;
} inbox_opts_t;

/* Applies one Batch as described above. *applied_through and *gap are the
 * acknowledgement to send. Returns 0, or a negative rc (nothing committed). */
int inbox_apply_batch(db_t *db, inbox_opts_t *opts, const Rectify__Batch *batch,
                      int64_t *applied_through, bool *gap);
/* Reads the Batch frames waiting on a ROUTER socket (at most max_msgs),
 * applies each and answers each sender with a BatchAck. */
int inbox_on_readable(db_t *db, void *router, inbox_opts_t *opts, int max_msgs);
/* Reads and drops the frames waiting on a socket (at most max_msgs): what a
 * standby copy does with frames sent to it; their senders get no answer and
 * send again to the active copy. */
void inbox_discard(void *router, int max_msgs);

#endif
