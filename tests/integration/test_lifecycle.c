/* The rectification lifecycle through the real services: every allowed and
 * every refused transition, every refusal of rights, the write-off rules,
 * the audit trail, the plan import's refusals, and seed 001's campaign whose
 * bulletin is checked figure by figure before and after a relapse. */
#include "cluster.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static cluster_t c;

#define ROUND "R1"

/* Posts one event (JSON, printf-style) and returns workflow's outcome. */
static void post(char *outcome, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void post(char *outcome, size_t outlen, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cluster_post_one(&c, line, outcome, outlen);
}

#define EXPECT_APPLIED(...)                                                                        \
    do {                                                                                           \
        char out_[512];                                                                            \
        post(out_, sizeof out_, __VA_ARGS__);                                                      \
        cr_assert_str_eq(out_, "applied", "event refused: %s", out_);                              \
    } while (0)

#define EXPECT_REFUSED(code, needle, ...)                                                          \
    do {                                                                                           \
        char out_[512];                                                                            \
        post(out_, sizeof out_, __VA_ARGS__);                                                      \
        cr_assert(strncmp(out_, "refused: " code ": ", strlen("refused: " code ": ")) == 0,        \
                  "expected %s, got: %s", code, out_);                                             \
        cr_assert(strstr(out_, needle), "\"%s\" lacks \"%s\"", out_, needle);                      \
    } while (0)

static void task_status(const char *task, char *out, size_t outlen)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT status FROM task WHERE round_id = '" ROUND "' AND task_id = '%s'", task);
    testdb_text(&c.db, sql, out, outlen);
}

/* Units: sh-cgzf with departments a and b, its supervision office, an
 * outside unit and an outside supervision office; a round on sh-cgzf with
 * one problem. */
static void setup_with(const char *const *env, const char *clock)
{
    cluster_start(&c, env);
    if (clock)
        cluster_set_clock(&c, clock);
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.a\",\"name\":\"处室甲\","
        "\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.b\",\"name\":\"处室乙\","
        "\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.team\",\"name\":\"整改专班\","
        "\"parent\":\"sh-cgzf\",\"role\":\"SUPERVISION_OFFICE\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"other\",\"name\":\"另一单位\",\"role\":"
        "\"UNIT\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"other.team\",\"name\":\"另一专班\","
        "\"parent\":\"other\",\"role\":\"SUPERVISION_OFFICE\"}}\n"
        "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"" ROUND
        "\",\"group_name\":\"第六巡视组\",\"target_unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-"
        "29\",\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"1\",\"aspect\":\"方面一\",\"title\":\"问题一\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"" ROUND
        "\",\"problem_id\":\"1\",\"item_id\":\"I\",\"title\":\"事项\"}}\n",
        &n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(items[i].status, POST_ACCEPTED);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"),
                 0);
}

static void setup(void)
{
    setup_with(NULL, NULL);
}

/* On a simulated clock, as the demo runs: events carry their business days
 * of 2021, and no clock fires between them unless a test moves it. */
static void setup_campaign(void)
{
    static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20",
                                      NULL};
    setup_with(sim, "2021-02-01T00:00:00Z");
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 180);
/* the same units and round on the simulated clock */
TestSuite(campaign, .init = setup_campaign, .fini = teardown, .timeout = 180);

/* --- the transition matrix ------------------------------------------------ */

static const char *states[] = {"registered", "assigned",  "in_progress", "submitted",
                               "closed",     "confirmed", "reopened"};

/* Writes tmpl with its one "%s" replaced by id (templates are data, not
 * format strings); returns the length written. */
static size_t fill(char *out, size_t len, const char *tmpl, const char *id)
{
    const char *hole = strstr(tmpl, "%s");
    cr_assert(hole);
    int n = snprintf(out, len, "%.*s%s%s", (int)(hole - tmpl), tmpl, id, hole + 2);
    cr_assert(n > 0 && (size_t)n < len);
    return (size_t)n;
}

/* The events that drive a fix-now measure M from registered to state s. */
static size_t path_to(const char *s, const char *m, char *buf, size_t len)
{
    static const char *steps[] = {
        "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"%s\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf.a\","
        "\"deadline\":\"2021-06-30\",\"track\":\"FIX_NOW\"}}\n",
        "{\"unit\":\"sh-cgzf.a\",\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\"}}\n",
        "{\"unit\":\"sh-cgzf.a\",\"submit_write_off\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"%s\",\"text\":\"完成\"}}\n",
        "{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"%s\"}}\n",
        "{\"unit\":\"sh-cgzf.team\",\"record_look_back\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"%s\",\"result\":\"PASSED\"}}\n",
    };
    int upto = 0;
    for (int i = 0; i < 7; i++)
        if (!strcmp(states[i], s))
            upto = i;
    size_t used = 0;
    int nsteps = upto == 6 ? 4 : upto; /* reopened: to closed, then a relapse */
    for (int i = 0; i < nsteps; i++)
        used += fill(buf + used, len - used, steps[i], m);
    if (upto == 6)
        used += (size_t)snprintf(
            buf + used, len - used,
            "{\"unit\":\"sh-cgzf.team\",\"record_look_back\":{\"round_id\":\"" ROUND
            "\",\"task_id\":\"%s\",\"result\":\"RELAPSE\",\"finding\":\"反弹\"}}\n",
            m);
    return used;
}

typedef struct {
    const char *name;
    const char *sender;
    const char *json; /* the event, with %s for the task id */
    const char *allowed_from;
    const char *to; /* NULL: unchanged */
} action_t;

static const action_t actions[] = {
    {"assign", "sh-cgzf",
     "{\"assign\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf.a\","
     "\"deadline\":\"2021-06-30\",\"track\":\"FIX_NOW\"}}",
     "registered", "assigned"},
    {"start", "sh-cgzf", "{\"start\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\"}}",
     "assigned reopened", "in_progress"},
    {"report_progress", "sh-cgzf",
     "{\"report_progress\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"text\":\"进展\",\"evidence\":[{\"title\":\"会议纪要\",\"sha256\":"
     "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"uri\":\"https://"
     "oa.example/1\"}]}}",
     "in_progress submitted reopened", NULL},
    {"submit_write_off", "sh-cgzf",
     "{\"submit_write_off\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\",\"text\":\"完成\"}}",
     "in_progress", "submitted"},
    {"write_off", "sh-cgzf.team", "{\"write_off\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\"}}",
     "submitted", "closed"},
    {"reject_write_off", "sh-cgzf.team",
     "{\"reject_write_off\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"reason\":\"材料不全\"}}",
     "submitted", "in_progress"},
    {"reassign", "sh-cgzf.team",
     "{\"reassign\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"responsible_unit\":\"sh-cgzf.b\",\"reason\":\"职责调整\"}}",
     "assigned in_progress submitted reopened", NULL},
    {"change_deadline", "sh-cgzf.team",
     "{\"change_deadline\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"deadline\":\"2021-09-30\",\"reason\":\"延期\"}}",
     "assigned in_progress submitted reopened", NULL},
    {"look_back_passed", "sh-cgzf.team",
     "{\"record_look_back\":{\"round_id\":\"" ROUND "\",\"task_id\":\"%s\",\"result\":\"PASSED\"}}",
     "closed", "confirmed"},
    {"look_back_relapse", "sh-cgzf.team",
     "{\"record_look_back\":{\"round_id\":\"" ROUND
     "\",\"task_id\":\"%s\",\"result\":\"RELAPSE\",\"finding\":\"反弹\"}}",
     "closed confirmed", "reopened"},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

static bool allowed(const action_t *a, const char *state)
{
    char list[128];
    snprintf(list, sizeof list, " %s ", a->allowed_from);
    char want[32];
    snprintf(want, sizeof want, " %s ", state);
    return strstr(list, want) != NULL;
}

Test(lifecycle, every_action_from_every_state_is_applied_or_refused_as_the_domain_says)
{
    static char buf[1 << 20];
    size_t used = 0;
    /* one measure per (state, action), driven to its state */
    for (int s = 0; s < 7; s++)
        for (size_t a = 0; a < NACTIONS; a++) {
            char m[32];
            snprintf(m, sizeof m, "M%d-%zu", s, a);
            used += (size_t)snprintf(
                buf + used, sizeof buf - used,
                "{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                "\",\"item_id\":\"I\",\"measure_id\":\"%s\",\"title\":\"措施\"}}\n",
                m);
            used += path_to(states[s], m, buf + used, sizeof buf - used);
        }
    size_t n;
    post_item_t *items = cluster_post_json(&c, buf, &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"), 0,
                 "driving the measures to their states was refused");
    for (int s = 0; s < 7; s++)
        for (size_t a = 0; a < NACTIONS; a++) {
            char m[32], st[32];
            snprintf(m, sizeof m, "M%d-%zu", s, a);
            task_status(m, st, sizeof st);
            cr_assert_str_eq(st, states[s], "%s did not reach %s", m, states[s]);
        }
    /* now every action on every state */
    used = 0;
    for (int s = 0; s < 7; s++)
        for (size_t a = 0; a < NACTIONS; a++) {
            char m[32], body[1024];
            snprintf(m, sizeof m, "M%d-%zu", s, a);
            fill(body, sizeof body, actions[a].json, m);
            used += (size_t)snprintf(buf + used, sizeof buf - used, "{\"unit\":\"%s\",%s\n",
                                     actions[a].sender, body + 1);
        }
    items = cluster_post_json(&c, buf, &n);
    cluster_wait_applied(&c);
    size_t k = 0;
    for (int s = 0; s < 7; s++)
        for (size_t a = 0; a < NACTIONS; a++, k++) {
            char m[32], out[512], st[32];
            snprintf(m, sizeof m, "M%d-%zu", s, a);
            cluster_outcome(&c, items[k].event_id, out, sizeof out);
            task_status(m, st, sizeof st);
            if (allowed(&actions[a], states[s])) {
                cr_expect_str_eq(out, "applied", "%s from %s: %s", actions[a].name, states[s], out);
                cr_expect_str_eq(st, actions[a].to ? actions[a].to : states[s], "%s from %s",
                                 actions[a].name, states[s]);
            } else {
                char needle[64];
                snprintf(needle, sizeof needle, " is %s;", states[s]);
                cr_expect(strncmp(out, "refused: invalid_transition: ", 29) == 0 &&
                              strstr(out, needle),
                          "%s from %s should be refused naming the state: %s", actions[a].name,
                          states[s], out);
                cr_expect_str_eq(st, states[s], "a refused %s changed the state", actions[a].name);
            }
        }
    cluster_free_items(items, n);
    /* every applied change left exactly one history row */
    cr_assert_eq(
        testdb_number(&c.db, "SELECT count(*) FROM task_history h JOIN wf_event e USING (event_id)"
                             " WHERE e.outcome = 'refused'"),
        0, "a refused event left history");
}

/* --- write-off rules ------------------------------------------------------ */

Test(lifecycle, an_item_is_written_off_only_when_all_its_measures_are)
{
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"I-1\",\"title\":\"措施一\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"I-2\",\"title\":\"措施二\"}}");
    char buf[8192];
    size_t used = path_to("closed", "I-1", buf, sizeof buf);
    used += path_to("in_progress", "I-2", buf + used, sizeof buf - used);
    path_to("submitted", "I", buf + used, sizeof buf - used);
    size_t n;
    post_item_t *its = cluster_post_json(&c, buf, &n);
    cluster_free_items(its, n);
    cluster_wait_applied(&c);
    EXPECT_REFUSED("measures_open",
                   "write_off: item I has 1 measure(s) not closed or confirmed (I-2 in_progress)",
                   "{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"I\"}}");
    char st[32];
    task_status("I", st, sizeof st);
    cr_assert_str_eq(st, "submitted");
    path_to("closed", "I-2", buf, sizeof buf);
    /* I-2 is in progress: submit and write it off, then the item */
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.a\",\"submit_write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"I-2\",\"text\":\"完成\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"I-2\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"I\"}}");
    task_status("I", st, sizeof st);
    cr_assert_str_eq(st, "closed");
}

Test(lifecycle, a_long_term_task_closes_only_by_decision)
{
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"L\",\"title\":\"长期\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf."
                   "a\",\"deadline\":\"2021-12-31\",\"track\":\"LONG_TERM\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.a\",\"start\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.a\",\"submit_write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\",\"text\":\"阶段完成\"}}");
    EXPECT_REFUSED("long_term", "closes only by close_by_decision",
                   "{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\"}}");
    EXPECT_REFUSED("denied", "role supervision_office",
                   "{\"unit\":\"sh-cgzf.a\",\"close_by_decision\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\",\"decision\":\"自行决定\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"close_by_decision\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"L\",\"decision\":\"党组会决定转入常态化\"}}");
    char st[32];
    task_status("L", st, sizeof st);
    cr_assert_str_eq(st, "closed");
    /* a fix-now task in progress cannot be closed by decision */
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"F\",\"title\":\"立改\"}}");
    char buf[4096];
    path_to("in_progress", "F", buf, sizeof buf);
    size_t n;
    post_item_t *its = cluster_post_json(&c, buf, &n);
    cluster_free_items(its, n);
    cluster_wait_applied(&c);
    EXPECT_REFUSED("not_long_term", "is fix_now",
                   "{\"unit\":\"sh-cgzf.team\",\"close_by_decision\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"F\",\"decision\":\"d\"}}");
}

/* --- rights ----------------------------------------------------------------- */

Test(lifecycle, every_role_refusal_names_the_sender_and_the_right)
{
    EXPECT_REFUSED(
        "unknown_sender", "\"nobody\" is not a registered unit",
        "{\"unit\":\"nobody\",\"open_round\":{\"round_id\":\"X\",\"group_name\":\"g\",\"target_"
        "unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-29\",\"kind\":\"INSPECTION\"}}");
    EXPECT_REFUSED(
        "denied", "open_round: only a unit of role inspection_office",
        "{\"unit\":\"sh-cgzf\",\"open_round\":{\"round_id\":\"X\",\"group_name\":\"g\",\"target_"
        "unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-29\",\"kind\":\"INSPECTION\"}}");
    EXPECT_REFUSED("denied", "post_problem: only a unit of role inspection_office",
                   "{\"unit\":\"sh-cgzf.team\",\"post_problem\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"2\",\"aspect\":\"a\",\"title\":\"t\"}}");
    EXPECT_REFUSED("denied", "register_unit: only a unit of role admin",
                   "{\"unit\":\"sh-cgzf\",\"register_unit\":{\"code\":\"sh-cgzf.c\",\"name\":"
                   "\"丙\",\"parent\":\"sh-cgzf\",\"role\":\"UNIT\"}}");
    EXPECT_REFUSED("denied", "post_item: only a unit of role unit",
                   "{\"unit\":\"inspection-office\",\"post_item\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"1\",\"item_id\":\"J\",\"title\":\"t\"}}");
    EXPECT_REFUSED("denied", "other may not act for unit sh-cgzf",
                   "{\"unit\":\"other\",\"post_item\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"1\",\"item_id\":\"J\",\"title\":\"t\"}}");
    EXPECT_REFUSED("denied", "sh-cgzf.a may not act for unit sh-cgzf",
                   "{\"unit\":\"sh-cgzf.a\",\"post_item\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"1\",\"item_id\":\"J\",\"title\":\"t\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"P\",\"title\":\"措施\"}}");
    EXPECT_REFUSED("denied",
                   "assign.responsible_unit: other is not sh-cgzf or one of its sub-units",
                   "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\",\"lead_leader\":\"l\",\"responsible_unit\":\"other\","
                   "\"deadline\":\"2021-06-30\",\"track\":\"FIX_NOW\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\",\"lead_leader\":\"l\",\"responsible_unit\":\"sh-cgzf.a\","
                   "\"deadline\":\"2021-06-30\",\"track\":\"FIX_NOW\"}}");
    EXPECT_REFUSED("denied", "sh-cgzf.b may not act for unit sh-cgzf.a",
                   "{\"unit\":\"sh-cgzf.b\",\"start\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    EXPECT_REFUSED("denied", "start: only a unit of role unit",
                   "{\"unit\":\"sh-cgzf.team\",\"start\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    /* the responsible unit's parent acts for it */
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"start\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.a\",\"submit_write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\",\"text\":\"完成\"}}");
    EXPECT_REFUSED("denied", "write_off: only a unit of role supervision_office",
                   "{\"unit\":\"sh-cgzf.a\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    EXPECT_REFUSED("denied", "other.team may not act for unit sh-cgzf.a",
                   "{\"unit\":\"other.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    EXPECT_REFUSED("denied", "reject_write_off: only a unit of role supervision_office",
                   "{\"unit\":\"sh-cgzf\",\"reject_write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\",\"reason\":\"r\"}}");
    EXPECT_REFUSED("denied", "record_accountability: only a unit of role supervision_office",
                   "{\"unit\":\"sh-cgzf\",\"record_accountability\":{\"round_id\":\"" ROUND
                   "\",\"action_id\":\"A\",\"kind\":\"CRITICISM\",\"persons\":1}}");
    EXPECT_REFUSED("denied", "record_institution: only a unit of role unit",
                   "{\"unit\":\"sh-cgzf.team\",\"record_institution\":{\"round_id\":\"" ROUND
                   "\",\"institution_id\":\"I1\",\"kind\":\"NEW\",\"title\":\"t\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"P\"}}");
    /* nothing of a refused event stayed */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM unit WHERE code = 'sh-cgzf.c'"), 0);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM task WHERE task_id = 'J'"), 0);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM accountability"), 0);
}

/* On the simulated clock: on the real one, H's deadline (2021) is long past
 * and the clocks' own history rows would race the count below. */
Test(campaign, the_audit_trail_holds_who_when_why_for_every_change)
{
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"H\",\"title\":\"措施\"}}");
    char buf[4096];
    path_to("submitted", "H", buf, sizeof buf);
    size_t n;
    post_item_t *its = cluster_post_json(&c, buf, &n);
    cluster_free_items(its, n);
    cluster_wait_applied(&c);
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"reject_write_off\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"H\",\"reason\":\"佐证材料不全\"}}");
    EXPECT_REFUSED("stale_date",
                   "change_deadline.on_date: 2021-01-01 is before the last change of measure H",
                   "{\"unit\":\"sh-cgzf.team\",\"change_deadline\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"H\",\"deadline\":\"2021-09-30\",\"reason\":\"r\",\"on_date\":"
                   "\"2021-01-01\"}}");
    EXPECT_APPLIED(
        "{\"unit\":\"sh-cgzf.team\",\"change_deadline\":{\"round_id\":\"" ROUND
        "\",\"task_id\":\"H\",\"deadline\":\"2021-09-30\",\"reason\":\"需协调外单位\"}}");
    /* one query gives the whole history of the item and its measures */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM task_history WHERE task_id = 'H'"), 6);
    char row[512];
    testdb_text(&c.db,
                "SELECT actor || '|' || action || '|' || from_status || '|' || to_status || '|' ||"
                " reason || '|' || (effective_on = (SELECT at FROM sim_clock)::date) || '|' ||"
                " (event_id IS NOT NULL)"
                " FROM task_history WHERE task_id = 'H' AND action = 'reject_write_off'",
                row, sizeof row);
    cr_assert_str_eq(row,
                     "sh-cgzf.team|reject_write_off|submitted|in_progress|佐证材料不全|true|true");
    testdb_text(
        &c.db,
        "SELECT detail::text FROM task_history WHERE task_id = 'H' AND action = 'change_deadline'",
        row, sizeof row);
    cr_assert_str_eq(row, "{\"deadline\": [\"2021-06-30\", \"2021-09-30\"]}");
}

/* --- the plan import -------------------------------------------------------- */

/* Runs rectifyctl with args against this cluster; output into out. */
static int ctl(char *out, size_t outlen, const char *args)
{
    return cluster_ctl(&c, out, outlen, args);
}

#define write_file cluster_write_file

Test(lifecycle, a_plan_with_a_bad_row_is_refused_by_line_and_field_and_sends_nothing)
{
    char path[256], args[512], out[4096];
    snprintf(path, sizeof path, "%s/plan.csv", c.dir);
    write_file(path, "方面,问题,整改事项,整改措施,牵头领导,责任单位,整改时限,类别\n"
                     "方面一,1,K 事项K,K-1 措施一,局长,sh-cgzf.a,2021-06-30,立行立改\n"
                     "方面一,1,K 事项K,K-2 措施二,局长,sh-cgzf.a,2021-02-30,立行立改\n");
    long long before = testdb_number(&c.db, "SELECT count(*) FROM intake_event");
    snprintf(args, sizeof args, "import --round " ROUND " --unit sh-cgzf %s", path);
    cr_assert_eq(ctl(out, sizeof out, args), 1, "%s", out);
    cr_assert(strstr(out, "plan.csv:3: deadline:"), "%s", out);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event"), before,
                 "something was sent");
}

Test(lifecycle, a_plan_refused_by_workflow_applies_nothing)
{
    char path[256], args[512], out[4096];
    snprintf(path, sizeof path, "%s/plan.csv", c.dir);
    /* the second row names a problem the inspection office never posted */
    write_file(path, "aspect,problem,item,measure,lead_leader,responsible_unit,deadline,track\n"
                     "方面一,1,K 事项K,K-1 措施一,局长,sh-cgzf.a,2021-06-30,fix_now\n"
                     "方面一,9,Q 事项Q,Q-1 措施,局长,sh-cgzf.b,2021-06-30,fix_now\n");
    snprintf(args, sizeof args, "import --round " ROUND " --unit sh-cgzf %s", path);
    cr_assert_eq(ctl(out, sizeof out, args), 1, "%s", out);
    cr_assert(strstr(out, "unknown_problem: line 3: import_plan.problem_id: no problem \"9\""),
              "%s", out);
    cr_assert(strstr(out, "nothing of the plan was applied"), "%s", out);
    cr_assert_eq(
        testdb_number(&c.db, "SELECT count(*) FROM task WHERE task_id IN ('K', 'K-1', 'Q', 'Q-1')"),
        0);
    /* corrected, it applies whole */
    write_file(path, "aspect,problem,item,measure,lead_leader,responsible_unit,deadline,track\n"
                     "方面一,1,K 事项K,K-1 措施一,局长,sh-cgzf.a,2021-06-30,fix_now\n"
                     "方面一,1,K 事项K,K-2 措施二,副局长,sh-cgzf.b,2021-12-31,long_term\n");
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    char row[256];
    testdb_text(&c.db,
                "SELECT status || ' ' || responsible_unit || ' ' || deadline || ' ' || track"
                " FROM task WHERE task_id = 'K'",
                row, sizeof row);
    cr_assert_str_eq(row, "assigned sh-cgzf.a 2021-12-31 long_term",
                     "an item takes its latest deadline and longest track");
    cr_assert_eq(
        testdb_number(&c.db,
                      "SELECT count(*) FROM task WHERE item_id = 'K' AND status = 'assigned'"),
        2);
}

/* --- seed 001's campaign and its bulletin ------------------------------------- */

static json_t *bulletin(const char *as_of)
{
    char args[256];
    static char out[65536];
    snprintf(args, sizeof args, "bulletin --round 2020-sh-xs6-cgzf --as-of %s --json", as_of);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    cr_assert(o, "bulletin JSON: %s: %s", e.text, out);
    return o;
}

static long long fig(json_t *o, const char *a, const char *b)
{
    json_t *v = b ? json_object_get(json_object_get(o, a), b) : json_object_get(o, a);
    cr_assert(json_is_integer(v), "%s.%s missing", a, b ? b : "");
    return json_integer_value(v);
}

static const char *str(json_t *o, const char *a, const char *b)
{
    const char *s = json_string_value(json_object_get(json_object_get(o, a), b));
    cr_assert(s, "%s.%s missing", a, b);
    return s;
}

Test(campaign, seed_001s_campaign_gives_its_bulletin_figure_by_figure_before_and_after_a_relapse)
{
    char out[8192], args[1024];
    /* the harness registered sh-cgzf already: that one line is refused */
    snprintf(args, sizeof args, "post %s/deploy/demo/seed001-units.jsonl", RECTIFY_SOURCE_DIR);
    cr_assert_eq(ctl(out, sizeof out, args), 1, "%s", out);
    cr_assert(strstr(out, "unit \\\"sh-cgzf\\\" is already registered"), "%s", out);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"),
                 1);
    snprintf(args, sizeof args, "post %s/deploy/demo/seed001-round.jsonl", RECTIFY_SOURCE_DIR);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    /* an event dated after today is refused: the clock reaches each date
     * before the events of that date are posted (the progress is posted
     * after the fact, on the day of its last event; the clocks' marks it
     * overtakes do not block it) */
    cluster_set_clock(&c, "2021-02-02T00:00:00Z");
    snprintf(args, sizeof args,
             "import --round 2020-sh-xs6-cgzf --unit sh-cgzf --on 2021-02-02 "
             "%s/deploy/demo/seed001-plan.csv",
             RECTIFY_SOURCE_DIR);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    cluster_set_clock(&c, "2021-10-20T00:00:00Z");
    snprintf(args, sizeof args, "post %s/deploy/demo/seed001-progress.jsonl > %s/progress.out",
             RECTIFY_SOURCE_DIR, c.dir);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "the campaign's events were not all applied");

    json_t *b = bulletin("2021-07-31");
    cr_assert_str_eq(str(b, "facts", "group"), "市委第六巡视组");
    cr_assert_str_eq(str(b, "facts", "onsite_from"), "2020-10-16");
    cr_assert_str_eq(str(b, "facts", "onsite_to"), "2020-12-18");
    cr_assert_str_eq(str(b, "facts", "feedback_date"), "2021-01-29");
    cr_assert_eq(fig(b, "aspects", NULL), 4);
    cr_assert_eq(fig(b, "problems", "total"), 11);
    cr_assert_eq(fig(b, "items", "total"), 32);
    cr_assert_eq(fig(b, "items", "rectified"), 29);
    cr_assert_eq(fig(b, "measures", "total"), 99);
    cr_assert_eq(fig(b, "measures", "completed"), 96);
    cr_assert_eq(fig(b, "accountability", "admonishment_talk_persons"), 1);
    cr_assert_eq(fig(b, "accountability", "other_handling_persons"), 4);
    cr_assert_eq(fig(b, "accountability", "cases_filed"), 0);
    cr_assert_str_eq(str(b, "accountability", "funds_recovered_wan_yuan"), "0.20");
    cr_assert_str_eq(str(b, "accountability", "funds_recovered_yuan"), "2000.00");
    cr_assert_eq(fig(b, "institutions", "new"), 19);
    cr_assert_eq(fig(b, "institutions", "revised"), 7);
    cr_assert_eq(fig(b, "institutions", "planned"), 3);
    json_decref(b);

    b = bulletin("2021-11-30"); /* the look-back of 2021-10-20 found a relapse */
    cr_assert_eq(fig(b, "items", "rectified"), 28);
    cr_assert_eq(fig(b, "measures", "completed"), 96);
    json_decref(b);

    b = bulletin("2021-10-19"); /* the day before */
    cr_assert_eq(fig(b, "items", "rectified"), 29);
    json_decref(b);

    b = bulletin("2021-02-01"); /* before the plan was imported */
    cr_assert_eq(fig(b, "items", "total"), 0);
    cr_assert_eq(fig(b, "measures", "completed"), 0);
    cr_assert_eq(fig(b, "institutions", "new"), 0);
    json_decref(b);

    /* the ledger's filters: JSON rows counted */
    static const struct {
        const char *filter;
        int rows;
    } ledgers[] = {
        {"--track long_term", 13}, /* 3 long-term items and their 10 measures */
        {"--status reopened", 1},  /* the relapsed item */
        {"--status in_progress --track long_term", 6},
        {"--unit sh-cgzf.oversight --track long_term", 5},
        {"--leader 驻局纪检监察组组长 --status in_progress", 0},
    };
    for (size_t i = 0; i < sizeof ledgers / sizeof ledgers[0]; i++) {
        snprintf(args, sizeof args, "ledger --round 2020-sh-xs6-cgzf %s --json", ledgers[i].filter);
        static char big[1 << 18];
        cr_assert_eq(ctl(big, sizeof big, args), 0, "%s", big);
        json_error_t e;
        json_t *rows = json_loads(big, 0, &e);
        cr_assert(json_is_array(rows), "ledger %s: %s", ledgers[i].filter, e.text);
        cr_expect_eq(json_array_size(rows), (size_t)ledgers[i].rows, "ledger %s: %zu rows",
                     ledgers[i].filter, json_array_size(rows));
        json_decref(rows);
    }
    /* on 2022-01-10, every unfinished task is overdue; the closed ones owe nothing */
    cluster_set_clock(&c, "2022-01-10T00:00:00Z");
    cr_assert_eq(ctl(out, sizeof out, "ledger --round 2020-sh-xs6-cgzf --overdue --json"), 0);
    json_error_t e;
    json_t *rows = json_loads(out, 0, &e);
    cr_assert(json_is_array(rows), "%s", e.text);
    cr_assert_eq(json_array_size(rows), 7, "3 long-term items, their 3 open measures, item 1.2.2");
    json_decref(rows);
    /* one item's whole history, one command */
    static char hist[1 << 18];
    cr_assert_eq(ctl(hist, sizeof hist, "item --round 2020-sh-xs6-cgzf 1.2.2 --json"), 0);
    cr_assert(strstr(hist, "\"action\": \"look_back_relapse\"") &&
                  strstr(hist, "\"to\": \"reopened\"") && strstr(hist, "\"id\": \"1.2.2-4\""),
              "%s", hist);
    cr_assert_eq(ctl(out, sizeof out, "item --round 2020-sh-xs6-cgzf 9.9.9"), 1,
                 "an unknown item is an error: %s", out);

    /* the Chinese text carries the same figures */
    cr_assert_eq(ctl(out, sizeof out, "bulletin --round 2020-sh-xs6-cgzf --as-of 2021-07-31"), 0);
    cr_assert(strstr(out, "巡视反馈的32项问题已经整改29项。提出整改措施99条,已经完成96条。"), "%s",
              out);
    cr_assert(strstr(out, "诫勉谈话1人,通过提醒谈话、批评教育、书面检查、调整职务等方式组织处理4人,"
                          "共退出违规钱款0.20万元。"),
              "%s", out);
    cr_assert(strstr(out, "已新建制度19项,修订完善7项,拟修订和完善3项。"), "%s", out);
}

Test(lifecycle, every_unknown_or_repeated_reference_is_refused_by_name_and_changes_nothing)
{
    long long history = testdb_number(&c.db, "SELECT count(*) FROM task_history");
    EXPECT_REFUSED("unit_exists", "unit \"sh-cgzf.a\" is already registered",
                   "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf.a\",\"name\":\"甲\","
                   "\"role\":\"UNIT\"}}");
    EXPECT_REFUSED("unknown_unit", "register_unit.parent: no unit \"nowhere\"",
                   "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"x\",\"name\":\"x\","
                   "\"parent\":\"nowhere\",\"role\":\"UNIT\"}}");
    EXPECT_REFUSED("unknown_unit",
                   "open_round.target_unit: \"sh-cgzf.team\" is not a registered unit of role unit",
                   "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"R9\",\"group_"
                   "name\":\"g\",\"target_unit\":\"sh-cgzf.team\",\"feedback_date\":\"2021-01-29\","
                   "\"kind\":\"INSPECTION\"}}");
    EXPECT_REFUSED("unknown_round", "post_problem.round_id: no round \"R9\"",
                   "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"R9\","
                   "\"problem_id\":\"1\",\"aspect\":\"a\",\"title\":\"t\"}}");
    EXPECT_REFUSED("problem_exists", "problem \"1\" of round \"" ROUND "\" is already posted",
                   "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"1\",\"aspect\":\"a\",\"title\":\"t\"}}");
    EXPECT_REFUSED("unknown_round", "post_item.round_id: no round \"R9\"",
                   "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"R9\",\"problem_id\":\"1\","
                   "\"item_id\":\"J\",\"title\":\"t\"}}");
    EXPECT_REFUSED("unknown_problem", "post_item.problem_id: no problem \"7\"",
                   "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"7\",\"item_id\":\"J\",\"title\":\"t\"}}");
    EXPECT_REFUSED("task_exists", "post_item.item_id: \"I\" already exists",
                   "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"" ROUND
                   "\",\"problem_id\":\"1\",\"item_id\":\"I\",\"title\":\"t\"}}");
    EXPECT_REFUSED("unknown_item", "add_measure.item_id: no item \"Z\"",
                   "{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"Z\",\"measure_id\":\"Z-1\",\"title\":\"t\"}}");
    EXPECT_REFUSED("unknown_task", "start.task_id: no item or measure \"Z-1\"",
                   "{\"unit\":\"sh-cgzf\",\"start\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"Z-1\"}}");
    EXPECT_REFUSED("unknown_task", "assign.task_id: no item or measure \"Z-1\"",
                   "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"Z-1\",\"lead_leader\":\"l\",\"responsible_unit\":\"sh-cgzf."
                   "a\",\"deadline\":\"2021-06-30\",\"track\":\"FIX_NOW\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"record_institution\":{\"round_id\":\"" ROUND
                   "\",\"institution_id\":\"I1\",\"kind\":\"NEW\",\"title\":\"制度\"}}");
    EXPECT_REFUSED("institution_exists", "\"I1\" is already recorded",
                   "{\"unit\":\"sh-cgzf\",\"record_institution\":{\"round_id\":\"" ROUND
                   "\",\"institution_id\":\"I1\",\"kind\":\"REVISED\",\"title\":\"制度\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"record_accountability\":{\"round_id\":\"" ROUND
                   "\",\"action_id\":\"A1\",\"kind\":\"CRITICISM\",\"persons\":1,\"amount_yuan\":"
                   "\"100.50\"}}");
    EXPECT_REFUSED("action_exists", "\"A1\" is already recorded",
                   "{\"unit\":\"sh-cgzf.team\",\"record_accountability\":{\"round_id\":\"" ROUND
                   "\",\"action_id\":\"A1\",\"kind\":\"CRITICISM\",\"persons\":2}}");
    cr_assert_eq(
        testdb_number(&c.db, "SELECT amount_fen FROM accountability WHERE action_id = 'A1'"),
        10050);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM task_history"), history);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM unit WHERE code = 'x'"), 0);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM institution"), 1);
}

Test(lifecycle, reassign_and_look_back_need_what_they_change_and_record_old_and_new)
{
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf\",\"add_measure\":{\"round_id\":\"" ROUND
                   "\",\"item_id\":\"I\",\"measure_id\":\"G\",\"title\":\"措施\"}}");
    char buf[4096];
    path_to("closed", "G", buf, sizeof buf);
    size_t n;
    post_item_t *its = cluster_post_json(&c, buf, &n);
    cluster_free_items(its, n);
    cluster_wait_applied(&c);
    EXPECT_REFUSED("missing_field", "record_look_back.finding: a relapse needs its finding",
                   "{\"unit\":\"sh-cgzf.team\",\"record_look_back\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"G\",\"result\":\"RELAPSE\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"record_look_back\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"G\",\"result\":\"RELAPSE\",\"finding\":\"问题反弹\"}}");
    EXPECT_REFUSED("missing_field", "reassign: name a new lead_leader or responsible_unit",
                   "{\"unit\":\"sh-cgzf.team\",\"reassign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"G\",\"reason\":\"r\"}}");
    EXPECT_REFUSED("unknown_unit", "reassign.responsible_unit: other is not a unit under sh-cgzf",
                   "{\"unit\":\"sh-cgzf.team\",\"reassign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"G\",\"responsible_unit\":\"other\",\"reason\":\"r\"}}");
    EXPECT_APPLIED("{\"unit\":\"sh-cgzf.team\",\"reassign\":{\"round_id\":\"" ROUND
                   "\",\"task_id\":\"G\",\"lead_leader\":\"副局长\",\"responsible_unit\":\"sh-cgzf."
                   "b\",\"reason\":\"职责调整\"}}");
    char row[512];
    testdb_text(&c.db,
                "SELECT detail::text FROM task_history WHERE task_id = 'G' AND action = 'reassign'",
                row, sizeof row);
    cr_assert_str_eq(row, "{\"lead_leader\": [\"局长\", \"副局长\"], \"responsible_unit\": "
                          "[\"sh-cgzf.a\", \"sh-cgzf.b\"]}");
    char st[32];
    task_status("G", st, sizeof st);
    cr_assert_str_eq(st, "reopened");
}
