/* pump_thread.c: the outbox pump in a thread of its own. */
#include "pump_thread.h"
#include "bus.h"
#include "clock.h"
#include "db.h"
#include "errors.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* What the service's thread says to the pump's, on an inproc pair. */
enum { MSG_KICK = 'k', MSG_STOP = 's' };

struct pump_thread_t {
    pthread_t thread;
    void *ctx;
    void *control; /* the service's end (PAIR) */
    char endpoint[64];
    const char *conninfo;
    pump_opts_t opts;
    int drain_timeout_ms; /* comes with MSG_STOP */
    int64_t left;         /* in flight when the thread ended */
};

/* Reads the control messages waiting; returns true when told to stop (and
 * then how long to drain, in *drain_ms). */
static bool s_read_control(void *control, outbox_pump_t *pump, int *drain_ms)
{
    for (;;) {
        char msg[1 + sizeof(int)];
        int n = zmq_recv(control, msg, sizeof msg, ZMQ_DONTWAIT);
        if (n < 0)
            return false;
        if (n == (int)sizeof msg && msg[0] == MSG_STOP) {
            memcpy(drain_ms, msg + 1, sizeof *drain_ms);
            return true;
        }
        if (pump)
            outbox_pump_kick(pump);
    }
}

/* Connects to the database, waiting while it is away; NULL when told to stop. */
static db_t *s_connect(pump_thread_t *self, void *control)
{
    char err[512];
    for (int attempt = 0;; attempt++) {
        db_t *db = db_connect(self->conninfo, err, sizeof err);
        if (db)
            return db;
        if (attempt == 0)
            log_warn("outbox to %s: %s; waiting for it", self->opts.dest, err);
        zmq_pollitem_t item = {control, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, db_backoff_ms(attempt)) > 0 &&
            s_read_control(control, NULL, &self->drain_timeout_ms))
            return NULL;
    }
}

static void *s_run(void *arg)
{
    pump_thread_t *self = arg;
    void *control = bus_socket(self->ctx, ZMQ_PAIR, 0);
    if (!control || zmq_connect(control, self->endpoint) != 0) {
        log_error("outbox to %s: cannot reach the service's thread", self->opts.dest);
        if (control)
            zmq_close(control);
        return NULL;
    }
    db_t *db = s_connect(self, control);
    outbox_pump_t *pump = db ? outbox_pump_new(db, self->ctx, &self->opts) : NULL;
    if (db && !pump)
        log_error("outbox to %s: cannot start the pump", self->opts.dest);
    while (pump) {
        zmq_pollitem_t items[] = {{control, 0, ZMQ_POLLIN, 0},
                                  {outbox_pump_socket(pump), 0, ZMQ_POLLIN, 0}};
        int wait_ms = outbox_pump_busy(pump) ? 0 : self->opts.poll_interval_ms;
        if (zmq_poll(items, 2, wait_ms) < 0 && zmq_errno() != EINTR)
            break;
        if ((items[0].revents & ZMQ_POLLIN) &&
            s_read_control(control, pump, &self->drain_timeout_ms))
            break;
        if (items[1].revents & ZMQ_POLLIN)
            outbox_pump_on_readable(pump, clock_mono_ms());
        outbox_pump_tick(pump, clock_mono_ms());
    }
    if (pump)
        self->left = outbox_pump_drain(pump, self->drain_timeout_ms);
    outbox_pump_destroy(&pump);
    db_destroy(&db);
    zmq_close(control);
    return NULL;
}

pump_thread_t *pump_thread_start(const char *conninfo, void *zmq_ctx, const pump_opts_t *opts)
{
    pump_thread_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = zmq_ctx;
    self->conninfo = conninfo;
    self->opts = *opts;
    snprintf(self->endpoint, sizeof self->endpoint, "inproc://rectify-pump-%p", (void *)self);
    self->control = bus_socket(zmq_ctx, ZMQ_PAIR, 0);
    if (!self->control || zmq_bind(self->control, self->endpoint) != 0)
        goto out_close;
    if (pthread_create(&self->thread, NULL, s_run, self) != 0)
        goto out_close;
    return self;

out_close:
    if (self->control)
        zmq_close(self->control);
    free(self);
    return NULL;
}

void pump_thread_kick(pump_thread_t *self)
{
    char what = MSG_KICK;
    zmq_send(self->control, &what, 1, ZMQ_DONTWAIT); /* a full queue has kicks enough */
}

int64_t pump_thread_stop(pump_thread_t **self_p, int drain_timeout_ms)
{
    if (!self_p || !*self_p)
        return 0;
    pump_thread_t *self = *self_p;
    char msg[1 + sizeof(int)] = {MSG_STOP};
    memcpy(msg + 1, &drain_timeout_ms, sizeof drain_timeout_ms);
    zmq_send(self->control, msg, sizeof msg, 0);
    pthread_join(self->thread, NULL);
    zmq_close(self->control);
    int64_t left = self->left;
    free(self);
    *self_p = NULL;
    return left;
}
