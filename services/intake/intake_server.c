/* intake_server.c: receive, check, commit in batches, acknowledge, forward. */
#include "intake_server.h"
#include "refusal.h"
#include "bus.h"
#include "zap.h"
#include "clock.h"
#include "errors.h"
#include "intake_check.h"
#include "intake_keys.h"
#include "log.h"
#include "pgarr.h"
#include "text.h"
#include "ids.h"
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
    uint8_t *content; /* the Envelope without sent_at_ms: what id_reused compares */
    size_t content_len;
    long long key_id; /* the key that authenticated it; 0 in plain mode */
} pending_t;

struct intake_server_t {
    service_t *svc;
    void *router;
    pump_thread_t *pump;
    size_t max_bytes;
    int batch_max;
    pending_t *pending;
    int npending;
    intake_keys_t *keys; /* NULL in plain mode */
    /* rate_limited refusals are logged as a count once a second, not one
     * line each: a flood would otherwise spend intake on its own log */
    long limited;
    int64_t limited_logged_ms;
};

static void s_log_limited(intake_server_t *self, bool force);

static const db_stmt_t s_accept = {
    "intake_accept",
    "SELECT idx, verdict, to_char(first_received AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    " FROM intake_accept($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bytea[],"
    " $6::bytea[], $7::bigint[])",
    7, 0};

/* How long a sender is told to wait when the database cannot take events. */
#define RETRY_AFTER_MS 1000

intake_server_t *intake_server_new(service_t *svc)
{
    intake_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->max_bytes = (size_t)config_int(svc->cfg, SET_max_message_bytes);
    self->batch_max = (int)config_int(svc->cfg, SET_batch_max);
    self->limited_logged_ms = clock_mono_ms();
    self->pending = calloc((size_t)self->batch_max, sizeof *self->pending);
    if (!self->pending)
        goto out_free_self;
    if (service_check_endpoint(svc, SET_workflow_bind) != RC_OK)
        goto out_free_pending;
    if (bus_curve_on()) {
        self->keys = intake_keys_new(svc->db, (int)config_int(svc->cfg, SET_rate_per_s),
                                     (int)config_int(svc->cfg, SET_rate_burst));
        if (!self->keys)
            goto out_free_pending;
    }
    self->router = service_bind_router(svc, SET_intake_bind, ZAP_DOMAIN_SYSTEMS, 0);
    if (!self->router)
        goto out_free_pending;
    pump_opts_t opts = {
        .source = "intake",
        .dest = "workflow",
        .endpoint = config_str(svc->cfg, SET_workflow_bind),
        .batch_max = self->batch_max,
        .window = (int)config_int(svc->cfg, SET_send_window),
        .resend_timeout_ms = (int)config_int(svc->cfg, SET_resend_timeout_ms),
        .poll_interval_ms = (int)config_int(svc->cfg, SET_poll_interval_ms),
        .lease_ms = (int)config_int(svc->cfg, SET_lease_ms),
    };
    self->pump = pump_thread_start(config_str(svc->cfg, SET_db), svc->ctx, &opts);
    if (!self->pump)
        goto out_close_router;
    return self;

out_close_router:
    if (self->router)
        zmq_close(self->router);
out_free_pending:
    intake_keys_destroy(&self->keys);
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
    s_log_limited(self, true);
    pump_thread_stop(&self->pump, 0);
    if (self->router)
        zmq_close(self->router);
    intake_keys_destroy(&self->keys);
    free(self->pending);
    free(self);
    *self_p = NULL;
}

/* Answers one sender. The answer is always valid UTF-8: the event id is
 * echoed only when it is a UUID, and the message is cut on a character
 * boundary, so every frame gets an answer a strict client can decode. */
static void s_send_ack(intake_server_t *self, zmq_msg_t *identity, int delimited,
                       const char *event_id, Rectify__AckStatus status, const char *code,
                       const char *message, int retry_after_ms)
{
    char msg[512];
    text_cut(msg, sizeof msg, message ? message : "");
    Rectify__Ack ack = RECTIFY__ACK__INIT;
    ack.event_id = (char *)(event_id && ids_is_uuid(event_id) ? event_id : "");
    ack.status = status;
    ack.code = (char *)(code ? code : "");
    ack.message = msg;
    ack.retry_after_ms = retry_after_ms;
    uint8_t buf[1024];
    size_t len = rectify__ack__get_packed_size(&ack);
    if (len > sizeof buf) { /* cannot happen: id 36, code < 32, message < 512 bytes */
        log_error("ack of %zu bytes does not fit; answering without its message", len);
        ack.message = "";
        len = rectify__ack__get_packed_size(&ack);
    }
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
    free(p->content);
    p->content = NULL;
}

static const db_stmt_t s_outcomes = {
    "intake_outcomes",
    "SELECT CASE WHEN i.event_id IS NULL THEN 'unknown' WHEN w.event_id IS NULL THEN 'pending'"
    " ELSE w.outcome END, coalesce(w.code, ''), coalesce(w.message, '')"
    " FROM unnest($1::uuid[]) WITH ORDINALITY AS q (id, n)"
    " LEFT JOIN intake_event i ON i.event_id = q.id AND ($2::text IS NULL OR i.unit = $2)"
    " LEFT JOIN wf_event w ON w.event_id = i.event_id ORDER BY q.n",
    2, 0};

#define OUTCOMES_MAX_IDS 1000

/* Looks up the outcomes of the asked ids (the asking key's unit only; in
 * plain mode, any) into out. Returns NULL or the reason the query failed. */
static const char *s_lookup_outcomes(intake_server_t *self, const Rectify__OutcomeQuery *q,
                                     const char *unit, Rectify__Outcomes *out)
{
    if (q->n_event_ids > OUTCOMES_MAX_IDS)
        return "event_ids: at most 1000 a query";
    pgarr_t ids;
    pgarr_init(&ids);
    for (size_t i = 0; i < q->n_event_ids; i++) /* not a UUID: never accepted */
        pgarr_add_text(&ids, ids_is_uuid(q->event_ids[i]) ? q->event_ids[i]
                                                          : "00000000-0000-0000-0000-000000000000");
    const char *params[] = {q->n_event_ids ? pgarr_text(&ids) : "{}", unit};
    PGresult *res = NULL;
    if (params[0] && db_ensure(self->svc->db) == RC_OK)
        res = db_run(self->svc->db, &s_outcomes, params, NULL, NULL);
    pgarr_free(&ids);
    if (!res)
        return "the event store is unavailable: ask again later";
    size_t n = (size_t)PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return NULL;
    }
    out->outcomes = calloc(n, sizeof *out->outcomes);
    Rectify__Outcome *each = calloc(n, sizeof *each); /* freed through outcomes[0] */
    if (!out->outcomes || !each) {
        free(out->outcomes);
        free(each);
        out->outcomes = NULL;
        PQclear(res);
        return "intake is out of memory";
    }
    for (size_t i = 0; i < n && i < q->n_event_ids; i++) {
        Rectify__Outcome *o = &each[i];
        rectify__outcome__init(o);
        const char *state = PQgetvalue(res, (int)i, 0);
        o->event_id = q->event_ids[i];
        o->state = !strcmp(state, "applied")   ? RECTIFY__OUTCOME_STATE__OUTCOME_APPLIED
                   : !strcmp(state, "refused") ? RECTIFY__OUTCOME_STATE__OUTCOME_REFUSED
                   : !strcmp(state, "pending") ? RECTIFY__OUTCOME_STATE__OUTCOME_PENDING
                                               : RECTIFY__OUTCOME_STATE__OUTCOME_UNKNOWN;
        o->code = strdup(PQgetvalue(res, (int)i, 1));
        o->message = strdup(PQgetvalue(res, (int)i, 2));
        out->outcomes[out->n_outcomes++] = o;
    }
    PQclear(res);
    return NULL;
}

/* Answers an outcome query: two frames, "outcomes" and Outcomes. */
static void s_answer_outcomes(intake_server_t *self, pending_t *p, zmq_msg_t *query)
{
    Rectify__Outcomes out = RECTIFY__OUTCOMES__INIT;
    const char *unit = NULL, *error = NULL;
    if (self->keys) {
        const char *user_id = bus_user_id(query);
        int retry_after_ms = 0;
        long long key_id = 0;
        if (!user_id || intake_keys_check(self->keys, user_id, clock_mono_ms(), &unit, &key_id,
                                          &retry_after_ms) != KEY_OK)
            error = "this connection's key is not allowed to ask (unknown, revoked or rate "
                    "limited)";
    }
    Rectify__OutcomeQuery *q =
        error ? NULL
              : rectify__outcome_query__unpack(NULL, zmq_msg_size(query), zmq_msg_data(query));
    if (!error && !q)
        error = "the query is not an OutcomeQuery";
    if (!error) {
        for (size_t i = 0; i < q->n_event_ids && !error; i++)
            if (text_check(q->event_ids[i], strlen(q->event_ids[i]), 64, NULL) != TEXT_OK)
                error = "event_ids: not valid UTF-8, or longer than 64 bytes";
    }
    if (!error)
        error = s_lookup_outcomes(self, q, unit, &out);
    out.error = (char *)(error ? error : "");
    size_t len = rectify__outcomes__get_packed_size(&out);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        rectify__outcomes__pack(&out, buf);
        zmq_msg_t id;
        zmq_msg_init(&id);
        zmq_msg_copy(&id, &p->identity);
        if (zmq_msg_send(&id, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
            zmq_send(self->router, "outcomes", 8, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(self->router, buf, len, ZMQ_DONTWAIT);
        } else {
            zmq_msg_close(&id);
        }
    }
    free(buf);
    for (size_t i = 0; i < out.n_outcomes; i++) {
        free(out.outcomes[i]->code);
        free(out.outcomes[i]->message);
    }
    if (out.n_outcomes)
        free(out.outcomes[0]); /* the array of them, allocated at once */
    free(out.outcomes);
    if (q)
        rectify__outcome_query__free_unpacked(q, NULL);
}

/* Receives one message; returns 1 when one was read into p, 0 when none was
 * waiting, -1 for a malformed multipart (dropped). */
static int s_receive(intake_server_t *self, pending_t *p)
{
    zmq_msg_init(&p->identity);
    zmq_msg_init(&p->body);
    p->env = NULL;
    p->content = NULL;
    p->delimited = 0;
    p->key_id = 0;
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
    if (zmq_msg_more(&p->body) && !p->delimited && zmq_msg_size(&p->body) == 8 &&
        memcmp(zmq_msg_data(&p->body), "outcomes", 8) == 0) {
        zmq_msg_t query;
        zmq_msg_init(&query);
        if (zmq_msg_recv(&query, self->router, 0) >= 0 && !zmq_msg_more(&query))
            s_answer_outcomes(self, p, &query);
        while (zmq_msg_more(&query)) { /* a third frame: not a query; dropped */
            zmq_msg_close(&query);
            zmq_msg_init(&query);
            zmq_msg_recv(&query, self->router, 0);
        }
        zmq_msg_close(&query);
        goto out_drop;
    }
    if (zmq_msg_more(&p->body)) {
        while (zmq_msg_more(&p->body)) {
            zmq_msg_close(&p->body);
            zmq_msg_init(&p->body);
            zmq_msg_recv(&p->body, self->router, 0);
        }
        s_send_ack(self, &p->identity, p->delimited, NULL, RECTIFY__ACK_STATUS__REJECTED,
                   refusal_code(REFUSAL_malformed),
                   "expected one frame holding an Envelope, got several", 0);
        goto out_drop;
    }
    return 1;

out_drop:
    s_release(p);
    return -1;
}

/* Stores pending[first .. first+count) in one statement (one transaction).
 * Returns the result rows (idx, verdict, first_received), or NULL: then
 * db_fault says whether the data or the database is to blame. */
static PGresult *s_store(intake_server_t *self, int first, int count)
{
    pgarr_t arr[7];
    for (int a = 0; a < 7; a++)
        pgarr_init(&arr[a]);
    for (int i = first; i < first + count; i++) {
        pending_t *p = &self->pending[i];
        pgarr_add_text(&arr[0], p->env->event_id);
        pgarr_add_text(&arr[1], p->env->unit);
        pgarr_add_text(&arr[2], p->event_type);
        pgarr_add_int(&arr[3], (long long)p->env->sent_at_ms);
        pgarr_add_bytea(&arr[4], zmq_msg_data(&p->body), zmq_msg_size(&p->body));
        pgarr_add_bytea(&arr[5], p->content, p->content_len);
        if (p->key_id > 0)
            pgarr_add_int(&arr[6], p->key_id);
        else
            pgarr_add_null(&arr[6]);
    }
    const char *params[7];
    bool complete = true;
    for (int a = 0; a < 7; a++)
        complete = complete && (params[a] = pgarr_text(&arr[a])) != NULL;
    PGresult *res = NULL;
    if (complete && db_ensure(self->svc->db) == RC_OK)
        res = db_run(self->svc->db, &s_accept, params, NULL, NULL);
    for (int a = 0; a < 7; a++)
        pgarr_free(&arr[a]);
    return res;
}

/* Answers the senders of pending[first ..] from intake_accept's rows;
 * returns how many were new. */
static int s_answer(intake_server_t *self, int first, PGresult *res)
{
    int accepted = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        long idx = first + strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (idx < first || idx >= self->npending)
            continue;
        pending_t *p = &self->pending[idx];
        const char *verdict = PQgetvalue(res, r, 1);
        char msg[160];
        if (strcmp(verdict, "accepted") == 0) {
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__ACCEPTED, "", "", 0);
            accepted++;
        } else if (strcmp(verdict, "duplicate") == 0) {
            snprintf(msg, sizeof msg, "already accepted at %s; nothing new was done",
                     PQgetvalue(res, r, 2));
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__DUPLICATE, refusal_code(REFUSAL_duplicate), msg, 0);
        } else {
            snprintf(msg, sizeof msg,
                     "event_id was accepted at %s for another event; choose a new id for this "
                     "one",
                     PQgetvalue(res, r, 2));
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__REJECTED, refusal_code(REFUSAL_id_reused), msg, 0);
        }
        log_field_t f[] = {LF_STR("type", p->event_type), LF_STR("status", verdict)};
        log_event(LOG_DEBUG, p->env->event_id, p->env->unit, f, 2, "event %s", verdict);
    }
    return accepted;
}

/* Tells pending[first ..] to send again later: the database is unavailable. */
static void s_answer_later(intake_server_t *self, int first)
{
    for (int i = first; i < self->npending; i++) {
        pending_t *p = &self->pending[i];
        s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                   RECTIFY__ACK_STATUS__RETRY_LATER, refusal_code(REFUSAL_unavailable),
                   "the event store is unavailable; nothing was stored: send the same event again "
                   "later",
                   RETRY_AFTER_MS);
    }
    log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_INT("events", self->npending - first)}, 1,
              "events not stored (database unavailable); senders told to send again");
}

/* Commits the pending batch and answers every sender. When the batch fails
 * on its data, each event is stored alone, so only the event the database
 * refuses is refused (invalid_data) and the others are accepted; when the
 * database itself fails, every sender is told to send again later. */
static void s_commit_pending(intake_server_t *self)
{
    int accepted = 0;
    PGresult *res = s_store(self, 0, self->npending);
    if (res) {
        accepted = s_answer(self, 0, res);
        PQclear(res);
    } else if (db_fault(self->svc->db) != DB_FAULT_DATA) {
        s_answer_later(self, 0);
    } else {
        for (int i = 0; i < self->npending; i++) {
            res = s_store(self, i, 1);
            if (res) {
                accepted += s_answer(self, i, res);
                PQclear(res);
                continue;
            }
            if (db_fault(self->svc->db) != DB_FAULT_DATA) {
                s_answer_later(self, i);
                break;
            }
            pending_t *p = &self->pending[i];
            char msg[400];
            text_printf(msg, sizeof msg, "the database refused this event's data (SQLSTATE %s): %s",
                        db_sqlstate(self->svc->db), db_error(self->svc->db));
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__REJECTED, refusal_code(REFUSAL_invalid_data), msg, 0);
            log_event(LOG_WARN, p->env->event_id, p->env->unit,
                      (log_field_t[]){LF_STR("code", refusal_code(REFUSAL_invalid_data))}, 1,
                      "rejected: %s", msg);
        }
    }
    if (accepted > 0) {
        pump_thread_kick(self->pump);
        log_event(LOG_INFO, NULL, NULL,
                  (log_field_t[]){LF_INT("accepted", accepted),
                                  LF_INT("others", self->npending - accepted)},
                  2, "batch committed");
    }
    for (int i = 0; i < self->npending; i++)
        s_release(&self->pending[i]);
    self->npending = 0;
}

/* The Envelope's content as id_reused compares it: packed again without
 * sent_at_ms (protobuf-c packs a message the same way every time). */
static int s_content(pending_t *p)
{
    int64_t sent = p->env->sent_at_ms;
    p->env->sent_at_ms = 0;
    p->content_len = rectify__envelope__get_packed_size(p->env);
    p->content = malloc(p->content_len ? p->content_len : 1);
    if (p->content)
        rectify__envelope__pack(p->env, p->content);
    p->env->sent_at_ms = sent;
    return p->content ? RC_OK : RC_ERR_NOMEM;
}

/* Who sent p: the key the ZAP handler admitted its connection with (read
 * from the message itself, never from the routing id), still unrevoked, and
 * with a token in its bucket. Returns true with the key's unit, or false with
 * the refusal in why (retry_after_ms > 0: rate limited, send again then). */
static bool s_authenticate(intake_server_t *self, pending_t *p, intake_refusal_t *why,
                           const char **unit, int *retry_after_ms)
{
    const char *user_id = bus_user_id(&p->body);
    key_verdict_t v = KEY_UNKNOWN;
    if (user_id)
        v = intake_keys_check(self->keys, user_id, clock_mono_ms(), unit, &p->key_id,
                              retry_after_ms);
    if (v == KEY_OK)
        return true;
    *retry_after_ms = v == KEY_RATE_LIMITED ? *retry_after_ms : 0;
    refusal_t code = !user_id                ? REFUSAL_unauthenticated
                     : v == KEY_REVOKED      ? REFUSAL_key_revoked
                     : v == KEY_RATE_LIMITED ? REFUSAL_rate_limited
                                             : REFUSAL_unknown_key;
    snprintf(why->code, sizeof why->code, "%s", refusal_code(code));
    if (!user_id)
        snprintf(why->message, sizeof why->message,
                 "this connection is not authenticated: connect with CURVE and a key made by "
                 "rectifyctl key new; nothing was stored");
    else if (v == KEY_REVOKED)
        snprintf(why->message, sizeof why->message,
                 "key %s has been revoked; nothing was stored: use a current key", user_id);
    else if (v == KEY_RATE_LIMITED)
        snprintf(why->message, sizeof why->message,
                 "key %s posts faster than its limit (rate_per_s, rate_burst); nothing was "
                 "stored: send the same event again after %d ms",
                 user_id, *retry_after_ms);
    else
        snprintf(why->message, sizeof why->message,
                 "key %s is not a known system key; nothing was stored", user_id);
    return false;
}

/* Logs the rate_limited refusals counted since the last such line, at most
 * once a second (force: whatever the time). */
static void s_log_limited(intake_server_t *self, bool force)
{
    int64_t now = clock_mono_ms();
    if (self->limited == 0 || (!force && now - self->limited_logged_ms < 1000))
        return;
    log_field_t f[] = {LF_STR("code", refusal_code(REFUSAL_rate_limited)),
                       LF_INT("frames", self->limited)};
    log_event(LOG_WARN, NULL, NULL, f, 2,
              "rejected: %ld frames of keys posting faster than rate_per_s in the last %.1f s",
              self->limited, (double)(now - self->limited_logged_ms) / 1000);
    self->limited = 0;
    self->limited_logged_ms = now;
}

/* Reads up to batch_max waiting frames: refusals are answered at once, the
 * rest are committed together. Refusals count towards batch_max too: a
 * flood of refused frames that never let up would otherwise keep the
 * events read between them from being committed (and answered) at all. */
static void s_take_batch(intake_server_t *self)
{
    for (int frames = 0; frames < self->batch_max; frames++) {
        pending_t *p = &self->pending[self->npending];
        int got = s_receive(self, p);
        if (got == 0)
            break;
        if (got < 0)
            continue;
        intake_refusal_t why;
        int rc = intake_decode(zmq_msg_data(&p->body), zmq_msg_size(&p->body), self->max_bytes,
                               &p->env, &why);
        const char *key_unit = NULL;
        int retry_after_ms = 0;
        if (self->keys && !s_authenticate(self, p, &why, &key_unit, &retry_after_ms))
            rc = RC_ERR_DENIED;
        if (rc == RC_OK)
            rc = intake_check(p->env, &p->event_type, &why);
        if (rc == RC_OK && key_unit && strcmp(p->env->unit, key_unit) != 0) {
            snprintf(why.code, sizeof why.code, "%s", refusal_code(REFUSAL_unit_mismatch));
            text_printf(why.message, sizeof why.message,
                        "unit: this connection's key (%lld) posts as unit \"%s\", not \"%s\"; "
                        "nothing was stored",
                        p->key_id, key_unit, p->env->unit);
            rc = RC_ERR_DENIED;
        }
        if (rc == RC_OK && s_content(p) != RC_OK) {
            s_send_ack(self, &p->identity, p->delimited, p->env->event_id,
                       RECTIFY__ACK_STATUS__RETRY_LATER, refusal_code(REFUSAL_unavailable),
                       "intake is out of memory", RETRY_AFTER_MS);
            s_release(p);
            continue;
        }
        if (rc != RC_OK) {
            const char *event_id = p->env ? p->env->event_id : why.event_id;
            s_send_ack(self, &p->identity, p->delimited, event_id,
                       retry_after_ms > 0 ? RECTIFY__ACK_STATUS__RETRY_LATER
                                          : RECTIFY__ACK_STATUS__REJECTED,
                       why.code, why.message, retry_after_ms);
            if (retry_after_ms > 0) {
                self->limited++;
            } else {
                log_field_t f[] = {LF_STR("code", why.code)};
                log_event(LOG_WARN, event_id, p->env ? p->env->unit : NULL, f, 1, "rejected: %s",
                          why.message);
            }
            s_release(p);
            continue;
        }
        self->npending++;
    }
    s_log_limited(self, false);
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
    self->pump = NULL;   /* stopped by service_run */
    return rc;
}
