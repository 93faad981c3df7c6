/* wf_rectification.c: the rectification lifecycle as the core sees it, one
 * handler per event type. The handlers live by topic (wf.h says where); the
 * transition table of items and measures is in wf_tasks.c. Units are
 * registered here too: the unit tree serves every lifecycle. */
#include "wf.h"

/* A handler of the core's shape for a handler that takes its own type. */
#define ON(name, Type)                                                                             \
    static int on_##name(wf_ctx_t *ctx, const ProtobufCMessage *event)                             \
    {                                                                                              \
        return wf_##name(ctx, (const Rectify__##Type *)event);                                     \
    }

ON(register_unit, RegisterUnit)
ON(open_round, OpenRound)
ON(post_problem, PostProblem)
ON(post_item, PostItem)
ON(add_measure, AddMeasure)
ON(assign, Assign)
ON(import_plan, ImportPlan)
ON(start, Start)
ON(report_progress, ReportProgress)
ON(submit_write_off, SubmitWriteOff)
ON(write_off, WriteOff)
ON(reject_write_off, RejectWriteOff)
ON(reassign, Reassign)
ON(change_deadline, ChangeDeadline)
ON(record_look_back, RecordLookBack)
ON(close_by_decision, CloseByDecision)
ON(record_institution, RecordInstitution)
ON(record_accountability, RecordAccountability)
ON(record_funds_recovered, RecordFundsRecovered)

static const wf_handler_t s_handlers[] = {
    {RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT, on_register_unit},
    {RECTIFY__ENVELOPE__EVENT_OPEN_ROUND, on_open_round},
    {RECTIFY__ENVELOPE__EVENT_POST_PROBLEM, on_post_problem},
    {RECTIFY__ENVELOPE__EVENT_POST_ITEM, on_post_item},
    {RECTIFY__ENVELOPE__EVENT_ADD_MEASURE, on_add_measure},
    {RECTIFY__ENVELOPE__EVENT_ASSIGN, on_assign},
    {RECTIFY__ENVELOPE__EVENT_IMPORT_PLAN, on_import_plan},
    {RECTIFY__ENVELOPE__EVENT_START, on_start},
    {RECTIFY__ENVELOPE__EVENT_REPORT_PROGRESS, on_report_progress},
    {RECTIFY__ENVELOPE__EVENT_SUBMIT_WRITE_OFF, on_submit_write_off},
    {RECTIFY__ENVELOPE__EVENT_WRITE_OFF, on_write_off},
    {RECTIFY__ENVELOPE__EVENT_REJECT_WRITE_OFF, on_reject_write_off},
    {RECTIFY__ENVELOPE__EVENT_REASSIGN, on_reassign},
    {RECTIFY__ENVELOPE__EVENT_CHANGE_DEADLINE, on_change_deadline},
    {RECTIFY__ENVELOPE__EVENT_RECORD_LOOK_BACK, on_record_look_back},
    {RECTIFY__ENVELOPE__EVENT_CLOSE_BY_DECISION, on_close_by_decision},
    {RECTIFY__ENVELOPE__EVENT_RECORD_INSTITUTION, on_record_institution},
    {RECTIFY__ENVELOPE__EVENT_RECORD_ACCOUNTABILITY, on_record_accountability},
    {RECTIFY__ENVELOPE__EVENT_RECORD_FUNDS_RECOVERED, on_record_funds_recovered},
};

const wf_lifecycle_t wf_rectification = {
    .name = "rectification",
    .handlers = s_handlers,
    .n_handlers = sizeof s_handlers / sizeof s_handlers[0],
    .noun = "task",
};
