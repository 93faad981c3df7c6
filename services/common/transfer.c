/* transfer.c: outbox pump (sender) and inbox (receiver). */
#include "transfer.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "lease.h"
#include "log.h"
#include "text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ROUTE_CHECK_MS 500
#define GAP_REWIND_MIN_MS 500
#define INBOX_TX_ITEMS 128 /* most items applied in one transaction */

struct outbox_pump_t {
    db_t *db;
    void *ctx;
    void *sock;
    int timeouts;       /* resend timeouts in a row, since the last acknowledgement */
    lease_t *lease;     /* one pump per destination sends: the holder of "pump:DEST" */
    char endpoint[256]; /* where the receiver listens: its lease says, else the setting */
    int64_t route_ms;   /* when the receiver's lease was last read */
    pump_opts_t opts;
    bool leader;
    int64_t last_sent; /* highest seq handed to the socket */
    int64_t acked;     /* receiver applied every seq <= acked */
    int64_t progress_ms, last_poll_ms, rewind_ms;
    bool kicked;
};

static const db_stmt_t s_load_acked = {
    "pump_load_acked", "SELECT acked_through FROM outbox_counter WHERE dest = $1", 1, 0};
static const db_stmt_t s_fetch = {
    "pump_fetch",
    "SELECT seq::text, event_id::text, payload FROM outbox"
    " WHERE dest = $1 AND seq > $2::bigint ORDER BY outbox.seq LIMIT $3",
    3, 1};
/* Records an acknowledgement. Its commit need not wait for the disk
 * (synchronous_commit off for this transaction alone): if it is lost in a
 * crash, the rows are sent again and the receiver skips them. */
static const db_stmt_t s_ack_stmt = {
    "pump_record_ack",
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),"
    " gone AS (DELETE FROM outbox WHERE dest = $1 AND seq <= $2::bigint)"
    " UPDATE outbox_counter SET acked_through = greatest(acked_through, $2::bigint),"
    " acked_at = now() WHERE dest = $1 AND EXISTS (SELECT 1 FROM async)",
    2, 0};

static void *s_connect(outbox_pump_t *self)
{
    void *sock = bus_socket(self->ctx, ZMQ_DEALER, 0);
    if (!sock)
        return NULL;
    /* queue only for a connected receiver: frames for a dead one are dropped
     * by the resend logic anyway, and stale queues would reorder on reconnect */
    int immediate = 1;
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    /* no more frames queued than the window holds */
    int hwm = self->opts.window / (self->opts.batch_max > 0 ? self->opts.batch_max : 1) + 4;
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (bus_curve_client(sock, self->opts.dest) != RC_OK ||
        zmq_connect(sock, self->endpoint) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

outbox_pump_t *outbox_pump_new(db_t *db, void *zmq_ctx, const pump_opts_t *opts)
{
    outbox_pump_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->ctx = zmq_ctx;
    self->opts = *opts;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", opts->endpoint);
    char name[64];
    snprintf(name, sizeof name, "pump:%s", opts->dest);
    self->lease = lease_new(db, name, "", opts->lease_ms);
    self->sock = self->lease ? s_connect(self) : NULL;
    if (!self->sock) {
        lease_destroy(&self->lease);
        free(self);
        return NULL;
    }
    self->kicked = true;
    return self;
}

/* Before sending again what is unacknowledged, the frames still queued for
 * the receiver (a stopped one reads nothing) are thrown away with the socket
 * (linger 0) and a new one connects: each row is queued at most once, so the
 * memory held for a stopped receiver is bounded by the window. */
static void s_reset_socket(outbox_pump_t *self)
{
    void *fresh = s_connect(self);
    if (!fresh)
        return; /* keep the old one; the next timeout tries again */
    zmq_close(self->sock);
    self->sock = fresh;
}

void outbox_pump_destroy(outbox_pump_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zmq_close((*self_p)->sock);
    lease_destroy(&(*self_p)->lease);
    free(*self_p);
    *self_p = NULL;
}

void *outbox_pump_socket(outbox_pump_t *self)
{
    return self->sock;
}

void outbox_pump_kick(outbox_pump_t *self)
{
    self->kicked = true;
}

int64_t outbox_pump_in_flight(const outbox_pump_t *self)
{
    return self->last_sent - self->acked;
}

static void s_log_pump(const outbox_pump_t *self, log_level_t level, const char *msg)
{
    log_field_t f[] = {LF_STR("dest", self->opts.dest), LF_INT("acked", self->acked),
                       LF_INT("last_sent", self->last_sent)};
    log_event(level, NULL, NULL, f, 3, "%s", msg);
}

/* This pump now holds its lease: it starts from what the receiver has
 * acknowledged. */
static int s_take_leadership(outbox_pump_t *self, int64_t now)
{
    const char *params[] = {self->opts.dest};
    PGresult *res = db_run(self->db, &s_load_acked, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    if (PQntuples(res) != 1) {
        PQclear(res);
        log_error("outbox: no counter row for destination %s", self->opts.dest);
        return RC_ERR_NOTFOUND;
    }
    self->acked = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    self->last_sent = self->acked;
    self->leader = true;
    self->progress_ms = now;
    self->kicked = true;
    s_log_pump(self, LOG_INFO, "outbox: sending from here");
    return RC_OK;
}

/* Sends to the copy of the receiver that holds its lease: when another copy
 * has taken over, connect there and send again what is unacknowledged. */
static void s_follow_receiver(outbox_pump_t *self, int64_t now)
{
    if (now - self->route_ms < ROUTE_CHECK_MS)
        return;
    self->route_ms = now;
    char endpoint[256];
    if (lease_endpoint(self->db, self->opts.dest, endpoint, sizeof endpoint) != RC_OK ||
        !*endpoint || strcmp(endpoint, self->endpoint) == 0)
        return;
    log_event(LOG_INFO, NULL, NULL,
              (log_field_t[]){LF_STR("dest", self->opts.dest),
                              {"from", self->endpoint, 0},
                              {"to", endpoint, 0}},
              3, "outbox: the receiver's active copy is elsewhere; sending there");
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    s_reset_socket(self);
    self->last_sent = self->acked;
    self->progress_ms = now;
    self->kicked = true;
}

/* Reads new rows, as many as the window has room for but one batch at most,
 * and sends them; when there is more to send it stays kicked, so the
 * service's loop comes back to it after a look at its own input. */
static int s_send_new(outbox_pump_t *self, int64_t now)
{
    {
        int64_t room = self->opts.window - (self->last_sent - self->acked);
        if (room <= 0)
            return RC_OK;
        int limit = room < self->opts.batch_max ? (int)room : self->opts.batch_max;
        char after[24], lim[16];
        snprintf(after, sizeof after, "%" PRId64, self->last_sent);
        snprintf(lim, sizeof lim, "%d", limit);
        const char *params[] = {self->opts.dest, after, lim};
        PGresult *res = db_run(self->db, &s_fetch, params, NULL, NULL);
        if (!res)
            return RC_ERR_DB;
        int n = PQntuples(res);
        if (n == 0) {
            PQclear(res);
            return RC_OK;
        }
        Rectify__Transfer *items = calloc((size_t)n, sizeof *items);
        Rectify__Transfer **ptrs = calloc((size_t)n, sizeof *ptrs);
        int rc = RC_OK;
        if (!items || !ptrs) {
            rc = RC_ERR_NOMEM;
            goto out_free_items;
        }
        for (int i = 0; i < n; i++) {
            rectify__transfer__init(&items[i]);
            items[i].seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
            items[i].event_id = PQgetvalue(res, i, 1);
            items[i].payload.data = (uint8_t *)PQgetvalue(res, i, 2);
            items[i].payload.len = (size_t)PQgetlength(res, i, 2);
            ptrs[i] = &items[i];
        }
        Rectify__Batch batch = RECTIFY__BATCH__INIT;
        batch.source = (char *)self->opts.source;
        batch.n_items = (size_t)n;
        batch.items = ptrs;
        size_t len = rectify__batch__get_packed_size(&batch);
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, len) != 0) {
            rc = RC_ERR_NOMEM;
            goto out_free_items;
        }
        rectify__batch__pack(&batch, zmq_msg_data(&msg));
        if (zmq_msg_send(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            /* no receiver connected (or its queue is full): try next tick;
             * nothing is lost, the rows stay in the outbox */
            rc = errno == EAGAIN ? RC_OK : RC_ERR_IO;
            n = 0;
            goto out_free_items;
        }
        if (self->last_sent == self->acked)
            self->progress_ms = now; /* the ack timer starts with the first in flight */
        self->last_sent = items[n - 1].seq;
    out_free_items:
        free(items);
        free(ptrs);
        PQclear(res);
        if (rc == RC_OK && n == limit)
            self->kicked = true; /* a full batch: there may be more */
        return rc;
    }
}

bool outbox_pump_busy(const outbox_pump_t *self)
{
    return self->leader && self->kicked;
}

int outbox_pump_tick(outbox_pump_t *self, int64_t now)
{
    if (db_ensure(self->db) != RC_OK)
        return RC_ERR_DB;
    if (!lease_tick(self->lease, now)) {
        if (self->leader)
            s_log_pump(self, LOG_WARN, "outbox: another copy sends now");
        self->leader = false;
        return RC_OK;
    }
    if (!self->leader) {
        int rc = s_take_leadership(self, now);
        if (rc != RC_OK)
            return rc;
    }
    s_follow_receiver(self, now);
    if (self->last_sent > self->acked && now - self->progress_ms > self->opts.resend_timeout_ms) {
        if (self->timeouts++ == 0) /* one line for a run of them */
            s_log_pump(self, LOG_WARN, "outbox: no acknowledgement in time; sending again");
        s_reset_socket(self);
        self->last_sent = self->acked;
        self->progress_ms = now;
        self->kicked = true;
    }
    if (!self->kicked && now - self->last_poll_ms < self->opts.poll_interval_ms)
        return RC_OK;
    self->kicked = false;
    self->last_poll_ms = now;
    return s_send_new(self, now);
}

static int s_record_ack(outbox_pump_t *self, const Rectify__BatchAck *ack, int64_t now)
{
    if (ack->applied_through > self->acked) {
        char through[24];
        snprintf(through, sizeof through, "%" PRId64, ack->applied_through);
        const char *params[] = {self->opts.dest, through};
        if (db_do(self->db, &s_ack_stmt, params) != RC_OK)
            return RC_ERR_DB;
        self->acked = ack->applied_through;
        self->progress_ms = now;
        self->timeouts = 0;
        if (self->last_sent < self->acked)
            self->last_sent = self->acked; /* the receiver was ahead of us */
        self->kicked = true;               /* the window has room again */
    }
    if (ack->gap && self->last_sent > self->acked && now - self->rewind_ms > GAP_REWIND_MIN_MS) {
        s_log_pump(self, LOG_WARN, "outbox: receiver reports a gap; sending again in order");
        s_reset_socket(self);
        self->rewind_ms = now;
        self->last_sent = self->acked;
        self->progress_ms = now;
        self->kicked = true;
    }
    return RC_OK;
}

int outbox_pump_on_readable(outbox_pump_t *self, int64_t now)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return errno == EAGAIN ? RC_OK : RC_ERR_IO;
        }
        Rectify__BatchAck *ack =
            rectify__batch_ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!ack) {
            log_warn("outbox: dropped a malformed acknowledgement from %s", self->opts.dest);
            continue;
        }
        int rc = self->leader ? s_record_ack(self, ack, now) : RC_OK;
        rectify__batch_ack__free_unpacked(ack, NULL);
        if (rc != RC_OK)
            return rc;
    }
}

int64_t outbox_pump_drain(outbox_pump_t *self, int timeout_ms)
{
    int64_t until = clock_mono_ms() + timeout_ms;
    while (outbox_pump_in_flight(self) > 0 && clock_mono_ms() < until) {
        zmq_pollitem_t items[] = {{self->sock, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 1, 50) > 0)
            outbox_pump_on_readable(self, clock_mono_ms());
    }
    return outbox_pump_in_flight(self);
}

/* --- receiver ------------------------------------------------------------ */

static const db_stmt_t s_cursor_init = {
    "inbox_cursor_init",
    "INSERT INTO inbox_cursor (consumer, source) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, 0};
static const db_stmt_t s_cursor_lock = {
    "inbox_cursor_lock",
    "SELECT applied_through FROM inbox_cursor WHERE consumer = $1 AND source = $2 FOR UPDATE", 2,
    0};
static const db_stmt_t s_cursor_set = {"inbox_cursor_set",
                                       "UPDATE inbox_cursor SET applied_through = $3::bigint,"
                                       " updated_at = now() WHERE consumer = $1 AND source = $2",
                                       3, 0};

static const db_stmt_t s_quarantine = {
    "inbox_quarantine",
    "INSERT INTO dead_event (consumer, source, seq, event_id, payload, sqlstate, error, attempts)"
    " VALUES ($1, $2, $3::bigint, $4::uuid, $5::bytea, $6, $7, $8::int)"
    " ON CONFLICT (consumer, source, seq) DO NOTHING",
    8, 0};

#define MAX_SET_ASIDE 64

/* An item this call applies differently: refused for its data, or quarantined. */
typedef struct {
    int64_t seq;
    bool quarantine;
    int attempts;
    char sqlstate[6];
    char error[256];
} set_aside_t;

typedef struct {
    set_aside_t items[MAX_SET_ASIDE];
    int n;
} set_aside_list_t;

static const set_aside_t *s_set_aside_find(const set_aside_list_t *l, int64_t seq)
{
    for (int i = 0; i < l->n; i++)
        if (l->items[i].seq == seq)
            return &l->items[i];
    return NULL;
}

static int s_quarantine_item(db_t *db, const inbox_opts_t *opts, const char *source,
                             const Rectify__Transfer *item, const set_aside_t *why)
{
    char seq[24], attempts[16];
    snprintf(seq, sizeof seq, "%" PRId64, item->seq);
    snprintf(attempts, sizeof attempts, "%d", why->attempts);
    /* a bytea parameter in text form: PostgreSQL's hex escape */
    size_t hexlen = 2 + 2 * item->payload.len + 1;
    char *hex = malloc(hexlen);
    if (!hex)
        return RC_ERR_NOMEM;
    hex[0] = '\\';
    hex[1] = 'x';
    for (size_t i = 0; i < item->payload.len; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", item->payload.data[i]);
    hex[hexlen - 1] = '\0';
    const char *params[] = {opts->consumer, source,     seq,     item->event_id, hex,
                            why->sqlstate,  why->error, attempts};
    int rc = db_do(db, &s_quarantine, params);
    free(hex);
    if (rc == RC_OK)
        log_event(LOG_ERROR, item->event_id, NULL,
                  (log_field_t[]){LF_STR("source", source), LF_INT("seq", item->seq),
                                  LF_STR("sqlstate", why->sqlstate)},
                  3, "inbox: quarantined after %d tries (%s); the pipeline goes on past it",
                  why->attempts, why->error);
    return rc;
}

/* One try at a batch: applies the new items in order (those set aside are
 * refused or quarantined instead), flushes, moves the cursor, commits. On
 * failure everything is rolled back and *failed_seq names the item whose
 * apply failed (0 when the failure was not in one item's apply). */
static int s_try_batch(db_t *db, inbox_opts_t *opts, const Rectify__Batch *batch,
                       const set_aside_list_t *aside, size_t limit, int64_t *applied_through,
                       bool *gap, int64_t *failed_seq)
{
    const char *params[3] = {opts->consumer, batch->source, NULL};
    int rc = RC_ERR_DB;
    *gap = false;
    *failed_seq = 0;
    if (opts->batch)
        opts->batch(opts->arg, INBOX_BEGIN);
    if (db_ensure(db) != RC_OK || db_begin(db) != RC_OK)
        return RC_ERR_DB;
    if (db_do(db, &s_cursor_init, params) != RC_OK)
        goto out_rollback;
    PGresult *res = db_run(db, &s_cursor_lock, params, NULL, NULL);
    if (!res)
        goto out_rollback;
    int64_t cursor = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    int64_t start = cursor;
    size_t taken = 0;
    for (size_t i = 0; i < batch->n_items && taken < limit; i++) {
        const Rectify__Transfer *item = batch->items[i];
        if (item->seq <= cursor)
            continue; /* a repeat: already applied */
        if (item->seq != cursor + 1) {
            *gap = true;
            log_event(LOG_DEBUG, item->event_id, NULL,
                      (log_field_t[]){LF_STR("source", batch->source), LF_INT("seq", item->seq),
                                      LF_INT("applied_through", cursor)},
                      3, "inbox: gap before this item; waiting for the sender to send again");
            break;
        }
        const set_aside_t *why = s_set_aside_find(aside, item->seq);
        if (why && why->quarantine)
            rc = s_quarantine_item(db, opts, batch->source, item, why);
        else if (why)
            rc = opts->refuse(opts->arg, item, why->sqlstate, why->error);
        else
            rc = opts->apply(opts->arg, item);
        if (rc != RC_OK) {
            *failed_seq = item->seq;
            goto out_rollback;
        }
        cursor = item->seq;
        taken++;
    }
    if (cursor != start) {
        if (opts->batch && (rc = opts->batch(opts->arg, INBOX_FLUSH)) != RC_OK)
            goto out_rollback;
        char through[24];
        snprintf(through, sizeof through, "%" PRId64, cursor);
        params[2] = through;
        if (db_do(db, &s_cursor_set, params) != RC_OK) {
            rc = RC_ERR_DB;
            goto out_rollback;
        }
        if (opts->fence && (rc = opts->fence(opts->fence_arg)) != RC_OK)
            goto out_rollback;
    }
    if (db_commit(db) != RC_OK) {
        rc = RC_ERR_DB;
        goto out_rollback;
    }
    if (cursor != start && opts->batch)
        opts->batch(opts->arg, INBOX_COMMITTED);
    *applied_through = cursor;
    return RC_OK;

out_rollback:
    db_rollback(db);
    if (rc == RC_OK)
        rc = RC_ERR_DB;
    return rc;
}

/* The first item of the batch the cursor has not passed yet: the one to
 * blame for a failure outside any item's apply when the batch is one item. */
static int64_t s_first_new(db_t *db, const inbox_opts_t *opts, const Rectify__Batch *batch)
{
    const char *params[] = {opts->consumer, batch->source};
    PGresult *res = db_run(db, &s_cursor_lock, params, NULL, NULL);
    if (!res)
        return 0;
    int64_t cursor = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    for (size_t i = 0; i < batch->n_items; i++)
        if (batch->items[i]->seq == cursor + 1)
            return cursor + 1;
    return 0;
}

/* Counts a failure of item seq for a reason that is not the connection;
 * returns how often in a row it has failed. */
static int s_count_failure(inbox_opts_t *opts, const char *source, int64_t seq)
{
    if (opts->failing.seq != seq || strcmp(opts->failing.source, source) != 0) {
        snprintf(opts->failing.source, sizeof opts->failing.source, "%s", source);
        opts->failing.seq = seq;
        opts->failing.count = 0;
    }
    return ++opts->failing.count;
}

int inbox_apply_batch(db_t *db, inbox_opts_t *opts, const Rectify__Batch *batch,
                      int64_t *applied_through, bool *gap)
{
    set_aside_list_t aside = {.n = 0};
    /* a large batch is applied in several transactions of at most
     * INBOX_TX_ITEMS items: each commits (and renews the lease) in bounded
     * time, however slow the items are */
    size_t chunk = batch->n_items < INBOX_TX_ITEMS ? batch->n_items : INBOX_TX_ITEMS;
    size_t limit = chunk;
    int64_t last = batch->n_items ? batch->items[batch->n_items - 1]->seq : 0;
    for (;;) {
        int64_t failed_seq = 0;
        int rc = s_try_batch(db, opts, batch, &aside, limit, applied_through, gap, &failed_seq);
        if (rc == RC_OK && !*gap && *applied_through < last) {
            limit = chunk; /* the rest of the batch */
            continue;
        }
        if (rc == RC_OK)
            return RC_OK;
        db_fault_t fault = rc == RC_ERR_DB      ? db_fault(db)
                           : rc == RC_ERR_NOMEM ? DB_FAULT_TRANSIENT
                           : rc == RC_ERR_STATE ? DB_FAULT_TRANSIENT /* fenced off */
                                                : DB_FAULT_DATA;
        if (fault == DB_FAULT_TRANSIENT || fault == DB_FAULT_NONE)
            return rc; /* the database or this process, not the data: try again later */
        char sqlstate[6], error[256]; /* before any other statement clears them */
        snprintf(sqlstate, sizeof sqlstate, "%s", rc == RC_ERR_DB ? db_sqlstate(db) : "XX000");
        text_cut(error, sizeof error, rc == RC_ERR_DB ? db_error(db) : rc_name(rc));
        if (failed_seq == 0 && limit > 1) {
            limit = 1; /* the failure was in the batch as a whole: find its item */
            continue;
        }
        if (failed_seq == 0)
            failed_seq = s_first_new(db, opts, batch);
        if (failed_seq == 0 || aside.n == MAX_SET_ASIDE)
            return rc;
        set_aside_t *why = &aside.items[aside.n];
        memset(why, 0, sizeof *why);
        why->seq = failed_seq;
        memcpy(why->sqlstate, sqlstate, sizeof why->sqlstate);
        memcpy(why->error, error, sizeof why->error);
        if (fault == DB_FAULT_OTHER) {
            why->attempts = s_count_failure(opts, batch->source, failed_seq);
            if (why->attempts < opts->quarantine_after)
                return rc; /* maybe it passes next time */
            why->quarantine = true;
        } else {
            why->attempts = 1;
            why->quarantine = opts->refuse == NULL || rc != RC_ERR_DB;
        }
        if (s_set_aside_find(&aside, failed_seq))
            return rc; /* set aside already and still failing: leave it to the next try */
        aside.n++;
        limit = chunk;
    }
}

static void s_reply(void *router, zmq_msg_t *identity, const char *source, int64_t through,
                    bool gap)
{
    Rectify__BatchAck ack = RECTIFY__BATCH_ACK__INIT;
    ack.source = (char *)source;
    ack.applied_through = through;
    ack.gap = gap;
    uint8_t buf[128];
    size_t len = rectify__batch_ack__get_packed_size(&ack);
    if (len > sizeof buf)
        return;
    rectify__batch_ack__pack(&ack, buf);
    if (zmq_msg_send(identity, router, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(router, buf, len, ZMQ_DONTWAIT);
}

/* What this process knows to be applied of a source: a cursor only ever
 * grows, so every sequence at or below it is a repeat for sure. */
static int64_t s_known_through(const inbox_opts_t *opts, const char *source)
{
    for (int i = 0; i < INBOX_KNOWN_SOURCES; i++)
        if (strcmp(opts->known[i].source, source) == 0)
            return opts->known[i].through;
    return 0;
}

static void s_set_known_through(inbox_opts_t *opts, const char *source, int64_t through)
{
    int slot = -1;
    for (int i = 0; i < INBOX_KNOWN_SOURCES && slot < 0; i++)
        if (strcmp(opts->known[i].source, source) == 0 || !opts->known[i].source[0])
            slot = i;
    if (slot < 0 || strlen(source) >= sizeof opts->known[slot].source)
        return;
    snprintf(opts->known[slot].source, sizeof opts->known[slot].source, "%s", source);
    if (through > opts->known[slot].through)
        opts->known[slot].through = through;
}

void inbox_discard(void *router, int max_msgs)
{
    for (int m = 0; m < max_msgs; m++) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        int got = zmq_msg_recv(&part, router, ZMQ_DONTWAIT);
        zmq_msg_close(&part);
        if (got < 0)
            return;
        int more = 1;
        while (more) {
            size_t len = sizeof more;
            if (zmq_getsockopt(router, ZMQ_RCVMORE, &more, &len) != 0 || !more)
                break;
            zmq_msg_init(&part);
            zmq_msg_recv(&part, router, ZMQ_DONTWAIT);
            zmq_msg_close(&part);
        }
    }
}

int inbox_on_readable(db_t *db, void *router, inbox_opts_t *opts, int max_msgs)
{
    for (int m = 0; m < max_msgs; m++) {
        zmq_msg_t identity, body;
        zmq_msg_init(&identity);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&identity, router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&identity);
            zmq_msg_close(&body);
            return errno == EAGAIN ? RC_OK : RC_ERR_IO;
        }
        int more = zmq_msg_more(&identity);
        if (!more || zmq_msg_recv(&body, router, ZMQ_DONTWAIT) < 0) {
            log_warn("inbox: dropped a frame without a body");
            goto next;
        }
        while (zmq_msg_more(&body)) { /* discard unexpected extra frames */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, router, ZMQ_DONTWAIT);
            zmq_msg_close(&extra);
        }
        if (zmq_msg_size(&body) > opts->max_frame) {
            log_warn("inbox: dropped a %zu-byte batch (limit %zu)", zmq_msg_size(&body),
                     opts->max_frame);
            goto next;
        }
        Rectify__Batch *batch =
            rectify__batch__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        if (!batch || !batch->source || !*batch->source) {
            log_warn("inbox: dropped a malformed batch");
            if (batch)
                rectify__batch__free_unpacked(batch, NULL);
            goto next;
        }
        /* with CURVE, a batch comes from the service its key is pinned to,
         * whatever source it declares */
        const char *who = bus_user_id(&body);
        if (bus_curve_on() && (!who || strcmp(who, batch->source) != 0)) {
            log_event(LOG_WARN, NULL, NULL,
                      (log_field_t[]){LF_STR("source", batch->source),
                                      LF_STR("key", who ? who : "(none)")},
                      2, "inbox: dropped a batch whose source is not its sender's key");
            rectify__batch__free_unpacked(batch, NULL);
            goto next;
        }
        int64_t through = 0;
        bool gap = false;
        int rc = RC_OK;
        int64_t known = s_known_through(opts, batch->source);
        if (batch->n_items > 0 && batch->items[batch->n_items - 1]->seq <= known)
            through = known; /* all repeats (a sender sending again): no transaction */
        else
            rc = inbox_apply_batch(db, opts, batch, &through, &gap);
        if (rc == RC_OK)
            s_set_known_through(opts, batch->source, through);
        if (rc == RC_OK)
            s_reply(router, &identity, batch->source, through, gap);
        else
            log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_STR("source", batch->source)}, 1,
                      "inbox: batch not applied (%s); the sender will send it again", rc_name(rc));
        rectify__batch__free_unpacked(batch, NULL);
    next:
        zmq_msg_close(&identity);
        zmq_msg_close(&body);
    }
    return RC_OK;
}
