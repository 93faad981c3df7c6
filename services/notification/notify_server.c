/* notify_server.c: store notices, deliver them, record each delivery. */
#include "notify_server.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "notify_delivery.h"
#include "pgarr.h"
#include "transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define DELIVER_MAX 1000
#define SWEEP_INTERVAL_MS 1000

struct notify_server_t {
    service_t *svc;
    void *router;
    notify_delivery_t *delivery;
    lease_t *lease; /* this copy stores and logs notices while it holds "notify" */
    inbox_opts_t inbox;
    pgarr_t ids, event_ids, kinds, units, subjects, bodies;
    int stored;
    int64_t last_sweep_ms;
};

static const db_stmt_t s_store = {
    "notify_store",
    "WITH n AS (INSERT INTO notification (notice_id, event_id, kind, unit, subject, body)"
    "   SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[]) ON CONFLICT (notice_id) DO NOTHING RETURNING notice_id, unit, kind),"
    " logged AS (INSERT INTO delivery (notice_id, channel, recipient)"
    "   SELECT notice_id, 'log', 'log' FROM n)"
    /* and one delivery for each recipient of the unit who wants this kind */
    " INSERT INTO delivery (notice_id, channel, recipient)"
    " SELECT n.notice_id, r.channel, r.address FROM n JOIN recipient r"
    "   ON r.unit = n.unit AND r.active AND (r.kinds IS NULL OR n.kind = ANY (r.kinds))"
    " ON CONFLICT DO NOTHING",
    6, 0};

/* Claims pending log deliveries; SKIP LOCKED lets two notification
 * processes share the work without delivering anything twice. */
static const db_stmt_t s_claim_log = {
    "notify_claim_log",
    "SELECT d.notice_id::text, n.event_id::text, n.kind, n.unit, n.subject, n.body"
    " FROM delivery d JOIN notification n USING (notice_id)"
    " WHERE d.status = 'pending' AND d.channel = 'log'"
    " ORDER BY d.updated_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED",
    1, 0};
/* The lines are out already; if this commit is lost in a crash they go out
 * once more (the log channel is at least once), so it need not wait for the
 * disk. */
static const db_stmt_t s_mark_sent = {
    "notify_mark_sent",
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))"
    " UPDATE delivery SET status = 'sent', attempts = attempts + 1, updated_at = now(),"
    " sent_at = now() WHERE channel = 'log' AND notice_id = ANY($1::uuid[])"
    " AND EXISTS (SELECT 1 FROM async)",
    1, 0};

static void s_reset(notify_server_t *self)
{
    pgarr_t *all[] = {&self->ids,   &self->event_ids, &self->kinds,
                      &self->units, &self->subjects,  &self->bodies};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pgarr_free(all[i]);
    self->stored = 0;
}

/* Delivers the pending log-channel deliveries: one log line each. */
static int s_deliver_log(notify_server_t *self)
{
    db_t *db = self->svc->db;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", DELIVER_MAX);
    const char *params[] = {limit};
    if (db_ensure(db) != RC_OK || db_begin(db) != RC_OK)
        return RC_ERR_DB;
    PGresult *res = db_run(db, &s_claim_log, params, NULL, NULL);
    if (!res) {
        db_rollback(db);
        return RC_ERR_DB;
    }
    int n = PQntuples(res);
    pgarr_t ids;
    pgarr_init(&ids);
    for (int i = 0; i < n; i++) {
        log_field_t f[] = {LF_STR("notice_id", PQgetvalue(res, i, 0)),
                           LF_STR("kind", PQgetvalue(res, i, 2)), LF_STR("channel", "log"),
                           LF_STR("body", PQgetvalue(res, i, 5))};
        log_event(LOG_INFO, PQgetvalue(res, i, 1), PQgetvalue(res, i, 3), f, 4, "notice: %s",
                  PQgetvalue(res, i, 4));
        pgarr_add_text(&ids, PQgetvalue(res, i, 0));
    }
    PQclear(res);
    int rc = RC_OK;
    if (n > 0) {
        const char *mark[] = {pgarr_text(&ids)};
        rc = mark[0] ? db_do(db, &s_mark_sent, mark) : RC_ERR_NOMEM;
    }
    pgarr_free(&ids);
    if (rc == RC_OK)
        rc = db_commit(db);
    if (rc != RC_OK)
        db_rollback(db); /* the lines went out; they go out again next time */
    return rc;
}

static int s_apply(void *arg, const Rectify__Transfer *item)
{
    notify_server_t *self = arg;
    Rectify__Notice *n = rectify__notice__unpack(NULL, item->payload.len, item->payload.data);
    if (!n) {
        log_event(LOG_ERROR, item->event_id, NULL, (log_field_t[]){LF_INT("seq", item->seq)}, 1,
                  "stored notice does not unpack; batch held back");
        return RC_ERR_INVALID;
    }
    pgarr_add_text(&self->ids, n->notice_id);
    pgarr_add_text(&self->event_ids, n->event_id);
    pgarr_add_text(&self->kinds, n->kind);
    pgarr_add_text(&self->units, n->unit);
    pgarr_add_text(&self->subjects, n->subject);
    pgarr_add_text(&self->bodies, n->body);
    self->stored++;
    rectify__notice__free_unpacked(n, NULL);
    return RC_OK;
}

static int s_batch(void *arg, inbox_phase_t phase)
{
    notify_server_t *self = arg;
    switch (phase) {
    case INBOX_BEGIN:
        s_reset(self);
        return RC_OK;
    case INBOX_FLUSH: {
        const char *p[] = {pgarr_text(&self->ids),      pgarr_text(&self->event_ids),
                           pgarr_text(&self->kinds),    pgarr_text(&self->units),
                           pgarr_text(&self->subjects), pgarr_text(&self->bodies)};
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
            if (!p[i])
                return RC_ERR_NOMEM;
        return db_do(self->svc->db, &s_store, p);
    }
    case INBOX_COMMITTED:
        return s_deliver_log(self);
    }
    return RC_OK;
}

notify_server_t *notify_server_new(service_t *svc)
{
    notify_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->router = service_bind_router(svc, SET_notify_bind);
    if (!self->router)
        goto out_free_self;
    self->lease = service_lease_new(svc, SET_notify_bind);
    self->delivery = self->lease ? notify_delivery_start(svc->cfg) : NULL;
    if (!self->delivery) {
        lease_destroy(&self->lease);
        zmq_close(self->router);
        goto out_free_self;
    }
    self->inbox = (inbox_opts_t){
        .quarantine_after = (int)config_int(svc->cfg, SET_quarantine_after),
        .fence = lease_fence_cb,
        .fence_arg = self->lease,
        .consumer = "notify",
        .apply = s_apply,
        .batch = s_batch,
        .arg = self,
        .max_frame = BUS_HARD_MAX_FRAME,
    };
    return self;

out_free_self:
    free(self);
    return NULL;
}

void notify_server_destroy(notify_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_server_t *self = *self_p;
    notify_delivery_stop(&self->delivery);
    lease_destroy(&self->lease);
    if (self->router)
        zmq_close(self->router);
    s_reset(self);
    free(self);
    *self_p = NULL;
}

static void s_on_input(void *arg)
{
    notify_server_t *self = arg;
    inbox_on_readable(self->svc->db, self->router, &self->inbox, 16);
}

/* Log deliveries left pending (a batch that failed after its commit, or a
 * previous run's) are swept up now and then. */
static void s_on_tick(void *arg)
{
    notify_server_t *self = arg;
    int64_t now = clock_mono_ms();
    if (now - self->last_sweep_ms >= SWEEP_INTERVAL_MS) {
        self->last_sweep_ms = now;
        s_deliver_log(self);
    }
}

int notify_server_run(notify_server_t *self)
{
    service_loop_t loop = {.input = self->router,
                           .on_input = s_on_input,
                           .on_tick = s_on_tick,
                           .arg = self,
                           .lease = self->lease};
    int rc = service_run(self->svc, &loop);
    self->router = NULL; /* closed by service_run */
    return rc;
}
