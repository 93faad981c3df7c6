/* Hotline work orders through the real services on simulated time: the
 * five clocks of seed 001 on time and breached once each, warnings before
 * them, pause and extension, transfer, reopening on dissatisfaction, the
 * working calendar, the refusals, and breaches exactly once with two
 * workflow processes and across kill -9. */
#include "cluster.h"
#include "tail.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cluster_t c;
static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20", NULL};

/* 64 hex digits: what a hotline sends for a caller */
#define CALLER_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define CALLER_B "bb00000000000000000000000000000000000000000000000000000000000002"

static void setup(void)
{
    cluster_start(&c, sim);
    /* 2026-12-01 is a Tuesday; 10:00 in Shanghai is 02:00 UTC */
    cluster_set_clock(&c, "2026-12-01T02:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"hotline\",\"name\":\"12345热线\","
        "\"role\":\"HOTLINE\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"dist\",\"name\":\"某区\","
        "\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"street-a\",\"name\":\"甲街道\","
        "\"parent\":\"dist\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"street-b\",\"name\":\"乙街道\","
        "\"parent\":\"dist\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"dist.team\",\"name\":\"区督办\","
        "\"parent\":\"dist\",\"role\":\"SUPERVISION_OFFICE\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(orders, .init = setup, .fini = teardown, .timeout = 180);

/* Posts a work order about address, received days_ago days before now
 * (by the simulated clock). */
static void post_order_at(const char *id, const char *caller, const char *address,
                          const char *category, bool urgent, int days_ago)
{
    long long now_ms = testdb_number(
        &c.db, "SELECT (extract(epoch FROM (SELECT at FROM sim_clock)) * 1000)::bigint");
    char json[1024], outcome[512];
    snprintf(json, sizeof json,
             "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"%s\",\"received_ms\":%lld,"
             "\"channel\":\"PHONE\",\"caller_hash\":\"%s\",\"address\":\"%s\","
             "\"located\":true,\"latitude\":31.23,\"longitude\":121.47,\"category\":\"%s\","
             "\"text\":\"夜间施工噪声\",\"urgency\":\"%s\"}}\n",
             id, now_ms - days_ago * 86400000LL, caller, address, category,
             urgent ? "URGENT" : "NORMAL");
    cluster_post_one(&c, json, outcome, sizeof outcome);
    cr_assert_str_eq(outcome, "applied", "post_order %s: %s", id, outcome);
}

/* Posts a work order received now about the usual address. */
static void post_order(const char *id, const char *caller, const char *category, bool urgent)
{
    post_order_at(id, caller, "人民路1号", category, urgent, 0);
}

/* Posts one step as unit; fields is the rest of the move_order object
 * (may be ""). Returns the outcome in out. */
static void step_as(const char *unit, const char *order, const char *step, const char *fields,
                    char *out, size_t outlen)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"unit\":\"%s\",\"move_order\":{\"order_id\":\"%s\",\"step\":\"%s\"%s%s}}\n", unit,
             order, step, *fields ? "," : "", fields);
    cluster_post_one(&c, json, out, outlen);
}

/* A step that must apply. */
static void step(const char *unit, const char *order, const char *name, const char *fields)
{
    char out[512];
    step_as(unit, order, name, fields, out, sizeof out);
    cr_assert_str_eq(out, "applied", "%s %s by %s: %s", name, order, unit, out);
}

/* A step that must be refused with code; the order's history and clocks
 * are unchanged. */
static void refused(const char *unit, const char *order, const char *name, const char *fields,
                    const char *code)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM subject_history WHERE subject = '%s') * 1000"
             " + (SELECT count(*) FROM subject_clock WHERE subject = '%s'"
             "    AND fired_at IS NULL AND cancelled_at IS NULL)",
             order, order);
    long long before = testdb_number(&c.db, sql);
    char out[512], want[64];
    step_as(unit, order, name, fields, out, sizeof out);
    snprintf(want, sizeof want, "refused: %s: ", code);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "%s %s by %s: want %s, got %s", name, order,
              unit, code, out);
    cr_assert(strstr(out, "move_order"), "the message names the event or field: %s", out);
    cr_assert_eq(testdb_number(&c.db, sql), before, "%s refused, yet the order changed", name);
}

/* "clock:step,..." of the order's clock steps that fired, in order. */
static void clock_steps(const char *order, char *out, size_t len)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(string_agg(action, ',' ORDER BY id), '') FROM subject_history"
             " WHERE subject = '%s' AND actor = 'clock'",
             order);
    testdb_text(&c.db, sql, out, len);
}

static long long breaches(const char *order)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM subject_breach WHERE subject = '%s'", order);
    return testdb_number(&c.db, sql);
}

Test(orders, every_step_on_time_breaches_nothing)
{
    post_order("T1", CALLER_A, "noise", false);
    step("hotline", "T1", "DISPATCH", "\"unit\":\"street-a\"");
    cluster_set_clock(&c, "2026-12-01T02:10:00Z");
    step("street-a", "T1", "TAKE", "");
    cluster_set_clock(&c, "2026-12-01T03:00:00Z");
    step("street-a", "T1", "CONTACT", "\"note\":\"电话联系\"");
    cluster_set_clock(&c, "2026-12-01T03:30:00Z");
    step("street-a", "T1", "ARRIVE", "");
    cluster_set_clock(&c, "2026-12-02T02:00:00Z");
    step("street-a", "T1", "COMPLETE", "\"note\":\"已停工\"");
    cluster_set_clock(&c, "2026-12-02T02:30:00Z");
    step("street-a", "T1", "REPLY", "");
    step("hotline", "T1", "CLOSE", "\"satisfaction\":\"SATISFIED\"");
    cluster_set_clock(&c, "2026-12-20T00:00:00Z");
    char got[512];
    clock_steps("T1", got, sizeof got);
    cr_assert_str_eq(got, "", "no warning and no breach: %s", got);
    cr_assert_eq(breaches("T1"), 0);
    testdb_text(&c.db,
                "SELECT string_agg(action || ':' || to_status, ',' ORDER BY id) FROM "
                "subject_history WHERE subject = 'T1'",
                got, sizeof got);
    cr_assert_str_eq(got, "register:registered,dispatch:dispatched,take:taken,contact:contacted,"
                          "arrive:on_site,complete:completed,reply:replied,close:closed");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM subject_clock WHERE subject = 'T1'"
                                      " AND fired_at IS NULL AND cancelled_at IS NULL"),
                 0, "a closed order has no clock left");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM work_order WHERE order_id = 'T1'"
                                      " AND satisfaction = 'satisfied' AND status = 'closed'"),
                 1);
}

Test(orders, each_of_the_five_clocks_warns_then_breaches_once)
{
    /* take (20 min) and contact (2 h) run from dispatch at 02:00 */
    post_order("L1", CALLER_A, "noise", false);
    step("hotline", "L1", "DISPATCH", "\"unit\":\"street-a\"");
    cluster_set_clock(&c, "2026-12-01T02:15:00Z"); /* 75%: nothing yet */
    char got[512];
    clock_steps("L1", got, sizeof got);
    cr_assert_str_eq(got, "");
    cluster_set_clock(&c, "2026-12-01T02:17:00Z"); /* 80% of 20 min: 02:16 */
    clock_steps("L1", got, sizeof got);
    cr_assert_str_eq(got, "warn_take");
    cluster_set_clock(&c, "2026-12-01T02:21:00Z");
    clock_steps("L1", got, sizeof got);
    cr_assert_str_eq(got, "warn_take,breach_take");
    /* taken late at 02:30: on site due 04:30; contact was due 04:00 */
    cluster_set_clock(&c, "2026-12-01T02:30:00Z");
    step("street-a", "L1", "TAKE", "");
    cluster_set_clock(&c, "2026-12-01T05:00:00Z");
    clock_steps("L1", got, sizeof got);
    cr_assert_str_eq(got, "warn_take,breach_take,warn_contact,breach_contact,warn_onsite,"
                          "breach_onsite");
    step("street-a", "L1", "CONTACT", "");
    step("street-a", "L1", "ARRIVE", "");
    /* completion: 3 days from dispatch, 12-04 02:00 */
    cluster_set_clock(&c, "2026-12-04T03:00:00Z");
    step("street-a", "L1", "COMPLETE", "");
    /* reply within 1 hour of completion */
    cluster_set_clock(&c, "2026-12-04T05:00:00Z");
    step("street-a", "L1", "REPLY", "");
    cluster_set_clock(&c, "2026-12-30T00:00:00Z");
    clock_steps("L1", got, sizeof got);
    cr_assert_str_eq(got, "warn_take,breach_take,warn_contact,breach_contact,warn_onsite,"
                          "breach_onsite,warn_complete,breach_complete,warn_reply,breach_reply");
    cr_assert_eq(breaches("L1"), 5);
    testdb_text(&c.db,
                "SELECT string_agg(clock || '@' || to_char(due_at AT TIME ZONE 'UTC', "
                "'DD HH24:MI'), ',' ORDER BY due_at) FROM subject_breach WHERE subject = 'L1'",
                got, sizeof got);
    cr_assert_str_eq(got, "take@01 02:20,contact@01 04:00,onsite@01 04:30,complete@04 02:00,"
                          "reply@04 04:00");
    /* the unit heard of each breach, and rectify-tail's level: a warning */
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM notification WHERE unit = 'street-a'"
                                     " AND kind = 'order_breach'",
                                     5, 10000),
                 5);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM notification WHERE unit = 'street-a'"
                                      " AND kind = 'order_warning'"),
                 5);
}

Test(orders, a_pause_holds_the_clocks_and_the_history_says_why_and_how_long)
{
    post_order("P1", CALLER_A, "noise", false);
    step("hotline", "P1", "DISPATCH", "\"unit\":\"street-a\"");
    step("street-a", "P1", "TAKE", "");
    step("street-a", "P1", "CONTACT", "");
    refused("street-a", "P1", "PAUSE", "\"reason\":\"投诉人出差\"", "missing_field");
    refused("street-a", "P1", "PAUSE", "\"approver\":\"王科长\"", "missing_field");
    refused("street-a", "P1", "RESUME", "", "invalid_transition");
    cluster_set_clock(&c, "2026-12-01T03:00:00Z"); /* on site due 04:00 */
    step("street-a", "P1", "PAUSE", "\"reason\":\"投诉人出差\",\"approver\":\"王科长\"");
    refused("street-a", "P1", "ARRIVE", "", "order_paused");
    cluster_set_clock(&c, "2026-12-01T08:00:00Z"); /* five hours paused: nothing fires */
    char got[512];
    clock_steps("P1", got, sizeof got);
    cr_assert_str_eq(got, "");
    step("street-a", "P1", "RESUME", "");
    /* one hour was left of on site (due 04:00 at 03:00): due 09:00 now; its
     * warning (80% of 2 h: 03:36, 36 minutes after the pause began) at 08:36 */
    cluster_set_clock(&c, "2026-12-01T08:59:00Z");
    clock_steps("P1", got, sizeof got);
    cr_assert_str_eq(got, "warn_onsite");
    cluster_set_clock(&c, "2026-12-01T09:01:00Z");
    clock_steps("P1", got, sizeof got);
    cr_assert_str_eq(got, "warn_onsite,breach_onsite");
    testdb_text(&c.db,
                "SELECT string_agg(action || ':' || coalesce(reason, '') || ':' ||"
                " coalesce(approver, '') || ':' || coalesce(detail->>'paused_minutes', ''), ','"
                " ORDER BY id) FROM subject_history WHERE subject = 'P1'"
                " AND action IN ('pause', 'resume')",
                got, sizeof got);
    cr_assert_str_eq(got, "pause:投诉人出差:王科长:,resume:::300.0");
}

Test(orders, an_extension_needs_an_approver_and_moves_only_the_completion_deadline)
{
    post_order("E1", CALLER_A, "noise", false);
    step("hotline", "E1", "DISPATCH", "\"unit\":\"street-a\"");
    step("street-a", "E1", "TAKE", "");
    step("street-a", "E1", "CONTACT", "");
    step("street-a", "E1", "ARRIVE", "");
    refused("street-a", "E1", "EXTEND", "\"reason\":\"需协调规划部门\",\"minutes\":1440",
            "missing_field");
    refused("street-a", "E1", "EXTEND", "\"reason\":\"需协调\",\"approver\":\"李处长\"",
            "missing_field");
    refused("street-a", "E1", "EXTEND",
            "\"reason\":\"需协调\",\"approver\":\"李处长\",\"minutes\":99999999", "invalid_field");
    step("street-a", "E1", "EXTEND",
         "\"reason\":\"需协调规划部门\",\"approver\":\"李处长\",\"minutes\":1440");
    /* completion was due 12-04 02:00, now 12-05 02:00 */
    cluster_set_clock(&c, "2026-12-04T03:00:00Z");
    cr_assert_eq(breaches("E1"), 0);
    cluster_set_clock(&c, "2026-12-05T02:01:00Z");
    char got[512];
    testdb_text(&c.db, "SELECT string_agg(clock, ',') FROM subject_breach WHERE subject = 'E1'",
                got, sizeof got);
    cr_assert_str_eq(got, "complete");
    testdb_text(&c.db,
                "SELECT reason || ':' || approver || ':' || (detail->>'minutes') FROM "
                "subject_history WHERE subject = 'E1' AND action = 'extend'",
                got, sizeof got);
    cr_assert_str_eq(got, "需协调规划部门:李处长:1440");
}

Test(orders, a_transfer_starts_new_clocks_for_the_new_unit_and_the_old_one_is_out)
{
    post_order("X1", CALLER_A, "noise", false);
    step("hotline", "X1", "DISPATCH", "\"unit\":\"street-a\"");
    cluster_set_clock(&c, "2026-12-01T02:25:00Z"); /* street-a missed its take clock */
    cr_assert_eq(breaches("X1"), 1);
    refused("hotline", "X1", "TRANSFER", "\"unit\":\"street-b\"", "missing_field");
    refused("hotline", "X1", "TRANSFER", "\"unit\":\"street-a\",\"reason\":\"辖区\"",
            "invalid_field");
    refused("hotline", "X1", "TRANSFER", "\"unit\":\"nowhere\",\"reason\":\"辖区\"",
            "unknown_unit");
    refused("street-a", "X1", "TRANSFER", "\"unit\":\"street-b\",\"reason\":\"辖区\"", "denied");
    step("hotline", "X1", "TRANSFER", "\"unit\":\"street-b\",\"reason\":\"不属本街道辖区\"");
    refused("street-a", "X1", "TAKE", "", "denied");
    /* street-b has its own 20 minutes from 02:25 */
    cluster_set_clock(&c, "2026-12-01T02:44:00Z");
    step("street-b", "X1", "TAKE", "");
    cluster_set_clock(&c, "2026-12-01T03:00:00Z");
    char got[512];
    testdb_text(&c.db,
                "SELECT string_agg(clock || ':' || cycle || ':' || unit, ',' ORDER BY cycle)"
                " FROM subject_breach WHERE subject = 'X1'",
                got, sizeof got);
    cr_assert_str_eq(got, "take:1:street-a", "street-b took it in time: %s", got);
    cr_assert_eq(testdb_number(&c.db, "SELECT cycle FROM work_order WHERE order_id = 'X1'"), 2);
}

Test(orders, a_dissatisfied_caller_reopens_the_order_on_new_clocks)
{
    post_order("R1", CALLER_A, "noise", false);
    step("hotline", "R1", "DISPATCH", "\"unit\":\"street-a\"");
    step("street-a", "R1", "TAKE", "");
    step("street-a", "R1", "CONTACT", "");
    step("street-a", "R1", "COMPLETE", "");
    step("street-a", "R1", "REPLY", "");
    refused("hotline", "R1", "CLOSE", "", "missing_field");
    refused("street-a", "R1", "CLOSE", "\"satisfaction\":\"SATISFIED\"", "denied");
    step("hotline", "R1", "CLOSE", "\"satisfaction\":\"DISSATISFIED\"");
    char got[512];
    testdb_text(&c.db,
                "SELECT status || ':' || cycle || ':' || unit || ':' || satisfaction"
                " FROM work_order WHERE order_id = 'R1'",
                got, sizeof got);
    cr_assert_str_eq(got, "dispatched:2:street-a:dissatisfied");
    testdb_text(&c.db,
                "SELECT string_agg(action || ':' || to_status, ',' ORDER BY id) FROM "
                "subject_history WHERE subject = 'R1' AND action IN ('close', 'reopen')",
                got, sizeof got);
    cr_assert_str_eq(got, "close:closed,reopen:dispatched");
    /* the second cycle's take clock runs and breaches */
    cluster_set_clock(&c, "2026-12-01T02:21:00Z");
    testdb_text(&c.db,
                "SELECT string_agg(clock || ':' || cycle, ',') FROM subject_breach"
                " WHERE subject = 'R1'",
                got, sizeof got);
    cr_assert_str_eq(got, "take:2");
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM notification WHERE unit = 'street-a'"
                                     " AND kind = 'order_dispatched'",
                                     2, 10000),
                 2, "street-a was told twice: dispatched, then reopened");
}

Test(orders, a_category_on_the_working_calendar_skips_nights_weekends_and_holidays)
{
    /* the operator's commands: a category on working time, a holiday */
    char out[4096];
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "sla set permit --complete 960 --calendar"), 0,
                 "%s", out);
    cr_assert(strstr(out, "permit") && strstr(out, "工作时间"), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "sla set permit --urgent --calendar"), 1,
                 "an urgent category on working time: %s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "sla set permit --take 0"), 2, "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "sla set --take 10"), 2, "%s", out);
    cr_assert_eq(testdb_number(&c.db, "SELECT take_min * 1000 + complete_min FROM order_sla"
                                      " WHERE category = 'permit' AND NOT urgent AND calendar"),
                 20960, "take from '*', completion as set");
    /* 2026-12-04 is a Friday; the Monday after is a holiday here */
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "holiday add 2026-12-07 --note 测试"), 0, "%s",
                 out);
    cr_assert(strstr(out, "2026-12-07") && strstr(out, "放假"), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "holiday add 2026-12-3"), 2, "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "holiday remove 2026-12-09"), 1, "%s", out);
    cluster_set_clock(&c, "2026-12-04T08:50:00Z"); /* 16:50 in Shanghai */
    post_order("C1", CALLER_A, "permit", false);
    post_order("C2", CALLER_B, "permit", true); /* urgent: wall time */
    step("hotline", "C1", "DISPATCH", "\"unit\":\"street-a\"");
    step("hotline", "C2", "DISPATCH", "\"unit\":\"street-a\"");
    cluster_set_clock(&c, "2026-12-07T12:00:00Z");
    /* 10 working minutes on Friday, 10 on Tuesday from 09:00 */
    cr_assert_eq(breaches("C1"), 0);
    cr_assert_eq(breaches("C2"), 3, "urgent: take, contact and complete (1 day) breached");
    cluster_set_clock(&c, "2026-12-08T01:11:00Z"); /* Tuesday 09:11 */
    char got[512];
    testdb_text(&c.db,
                "SELECT string_agg(clock || '@' || to_char(due_at AT TIME ZONE 'Asia/Shanghai',"
                " 'MM-DD HH24:MI'), ',') FROM subject_breach WHERE subject = 'C1'",
                got, sizeof got);
    cr_assert_str_eq(got, "take@12-08 09:10");
}

Test(orders, refusals_name_the_field_and_change_nothing)
{
    post_order("F1", CALLER_A, "noise", false);
    char out[512];
    /* the same order id again */
    long long now_ms = testdb_number(
        &c.db, "SELECT (extract(epoch FROM (SELECT at FROM sim_clock)) * 1000)::bigint");
    char json[1024];
    snprintf(json, sizeof json,
             "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"F1\",\"received_ms\":%lld,"
             "\"channel\":\"WEB\",\"caller_hash\":\"" CALLER_B "\",\"address\":\"别处\","
             "\"category\":\"noise\",\"text\":\"再次\",\"urgency\":\"NORMAL\"}}\n",
             now_ms);
    cluster_post_one(&c, json, out, sizeof out);
    cr_assert(strstr(out, "refused: order_exists: post_order.order_id"), "%s", out);
    /* from the future */
    snprintf(json, sizeof json,
             "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"F2\",\"received_ms\":%lld,"
             "\"channel\":\"WEB\",\"caller_hash\":\"" CALLER_B "\",\"address\":\"别处\","
             "\"category\":\"noise\",\"text\":\"再次\",\"urgency\":\"NORMAL\"}}\n",
             now_ms + 3600000);
    cluster_post_one(&c, json, out, sizeof out);
    cr_assert(strstr(out, "refused: future_date: post_order.received_ms"), "%s", out);
    /* a unit may not post orders */
    snprintf(json, sizeof json,
             "{\"unit\":\"street-a\",\"post_order\":{\"order_id\":\"F3\",\"received_ms\":%lld,"
             "\"channel\":\"WEB\",\"caller_hash\":\"" CALLER_B "\",\"address\":\"别处\","
             "\"category\":\"noise\",\"text\":\"再次\",\"urgency\":\"NORMAL\"}}\n",
             now_ms);
    cluster_post_one(&c, json, out, sizeof out);
    cr_assert(strstr(out, "refused: denied: post_order"), "%s", out);
    /* intake refuses what is malformed before anything is stored */
    struct {
        const char *fields, *code, *field;
    } bad[] = {
        {"\"channel\":\"WEB\",\"caller_hash\":\"13800138000\"", "invalid_field",
         "post_order.caller_hash"},
        {"\"channel\":\"WEB\",\"caller_hash\":\"" CALLER_A
         "\",\"located\":true,\"latitude\":91,\"longitude\":1",
         "invalid_field", "post_order.latitude"},
        {"\"channel\":\"WEB\",\"caller_hash\":\"" CALLER_A "\",\"latitude\":31", "invalid_field",
         "post_order.located"},
        {"\"channel\":\"CHANNEL_UNSPECIFIED\",\"caller_hash\":\"" CALLER_A "\"", "missing_field",
         "post_order.channel"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"F9\",\"received_ms\":%lld,"
                 "\"address\":\"别处\",\"category\":\"noise\","
                 "\"text\":\"x\",\"urgency\":\"NORMAL\",%s}}\n",
                 now_ms, bad[i].fields);
        size_t n;
        post_item_t *items = cluster_post_json(&c, json, &n);
        cr_assert_eq(items[0].status, POST_REJECTED, "%s", bad[i].fields);
        cr_assert_str_eq(items[0].code, bad[i].code, "%s: %s", bad[i].fields, items[0].message);
        cr_assert(strstr(items[0].message, bad[i].field), "%s", items[0].message);
        cluster_free_items(items, n);
    }
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM work_order"), 1);
    /* steps: unknown order, out of order, wrong unit, a unit where none belongs */
    refused("street-a", "NOPE", "TAKE", "", "unknown_order");
    refused("street-a", "F1", "TAKE", "", "invalid_transition");
    refused("street-a", "F1", "DISPATCH", "\"unit\":\"street-a\"", "denied");
    refused("hotline", "F1", "DISPATCH", "", "missing_field");
    step("hotline", "F1", "DISPATCH", "\"unit\":\"street-a\"");
    refused("street-b", "F1", "TAKE", "", "denied");
    refused("street-a", "F1", "TAKE", "\"unit\":\"street-b\"", "invalid_field");
    refused("street-a", "F1", "ARRIVE", "", "invalid_transition");
    refused("street-a", "F1", "RETURN", "", "missing_field");
    step("street-a", "F1", "RETURN", "\"reason\":\"非本单位职责\"");
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM notification WHERE unit = 'hotline'"
                                     " AND kind = 'order_returned'",
                                     1, 10000),
                 1);
    step("hotline", "F1", "DISPATCH", "\"unit\":\"street-b\"");
}

/* Breaches exactly once while two workflow processes run and one is killed
 * with SIGKILL in the middle of firing: every clock of every order breached
 * once, one notice each. */
Test(orders, breaches_fire_exactly_once_with_two_workflows_and_a_kill)
{
    cluster_spawn_copy(&c, SVC_WORKFLOW);
    char jsonl[200 * 420] = "";
    size_t used = 0;
    long long now_ms = testdb_number(
        &c.db, "SELECT (extract(epoch FROM (SELECT at FROM sim_clock)) * 1000)::bigint");
    enum { ORDERS = 150 };
    for (int i = 0; i < ORDERS; i++)
        used += (size_t)snprintf(
            jsonl + used, sizeof jsonl - used,
            "{\"unit\":\"hotline\",\"post_order\":{\"order_id\":\"K%d\",\"received_ms\":%lld,"
            "\"channel\":\"APP\",\"caller_hash\":\"" CALLER_A "\",\"address\":\"路%d号\","
            "\"category\":\"noise\",\"text\":\"x\",\"urgency\":\"NORMAL\"}}\n"
            "{\"unit\":\"hotline\",\"move_order\":{\"order_id\":\"K%d\",\"step\":\"DISPATCH\","
            "\"unit\":\"street-a\"}}\n",
            i, now_ms, i, i);
    size_t n;
    post_item_t *items = cluster_post_json(&c, jsonl, &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"),
                 0);
    /* every take, contact and complete clock falls due at once; kill the
     * working copy while they fire */
    testdb_exec(&c.db, "UPDATE sim_clock SET at = '2026-12-09T00:00:00Z'");
    cluster_wait_number(&c, "SELECT count(*) FROM subject_breach", 1, 20000);
    int st = cluster_signal(&c, SVC_WORKFLOW, SIGKILL);
    cr_assert(WIFSIGNALED(st));
    cluster_spawn(&c, SVC_WORKFLOW);
    cluster_set_clock(&c, "2026-12-09T00:00:00Z");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM subject_breach"), ORDERS * 3);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM subject_history"
                                      " WHERE action LIKE 'breach_%'"),
                 ORDERS * 3);
    cluster_wait_quiet(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM notification"
                                      " WHERE kind = 'order_breach'"),
                 ORDERS * 3, "one notice per breach");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM (SELECT subject, action"
                                      " FROM subject_history WHERE action LIKE 'breach_%'"
                                      " GROUP BY 1, 2 HAVING count(*) > 1) d"),
                 0);
}

Test(orders, rectifyctl_reads_orders_back_and_tail_shows_a_breach_as_a_warning)
{
    const char *args[] = {"--json", "--level",      "warn",  "--count",
                          "1",      "--timeout-ms", "30000", c.tail_ep[SVC_WORKFLOW],
                          NULL};
    int fd;
    pid_t tail = tail_start(args, &fd, NULL);
    /* orders until the tail has seen a breach: the first may come before
     * its subscription is made */
    int n = 0, status = 0;
    char id[16], at[40];
    while (waitpid(tail, &status, WNOHANG) == 0) {
        cr_assert_lt(n, 10, "the tail showed no breach of %d orders", n);
        snprintf(id, sizeof id, "V%d", ++n);
        post_order(id, CALLER_B, "noise", false);
        step("hotline", id, "DISPATCH", "\"unit\":\"street-a\"");
        /* its take clock breaches 20 minutes on */
        snprintf(at, sizeof at, "2026-12-01T%02d:%02d:00Z", 2 + (n * 30) / 60, (n * 30) % 60);
        cluster_set_clock(&c, at);
        usleep(200 * 1000);
    }
    char out[8192];
    tail_read(fd, out, sizeof out);
    cr_assert(strstr(out, "\"level\":\"warn\"") && strstr(out, "breached"), "%s", out);

    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "orders --breached --unit street-a"), 0, "%s",
                 out);
    cr_assert(strstr(out, "V1") && strstr(out, "甲街道") && strstr(out, "take"), "%s", out);
    cr_assert(strstr(out, "orders"), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "orders --unit street-b --json"), 0, "%s", out);
    cr_assert_str_eq(out, "[]\n");
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "order V1 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"action\": \"breach_take\"") ||
                  strstr(out, "\"action\":\"breach_take\""),
              "%s", out);
    cr_assert(strstr(out, "\"status\": \"dispatched\"") || strstr(out, "\"status\":\"dispatched\""),
              "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "order V1"), 0, "%s", out);
    cr_assert(strstr(out, "办理过程") && strstr(out, "已派单"), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "order NOPE"), 1, "%s", out);
    cr_assert(strstr(out, "no order \"NOPE\""), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "orders --bogus"), 2, "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "order"), 2, "%s", out);
}

/* A case action on a repeat case; returns the outcome. */
static void case_as(const char *unit, long long case_no, const char *action, const char *fields,
                    char *out, size_t outlen)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"unit\":\"%s\",\"handle_repeat_case\":{\"case_no\":%lld,\"action\":\"%s\"%s%s}}\n",
             unit, case_no, action, *fields ? "," : "", fields);
    cluster_post_one(&c, json, out, outlen);
}

static void case_refused(const char *unit, long long case_no, const char *action,
                         const char *fields, const char *code)
{
    char out[512], want[64];
    case_as(unit, case_no, action, fields, out, sizeof out);
    snprintf(want, sizeof want, "refused: %s: handle_repeat_case", code);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "%s by %s: want %s, got %s", action, unit,
              code, out);
}

Test(orders, repeats_by_caller_and_by_place_enter_the_register_and_are_written_off)
{
    /* one caller, five times, about five places: a case by caller at the fifth */
    char id[16], place[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "RC%d", i);
        snprintf(place, sizeof place, "长江路%d号", i);
        post_order_at(id, CALLER_B, place, "noise", false, 0);
        long long registered =
            testdb_number(&c.db, "SELECT count(*) FROM repeat_case WHERE basis = 'caller'"
                                 " AND key = '" CALLER_B "' AND registered_at IS NOT NULL");
        cr_assert_eq(registered, i == 5 ? 1 : 0, "after %d orders", i);
    }
    /* one place, spelt two ways, a year and a month apart: a case by place */
    post_order_at("RP1", CALLER_A, "黄河路 8 号（东门）", "garbage", false, 400);
    post_order_at("RP2", "cc00000000000000000000000000000000000000000000000000000000000003",
                  "黄河路8号东门", "garbage", false, 0);
    long long by_caller = testdb_number(&c.db, "SELECT case_no FROM repeat_case WHERE basis ="
                                               " 'caller' AND key = '" CALLER_B "'");
    long long by_place = testdb_number(&c.db, "SELECT case_no FROM repeat_case WHERE basis ="
                                              " 'place' AND registered_at IS NOT NULL");
    cr_assert_gt(by_place, 0, "the place case did not enter the register");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM work_order WHERE repeat"), 5,
                 "RC2..RC5 repeat by caller, RP2 by place");
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM notification WHERE unit = 'hotline'"
                                     " AND kind = 'repeat_case'",
                                     2, 10000),
                 2, "the hotline hears of both cases");

    /* the steps, and who may take them */
    case_refused("street-a", by_caller, "ASSIGN_CASE", "\"unit\":\"street-a\"", "denied");
    case_refused("dist.team", by_caller, "ASSIGN_CASE", "", "missing_field");
    case_refused("dist.team", by_caller, "FOLLOW_UP_CASE", "", "missing_field");
    case_refused("street-a", by_caller, "FOLLOW_UP_CASE", "\"note\":\"已约谈施工方\"",
                 "invalid_transition");
    case_refused("dist.team", 999999, "WRITE_OFF_CASE", "\"note\":\"x\"", "unknown_case");
    char out[512];
    case_as("dist.team", by_caller, "ASSIGN_CASE", "\"unit\":\"street-a\"", out, sizeof out);
    cr_assert_str_eq(out, "applied");
    case_refused("street-b", by_caller, "FOLLOW_UP_CASE", "\"note\":\"x\"", "denied");
    case_as("street-a", by_caller, "FOLLOW_UP_CASE", "\"note\":\"已约谈施工方, 停止夜间施工\"", out,
            sizeof out);
    cr_assert_str_eq(out, "applied");
    case_refused("dist.team", by_caller, "WRITE_OFF_CASE", "", "missing_field");
    case_as("dist.team", by_caller, "WRITE_OFF_CASE", "\"note\":\"回访确认问题解决\"", out,
            sizeof out);
    cr_assert_str_eq(out, "applied");
    case_refused("dist.team", by_caller, "WRITE_OFF_CASE", "\"note\":\"again\"",
                 "invalid_transition");
    char sql[300], got[512];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(action || ':' || from_status || '>' || to_status, ',' ORDER BY id)"
             " FROM subject_history WHERE lifecycle = 'repeat_case' AND subject = '%lld'",
             by_caller);
    testdb_text(&c.db, sql, got, sizeof got);
    cr_assert_str_eq(got, "assign:registered>assigned,follow_up:assigned>assigned,"
                          "write_off:assigned>written_off");

    /* the register's figures: two cases, one written off */
    char big[8192];
    cr_assert_eq(cluster_ctl(&c, big, sizeof big, "repeats --json"), 0, "%s", big);
    cr_assert(strstr(big, "\"cases\": 2, \"written_off\": 1, \"write_off_rate\": 50.0"), "%s", big);
    cr_assert_eq(cluster_ctl(&c, big, sizeof big, "repeats"), 0, "%s", big);
    cr_assert(strstr(big, "已销项 1 件, 销项率 50.0%"), "%s", big);
    cr_assert(strstr(big, "同一地点") && strstr(big, "已入库"), "%s", big);
    cr_assert_null(strstr(big, CALLER_B), "a caller's digest is shown whole: %s", big);
    /* the caller comes back after the write-off: a new case */
    post_order_at("RC6", CALLER_B, "长江路6号", "noise", false, 0);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM repeat_case WHERE basis = 'caller'"
                                      " AND key = '" CALLER_B "'"),
                 2);
}

Test(orders, the_monthly_table_gives_each_unit_its_rates_and_cards)
{
    const char *all[] = {"TAKE", "CONTACT", "ARRIVE", "COMPLETE", "REPLY"};
    /* A1: every step on time, satisfied */
    post_order_at("A1", CALLER_A, "人民路1号", "noise", false, 0);
    step("hotline", "A1", "DISPATCH", "\"unit\":\"street-a\"");
    for (int i = 0; i < 5; i++)
        step("street-a", "A1", all[i], "");
    step("hotline", "A1", "CLOSE", "\"satisfaction\":\"SATISFIED\"");
    /* A2: taken late, then on time, basically satisfied */
    post_order_at("A2", CALLER_A, "人民路1号", "noise", false, 0);
    step("hotline", "A2", "DISPATCH", "\"unit\":\"street-a\"");
    cluster_set_clock(&c, "2026-12-01T02:21:00Z");
    for (int i = 0; i < 5; i++)
        step("street-a", "A2", all[i], "");
    step("hotline", "A2", "CLOSE", "\"satisfaction\":\"BASICALLY_SATISFIED\"");
    /* B1: on time at street-b, satisfied */
    post_order_at("B1", CALLER_B, "长江路2号", "garbage", false, 0);
    step("hotline", "B1", "DISPATCH", "\"unit\":\"street-b\"");
    for (int i = 0; i < 5; i++)
        step("street-b", "B1", all[i], "");
    step("hotline", "B1", "CLOSE", "\"satisfaction\":\"SATISFIED\"");

    char got[1024];
    testdb_text(&c.db,
                "SELECT string_agg(concat_ws(':', unit, orders, take_rate, contact_rate,"
                " onsite_rate, complete_rate, reply_rate, breaches, repeats, closed, satisfied,"
                " satisfaction, card), ' ' ORDER BY unit) FROM hotline_month('2026-12-15', 90, 80)",
                got, sizeof got);
    cr_assert_str_eq(got, "street-a:2:50.0:100.0:100.0:100.0:100.0:1:1:2:2:100.0:red "
                          "street-b:1:100.0:100.0:100.0:100.0:100.0:0:0:1:1:100.0:");
    /* a line above 100% gives every unit a yellow card at least */
    testdb_text(&c.db,
                "SELECT card FROM hotline_month('2026-12-15', 101, 80) WHERE unit ="
                " 'street-b'",
                got, sizeof got);
    cr_assert_str_eq(got, "yellow");
    /* nothing counts in another month */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM hotline_month('2026-11-15', 90, 80)"),
                 0);

    char out[8192];
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "hotline --month 2026-12 --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"quarter\": \"2026-Q4\", \"orders\": 3, \"previous\": 0"), "%s", out);
    cr_assert(strstr(out, "\"take_on_time\": 50.0") && strstr(out, "\"card\": \"red\""), "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "hotline --month 2026-12"), 0, "%s", out);
    cr_assert(strstr(out, "2026年12月承办单位热线办理情况") && strstr(out, "红牌") &&
                  strstr(out, "共受理热线工单 3 件"),
              "%s", out);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "hotline --month 2026-12 --xlsx %s/hotline.xlsx", c.dir);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, cmd), 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s/hotline.xlsx", c.dir);
    FILE *f = fopen(cmd, "rb");
    cr_assert(f, "no workbook written");
    char magic[2] = {0};
    cr_assert_eq(fread(magic, 1, 2, f), 2);
    fclose(f);
    cr_assert(magic[0] == 'P' && magic[1] == 'K', "not an .xlsx (zip) file");
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "hotline --month 2026-13"), 2, "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "hotline"), 2, "%s", out);

    /* when the month is over, workflow shows street-a its red card */
    cluster_set_clock(&c, "2027-01-01T00:01:00Z");
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM notification WHERE unit = 'street-a'"
                                     " AND kind = 'hotline_red_card'",
                                     1, 10000),
                 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM notification WHERE unit = 'street-b'"
                                      " AND kind LIKE 'hotline_%_card'"),
                 0);
    /* a red card is an error line of workflow's log, as rectify-tail shows it */
    snprintf(cmd, sizeof cmd,
             "grep '\"level\":\"error\"' %s/workflow.log | grep -c 'hotline red card for street-a'",
             c.dir);
    cr_assert_eq(test_shell(cmd, out, sizeof out), 0, "no error line for the red card: %s", out);
}
