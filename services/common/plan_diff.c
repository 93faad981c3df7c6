/* plan_diff.c: a plan compared with the recorded plan (rules in the header). */
#include "plan_diff.h"

#include "errors.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t s_recorded = {
    "plan_recorded",
    "SELECT task_id, kind, coalesce(item_id, ''), problem_id, title, coalesce(lead_leader, ''),"
    " coalesce(responsible_unit, ''), coalesce(deadline::text, ''), coalesce(track, ''), status"
    " FROM task WHERE round_id = $1 ORDER BY task_id COLLATE \"C\"",
    1, 0};

int plan_recorded_load(db_t *db, const char *round_id, plan_recorded_t *r)
{
    memset(r, 0, sizeof *r);
    const char *params[] = {round_id};
    r->res = db_run(db, &s_recorded, params, NULL, NULL);
    if (!r->res)
        return RC_ERR_DB;
    r->n = (size_t)PQntuples(r->res);
    r->tasks = calloc(r->n ? r->n : 1, sizeof *r->tasks);
    if (!r->tasks) {
        plan_recorded_free(r);
        return RC_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->n; i++) {
        const char **f[] = {&r->tasks[i].task_id,
                            &r->tasks[i].kind,
                            &r->tasks[i].item_id,
                            &r->tasks[i].problem_id,
                            &r->tasks[i].title,
                            &r->tasks[i].lead_leader,
                            &r->tasks[i].responsible_unit,
                            &r->tasks[i].deadline,
                            &r->tasks[i].track,
                            &r->tasks[i].status};
        for (int c = 0; c < 10; c++)
            *f[c] = PQgetvalue(r->res, (int)i, c);
    }
    return RC_OK;
}

void plan_recorded_free(plan_recorded_t *r)
{
    free(r->tasks);
    PQclear(r->res);
    memset(r, 0, sizeof *r);
}

const char *plan_track_code(Rectify__Track track)
{
    switch (track) {
    case RECTIFY__TRACK__FIX_NOW:
        return "fix_now";
    case RECTIFY__TRACK__SPECIAL_CAMPAIGN:
        return "special_campaign";
    case RECTIFY__TRACK__LONG_TERM:
        return "long_term";
    default:
        return "";
    }
}

static int s_by_id(const void *key, const void *elem)
{
    return strcmp(key, ((const plan_task_t *)elem)->task_id);
}

static const plan_task_t *s_recorded_find(const plan_recorded_t *r, const char *id)
{
    return r->n ? bsearch(id, r->tasks, r->n, sizeof *r->tasks, s_by_id) : NULL;
}

static int s_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An item of the plan: its rows' aggregate. */
typedef struct {
    const char *id;
    const Rectify__PlanRow *first;
    const char *deadline;
    Rectify__Track track;
    bool track_given;
} s_item_t;

static plan_change_t *s_push(plan_diff_t *d, plan_change_kind_t kind, int line, bool item,
                             const char *id)
{
    plan_change_t *c = &d->changes[d->n++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->line = line;
    c->item = item;
    c->id = id;
    return c;
}

static void s_conflict(plan_diff_t *d, int line, bool item, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void s_conflict(plan_diff_t *d, int line, bool item, const char *id, const char *fmt, ...)
{
    plan_change_t *c = s_push(d, PLAN_CONFLICT, line, item, id);
    va_list ap;
    va_start(ap, fmt);
    char text[sizeof c->message];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    text_cut(c->message, sizeof c->message, text);
    d->conflicts++;
}

/* Compares what a row or item asks of a recorded task; pushes one change,
 * an assignment or a conflict, or nothing when they agree. */
static void s_compare(plan_diff_t *d, const plan_task_t *t, int line, bool item, const char *id,
                      const char *parent, const char *title, const char *leader, const char *unit,
                      const char *deadline, Rectify__Track track, bool track_given)
{
    const char *what = item ? "item" : "measure";
    if (strcmp(t->kind, what) != 0) {
        s_conflict(d, line, item, id, "%s: \"%s\" is recorded as a %s", what, id, t->kind);
        return;
    }
    const char *recorded_parent = item ? t->problem_id : t->item_id;
    if (strcmp(recorded_parent, parent) != 0) {
        s_conflict(d, line, item, id, "%s: %s \"%s\" is recorded under %s \"%s\", here \"%s\"",
                   item ? "problem" : "item", what, id, item ? "problem" : "item", recorded_parent,
                   parent);
        return;
    }
    if (strcmp(t->title, title) != 0) {
        s_conflict(d, line, item, id,
                   "%s: %s \"%s\" is recorded as \"%.60s\", here \"%.60s\"; a revision does not "
                   "retitle",
                   what, what, id, t->title, title);
        return;
    }
    if (!strcmp(t->status, "registered")) {
        plan_change_t *c = s_push(d, PLAN_ASSIGN, line, item, id);
        c->parent = parent, c->title = title, c->status = t->status;
        c->leader = leader, c->unit = unit, c->deadline = deadline, c->track = track;
        d->assigns++;
        return;
    }
    const char *code = plan_track_code(track);
    if (track_given && strcmp(t->track, code) != 0) {
        s_conflict(d, line, item, id,
                   "%s: %s \"%s\" is recorded as %s, here %s; a revision does not change a track",
                   item ? "item_track" : "track", what, id, t->track, code);
        return;
    }
    bool new_leader = strcmp(t->lead_leader, leader) != 0;
    bool new_unit = strcmp(t->responsible_unit, unit) != 0;
    bool new_deadline = strcmp(t->deadline, deadline) != 0;
    if (!new_leader && !new_unit && !new_deadline)
        return;
    plan_change_t *c = s_push(d, PLAN_CHANGE, line, item, id);
    c->parent = parent, c->title = title, c->status = t->status;
    c->leader = leader, c->unit = unit, c->deadline = deadline;
    c->track = track;
    c->old_leader = new_leader ? t->lead_leader : NULL;
    c->old_unit = new_unit ? t->responsible_unit : NULL;
    c->old_deadline = new_deadline ? t->deadline : NULL;
    d->changed++;
}

int plan_diff(const Rectify__ImportPlan *plan, const plan_recorded_t *r, plan_diff_t *d)
{
    memset(d, 0, sizeof *d);
    size_t n = plan->n_rows;
    s_item_t *items = calloc(n ? n : 1, sizeof *items);
    const char **measure_ids = calloc(n ? n : 1, sizeof *measure_ids);
    d->changes = calloc(2 * n + 1, sizeof *d->changes);
    if (!items || !measure_ids || !d->changes) {
        free(items);
        free(measure_ids);
        plan_diff_free(d);
        return RC_ERR_NOMEM;
    }
    size_t nitems = 0;
    for (size_t i = 0; i < n; i++) {
        const Rectify__PlanRow *row = plan->rows[i];
        measure_ids[i] = row->measure_id;
        s_item_t *it = NULL;
        for (size_t k = nitems; k-- > 0 && !it;)
            if (!strcmp(items[k].id, row->item_id))
                it = &items[k];
        if (!it) {
            it = &items[nitems++];
            *it = (s_item_t){row->item_id, row, row->deadline, row->track, false};
        } else {
            if (strcmp(row->deadline, it->deadline) > 0)
                it->deadline = row->deadline;
            if (!it->track_given && row->track > it->track)
                it->track = row->track;
        }
        if (row->item_track && !it->track_given) {
            it->track = row->item_track;
            it->track_given = true;
        }
    }
    qsort(measure_ids, n, sizeof *measure_ids, s_str_cmp);
    /* recorded measures of the plan's items that the file leaves out: kept,
     * and their deadlines count for the item's */
    for (size_t i = 0; i < r->n; i++) {
        const plan_task_t *t = &r->tasks[i];
        if (strcmp(t->kind, "measure") != 0 ||
            bsearch(&t->task_id, measure_ids, n, sizeof *measure_ids, s_str_cmp))
            continue;
        for (size_t k = 0; k < nitems; k++)
            if (!strcmp(items[k].id, t->item_id)) {
                d->kept++;
                if (strcmp(t->deadline, items[k].deadline) > 0)
                    items[k].deadline = t->deadline;
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        const Rectify__PlanRow *row = plan->rows[i];
        const plan_task_t *t = s_recorded_find(r, row->measure_id);
        if (t) {
            s_compare(d, t, row->line, false, row->measure_id, row->item_id, row->measure_title,
                      row->lead_leader, row->responsible_unit, row->deadline, row->track, true);
            continue;
        }
        const plan_task_t *parent = s_recorded_find(r, row->item_id);
        if (parent && !strcmp(parent->kind, "item") &&
            (!strcmp(parent->status, "closed") || !strcmp(parent->status, "confirmed"))) {
            s_conflict(d, row->line, false, row->measure_id,
                       "measure: item \"%s\" is %s; a new measure \"%s\" needs it open",
                       row->item_id, parent->status, row->measure_id);
            continue;
        }
        plan_change_t *c = s_push(d, PLAN_ADD, row->line, false, row->measure_id);
        c->parent = row->item_id, c->title = row->measure_title;
        c->leader = row->lead_leader, c->unit = row->responsible_unit;
        c->deadline = row->deadline, c->track = row->track;
        d->adds++;
    }
    for (size_t k = 0; k < nitems; k++) {
        const s_item_t *it = &items[k];
        const Rectify__PlanRow *first = it->first;
        const plan_task_t *t = s_recorded_find(r, it->id);
        if (t) {
            /* without item_track a recorded item keeps its track */
            s_compare(d, t, first->line, true, it->id, first->problem_id, first->item_title,
                      first->lead_leader, first->responsible_unit, it->deadline, it->track,
                      it->track_given);
            continue;
        }
        plan_change_t *c = s_push(d, PLAN_ADD, first->line, true, it->id);
        c->parent = first->problem_id, c->title = first->item_title;
        c->leader = first->lead_leader, c->unit = first->responsible_unit;
        c->deadline = it->deadline, c->track = it->track;
        d->adds++;
    }
    free(items);
    free(measure_ids);
    return RC_OK;
}

void plan_diff_free(plan_diff_t *d)
{
    free(d->changes);
    memset(d, 0, sizeof *d);
}
