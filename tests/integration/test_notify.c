/* The notification channels through the real services, against a webhook
 * receiver and an SMTP sink started here on loopback: delivery once with an
 * idempotency key, retry then success, dead letter and resend, a hanging
 * endpoint that holds up nobody else. */
#include "cluster.h"
#include "sinks.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static cluster_t c;
static sink_http_t *http;
static sink_smtp_t *smtp;
static char smtp_env[128];
static const char *env[] = {smtp_env,
                            "RECTIFY_DELIVERY_TIMEOUT_MS=3000",
                            "RECTIFY_DELIVERY_MAX_ATTEMPTS=3",
                            "RECTIFY_RETRY_BASE_MS=50",
                            "RECTIFY_RETRY_MAX_MS=200",
                            "RECTIFY_MAIL_FROM=rectify@example.gov.cn",
                            NULL};

static void setup(void)
{
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

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 120);

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
    sink_http_set(http, "/flaky", SINK_OK, 2);
    add_webhook("/flaky");
    notice_for_sh_cgzf(notice, sizeof notice);
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
    sink_http_set(http, "/down", SINK_FAIL_500, 0);
    add_webhook("/down");
    notice_for_sh_cgzf(notice, sizeof notice);
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
    sink_http_set(http, "/slow", SINK_HANG, 0);
    add_webhook("/slow");
    notice_for_sh_cgzf(notice, sizeof notice);
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
