/* wf.h: what workflow's lifecycles share with its core.
 *
 * The core (workflow_server.c, wf_access.c, wf_subject.c) dispatches each
 * event to the lifecycle that handles its type, checks the sender, queues
 * notices, and fires the clocks of subject_clock (migration 092). Each
 * lifecycle is a wf_lifecycle_t: its table of handlers, one per event type.
 *
 * - rectification (wf_rectification.c lists its handlers): wf_units.c
 *   (units), wf_rounds.c (rounds, problems), wf_plan.c (items, measures,
 *   assignment, plan import), wf_tasks.c (the transition table of items and
 *   measures), wf_records.c (institutions, accountability), wf_clock.c (its
 *   clocks, table timer, and the scheduled reports);
 * - work orders (wf_orders.c: the step table; SQL in 092_work_orders.sql);
 * - repeat-complaint cases (wf_repeats.c; SQL in 093_hotline_figures.sql).
 *
 * A handler runs inside the batch's transaction and either applies the event
 * (RC_OK), refuses it (RC_ERR_STATE, RC_ERR_NOTFOUND, RC_ERR_DENIED,
 * RC_ERR_INVALID, with code and message set; nothing changed: handlers check
 * before they write, or write under a savepoint) or fails (RC_ERR_DB: the
 * whole batch rolls back and is sent again). */
#ifndef RECTIFY_WF_H
#define RECTIFY_WF_H

#include "config.h"
#include "db.h"
#include "rectify.pb-c.h"
#include "refusal.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct wf_server_t wf_server_t;

/* The clocks' configuration, as PostgreSQL array literals for timer_reschedule. */
typedef struct {
    bool sim;                /* time comes from the table sim_clock */
    char remind_days[96];    /* "{7,3,1}" */
    char ladder[3][96];      /* fix_now, special_campaign, long_term: "{1,3,7}" */
    char report_days[16];    /* "30" */
    char look_back_days[16]; /* "90" */
    /* the repeat-complaint register's thresholds (wf_repeats.c) */
    char repeat_min_orders[16]; /* "5" */
    char repeat_min_days[16];   /* "365" */
    /* the monthly hotline table's lines for yellow and red cards (percent) */
    char hotline_yellow[16], hotline_red[16];
} wf_clock_opts_t;

/* Parses the clock settings; on failure writes a message naming the setting. */
int wf_clock_opts_load(const config_t *cfg, wf_clock_opts_t *o, char *err, size_t errlen);

#define WF_CODE_MAX 72 /* unit codes and ids: 64 bytes and the NUL, rounded */

typedef struct {
    bool found;
    char code[WF_CODE_MAX];
    char role[24]; /* "unit", "supervision_office", ... */
} wf_unit_t;

typedef struct {
    wf_server_t *server;
    db_t *db;
    const Rectify__Envelope *env;
    int64_t seq;
    wf_unit_t sender; /* loaded by wf_load_sender */
    const wf_clock_opts_t *clock;
    char code[32];     /* refusal code */
    char message[256]; /* refusal message, names the field or the state */
} wf_ctx_t;

/* A task (item or measure) as the lifecycle sees it, locked for update. */
typedef struct {
    bool found;
    char kind[8]; /* "item" or "measure" */
    char item_id[WF_CODE_MAX];
    char status[16];
    char responsible_unit[WF_CODE_MAX]; /* "" before assignment */
    char track[20];                     /* "" before assignment */
    char target_unit[WF_CODE_MAX];      /* the round's target unit */
    char last_day[11];                  /* business day of its last business change */
    char last_action[32];               /* ... and what that change was */
} wf_task_t;

/* --- lifecycles ------------------------------------------------------------- */

/* Applies one event: its message is the Envelope's event, of the type the
 * table row names. Returns as described at the top. */
typedef int (*wf_handler_fn)(wf_ctx_t *ctx, const ProtobufCMessage *event);

typedef struct {
    Rectify__Envelope__EventCase event_case;
    wf_handler_fn handle;
} wf_handler_t;

typedef struct {
    const char *name; /* "rectification", "order": subject_clock.lifecycle */
    const wf_handler_t *handlers;
    size_t n_handlers;
    const char *noun; /* how a subject reads in a notice: "order" */
} wf_lifecycle_t;

extern const wf_lifecycle_t wf_rectification;
extern const wf_lifecycle_t wf_orders;
extern const wf_lifecycle_t wf_repeats;

/* The repeat cases a newly registered order brought into the register
 * (rows of case_no, basis, orders: order_register_counted, migration 093):
 * a notice each to the hotline (wf_repeats.c). */
int wf_repeat_notices(wf_ctx_t *ctx, PGresult *res, const char *order_id, const char *hotline);

/* Sets the refusal (an entry of the catalogue, refusal.h, and a message
 * naming the field or the state) and returns the entry's class. */
int wf_refuse(wf_ctx_t *ctx, refusal_t why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queues a notice for the notification service; it is written to the outbox
 * with the batch, so it is sent if and only if the batch commits. */
int wf_notify(wf_ctx_t *ctx, const char *kind, const char *unit, const char *subject,
              const char *body);

/* --- wf_access.c ---------------------------------------------------------- */

/* Loads the sending unit; refuses (unknown_sender) if it is not registered.
 * Found units are remembered until wf_sender_cache_reset (each batch). */
int wf_load_sender(wf_ctx_t *ctx);
void wf_sender_cache_reset(void);
/* Whether state is one of list's "|"-separated states (a lifecycle table's
 * "from" column). */
bool wf_state_in(const char *list, const char *state);
/* Refuses (denied) unless the sender has role. what names the action. */
int wf_require_role(wf_ctx_t *ctx, const char *role, const char *what);
/* Whether coverer may act for unit (see unit_covers in the migrations). */
int wf_covers(wf_ctx_t *ctx, const char *coverer, const char *unit, bool *yes);
/* Refuses (denied) unless the sender covers unit (its own subtree; a
 * supervision office: its parent's subtree). */
int wf_require_covers(wf_ctx_t *ctx, const char *unit, const char *what);
/* Checks that the round exists and that the sender, of role, covers its
 * target unit; on RC_OK target holds the target unit. */
int wf_round_rights(wf_ctx_t *ctx, const char *what, const char *role, const char *round_id,
                    char *target, size_t targetlen);
/* The business day of the event: on_date if set, else today (UTC) by the clock. */
void wf_day(const char *on_date, char out[11]);
/* Loads and locks a task; t->found false when there is none. */
int wf_load_task(wf_ctx_t *ctx, const char *round_id, const char *task_id, wf_task_t *t);
/* Appends to the audit trail. detail is JSON text or NULL. */
int wf_history(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *action,
               const char *from, const char *to, const char *reason, const char *detail,
               const char *day);
int wf_savepoint(wf_ctx_t *ctx);
/* After a refusal: undo what the handler wrote since wf_savepoint. */
int wf_rollback_to_savepoint(wf_ctx_t *ctx);
int wf_release_savepoint(wf_ctx_t *ctx);

/* "fix_now", ... or NULL for an unknown value. */
const char *wf_track_name(Rectify__Track track);

/* --- wf_clock.c ----------------------------------------------------------- */

/* Schedules the task's clocks anew after a change made on day (YYYY-MM-DD,
 * the change's business day). closed_now: the change wrote it off. */
int wf_clock_reschedule(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *track,
                        const char *day, bool closed_now);
/* Fires the clocks that are due: each once, with its history row and
 * notice, in one transaction per batch of them. *fired counts them. */
int wf_clock_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *fired);
/* Sends the weekly reconciliation and the monthly progress table that are
 * due, to every responsible unit of every round, once (the schedule row is
 * locked and moved on in the same transaction). *sent counts the reports. */
int wf_reports_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *sent);
/* Queues the notices accumulated outside an inbox batch (after firing clocks). */
int wf_server_flush_notices(wf_server_t *server);
void wf_server_reset_notices(wf_server_t *server);

/* --- wf_subject.c: the core's clocks ---------------------------------------- */

/* Fires the due steps of subject_clock (every lifecycle but
 * rectification's): each step once, a breach at most once per subject,
 * clock and cycle, with its history row and notice, in one transaction per
 * batch of them. *fired counts them. */
int wf_subject_clock_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *fired);
/* Opens the transaction of a clock run and claims its due steps with claim
 * (one parameter: the sim flag). NULL when the database failed (rolled
 * back) or nothing is due (*none set; rolled back too). */
PGresult *wf_claim_due(db_t *db, const db_stmt_t *claim, const wf_clock_opts_t *o, bool *none);

/* --- wf_tasks.c ----------------------------------------------------------- */

/* A plan revision's change of an assigned task (wf_plan.c): sets leader,
 * unit and deadline; old_* (NULL when unchanged) go into the history row
 * with reason. Refuses as the transition table says (revise_plan), and an
 * unknown unit. */
int wf_revise_task(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *leader,
                   const char *unit, const char *deadline, const char *old_leader,
                   const char *old_unit, const char *old_deadline, const char *reason,
                   const char *on_date);

/* --- handlers ------------------------------------------------------------- */
int wf_register_unit(wf_ctx_t *ctx, const Rectify__RegisterUnit *ev);
int wf_open_round(wf_ctx_t *ctx, const Rectify__OpenRound *ev);
int wf_post_problem(wf_ctx_t *ctx, const Rectify__PostProblem *ev);
int wf_post_item(wf_ctx_t *ctx, const Rectify__PostItem *ev);
int wf_add_measure(wf_ctx_t *ctx, const Rectify__AddMeasure *ev);
int wf_assign(wf_ctx_t *ctx, const Rectify__Assign *ev);
int wf_import_plan(wf_ctx_t *ctx, const Rectify__ImportPlan *ev);
int wf_start(wf_ctx_t *ctx, const Rectify__Start *ev);
int wf_report_progress(wf_ctx_t *ctx, const Rectify__ReportProgress *ev);
int wf_submit_write_off(wf_ctx_t *ctx, const Rectify__SubmitWriteOff *ev);
int wf_write_off(wf_ctx_t *ctx, const Rectify__WriteOff *ev);
int wf_reject_write_off(wf_ctx_t *ctx, const Rectify__RejectWriteOff *ev);
int wf_reassign(wf_ctx_t *ctx, const Rectify__Reassign *ev);
int wf_change_deadline(wf_ctx_t *ctx, const Rectify__ChangeDeadline *ev);
int wf_record_look_back(wf_ctx_t *ctx, const Rectify__RecordLookBack *ev);
int wf_close_by_decision(wf_ctx_t *ctx, const Rectify__CloseByDecision *ev);
int wf_record_institution(wf_ctx_t *ctx, const Rectify__RecordInstitution *ev);
int wf_record_accountability(wf_ctx_t *ctx, const Rectify__RecordAccountability *ev);
int wf_record_funds_recovered(wf_ctx_t *ctx, const Rectify__RecordFundsRecovered *ev);

#endif
