/* plan_diff.h: what importing a plan does to a round's recorded plan. The
 * first import of a plan and every revision are the same operation: the
 * plan (one row per measure) is compared with the recorded tasks, and the
 * difference is a list of additions, changes and conflicts. workflow applies
 * exactly this list; `rectifyctl import --dry-run` prints it. One rule, one
 * place.
 *
 * The rules:
 *  - a row whose item or measure is not recorded adds it, with the row's
 *    leader, unit, deadline and track (a recorded task never assigned is
 *    assigned the same way);
 *  - an item's leader and unit are those of its first row; its deadline is
 *    the latest of its measures' (its recorded measures that the file leaves
 *    out count too); its track is the item_track the plan gives, else the
 *    longest of its rows' tracks (long_term > special_campaign > fix_now);
 *  - a recorded, assigned task whose deadline, lead leader or responsible
 *    unit differs is changed; the change is recorded in its history with the
 *    revision's reason, which a revision that changes anything must give;
 *  - what cannot be revised is a conflict and refuses the whole plan: a
 *    different title, problem, item or measure track (for a recorded item,
 *    an item_track that differs; without item_track it keeps its track), an
 *    id recorded as the other kind, a new measure under a closed item;
 *  - recorded tasks the file leaves out are kept: nothing is deleted. */
#ifndef RECTIFY_PLAN_DIFF_H
#define RECTIFY_PLAN_DIFF_H

#include "db.h"
#include "rectify.pb-c.h"

#include <stdbool.h>
#include <stddef.h>

/* A task as recorded. The strings point into the query's result. */
typedef struct {
    const char *task_id, *kind, *item_id, *problem_id, *title, *lead_leader, *responsible_unit,
        *deadline, *track, *status; /* "" when not set */
} plan_task_t;

typedef struct {
    plan_task_t *tasks; /* sorted by task_id (bytewise) */
    size_t n;
    PGresult *res;
} plan_recorded_t;

/* Loads the round's tasks. Returns RC_OK (fill r; free with
 * plan_recorded_free) or RC_ERR_DB / RC_ERR_NOMEM. */
int plan_recorded_load(db_t *db, const char *round_id, plan_recorded_t *r);
void plan_recorded_free(plan_recorded_t *r);

typedef enum {
    PLAN_ADD,      /* a new item or measure: created and assigned */
    PLAN_ASSIGN,   /* recorded but never assigned: assigned */
    PLAN_CHANGE,   /* recorded and assigned: the fields whose old_* is set change */
    PLAN_CONFLICT, /* refuses the plan: message says why */
} plan_change_kind_t;

typedef struct {
    plan_change_kind_t kind;
    int line;           /* the row (an item's: its first row) */
    bool item;          /* an item, else a measure */
    const char *id;     /* the item or measure id */
    const char *parent; /* a measure's item, an item's problem */
    const char *title;
    const char *status; /* as recorded; NULL for PLAN_ADD */
    /* what the task gets (PLAN_ADD, PLAN_ASSIGN) or will hold (PLAN_CHANGE) */
    const char *leader, *unit, *deadline;
    Rectify__Track track;
    /* PLAN_CHANGE: the recorded value of each field that changes, else NULL */
    const char *old_leader, *old_unit, *old_deadline;
    char message[320]; /* PLAN_CONFLICT: names the field, the line's value and the recorded one */
} plan_change_t;

typedef struct {
    plan_change_t *changes; /* measures in row order, then items in order of first row */
    size_t n;
    size_t adds, assigns, changed, conflicts;
    size_t kept; /* recorded measures of the plan's items that the file leaves out */
} plan_diff_t;

/* Compares plan with what is recorded. Returns RC_OK (fill d; free with
 * plan_diff_free; the changes point into plan and r, which must outlive d)
 * or RC_ERR_NOMEM. */
int plan_diff(const Rectify__ImportPlan *plan, const plan_recorded_t *r, plan_diff_t *d);
void plan_diff_free(plan_diff_t *d);

/* "fix_now", ... or "" */
const char *plan_track_code(Rectify__Track track);

#endif
