/* workflow_server.c: apply events in batches, record outcomes, queue notices. */
#include "workflow_server.h"
#include "bus.h"
#include "zap.h"
#include "clock.h"
#include "errors.h"
#include "ids.h"
#include "log.h"
#include "pgarr.h"
#include "text.h"
#include "transfer.h"
#include "wf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct wf_server_t {
    service_t *svc;
    void *router;
    pump_thread_t *pump;
    lease_t *lease; /* this copy works while it holds the lease "workflow" */
    inbox_opts_t inbox;
    wf_clock_opts_t clock;
    int timer_interval_ms;
    int64_t last_timer_ms;
    /* accumulated for the batch being applied */
    pgarr_t ev_ids, ev_seqs, ev_types, ev_units, ev_outcomes, ev_codes, ev_messages;
    pgarr_t notice_ids, notice_payloads;
    int applied, refused, notices;
};

static const db_stmt_t s_record_events = {
    "wf_record_events",
    "INSERT INTO wf_event (event_id, seq, event_type, unit, outcome, code, message)"
    " SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::text[])",
    7, 0};

static const db_stmt_t s_sim_now = {
    "wf_sim_now", "SELECT (extract(epoch FROM rectify_now(true)) * 1000)::bigint", 0, 0};

static const db_stmt_t s_queue_notices = {
    "wf_queue_notices", "SELECT outbox_put('notify', $1::uuid[], $2::bytea[])", 2, 0};

int wf_refuse(wf_ctx_t *ctx, refusal_t why, const char *fmt, ...)
{
    snprintf(ctx->code, sizeof ctx->code, "%s", refusal_code(why));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
    /* a message cut by vsnprintf may end inside a character: cut it whole */
    ctx->message[text_prefix(ctx->message, sizeof ctx->message - 1)] = '\0';
    return refusal_class(why);
}

int wf_notify(wf_ctx_t *ctx, const char *kind, const char *unit, const char *subject,
              const char *body)
{
    wf_server_t *self = ctx->server;
    /* subjects and bodies are built with snprintf, which may cut a character
     * in half: keep only whole characters */
    size_t subject_size = strlen(subject) + 1, body_size = strlen(body) + 1;
    char *whole_subject = malloc(subject_size), *whole_body = malloc(body_size);
    if (!whole_subject || !whole_body) {
        free(whole_subject);
        free(whole_body);
        return RC_ERR_NOMEM;
    }
    text_cut(whole_subject, subject_size, subject);
    text_cut(whole_body, body_size, body);
    subject = whole_subject;
    body = whole_body;
    char notice_id[IDS_UUID_LEN + 1];
    ids_new_uuid(notice_id);
    Rectify__Notice notice = RECTIFY__NOTICE__INIT;
    notice.notice_id = notice_id;
    notice.event_id = (char *)ctx->env->event_id;
    notice.kind = (char *)kind;
    notice.unit = (char *)unit;
    notice.subject = (char *)subject;
    notice.body = (char *)body;
    size_t len = rectify__notice__get_packed_size(&notice);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        rectify__notice__pack(&notice, buf);
        pgarr_add_text(&self->notice_ids, notice_id);
        pgarr_add_bytea(&self->notice_payloads, buf, len);
    }
    free(buf);
    free(whole_subject);
    free(whole_body);
    if (!buf)
        return RC_ERR_NOMEM;
    self->notices++;
    return RC_OK;
}

/* The lifecycles this workflow applies; an event type belongs to one. */
static const wf_lifecycle_t *const s_lifecycles[] = {&wf_rectification, &wf_orders, &wf_repeats};

/* The Envelope's event message and its field, or NULL when none is set. */
static const ProtobufCMessage *s_event_message(const Rectify__Envelope *env,
                                               const ProtobufCFieldDescriptor **field)
{
    *field = protobuf_c_message_descriptor_get_field(&rectify__envelope__descriptor,
                                                     (unsigned)env->event_case);
    if (!*field)
        return NULL;
    return *(ProtobufCMessage *const *)((const char *)env + (*field)->offset);
}

/* An event is dated the day it happened (on_date), never after today by
 * the service's clock: a date in the future would put every later event of
 * its task before it. One check for every event type that has an on_date. */
static int s_check_on_date(wf_ctx_t *ctx, const ProtobufCFieldDescriptor *f,
                           const ProtobufCMessage *event)
{
    const ProtobufCFieldDescriptor *od =
        protobuf_c_message_descriptor_get_field_by_name(event->descriptor, "on_date");
    if (!od || od->type != PROTOBUF_C_TYPE_STRING)
        return RC_OK;
    const char *on = *(char *const *)((const char *)event + od->offset);
    char today[11];
    wf_day(NULL, today);
    if (on && *on && strcmp(on, today) > 0)
        return wf_refuse(ctx, REFUSAL_future_date,
                         "%s.on_date: %s is after today (%s); an event is dated the day it "
                         "happened",
                         f->name, on, today);
    return RC_OK;
}

static wf_handler_fn s_handler_of(Rectify__Envelope__EventCase event_case)
{
    for (size_t l = 0; l < sizeof s_lifecycles / sizeof s_lifecycles[0]; l++)
        for (size_t i = 0; i < s_lifecycles[l]->n_handlers; i++)
            if (s_lifecycles[l]->handlers[i].event_case == event_case)
                return s_lifecycles[l]->handlers[i].handle;
    return NULL;
}

/* Dispatches one event to the handler of its lifecycle. */
static int s_dispatch(wf_ctx_t *ctx)
{
    const Rectify__Envelope *env = ctx->env;
    int rc = wf_load_sender(ctx);
    if (rc != RC_OK)
        return rc;
    const ProtobufCFieldDescriptor *f;
    const ProtobufCMessage *event = s_event_message(env, &f);
    wf_handler_fn handle = s_handler_of(env->event_case);
    if (!event || !handle)
        /* intake checked the type: this is a newer intake than workflow */
        return wf_refuse(ctx, REFUSAL_unknown_event, "event: type %d is not known to this workflow",
                         (int)env->event_case);
    rc = s_check_on_date(ctx, f, event);
    return rc == RC_OK ? handle(ctx, event) : rc;
}

static const char *s_event_type(const Rectify__Envelope *env)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &rectify__envelope__descriptor, (unsigned)env->event_case);
    return f ? f->name : "unknown";
}

void wf_server_reset_notices(wf_server_t *self)
{
    pgarr_free(&self->notice_ids);
    pgarr_free(&self->notice_payloads);
    self->notices = 0;
}

int wf_server_flush_notices(wf_server_t *self)
{
    if (self->notices == 0)
        return RC_OK;
    const char *nt[] = {pgarr_text(&self->notice_ids), pgarr_text(&self->notice_payloads)};
    if (!nt[0] || !nt[1])
        return RC_ERR_NOMEM;
    return db_do(self->svc->db, &s_queue_notices, nt);
}

/* In simulated time, the process clock follows the table sim_clock. */
static void s_follow_clock(wf_server_t *self)
{
    if (!self->clock.sim)
        return;
    PGresult *res = db_run(self->svc->db, &s_sim_now, NULL, NULL, NULL);
    if (res) {
        clock_set_ms(strtoll(PQgetvalue(res, 0, 0), NULL, 10));
        PQclear(res);
    }
}

static void s_reset_batch(wf_server_t *self)
{
    pgarr_t *all[] = {&self->ev_ids,      &self->ev_seqs,     &self->ev_types,
                      &self->ev_units,    &self->ev_outcomes, &self->ev_codes,
                      &self->ev_messages, &self->notice_ids,  &self->notice_payloads};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        pgarr_free(all[i]);
    self->applied = self->refused = self->notices = 0;
}

/* Adds the outcome of one event to the batch's wf_event rows; a refused
 * event is also a notice to its sender. */
static int s_record_outcome(wf_server_t *self, wf_ctx_t *ctx, int64_t seq, int rc)
{
    const Rectify__Envelope *env = ctx->env;
    const char *type = s_event_type(env);
    pgarr_add_text(&self->ev_ids, env->event_id);
    pgarr_add_int(&self->ev_seqs, seq);
    pgarr_add_text(&self->ev_types, type);
    pgarr_add_text(&self->ev_units, env->unit);
    pgarr_add_text(&self->ev_outcomes, rc == RC_OK ? "applied" : "refused");
    pgarr_add_text(&self->ev_codes, rc == RC_OK ? "" : ctx->code);
    pgarr_add_text(&self->ev_messages, rc == RC_OK ? "" : ctx->message);
    if (rc == RC_OK) {
        self->applied++;
        log_event(LOG_INFO, env->event_id, env->unit, (log_field_t[]){LF_STR("type", type)}, 1,
                  "applied %s", type);
        return RC_OK;
    }
    self->refused++;
    log_field_t f[] = {LF_STR("type", type), LF_STR("code", ctx->code)};
    log_event(LOG_WARN, env->event_id, env->unit, f, 2, "refused %s: %s", type, ctx->message);
    /* the sender hears of it on its own channels too */
    char subject[400];
    text_printf(subject, sizeof subject, "event %s refused: %s", type, ctx->code);
    return wf_notify(ctx, "event_refused", env->unit, subject, ctx->message);
}

static int s_apply(void *arg, const Rectify__Transfer *item)
{
    wf_server_t *self = arg;
    Rectify__Envelope *env = rectify__envelope__unpack(NULL, item->payload.len, item->payload.data);
    if (!env) {
        /* intake stored only envelopes it could unpack: this is corruption */
        log_event(LOG_ERROR, item->event_id, NULL, (log_field_t[]){LF_INT("seq", item->seq)}, 1,
                  "stored event does not unpack; it will be quarantined");
        return RC_ERR_INVALID;
    }
    wf_ctx_t ctx = {
        .server = self, .db = self->svc->db, .env = env, .seq = item->seq, .clock = &self->clock};
    int rc = s_dispatch(&ctx);
    if (rc != RC_ERR_DB && rc != RC_ERR_NOMEM)
        rc = s_record_outcome(self, &ctx, item->seq, rc) == RC_OK ? RC_OK : RC_ERR_NOMEM;
    rectify__envelope__free_unpacked(env, NULL);
    return rc;
}

/* The database refused what this event would store (SQLSTATE class 22 or
 * 23): the event is refused, invalid_data, and the batch goes on. */
static int s_refuse_data(void *arg, const Rectify__Transfer *item, const char *sqlstate,
                         const char *error)
{
    wf_server_t *self = arg;
    Rectify__Envelope *env = rectify__envelope__unpack(NULL, item->payload.len, item->payload.data);
    if (!env)
        return RC_ERR_INVALID;
    wf_ctx_t ctx = {
        .server = self, .db = self->svc->db, .env = env, .seq = item->seq, .clock = &self->clock};
    int rc = wf_refuse(&ctx, REFUSAL_invalid_data,
                       "the database refused what this event would store (SQLSTATE %s): %s",
                       sqlstate, error);
    rc = s_record_outcome(self, &ctx, item->seq, rc);
    rectify__envelope__free_unpacked(env, NULL);
    return rc;
}

static int s_batch(void *arg, inbox_phase_t phase)
{
    wf_server_t *self = arg;
    if (phase == INBOX_BEGIN) {
        s_reset_batch(self);
        wf_sender_cache_reset();
        s_follow_clock(self);
        return RC_OK;
    }
    if (phase == INBOX_COMMITTED) {
        if (self->notices > 0)
            pump_thread_kick(self->pump);
        log_event(
            LOG_DEBUG, NULL, NULL,
            (log_field_t[]){LF_INT("applied", self->applied), LF_INT("refused", self->refused)}, 2,
            "batch committed");
        return RC_OK;
    }
    const char *ev[] = {pgarr_text(&self->ev_ids),      pgarr_text(&self->ev_seqs),
                        pgarr_text(&self->ev_types),    pgarr_text(&self->ev_units),
                        pgarr_text(&self->ev_outcomes), pgarr_text(&self->ev_codes),
                        pgarr_text(&self->ev_messages)};
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        if (!ev[i])
            return RC_ERR_NOMEM;
    if (db_do(self->svc->db, &s_record_events, ev) != RC_OK)
        return RC_ERR_DB;
    return wf_server_flush_notices(self);
}

wf_server_t *wf_server_new(service_t *svc)
{
    wf_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    char err[256];
    if (wf_clock_opts_load(svc->cfg, &self->clock, err, sizeof err) != RC_OK) {
        log_error("config: %s", err);
        goto out_free_self;
    }
    self->timer_interval_ms = (int)config_int(svc->cfg, SET_timer_interval_ms);
    if (service_check_endpoint(svc, SET_notify_bind) != RC_OK)
        goto out_free_self;
    self->router = service_bind_router(svc, SET_workflow_bind, ZAP_DOMAIN_PEERS, INBOX_MAX_QUEUED);
    if (!self->router)
        goto out_free_self;
    pump_opts_t opts = {
        .source = "workflow",
        .dest = "notify",
        .endpoint = config_str(svc->cfg, SET_notify_bind),
        .batch_max = (int)config_int(svc->cfg, SET_batch_max),
        .window = (int)config_int(svc->cfg, SET_send_window),
        .resend_timeout_ms = (int)config_int(svc->cfg, SET_resend_timeout_ms),
        .poll_interval_ms = (int)config_int(svc->cfg, SET_poll_interval_ms),
        .lease_ms = (int)config_int(svc->cfg, SET_lease_ms),
    };
    self->pump = pump_thread_start(config_str(svc->cfg, SET_db), svc->ctx, &opts);
    if (!self->pump)
        goto out_close_router;
    self->lease = service_lease_new(svc, SET_workflow_bind);
    if (!self->lease)
        goto out_close_router;
    self->inbox = (inbox_opts_t){
        .consumer = "workflow",
        .apply = s_apply,
        .batch = s_batch,
        .refuse = s_refuse_data,
        .arg = self,
        .quarantine_after = (int)config_int(svc->cfg, SET_quarantine_after),
        .fence = lease_fence_cb,
        .fence_arg = self->lease,
        .max_frame = BUS_HARD_MAX_FRAME,
    };
    return self;

out_close_router:
    pump_thread_stop(&self->pump, 0);
    if (self->router)
        zmq_close(self->router);
out_free_self:
    free(self);
    return NULL;
}

void wf_server_destroy(wf_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    wf_server_t *self = *self_p;
    pump_thread_stop(&self->pump, 0);
    lease_destroy(&self->lease);
    if (self->router)
        zmq_close(self->router);
    s_reset_batch(self);
    free(self);
    *self_p = NULL;
}

/* Fires what is due, every timer_interval_ms, in batches until none is left. */
static void s_fire_clocks(wf_server_t *self)
{
    int64_t now = clock_mono_ms();
    if (now - self->last_timer_ms < self->timer_interval_ms)
        return;
    self->last_timer_ms = now;
    s_follow_clock(self);
    /* rectification's clocks (table timer), then the core's (subject_clock) */
    int (*const fire[])(wf_server_t *, db_t *, const wf_clock_opts_t *,
                        int *) = {wf_clock_fire, wf_subject_clock_fire};
    for (size_t f = 0; f < sizeof fire / sizeof fire[0]; f++) {
        int fired;
        do {
            if (fire[f](self, self->svc->db, &self->clock, &fired) != RC_OK)
                break;
            if (fired > 0)
                pump_thread_kick(self->pump);
        } while (fired > 0);
    }
    int sent;
    if (wf_reports_fire(self, self->svc->db, &self->clock, &sent) == RC_OK && sent > 0)
        pump_thread_kick(self->pump);
}

static void s_on_input(void *arg)
{
    wf_server_t *self = arg;
    inbox_on_readable(self->svc->db, self->router, &self->inbox, 4);
}

static void s_on_tick(void *arg)
{
    s_fire_clocks(arg);
}

int wf_server_run(wf_server_t *self)
{
    service_loop_t loop = {.input = self->router,
                           .pump = self->pump,
                           .on_input = s_on_input,
                           .on_tick = s_on_tick,
                           .arg = self,
                           .lease = self->lease};
    int rc = service_run(self->svc, &loop);
    self->router = NULL; /* closed by service_run */
    self->pump = NULL;   /* stopped by service_run */
    return rc;
}
