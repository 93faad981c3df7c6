/* The notification channels through the real services, against a webhook
 * receiver and an SMTP sink started here on loopback: delivery once with an
 * idempotency key, retry then success, dead letter and resend, a hanging
 * endpoint that holds up nobody else, attempts counted across a crash; the
 * log channel at every log level, and at least once across a crash. */
#include "cluster.h"
#include "ids.h"
#include "log.h"
#include "pgarr.h"
#include "rectify.pb-c.h"
#include "sinks.h"
#include "text.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cluster_t c;
static sink_http_t *http;
static sink_smtp_t *smtp;
static char smtp_env[128], level_env[64];
static const char *env[] = {smtp_env,
                            level_env,
                            "RECTIFY_DELIVERY_TIMEOUT_MS=3000",
                            "RECTIFY_DELIVERY_MAX_ATTEMPTS=3",
                            "RECTIFY_RETRY_BASE_MS=50",
                            "RECTIFY_RETRY_MAX_MS=200",
                            "RECTIFY_MAIL_FROM=rectify@example.gov.cn",
                            NULL};

static void start(const char *log_level)
{
    snprintf(level_env, sizeof level_env, "RECTIFY_LOG_LEVEL=%s", log_level);
    http = sink_http_start();
    smtp = sink_smtp_start();
    cr_assert(http && smtp);
    snprintf(smtp_env, sizeof smtp_env, "RECTIFY_SMTP_URL=%s", sink_smtp_url(smtp));
    cluster_start(&c, env);
}

static void teardown(void)
{
    cluster_stop(&c);
    sink_http_stop(&http);
    sink_smtp_stop(&smtp);
}

static void setup(void)
{
    start("info");
}

static void setup_at_warn(void)
{
    start("warn");
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(notify_at_warn, .init = setup_at_warn, .fini = teardown, .timeout = 120);

static int ctl(char *out, size_t outlen, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "RECTIFY_DB='%s' %s/rectifyctl %s 2>&1", c.db.conninfo,
             RECTIFY_BIN_DIR, args);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void add_webhook(const char *path)
{
    char args[512], out[1024];
    snprintf(args, sizeof args,
             "recipient add --unit sh-cgzf --role duty --channel webhook --address %s%s",
             sink_http_url(http), path);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
}

/* Opens a round on sh-cgzf: one notice (round_opened) to its recipients. */
static void notice_for_sh_cgzf(char *notice_id, size_t len)
{
    post_item_t item;
    cluster_open_round(&item, NULL, "R-notify");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    cr_assert_eq(item.status, POST_ACCEPTED);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT notice_id::text FROM notification WHERE event_id = '%s'",
             item.event_id);
    cr_assert_eq(cluster_wait_number(
                     &c, "SELECT count(*) FROM notification WHERE kind = 'round_opened'", 1, 10000),
                 1);
    testdb_text(&c.db, sql, notice_id, len);
    free(item.frame);
}

/* Adds a webhook at path that answers as told (see sink_http_set), then
 * makes a notice for sh-cgzf. */
static void notice_to_webhook(const char *path, sink_behaviour_t behaviour, int fail_first,
                              char *notice_id, size_t len)
{
    sink_http_set(http, path, behaviour, fail_first);
    add_webhook(path);
    notice_for_sh_cgzf(notice_id, len);
}

/* Waits until the delivery thread has delivered a notice that came after
 * everything before: the inspection office, with a webhook of its own at
 * /probe, is told that a repeated open_round of R-notify was refused. What
 * the thread would have done again by itself, it has done by then. */
static void deliveries_have_moved_on(void)
{
    char args[512], out[1024];
    int probes = sink_http_count(http, "/probe");
    if (probes == 0) {
        snprintf(args, sizeof args,
                 "recipient add --unit inspection-office --role duty --channel webhook"
                 " --address %s/probe --kinds event_refused",
                 sink_http_url(http));
        cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    }
    post_item_t item;
    cluster_open_round(&item, NULL, "R-notify");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    free(item.frame);
    cr_assert_eq(sink_http_wait(http, "/probe", probes + 1, 10000), 0, "the probe never came");
}

static long long delivery(const char *what, const char *path)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM delivery WHERE channel = 'webhook' AND recipient = '%s%s'", what,
             sink_http_url(http), path);
    return testdb_number(&c.db, sql);
}

Test(notify, a_webhook_and_a_mail_are_delivered_once_with_the_notice_id_as_key)
{
    char out[1024], notice[64];
    add_webhook("/ok");
    cr_assert_eq(ctl(out, sizeof out,
                     "recipient add --unit sh-cgzf --role lead --channel mail"
                     " --address leader@sh-cgzf.example.gov.cn"),
                 0, "%s", out);
    cr_assert_eq(ctl(out, sizeof out,
                     "recipient add --unit sh-cgzf --role lead --channel mail"
                     " --address not-an-address"),
                 2, "a bad address was taken: %s", out);
    notice_for_sh_cgzf(notice, sizeof notice);
    cr_assert_eq(sink_http_wait(http, "/ok", 1, 10000), 0);
    cr_assert_eq(sink_smtp_wait(smtp, 1, 10000), 0);
    char body[4096], key[128], type[128];
    cr_assert_eq(
        sink_http_request(http, "/ok", 0, body, sizeof body, key, sizeof key, type, sizeof type),
        0);
    cr_assert_str_eq(key, notice);
    cr_assert(strstr(type, "application/json"), "%s", type);
    cr_assert(strstr(body, "\"kind\":\"round_opened\"") && strstr(body, notice), "%s", body);
    char from[256], to[256], data[8192];
    cr_assert_eq(sink_smtp_message(smtp, 0, from, sizeof from, to, sizeof to, data, sizeof data),
                 0);
    cr_assert_str_eq(from, "rectify@example.gov.cn");
    cr_assert_str_eq(to, "leader@sh-cgzf.example.gov.cn");
    cr_assert(strstr(data, "Subject: =?UTF-8?B?"), "%s", data);
    char msgid[128];
    snprintf(msgid, sizeof msgid, "Message-ID: <%s@rectify>", notice);
    cr_assert(strstr(data, msgid), "%s", data);
    cr_assert(strstr(data, "市委第六巡视组"), "the body is UTF-8 text: %s", data);
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM delivery WHERE status = 'sent'"
                                     " AND channel IN ('webhook', 'mail')",
                                     2, 10000),
                 2);
    deliveries_have_moved_on(); /* a second delivery, if there were one, has come by now */
    cr_assert_eq(sink_http_count(http, "/ok"), 1);
    cr_assert_eq(sink_smtp_count(smtp), 1);
}

Test(notify, a_failing_endpoint_is_tried_again_until_it_succeeds)
{
    char notice[64];
    notice_to_webhook("/flaky", SINK_OK, 2, notice, sizeof notice);
    cr_assert_eq(sink_http_wait(http, "/flaky", 3, 10000), 0);
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM delivery WHERE status = 'sent'"
                                     " AND channel = 'webhook'",
                                     1, 10000),
                 1);
    cr_assert_eq(delivery("attempts", "/flaky"), 3);
    for (int i = 0; i < 3; i++) {
        char key[128];
        cr_assert_eq(sink_http_request(http, "/flaky", i, NULL, 0, key, sizeof key, NULL, 0), 0);
        cr_assert_str_eq(key, notice, "every attempt carries the same key");
    }
    /* the waits grew: the third came later after the second than the second after the first */
    long long t0 = sink_http_received_ms(http, "/flaky", 0),
              t1 = sink_http_received_ms(http, "/flaky", 1),
              t2 = sink_http_received_ms(http, "/flaky", 2);
    cr_assert(t1 > t0 && t2 > t1, "attempts out of order");
}

Test(notify, after_the_last_attempt_a_delivery_is_a_dead_letter_and_can_be_sent_again)
{
    char notice[64], out[4096], args[256];
    notice_to_webhook("/down", SINK_FAIL_500, 0, notice, sizeof notice);
    cr_assert_eq(
        cluster_wait_number(&c, "SELECT count(*) FROM delivery WHERE status = 'dead'", 1, 10000),
        1);
    cr_assert_eq(sink_http_count(http, "/down"), 3, "three attempts, then no more");
    cr_assert_eq(ctl(out, sizeof out, "dead-letters"), 0, "%s", out);
    cr_assert(strstr(out, notice) && strstr(out, "HTTP 500") && strstr(out, "1 dead letter(s)"),
              "%s", out);
    deliveries_have_moved_on();
    cr_assert_eq(sink_http_count(http, "/down"), 3, "a dead letter was tried again by itself");
    /* the endpoint is back; an operator sends the letter again */
    sink_http_set(http, "/down", SINK_OK, 0);
    snprintf(args, sizeof args, "resend %s", notice);
    cr_assert_eq(ctl(out, sizeof out, args), 0, "%s", out);
    cr_assert(strstr(out, "1 dead letter(s) queued again"), "%s", out);
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM delivery WHERE status = 'sent'"
                                     " AND recipient LIKE '%/down'",
                                     1, 10000),
                 1);
    cr_assert_eq(sink_http_count(http, "/down"), 4);
    cr_assert_eq(ctl(out, sizeof out, "dead-letters"), 0);
    cr_assert(strstr(out, "0 dead letter(s)"), "%s", out);
    cr_assert_eq(ctl(out, sizeof out, "resend 00000000-0000-4000-8000-000000000000"), 1,
                 "resending nothing is an error: %s", out);
}

Test(notify, a_hanging_endpoint_does_not_hold_up_another_recipient)
{
    char notice[64];
    sink_http_set(http, "/hang", SINK_HANG, 0);
    add_webhook("/hang");
    add_webhook("/ok");
    notice_for_sh_cgzf(notice, sizeof notice);
    cr_assert_eq(sink_http_wait(http, "/ok", 1, 10000), 0);
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM delivery WHERE status = 'sent'"
                                     " AND channel = 'webhook'",
                                     1, 10000),
                 1);
    /* /ok was delivered while /hang's first attempt (3 s timeout) still hangs */
    cr_assert_eq(sink_http_count(http, "/hang"), 1);
    cr_assert_eq(delivery("attempts", "/hang"), 1, "its first attempt is counted as it begins");
    cr_assert_eq(delivery("(last_error IS NULL)::int", "/hang"), 1,
                 "the hanging delivery had already given up");
    /* and when it times out, it is tried again */
    cr_assert_eq(cluster_wait_number(
                     &c, "SELECT attempts FROM delivery WHERE recipient LIKE '%/hang'", 2, 10000),
                 2);
}

Test(notify, a_webhook_attempt_cut_short_by_a_crash_is_counted)
{
    char notice[64];
    notice_to_webhook("/slow", SINK_HANG, 0, notice, sizeof notice);
    cr_assert_eq(sink_http_wait(http, "/slow", 1, 10000), 0);
    /* notification dies while the endpoint holds the first attempt */
    int status = cluster_signal(&c, SVC_NOTIFY, SIGKILL);
    cr_assert(WIFSIGNALED(status));
    sink_http_set(http, "/slow", SINK_OK, 0);
    cluster_spawn(&c, SVC_NOTIFY);
    /* once the first attempt's lease has run out, the second one succeeds */
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM delivery WHERE status = 'sent'"
                                     " AND recipient LIKE '%/slow'",
                                     1, 20000),
                 1);
    cr_assert_eq(sink_http_count(http, "/slow"), 2);
    cr_assert_eq(delivery("attempts", "/slow"), 2, "the endpoint saw two attempts");
}

/* How many lines of notification's log name the notice as theirs. */
static int log_lines_of(const char *notice_id)
{
    char path[256], needle[96], line[LOG_LINE_MAX + 2];
    snprintf(path, sizeof path, "%s/notify.log", c.dir);
    snprintf(needle, sizeof needle, "\"notice_id\":\"%s\"", notice_id);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) && strstr(line, "\"channel\":\"log\"");
    fclose(f);
    return n;
}

static long long log_delivery(const char *notice_id, const char *what)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM delivery WHERE channel = 'log' AND notice_id = '%s'",
             what, notice_id);
    return testdb_number(&c.db, sql);
}

static void wait_log_sent(const char *notice_id)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM delivery WHERE channel = 'log' AND notice_id = '%s'"
             " AND status = 'sent'",
             notice_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 20000), 1, "the log delivery was never sent");
}

static void exec_sql(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
}

Test(notify, a_log_line_written_again_after_a_crash_counts_as_a_second_attempt)
{
    /* the mark that records a log line as sent waits on a lock the test holds */
    PGconn *hold = PQconnectdb(c.db.conninfo);
    cr_assert_eq(PQstatus(hold), CONNECTION_OK);
    exec_sql(hold, "CREATE FUNCTION hold_log_mark() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN PERFORM pg_advisory_xact_lock(7007); RETURN NEW; END $$");
    exec_sql(hold, "CREATE TRIGGER hold_log_mark BEFORE UPDATE ON delivery FOR EACH ROW"
                   " WHEN (NEW.status = 'sent' AND OLD.channel = 'log')"
                   " EXECUTE FUNCTION hold_log_mark()");
    exec_sql(hold, "SELECT pg_advisory_lock(7007)");
    char notice[64];
    notice_for_sh_cgzf(notice, sizeof notice);
    /* the line is out and its mark is waiting: notification crashes now */
    cr_assert_eq(cluster_wait_number(&c,
                                     "SELECT count(*) FROM pg_stat_activity"
                                     " WHERE datname = current_database()"
                                     " AND wait_event = 'advisory'",
                                     1, 10000),
                 1);
    cr_assert_eq(log_lines_of(notice), 1);
    int status = cluster_signal(&c, SVC_NOTIFY, SIGKILL);
    cr_assert(WIFSIGNALED(status));
    /* its waiting statement dies with it, uncommitted */
    exec_sql(hold, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE datname = current_database() AND wait_event = 'advisory'");
    exec_sql(hold, "DROP TRIGGER hold_log_mark ON delivery");
    exec_sql(hold, "SELECT pg_advisory_unlock(7007)");
    PQfinish(hold);
    cr_assert_eq(log_delivery(notice, "(status = 'pending')::int"), 1, "the mark was not undone");
    cluster_spawn(&c, SVC_NOTIFY);
    wait_log_sent(notice);
    /* at least once, with the notice id as the key, and counted honestly */
    cr_assert_eq(log_lines_of(notice), 2);
    cr_assert_eq(log_delivery(notice, "attempts"), 2);
}

Test(notify_at_warn, the_log_channel_writes_a_notice_whatever_the_log_level)
{
    char notice[64];
    notice_for_sh_cgzf(notice, sizeof notice);
    wait_log_sent(notice);
    cr_assert_eq(log_lines_of(notice), 1, "the notice was marked sent but not written");
    cr_assert_eq(log_delivery(notice, "attempts"), 1);
    /* the level still holds for everything else */
    char path[256], line[LOG_LINE_MAX + 2];
    snprintf(path, sizeof path, "%s/notify.log", c.dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    while (fgets(line, sizeof line, f))
        cr_assert(!strstr(line, "\"level\":\"info\"") || strstr(line, "\"channel\":\"log\""),
                  "an info line at log_level=warn: %s", line);
    fclose(f);
}

/* Queues a notice for sh-cgzf in workflow's outbox to notification, as
 * workflow does, with the texts given; workflow's pump sends it on. */
static void queue_notice(const char *notice_id, const char *subject, const char *body)
{
    char event_id[IDS_UUID_LEN + 1];
    ids_new_uuid(event_id);
    Rectify__Notice n = RECTIFY__NOTICE__INIT;
    n.notice_id = (char *)notice_id;
    n.event_id = event_id;
    n.kind = "test_notice";
    n.unit = "sh-cgzf";
    n.subject = (char *)subject;
    n.body = (char *)body;
    size_t len = rectify__notice__get_packed_size(&n);
    uint8_t *packed = malloc(len);
    cr_assert(packed);
    rectify__notice__pack(&n, packed);
    pgarr_t ids, payloads;
    pgarr_init(&ids);
    pgarr_init(&payloads);
    pgarr_add_text(&ids, event_id);
    pgarr_add_bytea(&payloads, packed, len);
    const char *params[] = {pgarr_text(&ids), pgarr_text(&payloads)};
    PGconn *conn = PQconnectdb(c.db.conninfo);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK);
    PGresult *r = PQexecParams(conn, "SELECT outbox_put('notify', $1::uuid[], $2::bytea[])", 2,
                               NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    pgarr_free(&ids);
    pgarr_free(&payloads);
    free(packed);
}

#define BROKEN_NOTICE "0c6ab7b5-4a57-4d6f-9d55-7d3c1a9e0001"

Test(notify, a_notice_with_bytes_postgresql_refuses_is_stored_mended_and_holds_up_nothing)
{
    /* cut in the middle of a character, and a stray byte */
    queue_notice(BROKEN_NOTICE, "整改\xE6\x95", "body \xFF end");
    char later[64], text[256];
    notice_for_sh_cgzf(later, sizeof later); /* comes after it, and is not held back */
    testdb_text(&c.db, "SELECT subject FROM notification WHERE notice_id = '" BROKEN_NOTICE "'",
                text, sizeof text);
    cr_assert_str_eq(text, "整改", "a character cut off at the end is dropped");
    testdb_text(&c.db, "SELECT body FROM notification WHERE notice_id = '" BROKEN_NOTICE "'", text,
                sizeof text);
    cr_assert_str_eq(text, "body ? end");
    wait_log_sent(BROKEN_NOTICE);
    cr_assert_eq(log_lines_of(BROKEN_NOTICE), 1);
}

/* Decodes base64 text into out; returns the length. */
static size_t unbase64(const char *in, size_t len, char *out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned bits = 0, nbits = 0;
    for (size_t i = 0; i < len && in[i] != '='; i++) {
        const char *p = strchr(b64, in[i]);
        cr_assert(p && *p, "not base64: %.*s", (int)len, in);
        bits = (bits << 6) | (unsigned)(p - b64);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[n++] = (char)((bits >> nbits) & 0xFF);
        }
    }
    return n;
}

#define LONG_NOTICE "0c6ab7b5-4a57-4d6f-9d55-7d3c1a9e0002"

Test(notify, a_long_chinese_subject_is_mailed_whole_in_encoded_words_of_whole_characters)
{
    char out[1024];
    cr_assert_eq(ctl(out, sizeof out,
                     "recipient add --unit sh-cgzf --role lead --channel mail"
                     " --address leader@sh-cgzf.example.gov.cn"),
                 0, "%s", out);
    char subject[1200] = "x"; /* so that no character ends on a multiple of 3 bytes */
    for (int i = 0; i < 350; i++)
        strcat(subject, "整");
    queue_notice(LONG_NOTICE, subject, "正文");
    cr_assert_eq(sink_smtp_wait(smtp, 1, 10000), 0);
    static char data[16384];
    cr_assert_eq(sink_smtp_message(smtp, 0, NULL, 0, NULL, 0, data, sizeof data), 0);
    /* Subject: word CRLF SP word CRLF SP ... CRLF (RFC 2047: words of at most
     * 75 characters, each holding whole characters) */
    char *p = strstr(data, "\r\nSubject: ");
    cr_assert(p, "[%s]", data);
    p += strlen("\r\nSubject: ");
    char got[1200];
    size_t n = 0;
    for (;;) {
        char *end = strstr(p, "\r\n");
        cr_assert(end);
        size_t wlen = (size_t)(end - p);
        cr_assert_leq(wlen, 75, "an encoded word of %zu characters", wlen);
        cr_assert(wlen > 12 && !strncmp(p, "=?UTF-8?B?", 10) && !strncmp(end - 2, "?=", 2),
                  "not an encoded word: %.*s", (int)wlen, p);
        size_t k = unbase64(p + 10, wlen - 12, got + n);
        cr_assert_eq(text_check(got + n, k, 0, NULL), TEXT_OK, "a word cuts a character");
        n += k;
        cr_assert_lt(n, sizeof got - 4);
        if (end[2] != ' ')
            break;
        p = end + 3;
    }
    got[n] = '\0';
    cr_assert_str_eq(got, subject, "the subject arrived cut");
}
