/* The ledger as a district uses it, through the real services on a
 * simulated clock: the closure gate on every way an item closes, closed
 * tasks owing nothing, an item's own track, funds and cases as figures of
 * their own, plan revisions by import (and their dry run), plans saved as
 * GB18030, .xlsx exports, tables in names and Chinese labels, the monthly
 * table counting items and measures apart. */
#include "cluster.h"

#include <criterion/criterion.h>
#include <iconv.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cluster_t c;
static char out[1 << 16];

#define ROUND "RL"
#define HEADER "方面,问题,整改事项,整改措施,牵头领导,责任单位,整改时限,类别,事项类别\n"
/* A's track is the longest of its measures' (long-term); B gives its own
 * (fix-now) although B-2 is long-term. */
#define ROWS_A                                                                                     \
    "方面一,1,A 事项甲,A-1 措施甲一,局长,sh-cgzf.a,2021-06-30,立行立改,\n"         \
    "方面一,1,A 事项甲,A-2 措施甲二,副局长,sh-cgzf.b,2021-12-31,长期推进,\n"
#define ROWS_B                                                                                         \
    "方面一,1,B 事项乙,B-1 措施乙一,局长,sh-cgzf.a,2021-05-31,立行立改,立行立改\n" \
    "方面一,1,B 事项乙,B-2 措施乙二,局长,sh-cgzf.a,2021-12-31,长期推进,\n"
#define ROWS_C "方面二,2,C 事项丙,C-1 措施丙一,副局长,sh-cgzf.b,2021-04-30,专项整治,\n"
#define PLAN HEADER ROWS_A ROWS_B ROWS_C

static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20",
                                  "RECTIFY_REPORT_INTERVAL_DAYS=30", NULL};

static int ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return cluster_ctl(&c, out, sizeof out, args);
}

/* Writes a plan file in the cluster's folder; returns its path. */
static const char *plan_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", c.dir, name);
    cluster_write_file(path, text);
    return path;
}

static void expect(const char *json, const char *want)
{
    char got[512];
    cluster_post_one(&c, json, got, sizeof got);
    cr_assert(strncmp(got, want, strlen(want)) == 0, "%s\n  expected: %s\n  got: %s", json, want,
              got);
}

#define APPLIED(json) expect(json, "applied")

static long long num(const char *sql)
{
    return testdb_number(&c.db, sql);
}

static void text(const char *sql, char *buf, size_t len)
{
    testdb_text(&c.db, sql, buf, len);
}

static void setup(void)
{
    cluster_start(&c, sim);
    cluster_set_clock(&c, "2021-03-01T00:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.a\",\"name\":\"处室甲\","
        "\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.b\",\"name\":\"处室乙\","
        "\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.team\",\"name\":\"整改专班\","
        "\"parent\":\"sh-cgzf\",\"role\":\"SUPERVISION_OFFICE\"}}\n"
        "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"" ROUND
        "\",\"group_name\":\"区委第二巡察组\",\"target_unit\":\"sh-cgzf\",\"feedback_date\":"
        "\"2021-01-29\",\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"1\",\"aspect\":\"方面一\",\"title\":\"问题一\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"2\",\"aspect\":\"方面二\",\"title\":\"问题二\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(num("SELECT count(*) FROM wf_event WHERE outcome = 'refused'"), 0);
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", plan_file("plan.csv", PLAN)), 0,
                 "%s", out);
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(ledger, .init = setup, .fini = teardown, .timeout = 180);

/* Drives a task: start, submit, write off (fix-now and special tasks). */
static void write_off(const char *task)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"unit\":\"sh-cgzf\",\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\"}}",
             task);
    APPLIED(json);
    snprintf(json, sizeof json,
             "{\"unit\":\"sh-cgzf\",\"submit_write_off\":{\"round_id\":\"" ROUND
             "\",\"task_id\":\"%s\",\"text\":\"完成\"}}",
             task);
    APPLIED(json);
    snprintf(json, sizeof json,
             "{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
             "\",\"task_id\":\"%s\"}}",
             task);
    APPLIED(json);
}

#define START(task)                                                                                \
    APPLIED("{\"unit\":\"sh-cgzf\",\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"" task      \
            "\"}}")
#define DECIDE(task)                                                                               \
    "{\"unit\":\"sh-cgzf.team\",\"close_by_decision\":{\"round_id\":\"" ROUND                      \
    "\",\"task_id\":\"" task "\",\"decision\":\"转入常态化\"}}"

static json_t *bulletin(void)
{
    cr_assert_eq(ctl("bulletin --round " ROUND " --json"), 0, "%s", out);
    json_error_t e;
    json_t *b = json_loads(out, 0, &e);
    cr_assert(b, "%s: %s", e.text, out);
    return b;
}

static long long figure(const char *a, const char *b)
{
    json_t *o = bulletin();
    json_t *v = json_object_get(json_object_get(o, a), b);
    cr_assert(json_is_integer(v), "%s.%s", a, b);
    long long n = json_integer_value(v);
    json_decref(o);
    return n;
}

static size_t json_rows(void)
{
    json_error_t e;
    json_t *rows = json_loads(out, 0, &e);
    cr_assert(json_is_array(rows), "%s: %s", e.text, out);
    size_t n = json_array_size(rows);
    json_decref(rows);
    return n;
}

/* --- 1. the closure gate --------------------------------------------------- */

Test(ledger, every_way_an_item_closes_passes_the_same_gate)
{
    START("A");
    START("A-2");
    long long history = num("SELECT count(*) FROM task_history");
    expect(DECIDE("A"), "refused: measures_open: close_by_decision: item A has 2 measure(s) not "
                        "closed or confirmed (A-1 assigned, A-2 in_progress)");
    cr_assert_eq(num("SELECT count(*) FROM task_history"), history, "a refusal wrote history");
    cr_assert_eq(figure("items", "rectified"), 0, "the bulletin moved on a refusal");
    /* write-off: the same gate, the same code */
    START("B");
    APPLIED("{\"unit\":\"sh-cgzf\",\"submit_write_off\":{\"round_id\":\"" ROUND
            "\",\"task_id\":\"B\",\"text\":\"完成\"}}");
    write_off("B-1");
    expect("{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
           "\",\"task_id\":\"B\"}}",
           "refused: measures_open: write_off: item B has 1 measure(s) not closed or confirmed "
           "(B-2 assigned)");
    /* all measures closed: the item closes by decision */
    write_off("A-1");
    expect(DECIDE("A"), "refused: measures_open: close_by_decision: item A has 1 measure(s) not "
                        "closed or confirmed (A-2 in_progress)");
    APPLIED(DECIDE("A-2"));
    APPLIED(DECIDE("A"));
    cr_assert_eq(figure("items", "rectified"), 1);
    cr_assert_eq(figure("measures", "completed"), 3);
}

/* --- 2. a closed task owes nothing ------------------------------------------ */

Test(ledger, a_closed_task_owes_no_report_and_leaves_the_overdue_ledger)
{
    START("A");
    START("A-2");
    cluster_set_clock(&c, "2021-04-02T00:00:00Z"); /* 30 days without a report */
    cr_assert_eq(ctl("ledger --round " ROUND " --overdue --json"), 0, "%s", out);
    cr_assert_eq(json_rows(), 2, "A and A-2 owe a report: %s", out);
    cr_assert(strstr(out, "\"flag\": \"report_owed\""), "%s", out);
    cr_assert_eq(ctl("ledger --round " ROUND " --overdue"), 0, "%s", out);
    cr_assert(strstr(out, "欠报"), "%s", out);
    write_off("A-1");
    APPLIED(DECIDE("A-2"));
    APPLIED(DECIDE("A"));
    cr_assert_eq(ctl("ledger --round " ROUND " --overdue --json"), 0, "%s", out);
    cr_assert_eq(json_rows(), 0, "closed tasks owe nothing: %s", out);
    cr_assert_eq(ctl("ledger --round " ROUND " --json"), 0, "%s", out);
    cr_assert(!strstr(out, "report_owed"), "%s", out);
    /* their clocks are cancelled: only the look-backs wait */
    cr_assert_eq(num("SELECT count(*) FROM timer WHERE round_id = '" ROUND "'"
                     " AND task_id IN ('A', 'A-1', 'A-2') AND fired_at IS NULL"
                     " AND cancelled_at IS NULL AND kind <> 'look_back_due'"),
                 0);
    /* and a month later nothing more is owed */
    cluster_set_clock(&c, "2021-05-10T00:00:00Z");
    cr_assert_eq(num("SELECT count(*) FROM task_history WHERE action = 'report_missed'"
                     " AND task_id IN ('A', 'A-2') AND effective_on > '2021-04-02'"),
                 0);
}

/* --- 3. an item's track ------------------------------------------------------ */

Test(ledger, a_plan_gives_an_item_its_own_track_or_the_longest_of_its_measures)
{
    char row[128];
    text("SELECT string_agg(task_id || ':' || track || ':' || deadline, ' ' ORDER BY task_id)"
         " FROM task WHERE kind = 'item'",
         row, sizeof row);
    cr_assert_str_eq(row,
                     "A:long_term:2021-12-31 B:fix_now:2021-12-31 C:special_campaign:2021-04-30");
    /* B is fix-now: written off, not closed by decision, once its measures are */
    START("B");
    expect(DECIDE("B"), "refused: not_long_term: close_by_decision: item B is fix_now");
    /* the rows of one item must agree on its track */
    const char *path =
        plan_file("bad.csv", HEADER
                  "方面一,1,E 事项戊,E-1 措施,局长,sh-cgzf.a,2021-06-30,立行立改,立行立改\n"
                  "方面一,1,E 事项戊,E-2 措施,局长,sh-cgzf.a,2021-06-30,立行立改,长期推进\n");
    long long sent = num("SELECT count(*) FROM intake_event");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "bad.csv:3: item_track: item_track: item \"E\" is 立行立改 on line 2, "
                          "here 长期推进"),
              "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM intake_event"), sent, "a bad plan was sent");
    /* a bad word in the column is named */
    path = plan_file("bad2.csv", HEADER
                     "方面一,1,E 事项戊,E-1 措施,局长,sh-cgzf.a,2021-06-30,立行立改,马上办\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "bad2.csv:2: item_track: item_track: \"马上办\" is not a track"), "%s",
              out);
}

/* --- 4 and 5. funds and cases --------------------------------------------------- */

#define FUNDS(unit, round, id, amount)                                                             \
    "{\"unit\":\"" unit "\",\"record_funds_recovered\":{\"round_id\":\"" round                     \
    "\",\"record_id\":\"" id "\",\"amount_yuan\":\"" amount                                        \
    "\",\"note\":\"违规发放津补贴\",\"on_date\":\"2021-03-01\"}}"

Test(ledger, funds_recovered_are_a_record_of_their_own)
{
    APPLIED(FUNDS("sh-cgzf.team", ROUND, "F1", "59700.00"));
    expect(FUNDS("sh-cgzf.team", ROUND, "F1", "100"),
           "refused: record_exists: record_funds_recovered.record_id: \"F1\" is already recorded");
    expect(FUNDS("sh-cgzf.team", ROUND, "F2", "0"),
           "refused: invalid_field: record_funds_recovered.amount_yuan: \"0\" is not an amount in "
           "yuan above zero");
    expect(FUNDS("sh-cgzf.team", ROUND, "F2", "12.345"),
           "refused: invalid_field: record_funds_recovered.amount_yuan: \"12.345\"");
    expect(FUNDS("sh-cgzf", ROUND, "F2", "100"),
           "refused: denied: record_funds_recovered: only a unit of role supervision_office");
    expect(FUNDS("sh-cgzf.team", "NO", "F2", "100"),
           "refused: unknown_round: record_funds_recovered.round_id: no round \"NO\"");
    size_t n;
    post_item_t *it = cluster_post_json(
        &c,
        "{\"unit\":\"sh-cgzf.team\",\"record_funds_recovered\":{\"round_id\":\"" ROUND
        "\",\"record_id\":\"F3\"}}",
        &n);
    cr_assert_eq(it[0].status, POST_REJECTED);
    cr_assert_str_eq(it[0].code, "missing_field");
    cr_assert(strstr(it[0].message, "amount_yuan"), "%s", it[0].message);
    cluster_free_items(it, n);
    cr_assert_eq(num("SELECT count(*) FROM funds_recovered"), 1, "a refusal stored funds");
    cr_assert_eq(num("SELECT amount_fen FROM funds_recovered"), 5970000);
    /* funds with an action still count, once */
    APPLIED("{\"unit\":\"sh-cgzf.team\",\"record_accountability\":{\"round_id\":\"" ROUND
            "\",\"action_id\":\"X1\",\"kind\":\"CRITICISM\",\"persons\":1,\"amount_yuan\":"
            "\"300.00\"}}");
    json_t *b = bulletin();
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "accountability"),
                                                       "funds_recovered_yuan")),
                     "60000.00");
    json_decref(b);
    cr_assert_eq(ctl("bulletin --round " ROUND), 0, "%s", out);
    cr_assert(strstr(out, "共退出违规钱款6.00万元"), "%s", out);
}

#define ACTION(id, kind, persons, cases)                                                           \
    "{\"unit\":\"sh-cgzf.team\",\"record_accountability\":{\"round_id\":\"" ROUND                  \
    "\",\"action_id\":\"" id "\",\"kind\":\"" kind "\",\"persons\":" #persons ",\"cases\":" #cases \
    "}}"

Test(ledger, cases_filed_are_counted_as_cases_not_persons)
{
    APPLIED(ACTION("K1", "CASE_FILED", 0, 3));
    APPLIED(ACTION("K2", "CASE_FILED", 2, 1));
    APPLIED(ACTION("S1", "DISCIPLINARY_SANCTION", 2, 0));
    expect(ACTION("K3", "CASE_FILED", 1, 0),
           "refused: missing_field: record_accountability.cases: a case_filed record counts its "
           "cases (at least 1); got 0");
    expect(ACTION("K3", "CASE_FILED", 0, -2),
           "refused: missing_field: record_accountability.cases: a case_filed record counts its "
           "cases (at least 1); got -2");
    expect(ACTION("S2", "DISCIPLINARY_SANCTION", 1, 1),
           "refused: invalid_field: record_accountability.cases: only case_filed counts cases; "
           "disciplinary_sanction counts persons");
    cr_assert_eq(num("SELECT count(*) FROM accountability"), 3, "a refusal stored an action");
    cr_assert_eq(figure("accountability", "cases_filed"), 4);
    cr_assert_eq(figure("accountability", "sanctioned_persons"), 2);
    cr_assert_eq(ctl("bulletin --round " ROUND), 0, "%s", out);
    cr_assert(strstr(out, "党纪政务立案4件,党纪政务处分共2人。"), "%s", out);
}

/* --- 6. revising a plan ------------------------------------------------------ */

/* B-1: a later deadline and another leader; C gains C-2 (so C's deadline
 * follows); a new item D. */
#define REVISED                                                                                                         \
    HEADER ROWS_A "方面一,1,B 事项乙,B-1 措施乙一,副局长,sh-cgzf.a,2021-07-31,立行立改,立行立改\n" \
                  "方面一,1,B 事项乙,B-2 措施乙二,局长,sh-cgzf.a,2021-12-31,长期推进,\n" ROWS_C                         \
                  "方面二,2,C 事项丙,C-2 措施丙二,副局长,sh-cgzf.a,2021-09-30,专项整治,\n"             \
                  "方面二,2,D 事项丁,D-1 措施丁一,局长,sh-cgzf.b,2021-08-31,立行立改,\n"

Test(ledger, a_plan_is_revised_by_import_with_its_changes_in_history_and_a_dry_run_first)
{
    const char *path = plan_file("revised.csv", REVISED);
    long long sent = num("SELECT count(*) FROM intake_event");
    long long history = num("SELECT count(*) FROM task_history");
    /* the dry run prints the difference and sends nothing */
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --dry-run %s", path), 1, "%s", out);
    const char *lines[] = {
        "revised.csv:4: ~ change 措施 B-1 deadline: 2021-05-31 -> 2021-07-31",
        "revised.csv:4: ~ change 措施 B-1 lead_leader: 局长 -> 副局长",
        "revised.csv:7: + add 措施 C-2 措施丙二: 副局长, sh-cgzf.a, 2021-09-30, 专项整治",
        "revised.csv:8: + add 措施 D-1 措施丁一: 局长, sh-cgzf.b, 2021-08-31, 立行立改",
        /* an item's leader is its first row's */
        "revised.csv:4: ~ change 事项 B lead_leader: 局长 -> 副局长",
        "revised.csv:6: ~ change 事项 C deadline: 2021-04-30 -> 2021-09-30",
        "revised.csv:8: + add 事项 D 事项丁: 局长, sh-cgzf.b, 2021-08-31, 立行立改",
        "3 to add, 0 to assign, 3 to change, 0 conflict(s); 0 recorded measure(s) not in the file",
        "the import would be refused: changes need their reason (--reason TEXT)",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert(strstr(out, lines[i]), "lacks \"%s\":\n%s", lines[i], out);
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --dry-run --reason r %s", path), 0,
                 "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM intake_event"), sent, "a dry run sent something");
    /* without a reason the revision is refused whole */
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "missing_field: import_plan.reason: the plan changes 3 recorded task(s)"),
              "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM task WHERE task_id IN ('C-2', 'D', 'D-1')"), 0);
    cr_assert_eq(num("SELECT count(*) FROM task_history"), history, "a refused revision wrote");
    /* with it, applied: additions assigned, changes recorded with old and new */
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --reason 专班审定调整 %s", path), 0,
                 "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM task WHERE task_id IN ('C-2', 'D', 'D-1')"
                     " AND status = 'assigned'"),
                 3);
    char row[512];
    text("SELECT lead_leader || ' ' || deadline FROM task WHERE task_id = 'B-1'", row, sizeof row);
    cr_assert_str_eq(row, "副局长 2021-07-31");
    text("SELECT action || '|' || reason || '|' || detail::text FROM task_history"
         " WHERE task_id = 'B-1' ORDER BY id DESC LIMIT 1",
         row, sizeof row);
    cr_assert_str_eq(row,
                     "revise_plan|专班审定调整|{\"deadline\": [\"2021-05-31\", \"2021-07-31\"], "
                     "\"lead_leader\": [\"局长\", \"副局长\"]}");
    text("SELECT detail::text FROM task_history WHERE task_id = 'C' AND action = 'revise_plan'",
         row, sizeof row);
    cr_assert_str_eq(row, "{\"deadline\": [\"2021-04-30\", \"2021-09-30\"]}");
    /* the same file again changes nothing */
    history = num("SELECT count(*) FROM task_history");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 0, "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM task_history"), history);
}

Test(ledger, a_revision_refuses_what_it_cannot_change_and_applies_nothing)
{
    long long tasks = num("SELECT count(*) FROM task");
    /* a new title is not a revision */
    const char *path =
        plan_file("retitled.csv", HEADER ROWS_A ROWS_B
                  "方面二,2,C 事项丙,C-1 措施丙一改,副局长,sh-cgzf.b,2021-04-30,专项整治,\n"
                  "方面二,2,E 事项戊,E-1 措施,局长,sh-cgzf.a,2021-06-30,立行立改,\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "plan_conflict: line 6: import_plan.measure: measure \"C-1\" is "
                          "recorded as \"措施丙一\", here \"措施丙一改\"; a revision does not "
                          "retitle"),
              "%s", out);
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --dry-run %s", path), 1, "%s", out);
    cr_assert(strstr(out, "retitled.csv:6: ! conflict: measure: measure \"C-1\""), "%s", out);
    /* nor a new track of a recorded item */
    path =
        plan_file("retracked.csv", HEADER ROWS_A ROWS_B
                  "方面二,2,C 事项丙,C-1 措施丙一,副局长,sh-cgzf.b,2021-04-30,专项整治,长期推进\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "plan_conflict: line 6: import_plan.item_track: item \"C\" is recorded "
                          "as special_campaign, here long_term"),
              "%s", out);
    /* a closed measure keeps its deadline; a closed item takes no new measure */
    write_off("C-1");
    write_off("C");
    path = plan_file("late.csv", HEADER ROWS_A ROWS_B
                     "方面二,2,C 事项丙,C-1 措施丙一,副局长,sh-cgzf.b,2021-05-31,专项整治,\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --reason r %s", path), 1, "%s", out);
    cr_assert(strstr(out, "invalid_transition: line 6: import_plan: measure C-1 is closed; "
                          "import_plan needs assigned|in_progress|submitted|reopened"),
              "%s", out);
    path = plan_file("more.csv", HEADER ROWS_A ROWS_B ROWS_C
                     "方面二,2,C 事项丙,C-2 措施丙二,副局长,sh-cgzf.b,2021-04-30,专项整治,\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "plan_conflict: line 7: import_plan.measure: item \"C\" is closed; a "
                          "new measure \"C-2\" needs it open"),
              "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM task"), tasks, "a refused plan added tasks");
    char row[64];
    text("SELECT deadline::text FROM task WHERE task_id = 'C-1'", row, sizeof row);
    cr_assert_str_eq(row, "2021-04-30");
}

/* --- 7. spreadsheets saved as GB18030 ------------------------------------------ */

static size_t to_gb18030(const char *utf8, char *buf, size_t len)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    cr_assert(cd != (iconv_t)-1);
    char *in = (char *)utf8, *o = buf;
    size_t left = strlen(utf8), room = len;
    cr_assert(iconv(cd, &in, &left, &o, &room) != (size_t)-1);
    iconv_close(cd);
    return len - room;
}

Test(ledger, a_gb18030_plan_is_named_as_such_and_read_when_asked)
{
    char gb[4096];
    size_t n = to_gb18030(HEADER "方面二,2,E 事项戊,E-1 编制整改台账,局长,sh-cgzf.a,2021-06-30,"
                                 "立行立改,\n",
                          gb, sizeof gb);
    char path[256];
    snprintf(path, sizeof path, "%s/excel.csv", c.dir);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(gb, 1, n, f), n);
    fclose(f);
    long long sent = num("SELECT count(*) FROM intake_event");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf %s", path), 1, "%s", out);
    cr_assert(strstr(out, "excel.csv:1: the file is not UTF-8: byte 1 (0xB7) is not UTF-8; it "
                          "reads as GB18030"),
              "%s", out);
    cr_assert(strstr(out, "--encoding gb18030"), "%s", out);
    cr_assert(!strstr(out, "unknown column"), "%s", out);
    cr_assert_eq(num("SELECT count(*) FROM intake_event"), sent, "a garbled plan was sent");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --encoding nonesuch %s", path), 2,
                 "%s", out);
    cr_assert(strstr(out, "--encoding: \"nonesuch\" is not an encoding iconv knows"), "%s", out);
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --encoding gb18030 %s", path), 0,
                 "%s", out);
    char title[128];
    text("SELECT title FROM task WHERE task_id = 'E-1'", title, sizeof title);
    cr_assert_str_eq(title, "编制整改台账");
    /* bytes that are not GB18030 either are named by line */
    cluster_write_file(path, "方面,问题\n\xff\xff\n");
    cr_assert_eq(ctl("import --round " ROUND " --unit sh-cgzf --encoding gb18030 %s", path), 1,
                 "%s", out);
    cr_assert(strstr(out, "excel.csv:2: the file is not gb18030"), "%s", out);
}

/* --- 8. .xlsx exports ------------------------------------------------------------ */

/* Reads one member of a zip file (an .xlsx) into out. */
static void unzip_member(const char *path, const char *member)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s'", path, member);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s: no %s", path, member);
}

static void expect_workbook(const char *path, const char *sheet, const char *const *strings)
{
    unzip_member(path, "xl/workbook.xml");
    cr_assert(strstr(out, sheet), "sheet %s: %s", sheet, out);
    unzip_member(path, "xl/worksheets/sheet1.xml");
    cr_assert(strstr(out, "<pane ySplit=\"2\" topLeftCell=\"A3\" activePane=\"bottomLeft\" "
                          "state=\"frozen\"/>"),
              "the header rows are not frozen: %s", out);
    cr_assert(strstr(out, "<cols><col min=\"1\" max=\"1\" width="), "no widths: %s", out);
    unzip_member(path, "xl/sharedStrings.xml");
    for (size_t i = 0; strings[i]; i++)
        cr_assert(strstr(out, strings[i]), "%s lacks %s", path, strings[i]);
}

Test(ledger, the_ledger_and_the_reports_export_as_xlsx_with_chinese_headers)
{
    char path[256];
    snprintf(path, sizeof path, "%s/ledger.xlsx", c.dir);
    cr_assert_eq(ctl("ledger --round " ROUND " --xlsx %s", path), 0, "%s", out);
    cr_assert(strstr(out, "ledger.xlsx: 8 row(s) written"), "%s", out);
    expect_workbook(path, "整改台账",
                    (const char *[]){"巡视整改台账 " ROUND, "编号", "整改时限", "责任单位",
                                     "处室甲", "立行立改", "长期推进", "已交办", NULL});
    snprintf(path, sizeof path, "%s/monthly.xlsx", c.dir);
    cr_assert_eq(ctl("report monthly --round " ROUND " --xlsx %s", path), 0, "%s", out);
    expect_workbook(
        path, "每月进度表",
        (const char *[]){"每月进度表 " ROUND, "事项已销号", "措施已完成", "处室乙", NULL});
    snprintf(path, sizeof path, "%s/weekly.xlsx", c.dir);
    cr_assert_eq(ctl("report weekly --round " ROUND " --xlsx %s", path), 0, "%s", out);
    expect_workbook(path, "每周梳理对账",
                    (const char *[]){"每周梳理对账 " ROUND, "本周销号", "处室甲", NULL});
    /* a workbook that cannot be written is an error that says where */
    cr_assert_eq(ctl("ledger --round " ROUND " --xlsx /nonexistent/dir/l.xlsx"), 1, "%s", out);
    cr_assert(strstr(out, "/nonexistent/dir/l.xlsx"), "%s", out);
}

/* --- 9. tables in names and labels; 10. the monthly table ---------------------- */

Test(ledger, tables_print_unit_names_and_chinese_labels_and_json_the_codes)
{
    START("A-1");
    cr_assert_eq(ctl("ledger --round " ROUND), 0, "%s", out);
    const char *shown[] = {"处室甲", "处室乙", "立行立改", "专项整治", "长期推进",
                           "已交办", "整改中", "整改时限", "牵头领导"};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        cr_assert(strstr(out, shown[i]), "lacks %s:\n%s", shown[i], out);
    const char *codes[] = {"sh-cgzf.a", "fix_now", "long_term", "in_progress", "assigned"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        cr_assert(!strstr(out, codes[i]), "the table speaks code %s:\n%s", codes[i], out);
    cr_assert_eq(ctl("ledger --round " ROUND " --json"), 0, "%s", out);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        cr_assert(strstr(out, codes[i]), "the JSON lacks code %s:\n%s", codes[i], out);
    cr_assert(!strstr(out, "处室甲"), "%s", out);
    /* filters take the label as well as the code */
    cr_assert_eq(ctl("ledger --round " ROUND " --track 立行立改 --json"), 0, "%s", out);
    size_t by_label = json_rows();
    cr_assert_eq(ctl("ledger --round " ROUND " --track fix_now --json"), 0, "%s", out);
    cr_assert_eq(json_rows(), by_label);
    cr_assert_eq(by_label, 3, "B, A-1, B-1");
    cr_assert_eq(ctl("item --round " ROUND " A"), 0, "%s", out);
    cr_assert(strstr(out, "整改中") && strstr(out, "处室甲") && !strstr(out, "in_progress"), "%s",
              out);
    cr_assert_eq(ctl("report weekly --round " ROUND), 0, "%s", out);
    cr_assert(strstr(out, "处室甲") && !strstr(out, "sh-cgzf.a"), "%s", out);
}

Test(ledger, the_monthly_table_counts_items_and_measures_apart)
{
    write_off("B-1");
    write_off("C-1");
    write_off("C");
    cr_assert_eq(ctl("report monthly --round " ROUND " --json"), 0, "%s", out);
    json_error_t e;
    json_t *rows = json_loads(out, 0, &e);
    cr_assert(json_is_array(rows) && json_array_size(rows) == 2, "%s", out);
    char got[2][256];
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(rows, i);
        snprintf(got[i], sizeof got[i], "%s items %lld done %lld, measures %lld done %lld",
                 json_string_value(json_object_get(r, "unit")),
                 (long long)json_integer_value(json_object_get(r, "items")),
                 (long long)json_integer_value(json_object_get(r, "items_done")),
                 (long long)json_integer_value(json_object_get(r, "measures")),
                 (long long)json_integer_value(json_object_get(r, "measures_done")));
    }
    json_decref(rows);
    /* sh-cgzf.a: items A and B, measures A-1, B-1, B-2; sh-cgzf.b: item C, measures A-2, C-1 */
    cr_assert_str_eq(got[0], "sh-cgzf.a items 2 done 0, measures 3 done 1");
    cr_assert_str_eq(got[1], "sh-cgzf.b items 1 done 1, measures 2 done 1");
    cr_assert_eq(ctl("report monthly --round " ROUND), 0, "%s", out);
    cr_assert(strstr(out, "事项已销号") && strstr(out, "措施已完成"), "%s", out);
}
