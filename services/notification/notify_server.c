/* notify_server.c: store notices, deliver them on the log channel, record
 * each delivery.
 *
 * The log channel is at least once, with the notice id as the key: every
 * line carries "notice_id" and "channel":"log". An attempt is counted
 * (delivery.attempts) and leased to this process before its line is
 * written: for a new notice in the transaction that stores it, for one left
 * pending in the claim of the sweep. After the line, the delivery is marked
 * sent. A crash between the line and the mark leaves it pending; once the
 * lease has run out the sweep writes it again, counted as another attempt.
 * So attempts is never less than the lines written (one more when a crash
 * came before the line), and rectify-tail shows each notice once. */
#include "notify_server.h"
#include "bus.h"
#include "zap.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "notify_delivery.h"
#include "pgarr.h"
#include "text.h"
#include "transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define DELIVER_MAX "1000"
#define SWEEP_INTERVAL_MS 1000
/* how long an attempt on the log channel belongs to the process that began
 * it: the time between its commit and its line is normally a millisecond */
#define LOG_LEASE_MS "5000"

struct notify_server_t {
    service_t *svc;
    void *router;
    notify_delivery_t *delivery;
    lease_t *lease; /* this copy stores and logs notices while it holds "notify" */
    inbox_opts_t inbox;
    pgarr_t ids, event_ids, kinds, units, subjects, bodies;
    int stored;
    PGresult *logged; /* the new notices of the batch, for their log lines after the commit */
    int64_t last_sweep_ms;
};

/* Stores the notices (a repeat is skipped), with their deliveries; the log
 * channel's first attempt begins here. Returns the new notices as s_write_log
 * takes them. */
static const db_stmt_t s_store = {
    "notify_store",
    "WITH n AS (INSERT INTO notification (notice_id, event_id, kind, unit, subject, body)"
    "   SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[]) ON CONFLICT (notice_id) DO NOTHING"
    "   RETURNING notice_id, event_id, kind, unit, subject, body),"
    " logged AS (INSERT INTO delivery (notice_id, channel, recipient, attempts, lease_until)"
    "   SELECT notice_id, 'log', 'log', 1,"
    "   clock_timestamp() + $7::int * interval '1 millisecond' FROM n),"
    /* and one delivery for each recipient of the unit who wants this kind */
    " told AS (INSERT INTO delivery (notice_id, channel, recipient)"
    "   SELECT n.notice_id, r.channel, r.address FROM n JOIN recipient r"
    "   ON r.unit = n.unit AND r.active AND (r.kinds IS NULL OR n.kind = ANY (r.kinds))"
    "   ON CONFLICT DO NOTHING)"
    " SELECT notice_id::text, event_id::text, kind, unit, subject, body FROM n",
    7, 0};

/* Claims log deliveries left pending (a crash or a failed mark) whose lease
 * has run out, counting the attempt; it commits before the lines are
 * written. SKIP LOCKED and the lease let several notification processes
 * share the work. */
static const db_stmt_t s_claim_log = {
    "notify_claim_log",
    "WITH due AS (SELECT notice_id FROM delivery"
    "  WHERE status = 'pending' AND channel = 'log' AND next_attempt_at <= now()"
    "    AND (lease_until IS NULL OR lease_until < now())"
    "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE delivery d SET attempts = d.attempts + 1, updated_at = now(),"
    "  lease_until = clock_timestamp() + $2::int * interval '1 millisecond'"
    " FROM due JOIN notification n USING (notice_id)"
    " WHERE d.notice_id = due.notice_id AND d.channel = 'log'"
    " RETURNING d.notice_id::text, n.event_id::text, n.kind, n.unit, n.subject, n.body",
    2, 0};
/* The lines are out already; if this commit is lost they go out once more,
 * as another attempt, so it need not wait for the disk. */
static const db_stmt_t s_mark_sent = {
    "notify_mark_sent",
    "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))"
    " UPDATE delivery SET status = 'sent', lease_until = NULL, updated_at = now(),"
    " sent_at = now() WHERE channel = 'log' AND status = 'pending'"
    " AND notice_id = ANY($1::uuid[]) AND EXISTS (SELECT 1 FROM async)",
    1, 0};

static void s_reset(notify_server_t *self)
{
    pgarr_t *all[] = {&self->ids,   &self->event_ids, &self->kinds,
                      &self->units, &self->subjects,  &self->bodies};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pgarr_free(all[i]);
    self->stored = 0;
    PQclear(self->logged);
    self->logged = NULL;
}

/* Writes the line of each notice of res (notice_id, event_id, kind, unit,
 * subject, body), whose attempt is counted and leased to this process, then
 * marks them sent. The line goes out whatever log_level is. */
static int s_write_log(notify_server_t *self, PGresult *res)
{
    int n = PQntuples(res);
    if (n == 0)
        return RC_OK;
    pgarr_t ids;
    pgarr_init(&ids);
    for (int i = 0; i < n; i++) {
        log_field_t f[] = {LF_STR("notice_id", PQgetvalue(res, i, 0)),
                           LF_STR("kind", PQgetvalue(res, i, 2)), LF_STR("channel", "log"),
                           LF_STR("body", PQgetvalue(res, i, 5))};
        log_notice(PQgetvalue(res, i, 1), PQgetvalue(res, i, 3), f, 4, "notice: %s",
                   PQgetvalue(res, i, 4));
        pgarr_add_text(&ids, PQgetvalue(res, i, 0));
    }
    const char *mark[] = {pgarr_text(&ids)};
    int rc = mark[0] ? db_do(self->svc->db, &s_mark_sent, mark) : RC_ERR_NOMEM;
    pgarr_free(&ids);
    return rc; /* not marked: written again when the lease runs out */
}

/* Takes up the log deliveries left pending whose lease has run out. */
static void s_sweep_log(notify_server_t *self)
{
    const char *params[] = {DELIVER_MAX, LOG_LEASE_MS};
    if (db_ensure(self->svc->db) != RC_OK)
        return;
    PGresult *res = db_run(self->svc->db, &s_claim_log, params, NULL, NULL);
    if (res)
        s_write_log(self, res);
    PQclear(res);
}

/* Adds s to a as text PostgreSQL takes: a notice whose text is not valid
 * UTF-8 (cut in the middle of a character by its maker, say) would fail the
 * store and hold back every notice after it, so its bad bytes become '?'
 * (text_cut) and it says so. Returns RC_OK or RC_ERR_NOMEM. */
static int s_add_text(pgarr_t *a, const char *s, const char *what, const char *notice_id)
{
    size_t len = strlen(s);
    if (text_check(s, len, 0, NULL) == TEXT_OK) {
        pgarr_add_text(a, s);
        return RC_OK;
    }
    char *mended = malloc(len + 1);
    if (!mended)
        return RC_ERR_NOMEM;
    text_cut(mended, len + 1, s); /* a '?' a byte: it fits */
    pgarr_add_text(a, mended);
    free(mended);
    log_event(LOG_WARN, NULL, NULL, (log_field_t[]){LF_STR("notice_id", notice_id)}, 1,
              "notice %s: its %s is not valid UTF-8; stored with '?' for the bad bytes", notice_id,
              what);
    return RC_OK;
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
    int rc = RC_OK;
    struct {
        pgarr_t *to;
        const char *text, *what;
    } texts[] = {{&self->kinds, n->kind, "kind"},
                 {&self->units, n->unit, "unit"},
                 {&self->subjects, n->subject, "subject"},
                 {&self->bodies, n->body, "body"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0] && rc == RC_OK; i++)
        rc = s_add_text(texts[i].to, texts[i].text, texts[i].what, n->notice_id);
    self->stored++;
    rectify__notice__free_unpacked(n, NULL);
    return rc;
}

static int s_batch(void *arg, inbox_phase_t phase)
{
    notify_server_t *self = arg;
    switch (phase) {
    case INBOX_BEGIN:
        s_reset(self);
        return RC_OK;
    case INBOX_FLUSH: {
        const char *p[] = {pgarr_text(&self->ids),
                           pgarr_text(&self->event_ids),
                           pgarr_text(&self->kinds),
                           pgarr_text(&self->units),
                           pgarr_text(&self->subjects),
                           pgarr_text(&self->bodies),
                           LOG_LEASE_MS};
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
            if (!p[i])
                return RC_ERR_NOMEM;
        self->logged = db_run(self->svc->db, &s_store, p, NULL, NULL);
        return self->logged ? RC_OK : RC_ERR_DB;
    }
    case INBOX_COMMITTED: {
        int rc = self->logged ? s_write_log(self, self->logged) : RC_OK;
        PQclear(self->logged);
        self->logged = NULL;
        return rc;
    }
    }
    return RC_OK;
}

notify_server_t *notify_server_new(service_t *svc)
{
    notify_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->router = service_bind_router(svc, SET_notify_bind, ZAP_DOMAIN_PEERS, INBOX_MAX_QUEUED);
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
    inbox_on_readable(self->svc->db, self->router, &self->inbox, 4);
}

/* Log deliveries left pending (a mark that failed, a crash, a previous
 * run's) are swept up now and then. */
static void s_on_tick(void *arg)
{
    notify_server_t *self = arg;
    int64_t now = clock_mono_ms();
    if (now - self->last_sweep_ms >= SWEEP_INTERVAL_MS) {
        self->last_sweep_ms = now;
        s_sweep_log(self);
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
