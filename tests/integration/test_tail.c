/* rectify-tail against a log stream published by the test itself (an XPUB
 * socket, which tells when the tail's subscription has arrived): a line it
 * cannot parse is shown, marked, and counted, never dropped; a notice line
 * the log channel wrote twice is shown once. */
#include "log.h"
#include "tail.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static void *ctx, *xpub;
static char dir[64], endpoint[128];

static void setup(void)
{
    /* these tests read the tool's output of a stream the test publishes
     * itself, in plain mode; the CURVE streams are test_auth's and
     * test_services' */
    setenv("RECTIFY_ALLOW_PLAIN", "true", 1);
    snprintf(dir, sizeof dir, "/tmp/rectify-tail-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(endpoint, sizeof endpoint, "ipc://%s/log.sock", dir);
    ctx = zmq_ctx_new();
    xpub = zmq_socket(ctx, ZMQ_XPUB);
    int linger = 0;
    zmq_setsockopt(xpub, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_bind(xpub, endpoint), 0);
}

static void teardown(void)
{
    zmq_close(xpub);
    zmq_ctx_term(ctx);
    char sock[160];
    snprintf(sock, sizeof sock, "%s/log.sock", dir);
    unlink(sock);
    rmdir(dir);
}

TestSuite(tail, .init = setup, .fini = teardown, .timeout = 30);

/* Starts the tail on our stream and waits until its subscription is here. */
static pid_t start(const char *const *extra, int *out_fd, int *err_fd)
{
    const char *args[16];
    int n = 0;
    for (; extra[n]; n++)
        args[n] = extra[n];
    args[n++] = "--timeout-ms";
    args[n++] = "20000";
    args[n++] = endpoint;
    args[n] = NULL;
    pid_t pid = tail_start(args, out_fd, err_fd);
    zmq_pollitem_t pi = {xpub, 0, ZMQ_POLLIN, 0};
    cr_assert_eq(zmq_poll(&pi, 1, 10000), 1, "the tail never subscribed");
    char sub[8];
    cr_assert_geq(zmq_recv(xpub, sub, sizeof sub, 0), 1);
    cr_assert_eq(sub[0], 1, "a subscription");
    return pid;
}

static void publish(const char *line)
{
    cr_assert_geq(zmq_send(xpub, line, strlen(line), 0), 0);
}

/* A log line as a service writes it. */
static void publish_line(const char *msg, const log_field_t *fields, size_t nfields)
{
    char line[LOG_LINE_MAX];
    log_format(line, sizeof line, 1764078777123LL, LOG_INFO, "notify", NULL, "sh-cgzf", fields,
               nfields, msg);
    publish(line);
}

static void notice(const char *notice_id, const char *channel)
{
    log_field_t f[] = {LF_STR("notice_id", notice_id), LF_STR("channel", channel)};
    char msg[128];
    snprintf(msg, sizeof msg, "notice: %s", notice_id);
    publish_line(msg, f, 2);
}

static void finish(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tail status %d", status);
}

static int occurrences(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

Test(tail, a_line_it_cannot_parse_is_shown_marked_and_counted)
{
    const char *args[] = {"--count", "1", NULL};
    int out_fd, err_fd;
    pid_t pid = start(args, &out_fd, &err_fd);
    publish("not json at all");
    publish("{\"level\":\"info\",\"msg\":\"cut \xE6\x95\"}"); /* JSON, but not UTF-8 */
    publish_line("the end", NULL, 0);
    finish(pid);
    char out[8192], err[1024];
    tail_read(out_fd, out, sizeof out);
    tail_read(err_fd, err, sizeof err);
    cr_assert(strstr(out, "[unparsed] not json at all\n"), "%s", out);
    cr_assert(strstr(out, "[unparsed] {\"level\":\"info\",\"msg\":\"cut ??\"}\n"), "%s", out);
    cr_assert(strstr(out, "the end"), "%s", out);
    cr_assert(strstr(err, "2 line(s) could not be parsed"), "stderr: %s", err);
}

Test(tail, as_json_a_line_it_cannot_parse_is_wrapped_in_a_line_of_its_own)
{
    const char *args[] = {"--json", "--count", "1", NULL};
    int out_fd, err_fd;
    pid_t pid = start(args, &out_fd, &err_fd);
    publish("{\"level\":\"info\",\"msg\":\"cut \xE6\x95\"}");
    publish_line("the end", NULL, 0);
    finish(pid);
    char out[8192], err[1024];
    tail_read(out_fd, out, sizeof out);
    tail_read(err_fd, err, sizeof err);
    char *nl = strchr(out, '\n');
    cr_assert(nl, "%s", out);
    *nl = '\0';
    json_error_t jerr;
    json_t *o = json_loads(out, 0, &jerr);
    cr_assert(o, "not JSON (%s): %s", jerr.text, out);
    cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
    cr_assert_str_eq(json_string_value(json_object_get(o, "line")),
                     "{\"level\":\"info\",\"msg\":\"cut \xEF\xBF\xBD\xEF\xBF\xBD\"}");
    json_decref(o);
    cr_assert(strstr(nl + 1, "the end"), "%s", nl + 1);
    cr_assert(strstr(err, "1 line(s) could not be parsed"), "stderr: %s", err);
}

#define N1 "7d444840-9dc0-11d1-b245-5ffdce74fad1"
#define N2 "7d444840-9dc0-11d1-b245-5ffdce74fad2"

Test(tail, a_notice_line_written_twice_is_shown_once)
{
    const char *args[] = {"--json", "--count", "3", NULL};
    int out_fd, err_fd;
    pid_t pid = start(args, &out_fd, &err_fd);
    notice(N1, "log");
    notice(N1, "log");     /* again, after a crash before the mark */
    notice(N1, "webhook"); /* not a log-channel line: not a repeat of it */
    notice(N2, "log");
    finish(pid);
    char out[8192];
    tail_read(out_fd, out, sizeof out);
    cr_assert_eq(occurrences(out, "\"notice_id\":\"" N1 "\",\"channel\":\"log\""), 1, "%s", out);
    cr_assert_eq(occurrences(out, "\"notice_id\":\"" N1 "\",\"channel\":\"webhook\""), 1, "%s",
                 out);
    cr_assert_eq(occurrences(out, "\"notice_id\":\"" N2 "\""), 1, "%s", out);
    char err[1024];
    tail_read(err_fd, err, sizeof err);
    cr_assert(strstr(err, "1 notice line(s) came again"), "stderr: %s", err);
}

Test(tail, its_memory_of_notices_is_bounded)
{
    const char *args[] = {"--json", "--count", "3", "--remember", "1", NULL};
    int out_fd;
    pid_t pid = start(args, &out_fd, NULL);
    notice(N1, "log");
    notice(N2, "log");
    notice(N1, "log"); /* N2 pushed N1 out of a memory of one */
    finish(pid);
    char out[8192];
    tail_read(out_fd, out, sizeof out);
    cr_assert_eq(occurrences(out, N1), 4, "twice in each line: %s", out);
}
