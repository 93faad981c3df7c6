/* The clocks through the real services on simulated time: reminders and
 * escalation at the right days and in order, nothing after a write-off,
 * owed reports of long-term tasks, look-backs, exactly once across a
 * restart and with two workflow processes at once. */
#include "cluster.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cluster_t c;
static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20",
                                  "RECTIFY_LOOK_BACK_AFTER_DAYS=90",
                                  "RECTIFY_REPORT_INTERVAL_DAYS=30", NULL};

#define ROUND "RC"

static void setup(void)
{
    cluster_start(&c, sim);
    cluster_set_clock(&c, "2021-03-01T00:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.a\",\"name\":\"处室甲\","
        "\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.team\",\"name\":\"专班\","
        "\"parent\":\"sh-cgzf\",\"role\":\"SUPERVISION_OFFICE\"}}\n"
        "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"" ROUND
        "\",\"group_name\":\"第六巡视组\",\"target_unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-"
        "29\",\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"1\",\"aspect\":\"方面\",\"title\":\"问题\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"1\",\"item_id\":\"I\",\"title\":\"事项\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
        "\",\"item_id\":\"I\",\"measure_id\":\"LATE\",\"title\":\"逾期的措施\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
        "\",\"item_id\":\"I\",\"measure_id\":\"DONE\",\"title\":\"按期完成的措施\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
        "\",\"item_id\":\"I\",\"measure_id\":\"LONG\",\"title\":\"长期措施\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"LATE\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf.a\","
        "\"deadline\":\"2021-03-20\",\"track\":\"FIX_NOW\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"DONE\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf.a\","
        "\"deadline\":\"2021-03-20\",\"track\":\"FIX_NOW\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"LONG\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf.a\","
        "\"deadline\":\"2021-12-31\",\"track\":\"LONG_TERM\"}}\n"
        "{\"unit\":\"sh-cgzf.a\",\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"LONG\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"),
                 0);
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(clocks, .init = setup, .fini = teardown, .timeout = 120);

/* "day:action,day:action,..." of a task's clock-made history, in order. */
static void fired(const char *task, char *out, size_t len)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(to_char(effective_on, 'MM-DD') || ':' || action, ','"
             " ORDER BY id), '') FROM task_history WHERE round_id = '" ROUND "' AND task_id = '%s'"
             " AND actor = 'clock'",
             task);
    testdb_text(&c.db, sql, out, len);
}

/* Walks the clock a day at a time from March 2 to `to` (MM-DD of 2021). */
static void walk_days(int from_day, int to_month, int to_day)
{
    for (int m = 3; m <= to_month; m++)
        for (int d = (m == 3 ? from_day : 1); d <= (m == to_month ? to_day : 31); d++) {
            if ((m == 4 || m == 6) && d == 31)
                continue;
            char t[32];
            snprintf(t, sizeof t, "2021-%02d-%02dT00:00:00Z", m, d);
            cluster_set_clock(&c, t);
        }
}

Test(clocks, reminders_and_the_escalation_ladder_fire_on_their_days_in_order)
{
    walk_days(2, 3, 31);
    char got[1024];
    fired("LATE", got, sizeof got);
    /* deadline 03-20 ends at 03-21 00:00; reminders 7, 3, 1 days before; ladder 1, 3, 7 days after
     */
    cr_assert_str_eq(got, "03-14:reminder,03-18:reminder,03-20:reminder,03-21:overdue,"
                          "03-22:yellow_card,03-24:red_card,03-28:interview");
    /* each step told the responsible unit */
    cr_assert_eq(cluster_wait_number(
                     &c,
                     "SELECT count(*) FROM notification WHERE unit = 'sh-cgzf.a'"
                     " AND kind IN ('reminder', 'overdue', 'yellow_card', 'red_card', 'interview')",
                     14, 10000),
                 14, "seven steps for LATE and for DONE, which was never finished either");
}

Test(clocks, a_written_off_task_gets_no_more_reminders_and_a_look_back_later)
{
    walk_days(2, 3, 15); /* the 7-day reminder fires on 03-14 */
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"sh-cgzf.a\",\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"DONE\"}}\n"
        "{\"unit\":\"sh-cgzf.a\",\"submit_write_off\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"DONE\",\"text\":\"完成\"}}\n"
        "{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"DONE\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    walk_days(16, 3, 31);
    char got[1024];
    fired("DONE", got, sizeof got);
    cr_assert_str_eq(got, "03-14:reminder");
    /* the look-back falls due 90 days after the write-off (on 03-15): 06-13 */
    cluster_set_clock(&c, "2021-06-12T00:00:00Z");
    fired("DONE", got, sizeof got);
    cr_assert_str_eq(got, "03-14:reminder");
    cluster_set_clock(&c, "2021-06-14T00:00:00Z");
    fired("DONE", got, sizeof got);
    /* recorded on the day it fired: the clock jumped from 06-12 to 06-14 */
    cr_assert_str_eq(got, "03-14:reminder,06-14:look_back_due");
}

Test(clocks, a_long_term_task_owes_reports_and_a_missed_one_is_recorded)
{
    char got[1024];
    cluster_set_clock(&c, "2021-03-30T00:00:00Z");
    fired("LONG", got, sizeof got);
    cr_assert_str_eq(got, "", "a report was owed too early: %s", got);
    cluster_set_clock(&c, "2021-04-01T00:00:00Z"); /* 30 days after the start on 03-01 */
    fired("LONG", got, sizeof got);
    cr_assert_str_eq(got, "04-01:report_missed", "recorded on the day it fired");
    /* a report on 04-10 owes the next one 30 days later (posted that day: an
     * event dated after today is refused) */
    cluster_set_clock(&c, "2021-04-10T00:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"sh-cgzf.a\",\"report_progress\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"LONG\",\"text\":\"进展\",\"on_date\":\"2021-04-10\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    fired("LONG", got, sizeof got);
    cr_assert_str_eq(got, "04-01:report_missed");
    cluster_set_clock(&c, "2021-05-09T00:00:00Z");
    fired("LONG", got, sizeof got);
    cr_assert_str_eq(got, "04-01:report_missed");
    cluster_set_clock(&c, "2021-05-11T00:00:00Z");
    fired("LONG", got, sizeof got);
    cr_assert_str_eq(got, "04-01:report_missed,05-11:report_missed");
}

Test(clocks, each_step_fires_once_across_a_restart_and_with_two_workflows)
{
    cluster_spawn_copy(&c, SVC_WORKFLOW);
    walk_days(2, 3, 22);
    cluster_signal(&c, SVC_WORKFLOW, SIGKILL);
    cluster_spawn(&c, SVC_WORKFLOW);
    walk_days(23, 3, 31);
    cr_assert_eq(testdb_number(&c.db,
                               "SELECT count(*) FROM ("
                               " SELECT task_id, action, effective_on FROM task_history"
                               " WHERE actor = 'clock' GROUP BY 1, 2, 3 HAVING count(*) > 1) x"),
                 0, "a step fired twice");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM task_history WHERE actor = 'clock'"
                                      " AND task_id = 'LATE'"),
                 7);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM timer WHERE fired_at IS NOT NULL"),
                 testdb_number(&c.db, "SELECT count(*) FROM task_history WHERE actor = 'clock'"));
}

Test(clocks, a_new_deadline_reschedules_without_firing_a_step_twice)
{
    walk_days(2, 3, 22); /* LATE: reminders, overdue, yellow card have fired */
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"sh-cgzf.team\",\"change_deadline\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"LATE\",\"deadline\":\"2021-04-10\",\"reason\":\"延期\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    walk_days(23, 4, 13);
    char got[1024];
    fired("LATE", got, sizeof got);
    cr_assert_str_eq(
        got, "03-14:reminder,03-18:reminder,03-20:reminder,03-21:overdue,03-22:yellow_card,"
             "04-04:reminder,04-08:reminder,04-10:reminder,04-11:overdue,04-12:yellow_card");
}

Test(clocks, the_weekly_and_monthly_reports_go_to_each_unit_on_schedule)
{
    walk_days(2, 4, 2);
    /* Mondays 03-08, 03-15, 03-22, 03-29; the month ends 03-31 */
    cr_assert_eq(
        cluster_wait_number(&c,
                            "SELECT count(*) FROM notification WHERE kind = 'weekly_report'"
                            " AND unit = 'sh-cgzf.a'",
                            4, 10000),
        4);
    cr_assert_eq(
        cluster_wait_number(&c,
                            "SELECT count(*) FROM notification WHERE kind = 'monthly_report'"
                            " AND unit = 'sh-cgzf.a'",
                            1, 10000),
        1);
    char body[256];
    testdb_text(&c.db, "SELECT body FROM notification WHERE kind = 'monthly_report'", body,
                sizeof body);
    /* on 03-31: the item's three measures; LATE and DONE overdue, LONG in progress;
     * items and measures counted apart */
    cr_assert_str_eq(body, "items 0 (done 0, overdue 0), measures 3 (done 0, in progress 1, "
                           "overdue 2)");
    testdb_text(&c.db,
                "SELECT body FROM notification WHERE kind = 'weekly_report'"
                " AND subject LIKE '%week to 2021-03-28'",
                body, sizeof body);
    cr_assert_str_eq(
        body, "moved 0, closed 0, overdue 2, escalated 6",
        "the week of 03-22..03-28: yellow card, red card, interview of LATE and DONE: %s", body);
    /* no report is due any more and every notice is stored: a second one would be here */
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT -count(*) FROM report_schedule"
                                     " WHERE due_at <= (SELECT at FROM sim_clock)",
                                     0, 10000),
                 0);
    cluster_wait_quiet(&c);
    cr_assert_eq(testdb_number(&c.db,
                               "SELECT count(*) FROM notification WHERE kind = 'weekly_report'"
                               " AND unit = 'sh-cgzf.a'"),
                 4, "a report went twice");
}
