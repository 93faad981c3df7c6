/* One bad event never stops the others: what senders really send, through
 * the real services on a real PostgreSQL. Each test is a finding of the
 * outside client's run that halted or lost events before. */
#define _GNU_SOURCE
#include "clock.h"
#include "cluster.h"
#include "ids.h"
#include "rectify.pb-c.h"
#include "text.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static cluster_t c;
/* quick re-sends and a short quarantine, so a test sees them in seconds */
static const char *const quick[] = {"RECTIFY_RESEND_TIMEOUT_MS=300", "RECTIFY_QUARANTINE_AFTER=3",
                                    NULL};

static void setup(void)
{
    cluster_start(&c, quick);
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(robust, .init = setup, .fini = teardown, .timeout = 180);

/* An open_round frame whose group_name is exactly the n bytes given: packed
 * with a placeholder of the same length, then the bytes put in its place
 * (so it may hold what a C string cannot, such as NUL). */
static size_t s_round_frame(uint8_t *buf, size_t size, const char *id, const char *round,
                            const void *group, size_t n)
{
    char placeholder[64];
    cr_assert(n < sizeof placeholder);
    memset(placeholder, '@', n);
    placeholder[n] = '\0';
    Rectify__OpenRound ev = RECTIFY__OPEN_ROUND__INIT;
    ev.round_id = (char *)round;
    ev.group_name = placeholder;
    ev.target_unit = "sh-cgzf";
    ev.feedback_date = "2021-01-29";
    ev.kind = RECTIFY__ROUND_KIND__INSPECTION;
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = (char *)id;
    env.unit = "inspection-office";
    env.event_case = RECTIFY__ENVELOPE__EVENT_OPEN_ROUND;
    env.open_round = &ev;
    size_t len = rectify__envelope__get_packed_size(&env);
    cr_assert(len <= size);
    rectify__envelope__pack(&env, buf);
    uint8_t *at = memmem(buf, len, placeholder, n);
    cr_assert(at);
    memcpy(at, group, n);
    return len;
}

static void s_outcome_of(const char *id, char *out, size_t outlen)
{
    cluster_wait_applied(&c);
    cluster_outcome(&c, id, out, outlen);
}

/* Posts one valid open_round and asserts workflow applies it. */
static void expect_pipeline_flows(const char *round)
{
    post_item_t item;
    cluster_open_round(&item, NULL, round);
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    cr_assert_eq(item.status, POST_ACCEPTED, "%s %s", item.code, item.message);
    char out[512];
    s_outcome_of(item.event_id, out, sizeof out);
    cr_assert_str_eq(out, "applied", "the pipeline stopped: %s", out);
    free(item.frame);
}

Test(robust, strings_postgresql_refuses_are_rejected_by_name_and_the_pipeline_goes_on)
{
    struct {
        const char *bytes;
        size_t n;
        const char *code;
    } poison[] = {
        {"\xED\xA0\x80", 3, "invalid_utf8"},     /* a UTF-16 surrogate */
        {"\xE0\x80\x80", 3, "invalid_utf8"},     /* an overlong form */
        {"\xF4\x90\x80\x80", 4, "invalid_utf8"}, /* above U+10FFFF */
        {"admin\0evil", 10, "nul_in_text"},      /* would be cut to "admin" */
        {"巡视组\xE5\xB8", 11, "invalid_utf8"},  /* a character cut in half */
    };
    long long before = testdb_number(&c.db, "SELECT count(*) FROM intake_event");
    for (size_t i = 0; i < sizeof poison / sizeof poison[0]; i++) {
        char id[IDS_UUID_LEN + 1];
        ids_new_uuid(id);
        uint8_t buf[512];
        size_t len = s_round_frame(buf, sizeof buf, id, "r-poison", poison[i].bytes, poison[i].n);
        Rectify__Ack *ack = cluster_send_raw(&c, buf, len);
        cr_assert(ack, "case %zu got no answer", i);
        cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__REJECTED, "case %zu: status %d", i,
                     ack->status);
        cr_assert_str_eq(ack->code, poison[i].code, "case %zu", i);
        cr_assert(strstr(ack->message, "open_round.group_name"), "%s", ack->message);
        cr_assert_str_eq(ack->event_id, id);
        cr_assert_eq(text_check(ack->message, strlen(ack->message), 0, NULL), TEXT_OK);
        rectify__ack__free_unpacked(ack, NULL);
    }
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event"), before,
                 "a refused frame was stored");
    expect_pipeline_flows("r-after-poison");
}

Test(robust, a_nul_in_the_unit_is_refused_not_cut)
{
    char id[IDS_UUID_LEN + 1];
    ids_new_uuid(id);
    Rectify__RegisterUnit ev = RECTIFY__REGISTER_UNIT__INIT;
    ev.code = "evil";
    ev.name = "x";
    ev.role = RECTIFY__ROLE__ADMIN;
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = id;
    env.unit = "admin@evil";
    env.event_case = RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT;
    env.register_unit = &ev;
    uint8_t buf[256];
    size_t len = rectify__envelope__pack(&env, buf);
    uint8_t *at = memmem(buf, len, "admin@evil", 10);
    at[5] = '\0';
    Rectify__Ack *ack = cluster_send_raw(&c, buf, len);
    cr_assert(ack);
    cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__REJECTED);
    cr_assert_str_eq(ack->code, "nul_in_text");
    cr_assert(strstr(ack->message, "unit: byte 5 is NUL"), "%s", ack->message);
    rectify__ack__free_unpacked(ack, NULL);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM unit WHERE code = 'evil'"), 0);
}

Test(robust, one_bad_time_in_a_burst_costs_no_other_event_its_answer)
{
    enum { N = 301 };
    post_item_t *items = calloc(N, sizeof *items);
    cr_assert(items);
    for (int i = 0; i < N; i++) {
        char round[32];
        snprintf(round, sizeof round, "r-burst-%d", i);
        cluster_open_round(&items[i], NULL, round);
    }
    /* one of them says it was sent 2^62 ms after 1970 */
    Rectify__Envelope *env = rectify__envelope__unpack(NULL, items[150].len, items[150].frame);
    env->sent_at_ms = (int64_t)1 << 62;
    free(items[150].frame);
    items[150].len = rectify__envelope__get_packed_size(env);
    items[150].frame = malloc(items[150].len);
    rectify__envelope__pack(env, items[150].frame);
    rectify__envelope__free_unpacked(env, NULL);

    cr_assert_eq(cluster_post(&c, items, N), 0, "some events got no answer");
    int accepted = 0;
    for (int i = 0; i < N; i++)
        accepted += items[i].status == POST_ACCEPTED;
    cr_assert_eq(accepted, N - 1);
    cr_assert_eq(items[150].status, POST_REJECTED);
    cr_assert_str_eq(items[150].code, "out_of_range");
    cr_assert(strstr(items[150].message, "sent_at_ms"), "%s", items[150].message);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), N - 1);
    for (int i = 0; i < N; i++)
        free(items[i].frame);
    free(items);
}

Test(robust, a_long_id_that_is_no_uuid_gets_an_answer_that_echoes_nothing)
{
    for (size_t n = 37; n <= 4000; n = n * 3) {
        char *id = malloc(n + 1);
        memset(id, 'z', n);
        id[n] = '\0';
        post_item_t item;
        cluster_open_round(&item, NULL, "r-long-id");
        Rectify__Envelope *env = rectify__envelope__unpack(NULL, item.len, item.frame);
        char *unpacked_id = env->event_id; /* free_unpacked frees this one */
        env->event_id = id;
        uint8_t *buf = malloc(rectify__envelope__get_packed_size(env));
        size_t len = rectify__envelope__pack(env, buf);
        Rectify__Ack *ack = cluster_send_raw(&c, buf, len);
        cr_assert(ack, "a %zu-byte id got no answer", n);
        cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__REJECTED);
        cr_assert_str_eq(ack->event_id, "", "the answer echoes what is no UUID");
        cr_assert(strstr(ack->message, "event_id"), "%s", ack->message);
        rectify__ack__free_unpacked(ack, NULL);
        free(buf);
        env->event_id = unpacked_id;
        rectify__envelope__free_unpacked(env, NULL);
        free(item.frame);
        free(id);
    }
}

Test(robust, the_same_id_for_other_content_is_refused_id_reused)
{
    post_item_t first, other, again;
    cluster_open_round(&first, NULL, "r-first");
    cluster_open_round(&other, first.event_id, "r-other"); /* same id, another round */
    cr_assert_eq(cluster_post(&c, &first, 1), 0);
    cr_assert_eq(first.status, POST_ACCEPTED);
    cr_assert_eq(cluster_post(&c, &other, 1), 0);
    cr_assert_eq(other.status, POST_REJECTED);
    cr_assert_str_eq(other.code, "id_reused");
    cr_assert(strstr(other.message, "another event"), "%s", other.message);
    /* the same event sent again with a later clock reading is a repeat */
    cluster_open_round(&again, first.event_id, "r-first");
    cr_assert_neq(again.len == first.len && !memcmp(again.frame, first.frame, first.len), 1,
                  "sent_at_ms should differ");
    cr_assert_eq(cluster_post(&c, &again, 1), 0);
    cr_assert_eq(again.status, POST_DUPLICATE, "%s %s", again.code, again.message);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"
                                      " WHERE round_id IN ('r-first', 'r-other')"),
                 1);
    free(first.frame);
    free(other.frame);
    free(again.frame);
}

/* Builds a JSON line whose one string is s repeated until it is about n bytes. */
static char *s_repeat(const char *s, size_t n)
{
    size_t one = strlen(s), count = n / one;
    char *out = malloc(count * one + 1);
    for (size_t i = 0; i < count; i++)
        memcpy(out + i * one, s, one);
    out[count * one] = '\0';
    return out;
}

Test(robust, workflow_cuts_its_own_messages_on_whole_characters)
{
    char *task = s_repeat("整改事项", 1000);      /* 996 bytes: a refusal message quotes it */
    char *name = s_repeat("上海市城市管理", 900); /* a notice subject quotes it */
    size_t cap = strlen(task) + strlen(name) + 1024;
    char *lines = malloc(cap);
    snprintf(lines, cap,
             "{\"unit\":\"sh-cgzf\",\"write_off\":{\"round_id\":\"nowhere\",\"task_id\":\"%s\"}}\n"
             "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"long-name\",\"name\":\"%s\","
             "\"role\":\"UNIT\"}}\n",
             task, name);
    size_t n;
    post_item_t *items = cluster_post_json(&c, lines, &n);
    cr_assert_eq(items[0].status, POST_ACCEPTED, "%s", items[0].message);
    cr_assert_eq(items[1].status, POST_ACCEPTED, "%s", items[1].message);
    char out[2048];
    s_outcome_of(items[0].event_id, out, sizeof out);
    cr_assert(strncmp(out, "refused: ", 9) == 0, "%s", out);
    cr_assert_eq(text_check(out, strlen(out), 0, NULL), TEXT_OK);
    s_outcome_of(items[1].event_id, out, sizeof out);
    cr_assert_str_eq(out, "applied");
    /* their notices reached notification whole */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notification WHERE event_id IN ('%s', '%s')",
             items[0].event_id, items[1].event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 2, 20000), 2);
    cluster_free_items(items, n);
    expect_pipeline_flows("r-after-long");
    free(task);
    free(name);
    free(lines);
}

Test(robust, data_the_database_refuses_in_workflow_refuses_that_event_alone)
{
    /* a rule intake does not know, so only the database can refuse it */
    testdb_number(&c.db, "ALTER TABLE inspection_round ADD CONSTRAINT test_no_poison"
                         " CHECK (group_name <> '毒'); SELECT 1");
    enum { N = 5 };
    post_item_t items[N];
    for (int i = 0; i < N; i++) {
        char round[32], id[IDS_UUID_LEN + 1];
        snprintf(round, sizeof round, "r-data-%d", i);
        ids_new_uuid(id);
        uint8_t buf[512];
        const char *group = i == 2 ? "毒" : "组3";
        size_t len = s_round_frame(buf, sizeof buf, id, round, group, strlen(group));
        memset(&items[i], 0, sizeof items[i]);
        snprintf(items[i].event_id, sizeof items[i].event_id, "%s", id);
        items[i].frame = malloc(len);
        memcpy(items[i].frame, buf, len);
        items[i].len = len;
    }
    cr_assert_eq(cluster_post(&c, items, N), 0);
    char out[512];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(items[i].status, POST_ACCEPTED);
        s_outcome_of(items[i].event_id, out, sizeof out);
        if (i == 2) {
            cr_assert(strncmp(out, "refused: invalid_data: ", 23) == 0, "%s", out);
            cr_assert(strstr(out, "SQLSTATE 23514"), "%s", out);
        } else {
            cr_assert_str_eq(out, "applied", "event %d: %s", i, out);
        }
        free(items[i].frame);
    }
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), N - 1);
    expect_pipeline_flows("r-after-data");
}

static int s_rectifyctl(const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "RECTIFY_DB='%s' %s/rectifyctl %s 2>&1", c.db.conninfo,
             RECTIFY_BIN_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(robust, an_event_that_keeps_failing_is_quarantined_then_requeued)
{
    /* a fault that is neither the data's nor the connection's (P0001) */
    testdb_number(&c.db,
                  "CREATE FUNCTION test_stuck() RETURNS trigger LANGUAGE plpgsql AS $$"
                  " BEGIN IF NEW.round_id = 'r-stuck' THEN RAISE EXCEPTION 'test: stuck'; END IF;"
                  " RETURN NEW; END $$;"
                  " CREATE TRIGGER test_stuck BEFORE INSERT ON inspection_round"
                  " FOR EACH ROW EXECUTE FUNCTION test_stuck(); SELECT 1");
    post_item_t items[2];
    cluster_open_round(&items[0], NULL, "r-stuck");
    cluster_open_round(&items[1], NULL, "r-behind");
    cr_assert_eq(cluster_post(&c, items, 2), 0);
    cr_assert_eq(items[0].status, POST_ACCEPTED);
    cr_assert_eq(items[1].status, POST_ACCEPTED);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM wf_event WHERE event_id = '%s' AND outcome = 'applied'",
             items[1].event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 20000), 1, "the event behind it never came");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM dead_event WHERE event_id = '%s' AND consumer = 'workflow'"
             " AND sqlstate = 'P0001' AND attempts = 3",
             items[0].event_id);
    cr_assert_eq(testdb_number(&c.db, sql), 1);

    char out[4096];
    cr_assert_eq(s_rectifyctl("dead-events", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, items[0].event_id) && strstr(out, "test: stuck"), "%s", out);
    cr_assert(strstr(out, "1 quarantined event(s)"), "%s", out);
    cr_assert_eq(s_rectifyctl("requeue 00000000-0000-4000-8000-000000000000", out, sizeof out), 1,
                 "requeuing nothing is an error: %s", out);

    testdb_number(&c.db, "DROP TRIGGER test_stuck ON inspection_round; SELECT 1");
    char args[128];
    snprintf(args, sizeof args, "requeue %s", items[0].event_id);
    cr_assert_eq(s_rectifyctl(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "1 quarantined event(s) requeued"), "%s", out);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM wf_event WHERE event_id = '%s' AND outcome = 'applied'",
             items[0].event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 20000), 1, "the requeued event was not applied");
    cr_assert_eq(s_rectifyctl("dead-events", out, sizeof out), 0);
    cr_assert(strstr(out, "0 quarantined event(s)"), "%s", out);
    free(items[0].frame);
    free(items[1].frame);
}

/* --- dates: the future, and a clock's mark ------------------------------- */

static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20", NULL};

#define DROUND "r-dates"

static void setup_dates(void)
{
    cluster_start(&c, sim);
    cluster_set_clock(&c, "2021-03-01T00:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"" DROUND
        "\",\"group_name\":\"第六巡视组\",\"target_unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-"
        "29\",\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"" DROUND
        "\",\"problem_id\":\"1\",\"aspect\":\"方面一\",\"title\":\"问题一\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"" DROUND
        "\",\"problem_id\":\"1\",\"item_id\":\"I\",\"title\":\"事项\",\"on_date\":\"2021-02-01\"}}"
        "\n"
        "{\"unit\":\"sh-cgzf\",\"assign\":{\"round_id\":\"" DROUND
        "\",\"task_id\":\"I\",\"lead_leader\":\"局长\",\"responsible_unit\":\"sh-cgzf\","
        "\"deadline\":\"2021-03-10\",\"track\":\"FIX_NOW\",\"on_date\":\"2021-02-01\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"start\":{\"round_id\":\"" DROUND
        "\",\"task_id\":\"I\",\"on_date\":\"2021-03-01\"}}\n",
        &n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(items[i].status, POST_ACCEPTED);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE outcome = 'refused'"),
                 0);
}

TestSuite(dates, .init = setup_dates, .fini = teardown, .timeout = 180);

static void s_post_one(const char *line, char *out, size_t outlen)
{
    size_t n;
    post_item_t *items = cluster_post_json(&c, line, &n);
    cr_assert_eq(items[0].status, POST_ACCEPTED, "%s", items[0].message);
    s_outcome_of(items[0].event_id, out, outlen);
    cluster_free_items(items, n);
}

Test(dates, an_event_dated_after_today_is_refused_and_locks_nothing)
{
    char out[512];
    s_post_one("{\"unit\":\"sh-cgzf\",\"report_progress\":{\"round_id\":\"" DROUND
               "\",\"task_id\":\"I\",\"text\":\"进展\",\"on_date\":\"2223-01-01\"}}\n",
               out, sizeof out);
    cr_assert(strncmp(out, "refused: future_date: ", 22) == 0, "%s", out);
    cr_assert(strstr(out, "report_progress.on_date: 2223-01-01 is after today (2021-03-01)"), "%s",
              out);
    /* the next event, dated right, is applied: nothing was locked */
    s_post_one("{\"unit\":\"sh-cgzf\",\"report_progress\":{\"round_id\":\"" DROUND
               "\",\"task_id\":\"I\",\"text\":\"进展\",\"on_date\":\"2021-03-01\"}}\n",
               out, sizeof out);
    cr_assert_str_eq(out, "applied");
}

Test(dates, a_clock_mark_does_not_block_an_event_that_happened_before_it)
{
    /* the deadline passes: the clock marks the item overdue, dated 03-12 */
    cluster_set_clock(&c, "2021-03-12T00:00:00Z");
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM task_history WHERE round_id = '" DROUND
                                     "' AND task_id = 'I' AND action = 'overdue'",
                                     1, 20000),
                 1);
    /* the unit submitted on 03-09 and posts it late: it happened before the
     * mark and after the last business change (03-01), so it is applied */
    char out[512];
    s_post_one("{\"unit\":\"sh-cgzf\",\"report_progress\":{\"round_id\":\"" DROUND
               "\",\"task_id\":\"I\",\"text\":\"已完成大半\",\"on_date\":\"2021-03-09\"}}\n",
               out, sizeof out);
    cr_assert_str_eq(out, "applied");
    /* an event before the last business change is still refused, and says
     * which change it was */
    s_post_one("{\"unit\":\"sh-cgzf\",\"report_progress\":{\"round_id\":\"" DROUND
               "\",\"task_id\":\"I\",\"text\":\"进展\",\"on_date\":\"2021-03-05\"}}\n",
               out, sizeof out);
    cr_assert(strncmp(out, "refused: stale_date: ", 21) == 0, "%s", out);
    cr_assert(strstr(out, "(report_progress on 2021-03-09)"), "%s", out);
}

/* --- the database away ---------------------------------------------------- */

Test(database_away, a_service_started_without_its_database_waits_quietly_and_stops_on_a_signal)
{
    char dir[] = "/tmp/rectify-away-XXXXXX";
    cr_assert(mkdtemp(dir));
    char log[256], bind[256], db[256];
    snprintf(log, sizeof log, "%s/intake.log", dir);
    snprintf(bind, sizeof bind, "RECTIFY_INTAKE_BIND=ipc://%s/intake.sock", dir);
    snprintf(db, sizeof db, "RECTIFY_DB=host=%s dbname=nothing connect_timeout=1", dir);
    pid_t test_pid = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        cluster_child_dies_with_test(test_pid);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDERR_FILENO);
        char *const env[] = {db, bind, "RECTIFY_ALLOW_PLAIN=true", "RECTIFY_INTAKE_LOG_PUB=", NULL};
        execle(RECTIFY_BIN_DIR "/rectify-intake", "rectify-intake", (char *)NULL, env);
        _exit(127);
    }
    /* it keeps trying (with back-off) rather than exiting; the log says so once */
    int status = 0;
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "intake exited while waiting");
        usleep(100 * 1000); /* the thing under test is that time passes */
    }
    cr_assert_eq(kill(pid, SIGTERM), 0);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "intake did not exit by itself");
    char text[8192] = "";
    FILE *f = fopen(log, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    int waiting = 0;
    for (const char *p = text; (p = strstr(p, "waiting for it")); p++)
        waiting++;
    cr_assert_eq(waiting, 1, "one line while it waits, not one per attempt: %s", text);
    cr_assert(strstr(text, "stopping while waiting for the database"), "%s", text);
    for (const char *line = text; *line;) { /* every line is one JSON object */
        cr_assert_eq(*line, '{', "not a JSON line: %s", line);
        const char *end = strchr(line, '\n');
        line = end ? end + 1 : line + strlen(line);
    }
    unlink(log);
    rmdir(dir);
}

/* --- a standby copy takes over ------------------------------------------- */

static const char *const short_lease[] = {"RECTIFY_LEASE_MS=900", "RECTIFY_RESEND_TIMEOUT_MS=300",
                                          NULL};

static void setup_standby(void)
{
    cluster_start(&c, short_lease);
}

TestSuite(standby, .init = setup_standby, .fini = teardown, .timeout = 180);

/* Posts n open_round events (rounds prefix-0 ...) and asserts each ACCEPTED. */
static void s_post_rounds(const char *prefix, int n)
{
    post_item_t *items = calloc((size_t)n, sizeof *items);
    for (int i = 0; i < n; i++) {
        char round[64];
        snprintf(round, sizeof round, "%s-%d", prefix, i);
        cluster_open_round(&items[i], NULL, round);
    }
    cr_assert_eq(cluster_post(&c, items, (size_t)n), 0);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(items[i].status, POST_ACCEPTED, "%s", items[i].message);
        free(items[i].frame);
    }
    free(items);
}

/* The pid in the holder ("host:pid:random") of lease name, or 0. */
static long long s_holder_pid(const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT split_part(holder, ':', 2)::bigint FROM service_lease WHERE name = '%s'"
             " AND expires_at > clock_timestamp()",
             name);
    return testdb_number(&c.db, sql);
}

/* Every event intake accepted has exactly one outcome, applied, in intake's order. */
static void s_expect_all_applied_once_in_order(void)
{
    cluster_wait_applied(&c);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event i"
                                      " LEFT JOIN wf_event w USING (event_id)"
                                      " WHERE w.event_id IS NULL OR w.outcome <> 'applied'"),
                 0, "an accepted event was not applied");
    /* workflow applies in the order of its inbox sequence, which is intake's */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event i JOIN wf_event w"
                                      " USING (event_id) WHERE w.seq <> i.seq"),
                 0, "workflow's order differs from intake's");
}

static int s_wait_holder(const char *name, pid_t pid)
{
    for (int i = 0; i < 200; i++) { /* 10 s at most */
        if (s_holder_pid(name) == pid)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

Test(standby, a_stopped_workflow_is_replaced_and_commits_nothing_when_it_wakes)
{
    s_post_rounds("before", 50);
    cluster_spawn_copy(&c, SVC_WORKFLOW);
    pid_t active = c.pid[SVC_WORKFLOW], copy = c.extra_pid;
    cr_assert(s_wait_holder("workflow", active), "the first copy is not the active one");
    cr_assert_eq(kill(active, SIGSTOP), 0);
    int64_t stopped_at = clock_mono_ms();
    cr_assert(s_wait_holder("workflow", copy), "the standby did not take over");
    int64_t took_ms = clock_mono_ms() - stopped_at;
    cr_assert(took_ms < 5000, "the takeover took %lld ms", (long long)took_ms);
    s_post_rounds("during", 100);
    s_expect_all_applied_once_in_order();
    /* the stopped one wakes up: its lease is gone, it commits nothing */
    cr_assert_eq(kill(active, SIGCONT), 0);
    s_post_rounds("after", 50);
    s_expect_all_applied_once_in_order();
    cr_assert_eq(s_holder_pid("workflow"), copy);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), 200);
}

Test(standby, a_killed_workflow_is_replaced_and_nothing_is_lost_or_doubled)
{
    cluster_spawn_copy(&c, SVC_WORKFLOW);
    pid_t active = c.pid[SVC_WORKFLOW], copy = c.extra_pid;
    s_post_rounds("before", 50);
    cr_assert(s_wait_holder("workflow", active));
    cluster_signal(&c, SVC_WORKFLOW, SIGKILL);
    s_post_rounds("after", 100);
    cr_assert(s_wait_holder("workflow", copy), "the standby did not take over");
    s_expect_all_applied_once_in_order();
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM inspection_round"), 150);
    /* the copy is now the workflow of the cluster: stopped as such at the end */
    c.pid[SVC_WORKFLOW] = copy;
    c.extra_pid = 0;
}

Test(standby, a_stopped_notification_is_replaced_and_notices_flow_on)
{
    cluster_spawn_copy(&c, SVC_NOTIFY);
    pid_t active = c.pid[SVC_NOTIFY], copy = c.extra_pid;
    cr_assert(s_wait_holder("notify", active));
    cr_assert_eq(kill(active, SIGSTOP), 0);
    s_post_rounds("stopped-notify", 40);
    cr_assert(s_wait_holder("notify", copy), "the standby did not take over");
    cr_assert_eq(
        cluster_wait_number(&c, "SELECT count(*) FROM notification WHERE kind = 'round_opened'", 40,
                            20000),
        40);
    cr_assert_eq(kill(active, SIGCONT), 0);
    s_post_rounds("woken-notify", 10);
    cr_assert_eq(
        cluster_wait_number(&c, "SELECT count(*) FROM notification WHERE kind = 'round_opened'", 50,
                            20000),
        50);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM delivery WHERE channel = 'log'"
                                      " AND status <> 'sent'"),
                 0);
}

Test(robust, a_failure_outside_any_events_apply_is_traced_to_its_event_and_quarantined)
{
    /* wf_event rows are written when the batch is flushed, after every
     * event's apply: the failure names no event, and the inbox finds it */
    testdb_number(&c.db, "CREATE FUNCTION test_flush() RETURNS trigger LANGUAGE plpgsql AS $$"
                         " BEGIN IF NEW.message LIKE '%r-flush-stuck%' OR EXISTS (SELECT 1 FROM"
                         " inspection_round WHERE round_id = 'r-flush-stuck' AND opened_by ="
                         " NEW.event_id) THEN RAISE EXCEPTION 'test: flush stuck'; END IF;"
                         " RETURN NEW; END $$;"
                         " CREATE TRIGGER test_flush BEFORE INSERT ON wf_event"
                         " FOR EACH ROW EXECUTE FUNCTION test_flush(); SELECT 1");
    post_item_t items[2];
    cluster_open_round(&items[0], NULL, "r-flush-stuck");
    cluster_open_round(&items[1], NULL, "r-flush-behind");
    cr_assert_eq(cluster_post(&c, items, 2), 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM wf_event WHERE event_id = '%s' AND outcome = 'applied'",
             items[1].event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 20000), 1, "the event behind it never came");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM dead_event WHERE event_id = '%s' AND sqlstate = 'P0001'"
             " AND error LIKE '%%test: flush stuck%%'",
             items[0].event_id);
    cr_assert_eq(testdb_number(&c.db, sql), 1, "quarantined without its SQLSTATE and error");
    free(items[0].frame);
    free(items[1].frame);
}

/* --- a simulated clock not set yet ----------------------------------------- */

Test(unset_clock, reports_are_scheduled_only_from_a_simulated_time_once_it_is_set)
{
    /* seeded from the real clock before the first `clock set`, the schedule
     * could outlive the clearing that set does and leave the monthly report
     * due years away (a test_clocks run saw no monthly report) */
    cluster_start(&c, sim);
    post_item_t item;
    cluster_open_round(&item, NULL, "r-unset-clock");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    free(item.frame);
    cluster_wait_applied(&c); /* workflow has been ticking for a while */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM report_schedule"), 0,
                 "scheduled from the real clock while the simulated one is unset");
    cluster_set_clock(&c, "2021-03-01T00:00:00Z");
    cr_assert_eq(cluster_wait_number(&c, "SELECT count(*) FROM report_schedule", 2, 10000), 2);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM report_schedule WHERE"
                                      " (kind = 'monthly' AND due_at = '2021-04-01T00:00:00Z')"
                                      " OR (kind = 'weekly' AND due_at = '2021-03-08T00:00:00Z')"),
                 2);
    cluster_stop(&c);
}
