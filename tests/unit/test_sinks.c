/* sinks: the loopback HTTP receiver and SMTP sink that integration tests deliver to, driven by
 * libcurl (the client the notification service uses) and by raw sockets. */
#include "sinks.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void s_curl_init(void)
{
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void s_curl_fini(void)
{
    curl_global_cleanup();
}

/* One timeout for both suites: Criterion 2.4's runner leaks a little when suites differ in it. */
#define S_TIMEOUT_S 120
TestSuite(sink_http, .init = s_curl_init, .fini = s_curl_fini, .timeout = S_TIMEOUT_S);
TestSuite(sink_smtp, .init = s_curl_init, .fini = s_curl_fini, .timeout = S_TIMEOUT_S);

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- libcurl HTTP client ---- */

typedef struct {
    char data[1024];
    size_t len;
} s_text_t;

static size_t s_collect(char *p, size_t size, size_t n, void *ud)
{
    s_text_t *t = ud;
    size_t total = size * n, room = sizeof t->data - 1 - t->len;
    size_t k = total < room ? total : room;
    memcpy(t->data + t->len, p, k);
    t->len += k;
    t->data[t->len] = '\0';
    return total;
}

typedef struct {
    CURLcode rc;
    long status;
    long connects; /* new connections this transfer opened */
    s_text_t body;
} s_result_t;

/* POSTs body[0..body_len) as JSON with an Idempotency-Key (when key) to base+path, or GETs when
 * body is NULL. h is reset first, so its open connection is reused. */
static s_result_t s_http_n(CURL *h, const char *base, const char *path, const char *body,
                           size_t body_len, const char *key, long timeout_ms)
{
    s_result_t r;
    memset(&r, 0, sizeof r);
    char url[512], key_header[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    cr_assert_not_null(headers);
    if (key) {
        snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", key);
        struct curl_slist *more = curl_slist_append(headers, key_header);
        cr_assert_not_null(more);
        headers = more;
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    if (body) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r.connects);
    curl_slist_free_all(headers);
    return r;
}

static s_result_t s_http(CURL *h, const char *base, const char *path, const char *body,
                         const char *key)
{
    return s_http_n(h, base, path, body, body ? strlen(body) : 0, key, 5000);
}

/* A request on its own thread and handle, to /hang. */
typedef struct {
    const char *base;
    long timeout_ms;
    CURLcode rc;
    long long elapsed_ms;
    atomic_int done;
} s_hanging_t;

static void *s_hanging_main(void *arg)
{
    s_hanging_t *hg = arg;
    CURL *h = curl_easy_init();
    if (!h) {
        hg->rc = CURLE_FAILED_INIT;
        atomic_store(&hg->done, 1);
        return NULL;
    }
    long long t0 = s_now_ms();
    s_result_t r = s_http_n(h, hg->base, "/hang", "{\"n\":1}", 7, "k-hang", hg->timeout_ms);
    hg->elapsed_ms = s_now_ms() - t0;
    hg->rc = r.rc;
    curl_easy_cleanup(h);
    atomic_store(&hg->done, 1);
    return NULL;
}

/* ---- raw sockets and process state ---- */

static int s_port_of(const char *url)
{
    const char *colon = strrchr(url, ':');
    cr_assert_not_null(colon, "no port in %s", url);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    cr_assert(errno == 0 && *end == '\0' && port > 0 && port < 65536, "bad port in %s", url);
    return (int)port;
}

/* A blocking socket connected to the sink at url, with a 5 s receive timeout. */
static int s_raw_connect(const char *url)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)s_port_of(url));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void s_raw_send(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "send: %s", strerror(errno));
        off += (size_t)w;
    }
}

/* Reads until the peer closes. Returns the length read; *eof says whether it did close (rather
 * than the receive timeout expiring). */
static size_t s_raw_read_all(int fd, char *buf, size_t cap, int *eof)
{
    size_t len = 0;
    *eof = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n == 0) {
            *eof = 1;
            break;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *eof = errno == ECONNRESET;
            break;
        }
        len += (size_t)n;
        if (len == cap - 1)
            break;
    }
    buf[len] = '\0';
    return len;
}

/* Reads one SMTP reply (all its lines) into buf; returns its code, or -1. */
static int s_smtp_reply(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (len < 2 || buf[len - 1] != '\n')
            continue;
        const char *last = buf; /* start of the last complete line */
        for (const char *p = buf; p < buf + len - 1; p++)
            if (*p == '\n')
                last = p + 1;
        if (strlen(last) >= 4 && last[3] == ' ')
            return (int)strtol(buf, NULL, 10);
        if (len == cap - 1)
            return -1;
    }
}

static int s_smtp_command(int fd, const char *command)
{
    char reply[1024];
    s_raw_send(fd, command);
    return s_smtp_reply(fd, reply, sizeof reply);
}

static int s_count_dir(const char *path)
{
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int s_count_threads(void)
{
    return s_count_dir("/proc/self/task");
}

static int s_count_fds(void)
{
    return s_count_dir("/proc/self/fd");
}

/* ---- HTTP ---- */

Test(sink_http, listens_on_loopback_on_a_port_the_kernel_chose)
{
    sink_http_t *a = sink_http_start();
    sink_http_t *b = sink_http_start();
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_eq(strncmp(sink_http_url(a), "http://127.0.0.1:", 17), 0, "%s", sink_http_url(a));
    cr_assert_neq(s_port_of(sink_http_url(a)), s_port_of(sink_http_url(b)));
    sink_http_stop(&a);
    sink_http_stop(&b);
}

Test(sink_http, a_json_post_is_stored_with_its_idempotency_key_and_content_type)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/hook", SINK_OK, 0);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);

    long long before = s_now_ms();
    s_result_t r = s_http(h, sink_http_url(s), "/hook", "{\"notice\":\"n-1\"}", "key-123");
    long long after = s_now_ms();
    cr_assert_eq(r.rc, CURLE_OK, "%s", curl_easy_strerror(r.rc));
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body.data, "ok");

    cr_assert_eq(sink_http_count(s, "/hook"), 1);
    cr_assert_eq(sink_http_count(s, "/other"), 0);
    char body[256], key[64], ct[64];
    cr_assert_eq(
        sink_http_request(s, "/hook", 0, body, sizeof body, key, sizeof key, ct, sizeof ct), 0);
    cr_assert_str_eq(body, "{\"notice\":\"n-1\"}");
    cr_assert_str_eq(key, "key-123");
    cr_assert_str_eq(ct, "application/json");
    long long at = sink_http_received_ms(s, "/hook", 0);
    cr_assert(at >= before && at <= after, "received at %lld, not in [%lld, %lld]", at, before,
              after);

    char small[4];
    cr_assert_eq(sink_http_request(s, "/hook", 0, NULL, 0, small, sizeof small, NULL, 0), 0);
    cr_assert_str_eq(small, "key", "outputs are truncated and NUL-terminated");
    cr_assert_eq(
        sink_http_request(s, "/hook", 1, body, sizeof body, key, sizeof key, ct, sizeof ct), -1);
    cr_assert_eq(sink_http_request(s, "/hook", -1, NULL, 0, NULL, 0, NULL, 0), -1);
    cr_assert_eq(sink_http_received_ms(s, "/hook", 1), -1);
    cr_assert_eq(sink_http_received_ms(s, "/other", 0), -1);

    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, fail_first_answers_500_then_200_on_one_kept_alive_connection)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/flaky", SINK_OK, 2);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);

    long expected[] = {500, 500, 200, 200};
    long connects = 0;
    for (int i = 0; i < 4; i++) {
        char key[32];
        snprintf(key, sizeof key, "k-%d", i);
        s_result_t r = s_http(h, sink_http_url(s), "/flaky", "{}", key);
        cr_assert_eq(r.rc, CURLE_OK, "%s", curl_easy_strerror(r.rc));
        cr_assert_eq(r.status, expected[i], "request %d got %ld", i, r.status);
        connects += r.connects;
    }
    cr_assert_eq(connects, 1, "keep-alive: one connection for all requests, not %ld", connects);
    cr_assert_eq(sink_http_count(s, "/flaky"), 4, "failed requests are counted too");
    char key[32];
    cr_assert_eq(sink_http_request(s, "/flaky", 2, NULL, 0, key, sizeof key, NULL, 0), 0);
    cr_assert_str_eq(key, "k-2");

    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, fail_500_always_fails_and_unconfigured_paths_answer_200)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/down", SINK_FAIL_500, 0);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);

    for (int i = 0; i < 3; i++) {
        s_result_t r = s_http(h, sink_http_url(s), "/down", "{}", "k");
        cr_assert_eq(r.rc, CURLE_OK);
        cr_assert_eq(r.status, 500);
    }
    s_result_t r = s_http(h, sink_http_url(s), "/anything?x=1", NULL, NULL);
    cr_assert_eq(r.rc, CURLE_OK);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body.data, "ok");
    cr_assert_eq(sink_http_count(s, "/down"), 3);
    cr_assert_eq(sink_http_count(s, "/anything"), 1, "the query string is not part of the path");

    sink_http_set(s, "/down", SINK_OK, 0);
    r = s_http(h, sink_http_url(s), "/down", "{}", "k");
    cr_assert_eq(r.status, 200, "setting a path again replaces its behaviour");

    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, a_hanging_path_times_the_client_out_while_another_path_answers)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/hang", SINK_HANG, 0);
    sink_http_set(s, "/fast", SINK_OK, 0);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    s_result_t r = s_http(h, sink_http_url(s), "/fast", "{}", "warm-up");
    cr_assert_eq(r.status, 200);

    s_hanging_t hg = {.base = sink_http_url(s), .timeout_ms = 300};
    atomic_init(&hg.done, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, s_hanging_main, &hg), 0);
    cr_assert_eq(sink_http_wait(s, "/hang", 1, 5000), 0, "the hanging request never arrived");

    long long t0 = s_now_ms();
    r = s_http(h, sink_http_url(s), "/fast", "{}", "during-hang");
    long long fast_ms = s_now_ms() - t0;
    int hang_done = atomic_load(&hg.done);
    cr_assert_eq(r.rc, CURLE_OK);
    cr_assert_eq(r.status, 200);
    cr_assert_not(hang_done, "the other path answered only after the hanging one gave up");
    cr_assert_lt(fast_ms, 300, "the other path took %lld ms", fast_ms);

    pthread_join(t, NULL);
    cr_assert_eq(hg.rc, CURLE_OPERATION_TIMEDOUT, "%s", curl_easy_strerror(hg.rc));
    cr_assert_geq(hg.elapsed_ms, 290);
    char key[32];
    cr_assert_eq(sink_http_request(s, "/hang", 0, NULL, 0, key, sizeof key, NULL, 0), 0);
    cr_assert_str_eq(key, "k-hang", "a hanging path still stores the request");

    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, stopping_releases_a_client_waiting_on_a_hanging_path)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/hang", SINK_HANG, 0);
    s_hanging_t hg = {.base = sink_http_url(s), .timeout_ms = 20000};
    atomic_init(&hg.done, 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, s_hanging_main, &hg), 0);
    cr_assert_eq(sink_http_wait(s, "/hang", 1, 5000), 0);

    long long t0 = s_now_ms();
    sink_http_stop(&s);
    pthread_join(t, NULL);
    long long took = s_now_ms() - t0;
    cr_assert_null(s);
    cr_assert_neq(hg.rc, CURLE_OK);
    cr_assert_neq(hg.rc, CURLE_OPERATION_TIMEDOUT, "the connection stayed open after stop");
    cr_assert_lt(took, 5000, "stop and the client's release took %lld ms", took);
}

typedef struct {
    const char *base;
    int id;
    int failures;
} s_worker_t;

static void *s_worker_main(void *arg)
{
    s_worker_t *w = arg;
    CURL *h = curl_easy_init();
    if (!h) {
        w->failures = 1;
        return NULL;
    }
    for (int j = 0; j < 20; j++) {
        char key[32], body[64];
        snprintf(key, sizeof key, "w%d-%d", w->id, j);
        snprintf(body, sizeof body, "{\"w\":%d,\"j\":%d}", w->id, j);
        s_result_t r = s_http_n(h, w->base, "/many", body, strlen(body), key, 10000);
        if (r.rc != CURLE_OK || r.status != 200)
            w->failures++;
    }
    curl_easy_cleanup(h);
    return NULL;
}

Test(sink_http, concurrent_clients_are_all_served_and_stored)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    enum { WORKERS = 8 };
    pthread_t t[WORKERS];
    s_worker_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (s_worker_t){.base = sink_http_url(s), .id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, s_worker_main, &w[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < WORKERS; i++)
        cr_assert_eq(w[i].failures, 0, "worker %d had %d failures", i, w[i].failures);
    cr_assert_eq(sink_http_count(s, "/many"), WORKERS * 20);

    int seen[WORKERS][20];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < WORKERS * 20; k++) {
        char key[32], body[64];
        cr_assert_eq(sink_http_request(s, "/many", k, body, sizeof body, key, sizeof key, NULL, 0),
                     0);
        int wi, j;
        cr_assert_eq(sscanf(key, "w%d-%d", &wi, &j), 2, "key %s", key);
        cr_assert(wi >= 0 && wi < WORKERS && j >= 0 && j < 20);
        char expected[64];
        snprintf(expected, sizeof expected, "{\"w\":%d,\"j\":%d}", wi, j);
        cr_assert_str_eq(body, expected, "the body belongs with its key");
        seen[wi][j]++;
    }
    for (int i = 0; i < WORKERS; i++)
        for (int j = 0; j < 20; j++)
            cr_assert_eq(seen[i][j], 1, "request w%d-%d seen %d times", i, j, seen[i][j]);
    sink_http_stop(&s);
}

Test(sink_http, pipelined_requests_are_answered_in_order_and_bad_ones_refused)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_set(s, "/b", SINK_FAIL_500, 0);
    int fd = s_raw_connect(sink_http_url(s));
    s_raw_send(fd, "POST /a HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: 5\r\n"
                   "IDEMPOTENCY-KEY:   spaced  \r\n\r\nhello"
                   "\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                   "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    char buf[4096];
    int eof;
    s_raw_read_all(fd, buf, sizeof buf, &eof);
    close(fd);
    cr_assert(eof, "the connection was not closed after Connection: close");
    const char *first = strstr(buf, "HTTP/1.1 200 OK\r\n");
    const char *second = first ? strstr(first + 1, "HTTP/1.1 500 ") : NULL;
    const char *third = second ? strstr(second + 1, "HTTP/1.1 200 OK\r\n") : NULL;
    cr_assert(first == buf && second && third, "responses: %s", buf);
    cr_assert_not_null(strstr(third, "Connection: close\r\n"));

    char body[16], key[16];
    cr_assert_eq(sink_http_request(s, "/a", 0, body, sizeof body, key, sizeof key, NULL, 0), 0);
    cr_assert_str_eq(body, "hello");
    cr_assert_str_eq(key, "spaced");
    cr_assert_eq(sink_http_request(s, "/b", 0, body, sizeof body, NULL, 0, NULL, 0), 0);
    cr_assert_str_eq(body, "abc");
    cr_assert_eq(sink_http_count(s, "/c"), 1);

    fd = s_raw_connect(sink_http_url(s));
    s_raw_send(fd, "NONSENSE\r\n\r\n");
    s_raw_read_all(fd, buf, sizeof buf, &eof);
    close(fd);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 400 ", 13), 0, "%s", buf);
    cr_assert(eof);

    fd = s_raw_connect(sink_http_url(s));
    s_raw_send(fd, "GET / HTTP/2.0\r\n\r\n");
    s_raw_read_all(fd, buf, sizeof buf, &eof);
    close(fd);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 505 ", 13), 0, "%s", buf);
    sink_http_stop(&s);
}

Test(sink_http, expect_100_continue_is_honoured_and_http_1_0_closes)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    int fd = s_raw_connect(sink_http_url(s));
    s_raw_send(fd,
               "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    cr_assert_gt(n, 0, "no interim answer to Expect: 100-continue");
    buf[n] = '\0';
    cr_assert_str_eq(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    s_raw_send(fd, "body");
    n = recv(fd, buf, sizeof buf - 1, 0);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    cr_assert_eq(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", buf);
    close(fd);
    char body[16];
    cr_assert_eq(sink_http_request(s, "/e", 0, body, sizeof body, NULL, 0, NULL, 0), 0);
    cr_assert_str_eq(body, "body");

    fd = s_raw_connect(sink_http_url(s));
    s_raw_send(fd, "GET /old HTTP/1.0\r\n\r\n");
    int eof;
    s_raw_read_all(fd, buf, sizeof buf, &eof);
    close(fd);
    cr_assert_eq(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", buf);
    cr_assert(eof, "an HTTP/1.0 request without keep-alive must close the connection");
    sink_http_stop(&s);
}

Test(sink_http, bodies_up_to_64_kib_are_kept_and_larger_ones_refused)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    size_t n = SINK_HTTP_MAX_BODY + 1;
    char *big = malloc(n + 1);
    char *back = malloc(n + 1);
    cr_assert(big && back);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';

    s_result_t r = s_http_n(h, sink_http_url(s), "/big", big, n - 1, "k", 5000);
    cr_assert_eq(r.rc, CURLE_OK, "%s", curl_easy_strerror(r.rc));
    cr_assert_eq(r.status, 200);
    cr_assert_eq(sink_http_request(s, "/big", 0, back, n + 1, NULL, 0, NULL, 0), 0);
    cr_assert_eq(strlen(back), n - 1);
    cr_assert_eq(memcmp(back, big, n - 1), 0);

    r = s_http_n(h, sink_http_url(s), "/big", big, n, "k", 5000);
    cr_assert_eq(r.rc, CURLE_OK, "%s", curl_easy_strerror(r.rc));
    cr_assert_eq(r.status, 413);
    cr_assert_eq(sink_http_count(s, "/big"), 1, "refused bodies are not stored");

    free(big);
    free(back);
    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

static size_t s_read_nothing_more(char *p, size_t size, size_t n, void *ud)
{
    int *sent = ud;
    if (*sent || size * n < 2)
        return 0;
    *sent = 1;
    memcpy(p, "{}", 2);
    return 2;
}

Test(sink_http, chunked_uploads_are_refused_with_501)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    char url[128];
    snprintf(url, sizeof url, "%s/chunked", sink_http_url(s));
    int sent = 0;
    s_text_t out;
    memset(&out, 0, sizeof out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, s_read_nothing_more);
    curl_easy_setopt(h, CURLOPT_READDATA, &sent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    cr_assert_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));
    cr_assert_eq(status, 501);
    cr_assert_eq(sink_http_count(s, "/chunked"), 0);
    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, only_the_first_1000_requests_are_stored_but_all_are_answered)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    for (int i = 0; i < SINK_HTTP_MAX_REQUESTS + 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "k-%d", i);
        s_result_t r = s_http(h, sink_http_url(s), i % 2 ? "/odd" : "/even", "{}", key);
        cr_assert_eq(r.rc, CURLE_OK, "request %d: %s", i, curl_easy_strerror(r.rc));
        cr_assert_eq(r.status, 200, "request %d", i);
    }
    cr_assert_eq(sink_http_count(s, "/odd") + sink_http_count(s, "/even"), SINK_HTTP_MAX_REQUESTS);
    char key[32];
    cr_assert_eq(sink_http_request(s, "/odd", SINK_HTTP_MAX_REQUESTS / 2 - 1, NULL, 0, key,
                                   sizeof key, NULL, 0),
                 0);
    cr_assert_str_eq(key, "k-999");
    cr_assert_eq(
        sink_http_request(s, "/odd", SINK_HTTP_MAX_REQUESTS / 2, NULL, 0, key, sizeof key, NULL, 0),
        -1);
    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, wait_returns_when_the_count_is_reached_or_the_time_is_up)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    long long t0 = s_now_ms();
    cr_assert_eq(sink_http_wait(s, "/w", 1, 200), -1);
    cr_assert_geq(s_now_ms() - t0, 190);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    s_result_t r = s_http(h, sink_http_url(s), "/w", "{}", "k");
    cr_assert_eq(r.status, 200);
    cr_assert_eq(sink_http_wait(s, "/w", 1, 0), 0);
    curl_easy_cleanup(h);
    sink_http_stop(&s);
}

Test(sink_http, stop_closes_every_socket_and_joins_every_thread)
{
    int fds_before = s_count_fds(), threads_before = s_count_threads();
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    int idle[3];
    for (int i = 0; i < 3; i++)
        idle[i] = s_raw_connect(sink_http_url(s));
    s_raw_send(idle[2], "POST /half HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    long long until = s_now_ms() + 5000;
    while (s_count_threads() < threads_before + 4 && s_now_ms() < until)
        usleep(5000);
    cr_assert_eq(s_count_threads(), threads_before + 4, "accept thread + one per connection");

    sink_http_stop(&s);
    cr_assert_null(s);
    cr_assert_eq(s_count_threads(), threads_before);
    for (int i = 0; i < 3; i++) {
        char buf[64];
        int eof;
        s_raw_read_all(idle[i], buf, sizeof buf, &eof);
        cr_assert(eof, "connection %d still open after stop", i);
        close(idle[i]);
    }
    cr_assert_eq(s_count_fds(), fds_before);
}

Test(sink_http, stop_is_safe_twice_and_on_null)
{
    sink_http_t *s = sink_http_start();
    cr_assert_not_null(s);
    sink_http_stop(&s);
    cr_assert_null(s);
    sink_http_stop(&s);
    sink_http_stop(NULL);
    cr_assert_eq(sink_http_count(NULL, "/a"), 0);
    cr_assert_eq(sink_http_request(NULL, "/a", 0, NULL, 0, NULL, 0, NULL, 0), -1);
}

/* ---- SMTP ---- */

typedef struct {
    const char *data;
    size_t len;
    size_t off;
} s_upload_t;

static size_t s_upload_read(char *p, size_t size, size_t n, void *ud)
{
    s_upload_t *u = ud;
    size_t k = u->len - u->off;
    if (k > size * n)
        k = size * n;
    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

/* Sends message (headers and body) with libcurl; rcpts is NULL-terminated. */
static CURLcode s_send_mail(const char *url, const char *from, const char *const *rcpts,
                            const char *message)
{
    CURL *h = curl_easy_init();
    if (!h)
        return CURLE_FAILED_INIT;
    struct curl_slist *list = NULL;
    for (const char *const *r = rcpts; *r; r++) {
        struct curl_slist *more = curl_slist_append(list, *r);
        if (!more) {
            curl_slist_free_all(list);
            curl_easy_cleanup(h);
            return CURLE_OUT_OF_MEMORY;
        }
        list = more;
    }
    s_upload_t up = {message, strlen(message), 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, s_upload_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return rc;
}

Test(sink_smtp, a_mail_sent_with_curl_is_stored_with_its_envelope_and_unstuffed_data)
{
    sink_smtp_t *s = sink_smtp_start();
    cr_assert_not_null(s);
    cr_assert_eq(strncmp(sink_smtp_url(s), "smtp://127.0.0.1:", 17), 0, "%s", sink_smtp_url(s));
    const char *message = "From: Rectify <notify@example.org>\r\n"
                          "To: ops@example.org\r\n"
                          "Subject: round 7 closed\r\n"
                          "\r\n"
                          "Hello,\r\n"
                          ".hidden line starting with a dot\r\n"
                          "..two dots\r\n"
                          ".\r\n"
                          "bye\r\n";
    const char *rcpts[] = {"<ops@example.org>", "<audit@example.org>", NULL};
    CURLcode rc = s_send_mail(sink_smtp_url(s), "<notify@example.org>", rcpts, message);
    cr_assert_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));

    cr_assert_eq(sink_smtp_count(s), 1);
    char from[64], to[64], data[1024];
    cr_assert_eq(sink_smtp_message(s, 0, from, sizeof from, to, sizeof to, data, sizeof data), 0);
    cr_assert_str_eq(from, "notify@example.org");
    cr_assert_str_eq(to, "ops@example.org");
    cr_assert_str_eq(data, message, "dot-unstuffed data differs");
    cr_assert_eq(sink_smtp_message(s, 1, from, sizeof from, to, sizeof to, data, sizeof data), -1);
    sink_smtp_stop(&s);
}

Test(sink_smtp, a_raw_session_follows_the_command_sequence)
{
    sink_smtp_t *s = sink_smtp_start();
    cr_assert_not_null(s);
    int fd = s_raw_connect(sink_smtp_url(s));
    char reply[1024];
    cr_assert_eq(s_smtp_reply(fd, reply, sizeof reply), 220);
    cr_assert_eq(s_smtp_command(fd, "EHLO client.test\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "NOOP\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "DATA\r\n"), 503, "DATA before RCPT");
    cr_assert_eq(s_smtp_command(fd, "RCPT TO:<x@y>\r\n"), 503, "RCPT before MAIL");
    cr_assert_eq(s_smtp_command(fd, "STARTTLS\r\n"), 502);
    cr_assert_eq(s_smtp_command(fd, "mail from:<>\r\n"), 250, "verbs are case-insensitive");
    cr_assert_eq(s_smtp_command(fd, "MAIL FROM:<a@b>\r\n"), 503, "nested MAIL");
    cr_assert_eq(s_smtp_command(fd, "RCPT TO:<first@x>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "RCPT TO:<second@x>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "DATA\r\n"), 354);
    cr_assert_eq(s_smtp_command(fd, "Subject: s\r\n\r\n..x\r\n.\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "MAIL FROM:<dropped@x>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "RCPT TO:<y@x>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "RSET\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "DATA\r\n"), 503, "RSET forgets the transaction");
    char long_line[1200];
    memset(long_line, 'n', sizeof long_line);
    memcpy(long_line, "NOOP ", 5);
    memcpy(long_line + sizeof long_line - 3, "\r\n", 3);
    cr_assert_eq(s_smtp_command(fd, long_line), 500);
    cr_assert_eq(s_smtp_command(fd, "NOOP\r\n"), 250, "still in step after a long line");
    cr_assert_eq(s_smtp_command(fd, "QUIT\r\n"), 221);
    int eof;
    s_raw_read_all(fd, reply, sizeof reply, &eof);
    cr_assert(eof, "QUIT did not close the connection");
    close(fd);

    cr_assert_eq(sink_smtp_count(s), 1);
    char from[16] = "unset", to[16], data[64];
    cr_assert_eq(sink_smtp_message(s, 0, from, sizeof from, to, sizeof to, data, sizeof data), 0);
    cr_assert_str_eq(from, "", "null sender");
    cr_assert_str_eq(to, "first@x");
    cr_assert_str_eq(data, "Subject: s\r\n\r\n.x\r\n");
    sink_smtp_stop(&s);
}

typedef struct {
    const char *url;
    int id;
    CURLcode rc;
} s_mailer_t;

static void *s_mailer_main(void *arg)
{
    s_mailer_t *m = arg;
    char from[64], message[128];
    snprintf(from, sizeof from, "<m%d@example.org>", m->id);
    snprintf(message, sizeof message, "Subject: %d\r\n\r\nbody %d\r\n", m->id, m->id);
    const char *rcpts[] = {"<ops@example.org>", NULL};
    m->rc = s_send_mail(m->url, from, rcpts, message);
    return NULL;
}

Test(sink_smtp, concurrent_senders_are_all_stored)
{
    sink_smtp_t *s = sink_smtp_start();
    cr_assert_not_null(s);
    enum { MAILERS = 6 };
    pthread_t t[MAILERS];
    s_mailer_t m[MAILERS];
    for (int i = 0; i < MAILERS; i++) {
        m[i] = (s_mailer_t){.url = sink_smtp_url(s), .id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, s_mailer_main, &m[i]), 0);
    }
    for (int i = 0; i < MAILERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < MAILERS; i++)
        cr_assert_eq(m[i].rc, CURLE_OK, "mailer %d: %s", i, curl_easy_strerror(m[i].rc));
    cr_assert_eq(sink_smtp_wait(s, MAILERS, 1000), 0);
    cr_assert_eq(sink_smtp_count(s), MAILERS);
    int seen[MAILERS] = {0};
    for (int i = 0; i < MAILERS; i++) {
        char from[64], data[128], expected[128];
        cr_assert_eq(sink_smtp_message(s, i, from, sizeof from, NULL, 0, data, sizeof data), 0);
        int id;
        cr_assert_eq(sscanf(from, "m%d@", &id), 1, "from %s", from);
        cr_assert(id >= 0 && id < MAILERS);
        snprintf(expected, sizeof expected, "Subject: %d\r\n\r\nbody %d\r\n", id, id);
        cr_assert_str_eq(data, expected);
        seen[id]++;
    }
    for (int i = 0; i < MAILERS; i++)
        cr_assert_eq(seen[i], 1);
    sink_smtp_stop(&s);
}

Test(sink_smtp, stop_closes_a_session_in_the_middle_of_data)
{
    int fds_before = s_count_fds(), threads_before = s_count_threads();
    sink_smtp_t *s = sink_smtp_start();
    cr_assert_not_null(s);
    int fd = s_raw_connect(sink_smtp_url(s));
    char reply[1024];
    cr_assert_eq(s_smtp_reply(fd, reply, sizeof reply), 220);
    cr_assert_eq(s_smtp_command(fd, "HELO c\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "MAIL FROM:<a@b>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "RCPT TO:<c@d>\r\n"), 250);
    cr_assert_eq(s_smtp_command(fd, "DATA\r\n"), 354);
    s_raw_send(fd, "Subject: never finished\r\n\r\npartial");

    long long t0 = s_now_ms();
    sink_smtp_stop(&s);
    cr_assert_lt(s_now_ms() - t0, 2000);
    cr_assert_null(s);
    int eof;
    s_raw_read_all(fd, reply, sizeof reply, &eof);
    cr_assert(eof, "the session is still open after stop");
    close(fd);
    cr_assert_eq(s_count_threads(), threads_before);
    cr_assert_eq(s_count_fds(), fds_before);
}

Test(sink_smtp, stop_is_safe_twice_and_on_null)
{
    sink_smtp_t *s = sink_smtp_start();
    cr_assert_not_null(s);
    sink_smtp_stop(&s);
    cr_assert_null(s);
    sink_smtp_stop(&s);
    sink_smtp_stop(NULL);
    cr_assert_eq(sink_smtp_count(NULL), 0);
    cr_assert_eq(sink_smtp_message(NULL, 0, NULL, 0, NULL, 0, NULL, 0), -1);
}
