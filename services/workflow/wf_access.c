/* wf_access.c: who sends, what they may do, and the audit trail. */
#include "clock.h"
#include "errors.h"
#include "wf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const db_stmt_t s_sender = {"wf_sender", "SELECT role FROM unit WHERE code = $1", 1, 0};
static const db_stmt_t s_covers = {"wf_covers", "SELECT unit_covers($1, $2)", 2, 0};
static const db_stmt_t s_task = {
    "wf_task",
    "SELECT t.kind, coalesce(t.item_id, ''), t.status, coalesce(t.responsible_unit, ''),"
    " coalesce(t.track, ''), r.target_unit,"
    /* the last business change: a clock's mark (overdue, a card) dated
     * later does not stop an event that happened before it from being posted */
    " (SELECT h.effective_on::text || ' ' || h.action FROM task_history h"
    "   WHERE h.round_id = t.round_id AND h.task_id = t.task_id AND h.actor <> 'clock'"
    "   ORDER BY h.effective_on DESC, h.id DESC LIMIT 1)"
    " FROM task t JOIN inspection_round r USING (round_id)"
    " WHERE t.round_id = $1 AND t.task_id = $2 FOR UPDATE OF t",
    2, 0};
static const db_stmt_t s_history = {
    "wf_history",
    "INSERT INTO task_history (round_id, task_id, event_id, actor, action, from_status,"
    " to_status, reason, detail, effective_on)"
    " VALUES ($1, $2, $3::uuid, $4, $5, nullif($6, ''), $7, nullif($8, ''), $9::jsonb, $10::date)",
    10, 0};

/* Senders already looked up in this batch: a batch mostly comes from a few
 * units, and a registered unit's role never changes. */
#define SENDER_CACHE 16
static wf_unit_t s_cache[SENDER_CACHE];
static int s_cached;

void wf_sender_cache_reset(void)
{
    s_cached = 0;
}

int wf_load_sender(wf_ctx_t *ctx)
{
    for (int i = 0; i < s_cached; i++)
        if (strcmp(s_cache[i].code, ctx->env->unit) == 0) {
            ctx->sender = s_cache[i];
            return RC_OK;
        }
    const char *params[] = {ctx->env->unit};
    PGresult *res = db_run(ctx->db, &s_sender, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    ctx->sender.found = PQntuples(res) == 1;
    snprintf(ctx->sender.code, sizeof ctx->sender.code, "%s", ctx->env->unit);
    snprintf(ctx->sender.role, sizeof ctx->sender.role, "%s",
             ctx->sender.found ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    if (ctx->sender.found && s_cached < SENDER_CACHE)
        s_cache[s_cached++] = ctx->sender;
    if (!ctx->sender.found)
        return wf_refuse(ctx, REFUSAL_unknown_sender, "unit: \"%s\" is not a registered unit",
                         ctx->env->unit);
    return RC_OK;
}

bool wf_state_in(const char *list, const char *state)
{
    size_t n = strlen(state);
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, state, n) == 0)
            return true;
        p += len + (bar ? 1 : 0);
    }
    return false;
}

int wf_require_role(wf_ctx_t *ctx, const char *role, const char *what)
{
    if (strcmp(ctx->sender.role, role) == 0)
        return RC_OK;
    return wf_refuse(ctx, REFUSAL_denied, "%s: only a unit of role %s may do this; %s is %s", what,
                     role, ctx->sender.code, ctx->sender.role);
}

int wf_covers(wf_ctx_t *ctx, const char *coverer, const char *unit, bool *yes)
{
    const char *params[] = {coverer, unit};
    PGresult *res = db_run(ctx->db, &s_covers, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    *yes = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return RC_OK;
}

int wf_require_covers(wf_ctx_t *ctx, const char *unit, const char *what)
{
    bool yes = false;
    if (wf_covers(ctx, ctx->sender.code, unit, &yes) != RC_OK)
        return RC_ERR_DB;
    if (yes)
        return RC_OK;
    return wf_refuse(ctx, REFUSAL_denied, "%s: %s may not act for unit %s", what, ctx->sender.code,
                     unit);
}

void wf_day(const char *on_date, char out[11])
{
    if (on_date && *on_date) {
        snprintf(out, 11, "%s", on_date);
        return;
    }
    time_t secs = (time_t)(clock_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int wf_load_task(wf_ctx_t *ctx, const char *round_id, const char *task_id, wf_task_t *t)
{
    memset(t, 0, sizeof *t);
    const char *params[] = {round_id, task_id};
    PGresult *res = db_run(ctx->db, &s_task, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    t->found = PQntuples(res) == 1;
    if (t->found) {
        snprintf(t->kind, sizeof t->kind, "%s", PQgetvalue(res, 0, 0));
        snprintf(t->item_id, sizeof t->item_id, "%s", PQgetvalue(res, 0, 1));
        snprintf(t->status, sizeof t->status, "%s", PQgetvalue(res, 0, 2));
        snprintf(t->responsible_unit, sizeof t->responsible_unit, "%s", PQgetvalue(res, 0, 3));
        snprintf(t->track, sizeof t->track, "%s", PQgetvalue(res, 0, 4));
        snprintf(t->target_unit, sizeof t->target_unit, "%s", PQgetvalue(res, 0, 5));
        const char *last = PQgetvalue(res, 0, 6); /* "YYYY-MM-DD action" or "" */
        snprintf(t->last_day, sizeof t->last_day, "%.10s", last);
        snprintf(t->last_action, sizeof t->last_action, "%s", strlen(last) > 11 ? last + 11 : "");
    }
    PQclear(res);
    return RC_OK;
}

int wf_history(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *action,
               const char *from, const char *to, const char *reason, const char *detail,
               const char *day)
{
    const char *params[] = {
        round_id,         task_id, ctx->env->event_id,   ctx->sender.code, action,
        from ? from : "", to,      reason ? reason : "", detail,           day};
    return db_do(ctx->db, &s_history, params);
}

static const db_stmt_t s_savepoint = {"wf_savepoint", "SAVEPOINT wf_event", 0, 0};
static const db_stmt_t s_rollback_to = {"wf_rollback_to", "ROLLBACK TO SAVEPOINT wf_event", 0, 0};
static const db_stmt_t s_release = {"wf_release", "RELEASE SAVEPOINT wf_event", 0, 0};

int wf_savepoint(wf_ctx_t *ctx)
{
    return db_do(ctx->db, &s_savepoint, NULL);
}

int wf_rollback_to_savepoint(wf_ctx_t *ctx)
{
    return db_do(ctx->db, &s_rollback_to, NULL) == RC_OK ? wf_release_savepoint(ctx) : RC_ERR_DB;
}

int wf_release_savepoint(wf_ctx_t *ctx)
{
    return db_do(ctx->db, &s_release, NULL);
}

static const db_stmt_t s_round_target = {
    "wf_round_target", "SELECT target_unit FROM inspection_round WHERE round_id = $1", 1, 0};

int wf_round_rights(wf_ctx_t *ctx, const char *what, const char *role, const char *round_id,
                    char *target, size_t targetlen)
{
    int rc = wf_require_role(ctx, role, what);
    if (rc != RC_OK)
        return rc;
    const char *params[] = {round_id};
    PGresult *res = db_run(ctx->db, &s_round_target, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int found = PQntuples(res) == 1;
    snprintf(target, targetlen, "%s", found ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    if (!found)
        return wf_refuse(ctx, REFUSAL_unknown_round, "%s.round_id: no round \"%s\" is open", what,
                         round_id);
    return wf_require_covers(ctx, target, what);
}
