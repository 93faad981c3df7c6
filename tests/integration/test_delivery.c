/* The delivery contract under crashes: kill -9 of workflow, then of
 * notification, while 1,000 events are posted; after a restart every event is
 * applied exactly once and every notice delivered exactly once. */
#include "cluster.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define EVENTS 1000
#define SETUP_EVENTS 2 /* the units cluster_start registers */

static cluster_t c;

static void setup(void)
{
    cluster_start(&c, NULL);
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(delivery, .init = setup, .fini = teardown, .timeout = 300);

typedef struct {
    post_item_t items[EVENTS];
    int rc;
} posting_t;

/* Posts in paced chunks so that the kill lands while events still flow. */
static void *s_post_all(void *arg)
{
    posting_t *p = arg;
    for (int i = 0; i < EVENTS && p->rc == 0; i += 50) {
        p->rc = cluster_post(&c, p->items + i, 50);
        usleep(30000);
    }
    return NULL;
}

static posting_t *start_posting(pthread_t *thread)
{
    posting_t *p = calloc(1, sizeof *p);
    cr_assert(p);
    for (int i = 0; i < EVENTS; i++) {
        char round[32];
        snprintf(round, sizeof round, "round-%04d", i);
        cluster_open_round(&p->items[i], NULL, round);
    }
    cr_assert_eq(pthread_create(thread, NULL, s_post_all, p), 0);
    return p;
}

/* Every event answered ACCEPTED; after an intake crash, an event committed
 * but not answered before the crash is answered DUPLICATE when sent again. */
static void finish_posting(pthread_t thread, posting_t *p, int duplicates_allowed)
{
    pthread_join(thread, NULL);
    cr_assert_eq(p->rc, 0, "some events were not answered");
    for (int i = 0; i < EVENTS; i++) {
        post_status_t st = p->items[i].status;
        cr_assert(st == POST_ACCEPTED || (duplicates_allowed && st == POST_DUPLICATE),
                  "event %d: %d %s", i, st, p->items[i].message);
        free(p->items[i].frame);
    }
    free(p);
}

/* Every event applied once, every notice stored and delivered once. */
static void expect_exactly_once(void)
{
    long long applied = cluster_wait_number(
        &c, "SELECT count(*) FROM wf_event WHERE event_type = 'open_round'", EVENTS, 60000);
    long long delivered =
        cluster_wait_number(&c,
                            "SELECT count(*) FROM delivery JOIN notification USING (notice_id)"
                            " WHERE status = 'sent' AND kind = 'round_opened'",
                            EVENTS, 60000);
    if (applied != EVENTS || delivered != EVENTS)
        for (int i = 0; i < SVC_COUNT; i++)
            cluster_dump_log(&c, i);
    cr_assert_eq(applied, EVENTS);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(DISTINCT event_id) FROM wf_event"
                                      " WHERE event_type = 'open_round'"),
                 EVENTS);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'applied'"
                                      " AND event_type = 'open_round'"),
                 EVENTS, "an event was applied twice and refused the second time");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), EVENTS);
    cr_assert_eq(testdb_number(&c.db, "SELECT applied_through FROM inbox_cursor"
                                      " WHERE consumer = 'workflow'"),
                 testdb_number(&c.db, "SELECT count(*) FROM intake_event"));
    /* in the order intake accepted them */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event w JOIN intake_event i"
                                      " USING (event_id) WHERE w.seq <> i.seq"),
                 0);
    cr_assert_eq(delivered, EVENTS);
    cr_assert_eq(
        testdb_number(&c.db, "SELECT count(*) FROM notification WHERE kind = 'round_opened'"),
        EVENTS);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(DISTINCT event_id) FROM notification"
                                      " WHERE kind = 'round_opened'"),
                 EVENTS);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM delivery"),
                 testdb_number(&c.db, "SELECT count(*) FROM notification"));
    /* the outboxes emptied once everything was acknowledged */
    long long left = cluster_wait_number(&c, "SELECT -count(*) FROM outbox", 0, 10000);
    cr_assert_eq(left, 0, "outbox rows never acknowledged");
}

static void kill_and_restart_during_posting(int which, const char *progress_sql)
{
    pthread_t thread;
    posting_t *p = start_posting(&thread);
    long long seen = cluster_wait_number(&c, progress_sql, 100, 60000);
    cr_assert_geq(seen, 100, "no progress before the kill");
    int status = cluster_signal(&c, which, SIGKILL);
    fprintf(stderr, "killed %s with %lld of %d done\n",
            which == SVC_WORKFLOW ? "workflow" : "notify", testdb_number(&c.db, progress_sql),
            EVENTS);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* events go on coming in while it is down (unless all are in already) */
    long long accepted = testdb_number(&c.db, "SELECT count(*) FROM intake_event");
    long long want = accepted < EVENTS + SETUP_EVENTS ? accepted + 1 : accepted;
    cr_assert_geq(cluster_wait_number(&c, "SELECT count(*) FROM intake_event", want, 60000), want,
                  "nothing came in while the service was down");
    cluster_spawn(&c, which);
    finish_posting(thread, p, 0);
    expect_exactly_once();
}

Test(delivery, kill_9_of_workflow_while_posting_loses_and_repeats_nothing)
{
    kill_and_restart_during_posting(SVC_WORKFLOW, "SELECT count(*) FROM inspection_round");
}

Test(delivery, kill_9_of_notification_while_posting_loses_and_repeats_nothing)
{
    kill_and_restart_during_posting(
        SVC_NOTIFY, "SELECT count(*) FROM notification WHERE kind = 'round_opened'");
}

Test(delivery, kill_9_of_intake_loses_no_acknowledged_event)
{
    pthread_t thread;
    posting_t *p = start_posting(&thread);
    cr_assert_geq(
        cluster_wait_number(&c, "SELECT count(*) FROM intake_event", 100 + SETUP_EVENTS, 60000),
        100 + SETUP_EVENTS);
    int status = cluster_signal(&c, SVC_INTAKE, SIGKILL);
    cr_assert(WIFSIGNALED(status));
    cluster_spawn(&c, SVC_INTAKE); /* the poster sends again what was not answered */
    finish_posting(thread, p, 1);
    expect_exactly_once();
}
