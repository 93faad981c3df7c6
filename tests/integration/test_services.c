/* The real three services on a real PostgreSQL: the happy path, duplicates,
 * refusals, the live log stream, configuration errors, graceful stop. */
#include "cluster.h"
#include "ids.h"
#include "rectify.pb-c.h"
#include "tail.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cluster_t c;
static const char *const small_messages[] = {"RECTIFY_MAX_MESSAGE_BYTES=1024", NULL};
static long long base_events; /* intake_event rows after the setup's unit registrations */

static long long new_events(void)
{
    return testdb_number(&c.db, "SELECT count(*) FROM intake_event") - base_events;
}

static void setup(void)
{
    cluster_start(&c, small_messages);
    base_events = testdb_number(&c.db, "SELECT count(*) FROM intake_event");
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(services, .init = setup, .fini = teardown, .timeout = 120);

static long long count_where_event(const char *table, const char *event_id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE event_id = '%s'", table, event_id);
    return testdb_number(&c.db, sql);
}

Test(services, an_accepted_event_reaches_workflow_and_notification)
{
    post_item_t item;
    cluster_open_round(&item, NULL, "2020-sh-6");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    cr_assert_eq(item.status, POST_ACCEPTED, "status %d: %s %s", item.status, item.code,
                 item.message);
    cr_assert_eq(count_where_event("intake_event", item.event_id), 1);

    long long sent =
        cluster_wait_number(&c,
                            "SELECT count(*) FROM delivery d JOIN notification n USING (notice_id)"
                            " WHERE d.status = 'sent' AND n.kind = 'round_opened'",
                            1, 10000);
    cr_assert_eq(sent, 1, "the notice was not delivered");
    char outcome[32], group[64];
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT outcome FROM wf_event WHERE event_id = '%s'", item.event_id);
    testdb_text(&c.db, sql, outcome, sizeof outcome);
    cr_assert_str_eq(outcome, "applied");
    testdb_text(&c.db, "SELECT group_name FROM inspection_round WHERE round_id = '2020-sh-6'",
                group, sizeof group);
    cr_assert_str_eq(group, "市委第六巡视组");
    cr_assert_eq(count_where_event("notification", item.event_id), 1);
    free(item.frame);
}

Test(services, the_same_id_twice_is_accepted_then_duplicate_with_one_effect)
{
    post_item_t items[2];
    cluster_open_round(&items[0], NULL, "2021-dup");
    cluster_open_round(&items[1], items[0].event_id, "2021-dup");
    cr_assert_eq(cluster_post(&c, &items[0], 1), 0);
    cr_assert_eq(cluster_post(&c, &items[1], 1), 0);
    cr_assert_eq(items[0].status, POST_ACCEPTED);
    cr_assert_eq(items[1].status, POST_DUPLICATE, "second answer: %d %s", items[1].status,
                 items[1].code);
    cr_assert(strstr(items[1].message, "already accepted"), "message: %s", items[1].message);

    cluster_wait_quiet(&c); /* a second effect, if there were one, has come by now */
    cr_assert_eq(count_where_event("intake_event", items[0].event_id), 1);
    cr_assert_eq(count_where_event("wf_event", items[0].event_id), 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), 1);
    cr_assert_eq(count_where_event("notification", items[0].event_id), 1);
    free(items[0].frame);
    free(items[1].frame);
}

Test(services, a_repeat_inside_one_batch_is_a_duplicate_too)
{
    post_item_t items[2];
    cluster_open_round(&items[0], NULL, "2021-batch");
    cluster_open_round(&items[1], items[0].event_id, "2021-batch");
    cr_assert_eq(cluster_post(&c, items, 2), 0);
    cr_assert_eq(items[0].status, POST_ACCEPTED);
    cr_assert_eq(items[1].status, POST_DUPLICATE);
    cr_assert_eq(count_where_event("intake_event", items[0].event_id), 1);
    free(items[0].frame);
    free(items[1].frame);
}

/* Asserts the answer to a raw frame is REJECTED with code and a message
 * containing needle, and that nothing was stored. */
static void expect_rejected(const void *frame, size_t len, const char *code, const char *needle)
{
    Rectify__Ack *ack = cluster_send_raw(&c, frame, len);
    cr_assert(ack, "no answer");
    cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__REJECTED, "status %d", ack->status);
    cr_assert_str_eq(ack->code, code);
    cr_assert(strstr(ack->message, needle), "message \"%s\" lacks \"%s\"", ack->message, needle);
    rectify__ack__free_unpacked(ack, NULL);
    cr_assert_eq(new_events(), 0, "a refused frame was stored");
}

Test(services, a_malformed_frame_is_rejected_and_stores_nothing)
{
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99};
    expect_rejected(junk, sizeof junk, "malformed", "not a valid protobuf Envelope");
}

Test(services, an_unknown_event_type_is_rejected_and_stores_nothing)
{
    char id[IDS_UUID_LEN + 1];
    ids_new_uuid(id);
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = id;
    env.unit = "sh-cgzf";
    uint8_t buf[256];
    size_t len = rectify__envelope__pack(&env, buf);
    /* field 99, length-delimited, 2 bytes: an event type from a newer schema */
    const uint8_t extra[] = {0x9a, 0x06, 0x02, 0x08, 0x01};
    memcpy(buf + len, extra, sizeof extra);
    len += sizeof extra;
    Rectify__Ack *ack = cluster_send_raw(&c, buf, len);
    cr_assert(ack);
    cr_assert_str_eq(ack->event_id, id, "the refusal names the event");
    rectify__ack__free_unpacked(ack, NULL);
    expect_rejected(buf, len, "unknown_event", "field number 99");
}

Test(services, an_oversized_message_is_rejected_and_stores_nothing)
{
    post_item_t item;
    char title[2000];
    memset(title, 'x', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    cluster_open_round(&item, NULL, title); /* 2 KB round id > the 1 KB limit set */
    Rectify__Ack *ack = cluster_send_raw(&c, item.frame, item.len);
    cr_assert(ack);
    cr_assert_str_eq(ack->event_id, item.event_id, "the refusal names the event");
    rectify__ack__free_unpacked(ack, NULL);
    expect_rejected(item.frame, item.len, "too_large", "the limit is 1024");
    free(item.frame);
}

Test(services, a_missing_required_field_is_rejected_with_its_name)
{
    char id[IDS_UUID_LEN + 1];
    ids_new_uuid(id);
    Rectify__OpenRound ev = RECTIFY__OPEN_ROUND__INIT;
    ev.round_id = "r1";
    ev.target_unit = "sh-cgzf";
    ev.feedback_date = "2021-01-29";
    ev.kind = RECTIFY__ROUND_KIND__INSPECTION; /* group_name missing */
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = id;
    env.unit = "inspection-office";
    env.event_case = RECTIFY__ENVELOPE__EVENT_OPEN_ROUND;
    env.open_round = &ev;
    uint8_t buf[512];
    size_t len = rectify__envelope__pack(&env, buf);
    expect_rejected(buf, len, "missing_field", "open_round.group_name");
}

Test(services, a_refusal_by_state_is_recorded_with_its_reason)
{
    post_item_t items[2];
    cluster_open_round(&items[0], NULL, "2021-twice");
    cluster_open_round(&items[1], NULL, "2021-twice"); /* a new id, the same round */
    cr_assert_eq(cluster_post(&c, items, 2), 0);
    cr_assert_eq(items[1].status, POST_ACCEPTED);
    cluster_wait_applied(&c);
    char sql[256], code[64], message[256];
    snprintf(sql, sizeof sql, "SELECT code FROM wf_event WHERE event_id = '%s'", items[1].event_id);
    testdb_text(&c.db, sql, code, sizeof code);
    cr_assert_str_eq(code, "round_exists");
    snprintf(sql, sizeof sql, "SELECT message FROM wf_event WHERE event_id = '%s'",
             items[1].event_id);
    testdb_text(&c.db, sql, message, sizeof message);
    cr_assert(strstr(message, "open_round.round_id"), "message: %s", message);
    /* and the sender is told, on its own channels */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM notification WHERE kind = 'event_refused'"
             " AND unit = 'inspection-office' AND event_id = '%s' AND body LIKE '%%already open%%'",
             items[1].event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 10000), 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), 1);
    free(items[0].frame);
    free(items[1].frame);
}

/* A tail shows nothing that was published before its subscription reached the
 * publisher, and nothing says when that is: so opens rounds (prefix-1,
 * prefix-2, ...) one after the other until the tail, which stops after
 * --count lines, has shown what it waits for. Their event ids go to ids.
 * Returns how many were posted. */
static int post_until_shown(pid_t tail, const char *prefix, char (*ids)[40], int max)
{
    int n = 0, status = 0;
    while (waitpid(tail, &status, WNOHANG) == 0) {
        cr_assert_lt(n, max, "the tail showed nothing of %d events", n);
        post_item_t item;
        char round[64];
        snprintf(round, sizeof round, "%s-%d", prefix, n + 1);
        cluster_open_round(&item, NULL, round);
        cr_assert_eq(cluster_post(&c, &item, 1), 0);
        snprintf(ids[n++], 40, "%s", item.event_id);
        free(item.frame);
        /* this event's lines are out once it is stored and delivered */
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM delivery JOIN notification USING (notice_id)"
                 " WHERE event_id = '%s' AND channel = 'log' AND status = 'sent'",
                 item.event_id);
        cluster_wait_number(&c, sql, 1, 10000);
    }
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tail status %d", status);
    return n;
}

Test(services, the_tail_tool_follows_all_services_and_filters)
{
    char ids[20][40], later[40];
    ids_new_uuid(later);
    /* one tail waits for the lines of an event not posted yet; the other for
     * any notify line, which proves the stream flows */
    const char *by_event[] = {"--json", "--event", later,    "--count", "1", "--timeout-ms",
                              "20000",  c.tail_ep[0], c.tail_ep[1], c.tail_ep[2], NULL};
    const char *any[] = {"--json", "--service", "notify", "--count", "1", "--timeout-ms",
                         "20000",  c.tail_ep[0], c.tail_ep[1], c.tail_ep[2], NULL};
    int fd_event, fd_any;
    pid_t p_event = tail_start(by_event, &fd_event, NULL);
    pid_t p_any = tail_start(any, &fd_any, NULL);
    int n = post_until_shown(p_any, "2021-tail", ids, 20);
    char out[8192];
    tail_read(fd_any, out, sizeof out);
    cr_assert(strstr(out, "\"service\":\"notify\""), "output: %s", out);
    cr_assert_null(strstr(out, "\"service\":\"intake\""), "the service filter let intake through");
    int found = 0;
    for (int i = 0; i < n; i++)
        found |= strstr(out, ids[i]) != NULL;
    cr_assert(found, "a line of none of the events posted: %s", out);

    post_item_t item;
    cluster_open_round(&item, later, "2021-tail-later");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    free(item.frame);
    int status;
    waitpid(p_event, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert(tail_read(fd_event, out, sizeof out) > 0, "the event filter let nothing through");
    cr_assert(strstr(out, later), "output: %s", out);
    for (int i = 0; i < n; i++)
        cr_assert_null(strstr(out, ids[i]), "the event filter let another event through");
}

Test(services, the_tail_tool_filters_by_unit_and_level)
{
    char ids[20][40];
    const char *by_unit[] = {"--json", "--unit", "sh-cgzf", "--count", "1", "--timeout-ms",
                             "20000",  c.tail_ep[0], c.tail_ep[1], c.tail_ep[2], NULL};
    const char *other[] = {"--json", "--unit", "sh-other", "--timeout-ms", "3000", c.tail_ep[0],
                           c.tail_ep[1], c.tail_ep[2], NULL};
    const char *errors[] = {"--json", "--level", "error", "--timeout-ms", "3000", c.tail_ep[0],
                            c.tail_ep[1], c.tail_ep[2],  NULL};
    int fd_unit, fd_other, fd_errors;
    pid_t p2 = tail_start(other, &fd_other, NULL), p3 = tail_start(errors, &fd_errors, NULL);
    pid_t p1 = tail_start(by_unit, &fd_unit, NULL);
    post_until_shown(p1, "2021-tail-unit", ids, 20);
    int status;
    waitpid(p2, &status, 0);
    waitpid(p3, &status, 0);
    char out[8192];
    cr_assert(tail_read(fd_unit, out, sizeof out) > 0, "nothing for unit sh-cgzf");
    cr_assert(strstr(out, "\"unit\":\"sh-cgzf\""), "%s", out);
    cr_assert_eq(tail_read(fd_other, out, sizeof out), 0, "lines of another unit came through: %s",
                 out);
    cr_assert_eq(tail_read(fd_errors, out, sizeof out), 0, "a happy path logged an error: %s", out);
}

Test(services, a_refused_setting_stops_the_start_and_names_it)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "RECTIFY_ALLOW_PLAIN=true RECTIFY_BATCH_MAX=0 %s/rectify-workflow 2>&1",
             RECTIFY_BIN_DIR);
    FILE *p = popen(cmd, "r");
    char out[1024] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    cr_assert(strstr(out, "batch_max: 0 is below the minimum 1"), "output: %s", out);
    cr_assert(strstr(out, "RECTIFY_BATCH_MAX"), "output: %s", out);
}

/* Runs a service with the environment prefix env; its exit status and output. */
static int run_service(const char *env, const char *name, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "RECTIFY_DB='%s' %s %s/rectify-%s 2>&1", c.db.conninfo, env,
             RECTIFY_BIN_DIR, name);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status), "status %d", status);
    return WEXITSTATUS(status);
}

Test(services, curve_is_the_default_and_a_service_without_its_key_does_not_start)
{
    char env[1024], out[4096];
    snprintf(env, sizeof env,
             "RECTIFY_ALLOW_PLAIN=false RECTIFY_KEYS_DIR=%s/nokeys RECTIFY_INTAKE_BIND=ipc://%s/x.sock",
             c.dir, c.dir);
    cr_assert_eq(run_service(env, "intake", out, sizeof out), 1, "output: %s", out);
    cr_assert(strstr(out, "keys_dir"), "output: %s", out);
    cr_assert(strstr(out, "rectifyctl key service"), "output: %s", out);
    cr_assert(strstr(out, "intake.key_secret"), "output: %s", out);
}

Test(services, plain_mode_binds_only_loopback)
{
    char out[4096];
    cr_assert_eq(run_service("RECTIFY_ALLOW_PLAIN=true RECTIFY_INTAKE_BIND=tcp://0.0.0.0:7999",
                             "intake", out, sizeof out),
                 1, "output: %s", out);
    cr_assert(strstr(out, "intake_bind"), "output: %s", out);
    cr_assert(strstr(out, "not a loopback endpoint"), "output: %s", out);
}

Test(services, help_prints_the_settings_table)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/rectify-notify --help", RECTIFY_BIN_DIR);
    FILE *p = popen(cmd, "r");
    char out[8192] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert(strstr(out, "resend_timeout_ms"), "output: %s", out);
    cr_assert(strstr(out, "50..600000"), "bounds missing: %s", out);
}

/* Runs rectifyctl post on text against this cluster; returns the exit code
 * and its output in out. */
static int run_post(const char *text, char *out, size_t outlen)
{
    char path[256], args[512];
    snprintf(path, sizeof path, "%s/events.jsonl", c.dir);
    cluster_write_file(path, text);
    snprintf(args, sizeof args, "post --timeout-ms 500 --retries 4 %s", path);
    return cluster_ctl(&c, out, outlen, args);
}

Test(services, rectifyctl_post_prints_one_answer_per_event_and_exits_0)
{
    char out[4096];
    int rc = run_post(
        "# a comment, then a blank line\n\n"
        "{\"event_id\":\"0b6f7d7e-52a4-4c0e-9d55-3b0f2b0b1a01\",\"unit\":\"inspection-office\","
        "\"open_round\":{\"round_id\":\"r-ctl\",\"group_name\":\"第六巡视组\",\"target_unit\":\"sh-"
        "cgzf\","
        "\"feedback_date\":\"2021-01-29\",\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"r-ctl\",\"problem_id\":"
        "\"1.1\","
        "\"aspect\":\"a\",\"title\":\"t\"}}\n",
        out, sizeof out);
    cr_assert_eq(rc, 0, "output: %s", out);
    cr_assert(
        strstr(out,
               "{\"line\":3,\"event_id\":\"0b6f7d7e-52a4-4c0e-9d55-3b0f2b0b1a01\","
               "\"status\":\"ACCEPTED\",\"code\":\"\",\"message\":\"\",\"outcome\":\"applied\"}"),
        "output: %s", out);
    cr_assert(strstr(out, "{\"line\":4,\"event_id\":\""), "a generated id is printed: %s", out);
    cr_assert_eq(new_events(), 2);
}

Test(services, rectifyctl_post_exits_1_when_workflow_refuses_and_says_why)
{
    char out[4096];
    int rc = run_post(
        "{\"unit\":\"sh-cgzf\",\"open_round\":{\"round_id\":\"r\",\"group_name\":\"g\","
        "\"target_unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-29\",\"kind\":\"INSPECTION\"}}\n",
        out, sizeof out);
    cr_assert_eq(rc, 1, "output: %s", out);
    cr_assert(strstr(out, "\"status\":\"ACCEPTED\"") && strstr(out, "\"outcome\":\"refused\"") &&
                  strstr(out, "\"outcome_code\":\"denied\"") &&
                  strstr(out, "open_round: only a unit of role inspection_office"),
              "output: %s", out);
}

Test(services, rectifyctl_post_reports_bad_lines_by_number_and_exits_1)
{
    char out[4096];
    int rc = run_post("{\"unit\":\"office\",\"open_round\":{\"round_id\":\"r\"}}\n"
                      "{not json\n"
                      "{\"unit\":\"office\",\"open_round\":{\"colour\":\"red\"}}\n",
                      out, sizeof out);
    cr_assert_eq(rc, 1, "output: %s", out);
    cr_assert(strstr(out, "\"line\":1") && strstr(out, "\"code\":\"missing_field\"") &&
                  strstr(out, "open_round.group_name is required"),
              "output: %s", out);
    cr_assert(
        strstr(out, "{\"line\":2,\"event_id\":\"\",\"status\":\"REJECTED\",\"code\":\"bad_json\""),
        "output: %s", out);
    cr_assert(strstr(out, "\"line\":3") && strstr(out, "colour: no such field"), "output: %s", out);
    cr_assert_eq(new_events(), 0);
}

Test(services, rectifyctl_post_exits_1_when_intake_does_not_answer)
{
    cluster_signal(&c, SVC_INTAKE, SIGKILL);
    char out[4096];
    int rc =
        run_post("{\"unit\":\"office\",\"open_round\":{\"round_id\":\"r\"}}\n", out, sizeof out);
    cr_assert_eq(rc, 1, "output: %s", out);
    /* the answer says which endpoint it tried */
    char want[300];
    snprintf(want, sizeof want, "no answer from intake at %s after 5 sends", c.bind[SVC_INTAKE]);
    cr_assert(strstr(out, "\"status\":\"UNANSWERED\"") && strstr(out, want), "output: %s", out);
}
