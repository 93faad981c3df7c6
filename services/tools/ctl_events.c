/* ctl_events.c: events held in quarantine (dead_event), and requeuing them. */
#include "ctl.h"
#include "errors.h"

#include <stdio.h>
#include <string.h>

static const db_stmt_t s_dead_events = {
    "ctl_dead_events",
    "SELECT event_id::text AS event, consumer, source, seq::text AS seq, sqlstate,"
    " attempts::text AS tries, error,"
    " to_char(quarantined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since"
    " FROM dead_event WHERE requeued_at IS NULL ORDER BY id",
    0, 0};
static const db_stmt_t s_requeue = {
    "ctl_requeue",
    "SELECT 'requeued ' || event_id::text || ' to ' || consumer FROM requeue_dead_events($1)", 1,
    0};

int ctl_dead_events(const config_t *cfg, int argc, char **argv)
{
    (void)argv;
    return ctl_list(cfg, "dead-events", &s_dead_events, "quarantined event(s)", argc);
}

/* requeue EVENT_ID | --all: quarantined events go to their consumer again,
 * through the outbox they came from. */
int ctl_requeue(const config_t *cfg, int argc, char **argv)
{
    return ctl_act_on(cfg, "requeue", &s_requeue, "quarantined event(s) requeued", argc, argv);
}
