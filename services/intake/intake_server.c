/* intake_server.c: receive, check, commit in batches, acknowledge, forward. */
#include "intake_server.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "intake_check.h"
#include "log.h"
#include "pgarr.h"
#include "transfer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* One received frame waiting for the batch's commit. */
typedef struct {
    zmq_msg_t identity;
    zmq_msg_t body;
    int delimited; /* a REQ peer: answer with an empty delimiter frame */
    Rectify__Envelope *env;
    const char *event_type;
} pending_t;

struct intake_server_t {
    service_t *svc;
    void *router;
    outbox_pump_t *pump;
    size_t max_bytes;
    int batch_max;
    pending_t *pending;
    int npending;
};

static const db_stmt_t s_accept = {
    "intake_accept",
    "SELECT idx, duplicate, to_char(first_received AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    " FROM intake_accept($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bytea[])",
    5, 0};

intake_server_t *intake_server_new(service_t *svc)
{
    intake_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->max_bytes = (size_t)config_int(svc->cfg, "max_message_bytes");
    self->batch_max = (int)config_int(svc->cfg, "batch_max");
    self->pending = calloc((size_t)self->batch_max, sizeof *self->pending);
    if (!self->pending)
        goto out_free_self;
    if (service_check_endpoint(svc, "workflow_bind") != RC_OK)
        goto out_free_pending;
    self->router = service_bind_router(svc, "intake_bind");
    if (!self->router)
        goto out_free_pending;
    pump_opts_t opts = {
        .source = "intake",
        .dest = "workflow",
        .endpoint = config_str(svc->cfg, "workflow_bind"),
        .batch_max = self->batch_max,
        .window = (int)config_int(svc->cfg, "send_window"),
        .resend_timeout_ms = (int)config_int(svc->cfg, "resend_timeout_ms"),
        .poll_interval_ms = (int)config_int(svc->cfg, "poll_interval_ms"),
    };
    self->pump = outbox_pump_new(svc->db, svc->ctx, &opts);
    if (!self->pump)
        goto out_close_router;
    return self;

out_close_router:
    if (self->router)
        zmq_close(self->router);
out_free_pending:
    free(self->pending);
out_free_self:
    free(self);
    return NULL;
}

void intake_server_destroy(intake_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_server_t *self = *self_p;
    outbox_pump_destroy(&self->pump);
    if (self->router)
        zmq_close(self->router);
    free(self->pending);
    free(self);
    *self_p = NULL;
}

static void s_send_ack(intake_server_t *self, zmq_msg_t *identity, int delimited,
                       const char *event_id, Rectify__AckStatus status, const char *code,
                       const char *message)
{
    Rectify__Ack ack = RECTIFY__ACK__INIT;
    ack.event_id = (char *)(event_id ? event_id : "");
    ack.status = status;
    ack.code = (char *)(code ? code : "");
    ack.message = (char *)(message ? message : "");
    uint8_t buf[1024];
    size_t len = rectify__ack__get_packed_size(&ack);
    if (len > sizeof buf)
        return; /* cannot happen: every field is bounded well below */
    rectify__ack__pack(&ack, buf);
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_copy(&id, identity);
    if (zmq_msg_send(&id, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id); /* the peer is gone; it will send again */
        return;
    }
    if (delimited)
        zmq_send(self->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(self->router, buf, len, ZMQ_DONTWAIT);
}

static void s_release(pending_t *p)
{
    zmq_msg_close(&p->identity);
    zmq_msg_close(&p->body);
    if (p->env)
        rectify__envelope__free_unpacked(p->env, NULL);
    p->env = NULL;
}

/* Receives one message; returns 1 when one was read into p, 0 when none was
 * waiting, -1 for a malformed multipart (dropped). */
static int s_receive(intake_server_t *self, pending_t *p)
{
    zmq_msg_init(&p->identity);
    zmq_msg_init(&p->body);
    p->env = NULL;
    p->delimited = 0;
    if (zmq_msg_recv(&p->identity, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&p->identity);
        zmq_msg_close(&p->body);
        return 0;
    }
    if (!zmq_msg_more(&p->identity) || zmq_msg_recv(&p->body, self->router, 0) < 0)
        goto out_drop;
    if (zmq_msg_size(&p->body) == 0 && zmq_msg_more(&p->body)) { /* REQ delimiter */
        p->delimited = 1;
        zmq_msg_close(&p->body);
        zmq_msg_init(&p->body);
        if (zmq_msg_recv(&p->body, self->router, 0) < 0)
            goto out_drop;
    }
    if (zmq_msg_more(&p->body)) {
        while (zmq_msg_more(&p->body)) {
            zmq_msg_close(&p->body);
            zmq_msg_init(&p->body);
            zmq_msg_recv(&p->body, self->router, 0);
        }
        s_send_ack(self, &p->identity, p->delimited, NULL, RECTIFY__ACK_STATUS__REJECTED,
                   "malformed", "expected one frame holding an Envelope, got several");
        goto out_drop;
    }
    return 1;

out_drop:
    s_release(p);
    return -1;
}

/* Commits the pending batch and answers every sender. On a database failure
 * nobody is answered: the senders send again with the same ids. */
static void s_commit_pending(intake_server_t *self)
{
    pgarr_t ids, units, types, sent, payloads;
    pgarr_init(&ids);
    pgarr_init(&units);
    pgarr_init(&types);
    pgarr_init(&sent);
    pgarr_init(&payloads);
    for (int i = 0; i < self->npending; i++) {
        pending_t *p = &self->pending[i];
        pgarr_add_text(&ids, p->env->event_id);
        pgarr_add_text(&units, p->env->unit);
        pgarr_add_text(&types, p->event_type);
        pgarr_add_int(&sent, (long long)p->env->sent_at_ms);
        pgarr_add_bytea(&payloads, zmq_msg_data(&p->body), zmq_msg_size(&p->body));
    }
    const char *params[] = {pgarr_text(&ids), pgarr_text(&units), pgarr_text(&types),
                            pgarr_text(&sent), pgarr_text(&payloads)};
    PGresult *res = NULL;
    if (params[0] && params[1] && params[2] && params[3] && params[4] &&
        db_ensure(self->svc->db) == RC_OK)
        res = db_run(self->svc->db, &s_accept, params, NULL, NULL);
    if (!res) {
        log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_INT("events", self->npending)}, 1,
                  "batch not stored; senders will send again");
        goto out_release;
    }
    int accepted = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        long idx = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (idx < 0 || idx >= self->npending)
            continue;
        pending_t *p = &self->pending[idx];
        bool duplicate = strcmp(PQgetvalue(res, r, 1), "t") == 0;
        if (duplicate) {
            char msg[128];
            snprintf(msg, sizeof msg, "already accepted at %s; nothing new was done",
                     PQgetvalue(res, r, 2));
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__DUPLICATE, "duplicate", msg);
        } else {
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__ACCEPTED, "", "");
            accepted++;
        }
        log_field_t f[] = {LF_STR("type", p->event_type),
                           LF_STR("status", duplicate ? "duplicate" : "accepted")};
        log_event(LOG_DEBUG, p->env->event_id, p->env->unit, f, 2, "event %s",
                  duplicate ? "repeated" : "accepted");
    }
    PQclear(res);
    if (accepted > 0) {
        outbox_pump_kick(self->pump);
        log_event(LOG_INFO, NULL, NULL,
                  (log_field_t[]){LF_INT("accepted", accepted),
                                  LF_INT("duplicates", self->npending - accepted)},
                  2, "batch committed");
    }
out_release:
    for (int i = 0; i < self->npending; i++)
        s_release(&self->pending[i]);
    self->npending = 0;
    pgarr_free(&ids);
    pgarr_free(&units);
    pgarr_free(&types);
    pgarr_free(&sent);
    pgarr_free(&payloads);
}

/* Reads up to batch_max waiting frames: refusals are answered at once, the
 * rest are committed together. */
static void s_take_batch(intake_server_t *self)
{
    while (self->npending < self->batch_max) {
        pending_t *p = &self->pending[self->npending];
        int got = s_receive(self, p);
        if (got == 0)
            break;
        if (got < 0)
            continue;
        intake_refusal_t why;
        int rc = intake_decode(zmq_msg_data(&p->body), zmq_msg_size(&p->body), self->max_bytes,
                               &p->env, &why);
        if (rc == RC_OK)
            rc = intake_check(p->env, &p->event_type, &why);
        if (rc != RC_OK) {
            const char *event_id = p->env ? p->env->event_id : why.event_id;
            s_send_ack(self, &p->identity, p->delimited, event_id, RECTIFY__ACK_STATUS__REJECTED,
                       why.code, why.message);
            log_field_t f[] = {LF_STR("code", why.code)};
            log_event(LOG_WARN, event_id, p->env ? p->env->unit : NULL, f, 1, "rejected: %s",
                      why.message);
            s_release(p);
            continue;
        }
        self->npending++;
    }
    if (self->npending > 0)
        s_commit_pending(self);
}

static void s_on_input(void *arg)
{
    s_take_batch(arg);
}

int intake_server_run(intake_server_t *self)
{
    service_loop_t loop = {
        .input = self->router, .pump = self->pump, .on_input = s_on_input, .arg = self};
    int rc = service_run(self->svc, &loop);
    self->router = NULL; /* closed by service_run */
    return rc;
}
