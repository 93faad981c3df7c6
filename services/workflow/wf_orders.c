/* wf_orders.c: the lifecycle of hotline work orders (工单).
 *
 *   registered -dispatch-> dispatched -take-> taken -contact-> contacted
 *   contacted -arrive-> on_site -complete-> completed -reply-> replied
 *   replied -close-> closed (dissatisfied: dispatched again, to the same unit)
 *   closed -reopen-> dispatched          dispatched|taken -return-> returned
 *   returned -dispatch-> dispatched      dispatched..on_site -transfer-> dispatched
 *   pause / resume / extend leave the state as it is
 *
 * Each dispatch (dispatch, transfer, reopen) starts a new cycle of clocks.
 * The table below is the whole state machine: which step moves an order
 * from which states to which, who may take it and what it needs. What a step
 * writes (the order, its history, its clocks) is order_step() in migration
 * 092_work_orders.sql. */
#include "clock.h"
#include "errors.h"
#include "text.h"
#include "wf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    BY_HOTLINE,   /* the hotline that posted the order, or one above it */
    BY_UNDERTAKER /* a unit covering the order's undertaking unit */
} order_who_t;

enum {
    NEEDS_UNIT = 1,
    NEEDS_REASON = 2,
    NEEDS_APPROVER = 4,
    NEEDS_MINUTES = 8,
    NEEDS_SATISFACTION = 16
};

typedef struct {
    Rectify__OrderStep step;
    const char *name;
    const char *from; /* "|"-separated states */
    order_who_t who;
    unsigned needs;
} order_move_t;

static const order_move_t s_moves[] = {
    {RECTIFY__ORDER_STEP__DISPATCH, "dispatch", "registered|returned", BY_HOTLINE, NEEDS_UNIT},
    {RECTIFY__ORDER_STEP__TAKE, "take", "dispatched", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__CONTACT, "contact", "taken", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__ARRIVE, "arrive", "contacted", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__COMPLETE, "complete", "contacted|on_site", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__REPLY, "reply", "completed", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__CLOSE, "close", "replied", BY_HOTLINE, NEEDS_SATISFACTION},
    {RECTIFY__ORDER_STEP__REOPEN, "reopen", "closed", BY_HOTLINE, NEEDS_REASON},
    {RECTIFY__ORDER_STEP__RETURN, "return", "dispatched|taken", BY_UNDERTAKER, NEEDS_REASON},
    {RECTIFY__ORDER_STEP__TRANSFER, "transfer", "dispatched|taken|contacted|on_site", BY_HOTLINE,
     NEEDS_UNIT | NEEDS_REASON},
    {RECTIFY__ORDER_STEP__PAUSE, "pause", "taken|contacted|on_site", BY_UNDERTAKER,
     NEEDS_REASON | NEEDS_APPROVER},
    {RECTIFY__ORDER_STEP__RESUME, "resume", "taken|contacted|on_site", BY_UNDERTAKER, 0},
    {RECTIFY__ORDER_STEP__EXTEND, "extend", "dispatched|taken|contacted|on_site", BY_UNDERTAKER,
     NEEDS_REASON | NEEDS_APPROVER | NEEDS_MINUTES},
};

/* An extension is at most 30 days at a time. */
#define ORDER_MAX_EXTEND_MIN (30 * 24 * 60)

typedef struct {
    bool found;
    char status[16];
    char unit[WF_CODE_MAX]; /* "" before dispatch */
    char hotline[WF_CODE_MAX];
    bool paused;
} order_t;

static const db_stmt_t s_load = {"wf_order_load",
                                 "SELECT status, coalesce(unit, ''), hotline, paused_at IS NOT NULL"
                                 " FROM work_order WHERE order_id = $1 FOR UPDATE",
                                 1, 0};
static const db_stmt_t s_register = {
    "wf_order_register",
    "SELECT case_no, basis, orders FROM order_register_counted($1, $2,"
    " to_timestamp($3::bigint / 1000.0), $4, $5, $6, $7::bool, $8::float8, $9::float8, $10, $11,"
    " $12::bool, $13::uuid, rectify_now($14::bool), $15::int, $16::int)",
    16, 0};
static const db_stmt_t s_step = {
    "wf_order_step",
    "SELECT order_step($1, $2, $3::uuid, $4, $5, $6, $7, $8::int, $9, $10, rectify_now($11::bool))",
    11, 0};
static const db_stmt_t s_unit_role = {"wf_order_unit_role", "SELECT role FROM unit WHERE code = $1",
                                      1, 0};

static int s_load_order(wf_ctx_t *ctx, const char *order_id, order_t *o)
{
    memset(o, 0, sizeof *o);
    const char *params[] = {order_id};
    PGresult *res = db_run(ctx->db, &s_load, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    o->found = PQntuples(res) == 1;
    if (o->found) {
        snprintf(o->status, sizeof o->status, "%s", PQgetvalue(res, 0, 0));
        snprintf(o->unit, sizeof o->unit, "%s", PQgetvalue(res, 0, 1));
        snprintf(o->hotline, sizeof o->hotline, "%s", PQgetvalue(res, 0, 2));
        o->paused = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    }
    PQclear(res);
    return RC_OK;
}

static const char *s_sim(const wf_ctx_t *ctx)
{
    return ctx->clock && ctx->clock->sim ? "t" : "f";
}

static const char *s_channel(Rectify__Channel c)
{
    switch (c) {
    case RECTIFY__CHANNEL__PHONE:
        return "phone";
    case RECTIFY__CHANNEL__WEB:
        return "web";
    case RECTIFY__CHANNEL__APP:
        return "app";
    default:
        return NULL;
    }
}

static const char *s_satisfaction(Rectify__Satisfaction s)
{
    switch (s) {
    case RECTIFY__SATISFACTION__SATISFIED:
        return "satisfied";
    case RECTIFY__SATISFACTION__BASICALLY_SATISFIED:
        return "basically_satisfied";
    case RECTIFY__SATISFACTION__DISSATISFIED:
        return "dissatisfied";
    default:
        return "";
    }
}

static int s_post_order(wf_ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Rectify__PostOrder *ev = (const Rectify__PostOrder *)msg;
    int rc = wf_require_role(ctx, "hotline", "post_order");
    if (rc != RC_OK)
        return rc;
    const char *channel = s_channel(ev->channel);
    if (!channel) /* intake checked it: a newer intake than workflow */
        return wf_refuse(ctx, REFUSAL_invalid_field, "post_order.channel: %d is not known here",
                         (int)ev->channel);
    /* the process clock follows the simulated one batch by batch; a minute
     * of grace for the hotline's clock */
    long long now_ms = (long long)clock_now_ms();
    if (ev->received_ms > now_ms + 60000)
        return wf_refuse(ctx, REFUSAL_future_date,
                         "post_order.received_ms: %lld is after now (%lld); an order is dated when "
                         "the hotline received it",
                         (long long)ev->received_ms, now_ms);
    order_t o;
    if ((rc = s_load_order(ctx, ev->order_id, &o)) != RC_OK)
        return rc;
    if (o.found)
        return wf_refuse(ctx, REFUSAL_order_exists,
                         "post_order.order_id: order \"%s\" is registered already (%s)",
                         ev->order_id, o.status);
    char received[24], lat[32], lon[32];
    snprintf(received, sizeof received, "%lld", (long long)ev->received_ms);
    snprintf(lat, sizeof lat, "%.7f", ev->latitude);
    snprintf(lon, sizeof lon, "%.7f", ev->longitude);
    const char *params[] = {ev->order_id,
                            ctx->sender.code,
                            received,
                            channel,
                            ev->caller_hash,
                            ev->address,
                            ev->located ? "t" : "f",
                            lat,
                            lon,
                            ev->category,
                            ev->text,
                            ev->urgency == RECTIFY__URGENCY__URGENT ? "t" : "f",
                            ctx->env->event_id,
                            s_sim(ctx),
                            ctx->clock->repeat_min_orders,
                            ctx->clock->repeat_min_days};
    PGresult *res = db_run(ctx->db, &s_register, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    rc = wf_repeat_notices(ctx, res, ev->order_id, ctx->sender.code);
    PQclear(res);
    return rc;
}

static const order_move_t *s_find(Rectify__OrderStep step)
{
    for (size_t i = 0; i < sizeof s_moves / sizeof s_moves[0]; i++)
        if (s_moves[i].step == step)
            return &s_moves[i];
    return NULL;
}

/* The fields the step needs, named in the refusal. */
static int s_check_needs(wf_ctx_t *ctx, const order_move_t *m, const Rectify__MoveOrder *ev,
                         const order_t *o)
{
    if ((m->needs & NEEDS_UNIT) && !*ev->unit)
        return wf_refuse(ctx, REFUSAL_missing_field, "move_order.unit is required to %s", m->name);
    if ((m->needs & NEEDS_REASON) && !*ev->reason)
        return wf_refuse(ctx, REFUSAL_missing_field, "move_order.reason is required to %s",
                         m->name);
    if ((m->needs & NEEDS_APPROVER) && !*ev->approver)
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "move_order.approver is required to %s: who approved it", m->name);
    if ((m->needs & NEEDS_MINUTES) && (ev->minutes <= 0 || ev->minutes > ORDER_MAX_EXTEND_MIN))
        return wf_refuse(ctx, ev->minutes == 0 ? REFUSAL_missing_field : REFUSAL_invalid_field,
                         "move_order.minutes: %d; %s needs 1 .. %d minutes", ev->minutes, m->name,
                         ORDER_MAX_EXTEND_MIN);
    if ((m->needs & NEEDS_SATISFACTION) && !*s_satisfaction(ev->satisfaction))
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "move_order.satisfaction is required to %s (the caller's verdict)",
                         m->name);
    if (!(m->needs & NEEDS_UNIT) && *ev->unit)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "move_order.unit: only dispatch and transfer name a unit (%s does not)",
                         m->name);
    if (!(m->needs & NEEDS_UNIT))
        return RC_OK;
    const char *params[] = {ev->unit};
    PGresult *res = db_run(ctx->db, &s_unit_role, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    bool undertaker = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "unit") == 0;
    PQclear(res);
    if (!undertaker)
        return wf_refuse(ctx, REFUSAL_unknown_unit,
                         "move_order.unit: \"%s\" is not a registered unit of role unit", ev->unit);
    if (m->step == RECTIFY__ORDER_STEP__TRANSFER && strcmp(ev->unit, o->unit) == 0)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "move_order.unit: the order is with %s already; a transfer names another "
                         "unit",
                         ev->unit);
    return RC_OK;
}

static int s_rights(wf_ctx_t *ctx, const order_move_t *m, const order_t *o)
{
    char what[48];
    snprintf(what, sizeof what, "move_order (%s)", m->name);
    if (m->who == BY_HOTLINE) {
        int rc = wf_require_role(ctx, "hotline", what);
        return rc == RC_OK ? wf_require_covers(ctx, o->hotline, what) : rc;
    }
    int rc = wf_require_role(ctx, "unit", what);
    if (rc == RC_OK && !*o->unit) /* not dispatched: no undertaking unit yet */
        return wf_refuse(ctx, REFUSAL_invalid_transition,
                         "%s: the order is %s and has no undertaking unit", what, o->status);
    return rc == RC_OK ? wf_require_covers(ctx, o->unit, what) : rc;
}

/* Who hears of a step: the unit that must act next. */
static int s_notify_step(wf_ctx_t *ctx, const order_move_t *m, const Rectify__MoveOrder *ev,
                         const order_t *o, const char *to)
{
    char subject[400];
    switch (m->step) {
    case RECTIFY__ORDER_STEP__DISPATCH:
    case RECTIFY__ORDER_STEP__TRANSFER:
    case RECTIFY__ORDER_STEP__REOPEN:
    case RECTIFY__ORDER_STEP__CLOSE: {
        if (strcmp(to, "dispatched") != 0)
            return RC_OK;
        const char *unit = *ev->unit ? ev->unit : o->unit;
        text_printf(subject, sizeof subject, "order %s: %s to %s, take it within the clock",
                    ev->order_id, m->step == RECTIFY__ORDER_STEP__CLOSE ? "reopened" : m->name,
                    unit);
        return wf_notify(ctx, "order_dispatched", unit, subject, *ev->reason ? ev->reason : "");
    }
    case RECTIFY__ORDER_STEP__RETURN:
        text_printf(subject, sizeof subject, "order %s: returned by %s", ev->order_id, o->unit);
        return wf_notify(ctx, "order_returned", o->hotline, subject, ev->reason);
    default:
        return RC_OK;
    }
}

static int s_move_order(wf_ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Rectify__MoveOrder *ev = (const Rectify__MoveOrder *)msg;
    const order_move_t *m = s_find(ev->step);
    if (!m)
        return wf_refuse(ctx, REFUSAL_invalid_field, "move_order.step: %d is not known here",
                         (int)ev->step);
    order_t o;
    int rc = s_load_order(ctx, ev->order_id, &o);
    if (rc != RC_OK)
        return rc;
    if (!o.found)
        return wf_refuse(ctx, REFUSAL_unknown_order, "move_order.order_id: no order \"%s\"",
                         ev->order_id);
    if ((rc = s_rights(ctx, m, &o)) != RC_OK)
        return rc;
    bool resume = m->step == RECTIFY__ORDER_STEP__RESUME;
    if (o.paused && !resume)
        return wf_refuse(ctx, REFUSAL_order_paused,
                         "move_order (%s): order %s is paused; resume it first", m->name,
                         ev->order_id);
    if (!o.paused && resume)
        return wf_refuse(ctx, REFUSAL_invalid_transition,
                         "move_order (resume): order %s is not paused", ev->order_id);
    if (!wf_state_in(m->from, o.status))
        return wf_refuse(ctx, REFUSAL_invalid_transition,
                         "move_order (%s): order %s is %s; %s needs %s", m->name, ev->order_id,
                         o.status, m->name, m->from);
    if ((rc = s_check_needs(ctx, m, ev, &o)) != RC_OK)
        return rc;
    char minutes[16];
    snprintf(minutes, sizeof minutes, "%d", ev->minutes);
    const char *params[] = {ev->order_id,     m->name,   ctx->env->event_id,
                            ctx->sender.code, ev->unit,  ev->reason,
                            ev->approver,     minutes,   s_satisfaction(ev->satisfaction),
                            ev->note,         s_sim(ctx)};
    PGresult *res = db_run(ctx->db, &s_step, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    char to[16];
    snprintf(to, sizeof to, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return s_notify_step(ctx, m, ev, &o, to);
}

static const wf_handler_t s_handlers[] = {
    {RECTIFY__ENVELOPE__EVENT_POST_ORDER, s_post_order},
    {RECTIFY__ENVELOPE__EVENT_MOVE_ORDER, s_move_order},
};

const wf_lifecycle_t wf_orders = {
    .name = "order",
    .handlers = s_handlers,
    .n_handlers = sizeof s_handlers / sizeof s_handlers[0],
    .noun = "order",
};
