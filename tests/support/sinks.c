/* sinks.c: loopback HTTP and SMTP sinks for tests (contract in sinks.h).
 *
 * Both sinks share one small server core: a listening socket on 127.0.0.1:0, an accept thread,
 * one thread per connection, and a wake pipe. Every thread polls the pipe's read end next to its
 * socket; stopping writes one byte that nobody reads, so every poll sees it and every thread
 * returns. All sockets are non-blocking and every wait is a poll() that includes the pipe, so no
 * thread can stay blocked in recv() or send() once the sink stops. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "sinks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------------- */

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_misuse(const char *what)
{
    fprintf(stderr, "sinks: programmer error: %s\n", what);
    abort();
}

/* A NUL-terminated heap copy of p[0..n) (p may be NULL when n is 0). Caller frees. */
static char *s_memdup(const char *p, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    if (n)
        memcpy(copy, p, n);
    copy[n] = '\0';
    return copy;
}

/* Copies src[0..n) into dst[dstlen], truncating, always NUL-terminated; no-op if dstlen is 0. */
static void s_copy_out(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (!dst || dstlen == 0)
        return;
    if (n >= dstlen)
        n = dstlen - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static int s_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

static struct timespec s_deadline(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (timeout_ms < 0)
        timeout_ms = 0;
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- server core ---------------------------------------------------------------------------- */

typedef struct s_server_t s_server_t;
typedef struct s_conn_t s_conn_t;
typedef void(s_serve_fn)(void *owner, s_conn_t *conn);

struct s_conn_t {
    s_server_t *server;
    pthread_t thread;
    int fd;
    int done;  /* under server->mutex: the thread has closed fd and is returning */
    char *buf; /* received bytes not yet consumed: buf[0..len), len <= cap */
    size_t len;
    size_t cap;
    s_conn_t *next;
};

struct s_server_t {
    int listen_fd;
    int wake[2]; /* a byte in wake[0] tells every thread to return */
    unsigned short port;
    pthread_t accept_thread;
    pthread_mutex_t mutex; /* guards conns and nconns */
    s_conn_t *conns;
    int nconns;
    size_t conn_buf_cap;
    s_serve_fn *serve;
    void *owner;
};

/* Waits until the connection is ready for `events`, or timeout_ms passes (-1: no timeout).
 * Returns 1 ready (or in error: the next recv/send says which), 0 the server is stopping or the
 * time is up, -1 poll failed. */
static int s_conn_wait(s_conn_t *c, short events, int timeout_ms)
{
    for (;;) {
        struct pollfd p[2] = {{c->server->wake[0], POLLIN, 0}, {c->fd, events, 0}};
        int n = poll(p, 2, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0 || p[0].revents)
            return 0;
        if (p[1].revents & POLLNVAL)
            return -1;
        if (p[1].revents)
            return 1;
    }
}

/* Appends what the peer sent to c->buf. Returns the number of bytes read (> 0), 0 when the peer
 * closed, -1 on error, when the server is stopping or when the buffer is full. */
static ssize_t s_conn_recv(s_conn_t *c)
{
    if (c->len >= c->cap)
        return -1;
    for (;;) {
        if (s_conn_wait(c, POLLIN, -1) != 1)
            return -1;
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            return n;
        }
        if (n == 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

/* Sends all of data[0..n). 0, or -1 on error or when the server is stopping. */
static int s_conn_send(s_conn_t *c, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(c->fd, data + off, n - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (s_conn_wait(c, POLLOUT, -1) != 1)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

static int s_conn_send_str(s_conn_t *c, const char *s)
{
    return s_conn_send(c, s, strlen(s));
}

/* Drops the first n received bytes. */
static void s_conn_consume(s_conn_t *c, size_t n)
{
    if (n >= c->len) {
        c->len = 0;
        return;
    }
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Before closing on a refusal: stop sending, then read and drop what the client still sends
 * (bounded in bytes and time), so that closing with unread data does not reset the connection
 * before the client has read our answer. */
static void s_conn_linger(s_conn_t *c)
{
    shutdown(c->fd, SHUT_WR);
    long long until = s_now_ms() + 1000;
    size_t dropped = 0;
    while (dropped < 4 * 1024 * 1024) {
        long long left = until - s_now_ms();
        if (left <= 0 || s_conn_wait(c, POLLIN, (int)left) != 1)
            return;
        ssize_t n = recv(c->fd, c->buf, c->cap, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return;
        if (n > 0)
            dropped += (size_t)n;
    }
}

/* Waits for a line: 1 with buf[0..*n) holding a line ending in '\n' (*complete = 1), or, when the
 * buffer fills up without one, the whole buffer as a piece of a longer line (*complete = 0).
 * 0 when the peer closed, the server is stopping, or on error. */
static int s_conn_line(s_conn_t *c, size_t *n, int *complete)
{
    for (;;) {
        const char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            *n = (size_t)(nl - c->buf) + 1;
            *complete = 1;
            return 1;
        }
        if (c->len == c->cap) {
            *n = c->len;
            *complete = 0;
            return 1;
        }
        if (s_conn_recv(c) <= 0)
            return 0;
    }
}

static void *s_conn_main(void *arg)
{
    s_conn_t *c = arg;
    c->server->serve(c->server->owner, c);
    close(c->fd);
    pthread_mutex_lock(&c->server->mutex);
    c->fd = -1;
    c->done = 1;
    pthread_mutex_unlock(&c->server->mutex);
    return NULL;
}

/* Joins and frees finished connections, or all of them when `all` (only once the server is
 * stopping, so that all of them are finishing). Called by the accept thread, then by stop. */
static void s_server_reap(s_server_t *srv, int all)
{
    s_conn_t *finished = NULL;
    pthread_mutex_lock(&srv->mutex);
    s_conn_t **pp = &srv->conns;
    while (*pp) {
        s_conn_t *c = *pp;
        if (all || c->done) {
            *pp = c->next;
            c->next = finished;
            finished = c;
            srv->nconns--;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&srv->mutex);
    while (finished) {
        s_conn_t *c = finished;
        finished = c->next;
        pthread_join(c->thread, NULL);
        free(c->buf);
        free(c);
    }
}

/* Gives an accepted socket its own thread; takes ownership of fd (closes it on failure). */
static void s_server_spawn(s_server_t *srv, int fd)
{
    s_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        goto out_close_fd;
    c->buf = malloc(srv->conn_buf_cap);
    if (!c->buf)
        goto out_free_conn;
    c->cap = srv->conn_buf_cap;
    c->fd = fd;
    c->server = srv;

    pthread_mutex_lock(&srv->mutex);
    if (srv->nconns >= SINK_MAX_CONNECTIONS) {
        pthread_mutex_unlock(&srv->mutex);
        goto out_free_buf;
    }
    c->next = srv->conns;
    srv->conns = c;
    srv->nconns++;
    int rc = pthread_create(&c->thread, NULL, s_conn_main, c);
    if (rc != 0) {
        srv->conns = c->next; /* still the head: we held the lock since linking it */
        srv->nconns--;
        pthread_mutex_unlock(&srv->mutex);
        fprintf(stderr, "sinks: pthread_create: %s\n", strerror(rc));
        goto out_free_buf;
    }
    pthread_mutex_unlock(&srv->mutex);
    return;

out_free_buf:
    free(c->buf);
out_free_conn:
    free(c);
out_close_fd:
    close(fd);
}

static void *s_server_accept_main(void *arg)
{
    s_server_t *srv = arg;
    for (;;) {
        s_server_reap(srv, 0);
        struct pollfd p[2] = {{srv->wake[0], POLLIN, 0}, {srv->listen_fd, POLLIN, 0}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p[0].revents || (p[1].revents & (POLLERR | POLLNVAL)))
            break;
        if (!(p[1].revents & POLLIN))
            continue;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                poll(NULL, 0, 10); /* let the shortage pass instead of spinning */
            continue;
        }
        s_server_spawn(srv, fd);
    }
    return NULL;
}

/* Listens on 127.0.0.1:<ephemeral> and starts the accept thread. Each connection gets a thread
 * running serve(owner, conn) with a receive buffer of buf_cap bytes. 0, or -1 (message on
 * stderr, nothing left open). */
static int s_server_start(s_server_t *srv, const char *what, size_t buf_cap, s_serve_fn *serve,
                          void *owner)
{
    const char *failed = NULL;
    int err = 0;
    srv->listen_fd = -1;
    srv->wake[0] = srv->wake[1] = -1;
    srv->conns = NULL;
    srv->nconns = 0;
    srv->conn_buf_cap = buf_cap;
    srv->serve = serve;
    srv->owner = owner;

    err = pthread_mutex_init(&srv->mutex, NULL);
    if (err) {
        failed = "pthread_mutex_init";
        goto out_report;
    }
    if (pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        err = errno;
        failed = "pipe2";
        goto out_destroy_mutex;
    }
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (srv->listen_fd < 0) {
        err = errno;
        failed = "socket";
        goto out_close_wake;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1, never anything else */
    addr.sin_port = htons(0);                      /* the kernel picks a free port */
    if (bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        err = errno;
        failed = "bind 127.0.0.1:0";
        goto out_close_listen;
    }
    if (listen(srv->listen_fd, 64) < 0) {
        err = errno;
        failed = "listen";
        goto out_close_listen;
    }
    socklen_t addrlen = sizeof addr;
    if (getsockname(srv->listen_fd, (struct sockaddr *)&addr, &addrlen) < 0) {
        err = errno;
        failed = "getsockname";
        goto out_close_listen;
    }
    srv->port = ntohs(addr.sin_port);
    err = pthread_create(&srv->accept_thread, NULL, s_server_accept_main, srv);
    if (err) {
        failed = "pthread_create";
        goto out_close_listen;
    }
    return 0;

out_close_listen:
    close(srv->listen_fd);
    srv->listen_fd = -1;
out_close_wake:
    close(srv->wake[0]);
    close(srv->wake[1]);
    srv->wake[0] = srv->wake[1] = -1;
out_destroy_mutex:
    pthread_mutex_destroy(&srv->mutex);
out_report:
    fprintf(stderr, "sinks: cannot start the %s sink: %s: %s\n", what, failed, strerror(err));
    return -1;
}

/* Wakes every thread, joins them all, closes every descriptor. */
static void s_server_stop(s_server_t *srv)
{
    const char byte = 1;
    while (write(srv->wake[1], &byte, 1) < 0 && errno == EINTR)
        ;
    pthread_join(srv->accept_thread, NULL);
    s_server_reap(srv, 1);
    close(srv->listen_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    srv->listen_fd = srv->wake[0] = srv->wake[1] = -1;
    pthread_mutex_destroy(&srv->mutex);
}

/* ---- HTTP sink ------------------------------------------------------------------------------ */

typedef struct {
    char path[SINK_HTTP_MAX_PATH_LEN + 1];
    sink_behaviour_t behaviour;
    int fail_left; /* SINK_OK: answers still to fail with 500 */
} s_route_t;

typedef struct {
    char *path; /* all heap, NUL-terminated, owned by the sink */
    char *body;
    size_t body_len;
    char *key;
    char *content_type;
    long long received_ms;
} s_request_t;

struct sink_http_t {
    s_server_t server;
    char url[64];
    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t changed;
    s_route_t routes[SINK_HTTP_MAX_PATHS];
    int nroutes;
    s_request_t *requests; /* [SINK_HTTP_MAX_REQUESTS] */
    int nrequests;
};

/* A parsed request head; the pointers point into the connection's buffer. */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    int minor;                /* HTTP/1.<minor> */
    long long content_length; /* -1 when absent */
    int too_large;
    int transfer_encoding;
    int conn_close;
    int conn_keep_alive;
    int expect_continue;
    const char *key;
    size_t key_len;
    const char *content_type;
    size_t content_type_len;
} s_http_head_t;

static int s_token_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Length of the head (request line, headers, empty line) at the start of buf, or 0 if the empty
 * line has not arrived yet. Lines end in CRLF; a bare LF is accepted too. */
static size_t s_http_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Next line of p[0..end) without its line break; advances *p past the break. */
static size_t s_next_line(const char **p, const char *end, const char **line)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        nl = end;
    size_t n = (size_t)(nl - *p);
    *line = *p;
    *p = nl < end ? nl + 1 : end;
    if (n && (*line)[n - 1] == '\r')
        n--;
    return n;
}

static int s_http_content_length(const char *v, size_t n, s_http_head_t *h)
{
    if (n == 0)
        return 400;
    long long value = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 400;
        if (value <= SINK_HTTP_MAX_BODY)
            value = value * 10 + (v[i] - '0');
    }
    if (h->content_length >= 0 && h->content_length != value)
        return 400; /* conflicting duplicates */
    h->content_length = value;
    if (value > SINK_HTTP_MAX_BODY)
        h->too_large = 1;
    return 0;
}

static void s_http_connection(const char *v, size_t n, s_http_head_t *h)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t stop = i;
        while (start < stop && (v[start] == ' ' || v[start] == '\t'))
            start++;
        while (stop > start && (v[stop - 1] == ' ' || v[stop - 1] == '\t'))
            stop--;
        if (s_token_is(v + start, stop - start, "close"))
            h->conn_close = 1;
        else if (s_token_is(v + start, stop - start, "keep-alive"))
            h->conn_keep_alive = 1;
        i++;
    }
}

/* Parses buf[0..len), a complete head. 0, or the HTTP status to refuse the request with. */
static int s_http_parse_head(const char *buf, size_t len, s_http_head_t *h)
{
    const char *p = buf, *end = buf + len, *line;
    memset(h, 0, sizeof *h);
    h->content_length = -1;

    /* request-line = method SP request-target SP HTTP-version */
    size_t n = s_next_line(&p, end, &line);
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line)
        return 400;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', n - (size_t)(target - line));
    if (!sp2 || sp2 == target)
        return 400;
    const char *version = sp2 + 1;
    size_t version_len = n - (size_t)(version - line);
    if (version_len < 5 || memcmp(version, "HTTP/", 5) != 0)
        return 400;
    if (version_len != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
        (version[7] != '0' && version[7] != '1'))
        return 505;
    h->minor = version[7] - '0';
    h->method = line;
    h->method_len = (size_t)(sp1 - line);
    for (size_t i = 0; i < h->method_len; i++)
        if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] >= 127)
            return 400;

    size_t target_len = (size_t)(sp2 - target);
    if (target_len > 7 && strncasecmp(target, "http://", 7) == 0) {
        /* absolute-form: drop scheme and authority */
        const char *slash = memchr(target + 7, '/', target_len - 7);
        if (!slash) {
            h->path = "/";
            h->path_len = 1;
        } else {
            target_len -= (size_t)(slash - target);
            target = slash;
        }
    }
    if (!h->path) {
        if (target[0] != '/' && !(target_len == 1 && target[0] == '*'))
            return 400;
        h->path = target;
        h->path_len = target_len;
        for (size_t i = 0; i < target_len; i++) {
            if (target[i] == '?' || target[i] == '#') {
                h->path_len = i;
                break;
            }
        }
    }

    /* header-field = field-name ":" OWS field-value OWS */
    while (p < end) {
        n = s_next_line(&p, end, &line);
        if (n == 0)
            break;
        if (line[0] == ' ' || line[0] == '\t')
            return 400; /* obsolete line folding */
        const char *colon = memchr(line, ':', n);
        if (!colon || colon == line)
            return 400;
        size_t name_len = (size_t)(colon - line);
        for (size_t i = 0; i < name_len; i++)
            if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] >= 127)
                return 400;
        const char *v = colon + 1;
        size_t vlen = n - name_len - 1;
        while (vlen && (v[0] == ' ' || v[0] == '\t')) {
            v++;
            vlen--;
        }
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;

        if (s_token_is(line, name_len, "content-length")) {
            int status = s_http_content_length(v, vlen, h);
            if (status)
                return status;
        } else if (s_token_is(line, name_len, "transfer-encoding")) {
            h->transfer_encoding = 1;
        } else if (s_token_is(line, name_len, "connection")) {
            s_http_connection(v, vlen, h);
        } else if (s_token_is(line, name_len, "expect")) {
            if (s_token_is(v, vlen, "100-continue"))
                h->expect_continue = 1;
        } else if (s_token_is(line, name_len, "idempotency-key")) {
            if (!h->key) {
                h->key = v;
                h->key_len = vlen;
            }
        } else if (s_token_is(line, name_len, "content-type")) {
            if (!h->content_type) {
                h->content_type = v;
                h->content_type_len = vlen;
            }
        }
    }
    if (h->transfer_encoding)
        return 501; /* chunked bodies are not supported: see sinks.h */
    if (h->too_large)
        return 413;
    return 0;
}

/* Stores the request (if there is room) and decides the answer: an HTTP status, or 0 to hang. */
static int s_http_record(sink_http_t *self, const s_http_head_t *h, const char *body,
                         size_t body_len)
{
    long long now = s_now_ms();
    int answer = 200;

    pthread_mutex_lock(&self->mutex);
    for (int i = 0; i < self->nroutes; i++) {
        s_route_t *route = &self->routes[i];
        if (strlen(route->path) != h->path_len || memcmp(route->path, h->path, h->path_len) != 0)
            continue;
        if (route->behaviour == SINK_HANG) {
            answer = 0;
        } else if (route->behaviour == SINK_FAIL_500) {
            answer = 500;
        } else if (route->fail_left > 0) {
            route->fail_left--;
            answer = 500;
        }
        break;
    }
    if (self->nrequests < SINK_HTTP_MAX_REQUESTS) {
        s_request_t *r = &self->requests[self->nrequests];
        r->path = s_memdup(h->path, h->path_len);
        r->body = s_memdup(body, body_len);
        r->body_len = body_len;
        r->key = s_memdup(h->key, h->key_len);
        r->content_type = s_memdup(h->content_type, h->content_type_len);
        r->received_ms = now;
        if (r->path && r->body && r->key && r->content_type) {
            self->nrequests++;
            pthread_cond_broadcast(&self->changed);
        } else {
            fprintf(stderr, "sinks: out of memory, request not stored\n");
            free(r->path);
            free(r->body);
            free(r->key);
            free(r->content_type);
            memset(r, 0, sizeof *r);
        }
    }
    pthread_mutex_unlock(&self->mutex);
    return answer;
}

/* Sends a complete response. 0, or -1 if the connection failed. */
static int s_http_reply(s_conn_t *c, int status, int head_only, int close_after)
{
    const char *reason, *body;
    switch (status) {
    case 200:
        reason = "OK";
        body = "ok";
        break;
    case 400:
        reason = body = "Bad Request";
        break;
    case 413:
        reason = body = "Content Too Large";
        break;
    case 431:
        reason = body = "Request Header Fields Too Large";
        break;
    case 500:
        reason = "Internal Server Error";
        body = "fail";
        break;
    case 501:
        reason = body = "Not Implemented";
        break;
    case 505:
        reason = body = "HTTP Version Not Supported";
        break;
    default:
        reason = body = "Error";
        break;
    }
    char out[512];
    int n = snprintf(
        out, sizeof out,
        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s", status,
        reason, strlen(body), close_after ? "Connection: close\r\n" : "", head_only ? "" : body);
    if (n < 0 || (size_t)n >= sizeof out)
        return -1;
    return s_conn_send(c, out, (size_t)n);
}

static void s_http_refuse(s_conn_t *c, int status)
{
    if (s_http_reply(c, status, 0, 1) == 0)
        s_conn_linger(c);
}

/* SINK_HANG: keep the connection open, dropping whatever comes, until the peer closes it or the
 * sink stops. */
static void s_http_hang(s_conn_t *c)
{
    for (;;) {
        c->len = 0;
        if (s_conn_recv(c) <= 0)
            return;
    }
}

/* One connection: requests one after the other (pipelined ones included) until close. */
static void s_http_serve(void *owner, s_conn_t *c)
{
    sink_http_t *self = owner;
    for (;;) {
        size_t skip = 0; /* empty lines before a request line are ignored (RFC 9112 2.2) */
        while (skip < c->len && (c->buf[skip] == '\r' || c->buf[skip] == '\n'))
            skip++;
        s_conn_consume(c, skip);

        size_t head_len = s_http_head_end(c->buf, c->len);
        if (head_len == 0 || head_len > SINK_HTTP_MAX_HEAD) {
            if (head_len > SINK_HTTP_MAX_HEAD || c->len >= SINK_HTTP_MAX_HEAD) {
                s_http_refuse(c, 431);
                return;
            }
            if (s_conn_recv(c) <= 0)
                return;
            continue;
        }

        s_http_head_t h;
        int status = s_http_parse_head(c->buf, head_len, &h);
        if (status) {
            s_http_refuse(c, status);
            return;
        }
        size_t body_len = h.content_length > 0 ? (size_t)h.content_length : 0;
        size_t total = head_len + body_len; /* <= cap: head and body are both bounded */
        if (c->len < total && h.expect_continue && h.minor == 1 &&
            s_conn_send_str(c, "HTTP/1.1 100 Continue\r\n\r\n") < 0)
            return;
        while (c->len < total)
            if (s_conn_recv(c) <= 0)
                return;

        int keep_alive = h.minor == 1 ? !h.conn_close : (h.conn_keep_alive && !h.conn_close);
        int head_only = s_token_is(h.method, h.method_len, "HEAD");
        int answer = s_http_record(self, &h, c->buf + head_len, body_len);
        s_conn_consume(c, total); /* h points into the buffer: unused from here */
        if (answer == 0) {
            s_http_hang(c);
            return;
        }
        if (s_http_reply(c, answer, head_only, !keep_alive) < 0 || !keep_alive)
            return;
    }
}

sink_http_t *sink_http_start(void)
{
    sink_http_t *self = calloc(1, sizeof *self);
    if (!self)
        goto out_report;
    self->requests = calloc(SINK_HTTP_MAX_REQUESTS, sizeof *self->requests);
    if (!self->requests)
        goto out_free_self;
    if (pthread_mutex_init(&self->mutex, NULL) != 0)
        goto out_free_requests;
    if (s_cond_init_monotonic(&self->changed) < 0)
        goto out_destroy_mutex;
    if (s_server_start(&self->server, "HTTP", SINK_HTTP_MAX_HEAD + SINK_HTTP_MAX_BODY, s_http_serve,
                       self) < 0)
        goto out_destroy_cond;
    snprintf(self->url, sizeof self->url, "http://127.0.0.1:%u", (unsigned)self->server.port);
    return self;

out_destroy_cond:
    pthread_cond_destroy(&self->changed);
out_destroy_mutex:
    pthread_mutex_destroy(&self->mutex);
out_free_requests:
    free(self->requests);
out_free_self:
    free(self);
out_report:
    fprintf(stderr, "sinks: sink_http_start failed\n");
    return NULL;
}

const char *sink_http_url(const sink_http_t *self)
{
    return self ? self->url : NULL;
}

void sink_http_set(sink_http_t *self, const char *path, sink_behaviour_t behaviour, int fail_first)
{
    if (!self || !path || path[0] != '/')
        s_misuse("sink_http_set: the path must start with '/'");
    if (strlen(path) > SINK_HTTP_MAX_PATH_LEN)
        s_misuse("sink_http_set: path longer than SINK_HTTP_MAX_PATH_LEN");
    if (behaviour != SINK_OK && behaviour != SINK_FAIL_500 && behaviour != SINK_HANG)
        s_misuse("sink_http_set: unknown behaviour");

    pthread_mutex_lock(&self->mutex);
    s_route_t *route = NULL;
    for (int i = 0; i < self->nroutes && !route; i++)
        if (strcmp(self->routes[i].path, path) == 0)
            route = &self->routes[i];
    if (!route) {
        if (self->nroutes == SINK_HTTP_MAX_PATHS) {
            pthread_mutex_unlock(&self->mutex);
            s_misuse("sink_http_set: more than SINK_HTTP_MAX_PATHS paths");
        }
        route = &self->routes[self->nroutes++];
        s_copy_out(route->path, sizeof route->path, path, strlen(path));
    }
    route->behaviour = behaviour;
    route->fail_left = behaviour == SINK_OK && fail_first > 0 ? fail_first : 0;
    pthread_mutex_unlock(&self->mutex);
}

/* The i-th stored request on path, or NULL; call with the mutex held. */
static const s_request_t *s_http_find(const sink_http_t *self, const char *path, int i)
{
    if (i < 0)
        return NULL;
    for (int k = 0; k < self->nrequests; k++)
        if (strcmp(self->requests[k].path, path) == 0 && i-- == 0)
            return &self->requests[k];
    return NULL;
}

static int s_http_count_locked(const sink_http_t *self, const char *path)
{
    int n = 0;
    for (int k = 0; k < self->nrequests; k++)
        if (strcmp(self->requests[k].path, path) == 0)
            n++;
    return n;
}

int sink_http_count(sink_http_t *self, const char *path)
{
    if (!self || !path)
        return 0;
    pthread_mutex_lock(&self->mutex);
    int n = s_http_count_locked(self, path);
    pthread_mutex_unlock(&self->mutex);
    return n;
}

int sink_http_request(sink_http_t *self, const char *path, int i, char *body, size_t bodylen,
                      char *idempotency_key, size_t keylen, char *content_type, size_t ctlen)
{
    if (!self || !path)
        return -1;
    pthread_mutex_lock(&self->mutex);
    const s_request_t *r = s_http_find(self, path, i);
    if (r) {
        s_copy_out(body, bodylen, r->body, r->body_len);
        s_copy_out(idempotency_key, keylen, r->key, strlen(r->key));
        s_copy_out(content_type, ctlen, r->content_type, strlen(r->content_type));
    }
    pthread_mutex_unlock(&self->mutex);
    return r ? 0 : -1;
}

long long sink_http_received_ms(sink_http_t *self, const char *path, int i)
{
    if (!self || !path)
        return -1;
    pthread_mutex_lock(&self->mutex);
    const s_request_t *r = s_http_find(self, path, i);
    long long at = r ? r->received_ms : -1;
    pthread_mutex_unlock(&self->mutex);
    return at;
}

int sink_http_wait(sink_http_t *self, const char *path, int n, int timeout_ms)
{
    if (!self || !path)
        return -1;
    struct timespec deadline = s_deadline(timeout_ms);
    pthread_mutex_lock(&self->mutex);
    while (s_http_count_locked(self, path) < n)
        if (pthread_cond_timedwait(&self->changed, &self->mutex, &deadline) == ETIMEDOUT)
            break;
    int reached = s_http_count_locked(self, path) >= n;
    pthread_mutex_unlock(&self->mutex);
    return reached ? 0 : -1;
}

void sink_http_stop(sink_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sink_http_t *self = *self_p;
    *self_p = NULL;
    s_server_stop(&self->server);
    for (int i = 0; i < self->nrequests; i++) {
        free(self->requests[i].path);
        free(self->requests[i].body);
        free(self->requests[i].key);
        free(self->requests[i].content_type);
    }
    free(self->requests);
    pthread_cond_destroy(&self->changed);
    pthread_mutex_destroy(&self->mutex);
    free(self);
}

/* ---- SMTP sink ------------------------------------------------------------------------------ */

#define S_SMTP_MAX_LINE 1000 /* command line with its CRLF (RFC 5321 4.5.3.1.6 allows 512) */
#define S_SMTP_BUF 8192

typedef struct {
    char *from; /* all heap, NUL-terminated, owned by the sink */
    char *to;
    char *data;
    size_t data_len;
} s_message_t;

struct sink_smtp_t {
    s_server_t server;
    char url[64];
    pthread_mutex_t mutex; /* guards everything below */
    pthread_cond_t changed;
    s_message_t *messages; /* [SINK_SMTP_MAX_MESSAGES] */
    int nmessages;
};

/* One connection's mail transaction. */
typedef struct {
    int in_mail; /* MAIL FROM accepted */
    char *from;
    char *to; /* first recipient */
    int nrcpt;
    char *data;
    size_t data_len;
    size_t data_cap;
    int data_failed; /* too big or out of memory: answer 552 and store nothing */
} s_smtp_txn_t;

static void s_smtp_txn_reset(s_smtp_txn_t *t)
{
    free(t->from);
    free(t->to);
    free(t->data);
    memset(t, 0, sizeof *t);
}

static void s_smtp_txn_append(s_smtp_txn_t *t, const char *p, size_t n)
{
    if (t->data_failed)
        return;
    if (n > SINK_SMTP_MAX_DATA - t->data_len) {
        t->data_failed = 1;
        return;
    }
    if (t->data_len + n + 1 > t->data_cap) {
        size_t cap = t->data_cap ? t->data_cap : 4096;
        while (cap < t->data_len + n + 1)
            cap *= 2;
        if (cap > SINK_SMTP_MAX_DATA + 1)
            cap = SINK_SMTP_MAX_DATA + 1;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->data_failed = 1;
            return;
        }
        t->data = grown;
        t->data_cap = cap;
    }
    memcpy(t->data + t->data_len, p, n);
    t->data_len += n;
    t->data[t->data_len] = '\0';
}

/* The address in "<addr> params" or "addr params" after a MAIL FROM: / RCPT TO: prefix, as a
 * heap string; NULL on bad syntax or no memory. */
static char *s_smtp_path(const char *arg)
{
    while (*arg == ' ')
        arg++;
    if (*arg == '<') {
        const char *close = strchr(arg, '>');
        return close ? s_memdup(arg + 1, (size_t)(close - arg - 1)) : NULL;
    }
    size_t n = strcspn(arg, " ");
    return n ? s_memdup(arg, n) : NULL;
}

static int s_smtp_verb_is(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* Moves the finished transaction into the sink; returns the reply to DATA's end. */
static const char *s_smtp_store(sink_smtp_t *self, s_smtp_txn_t *t)
{
    const char *reply = "250 2.0.0 ok: queued\r\n";
    if (t->data_failed) {
        reply = "552 5.3.4 message too big for the sink\r\n";
        goto out_reset;
    }
    if (!t->data) {
        t->data = s_memdup("", 0);
        if (!t->data) {
            reply = "451 4.3.0 out of memory\r\n";
            goto out_reset;
        }
    }
    pthread_mutex_lock(&self->mutex);
    if (self->nmessages < SINK_SMTP_MAX_MESSAGES) {
        s_message_t *m = &self->messages[self->nmessages++];
        m->from = t->from;
        m->to = t->to;
        m->data = t->data;
        m->data_len = t->data_len;
        t->from = t->to = t->data = NULL; /* now owned by the sink */
        pthread_cond_broadcast(&self->changed);
    }
    pthread_mutex_unlock(&self->mutex);
out_reset:
    s_smtp_txn_reset(t);
    return reply;
}

/* One command line (no line break). Returns the reply; sets *data when DATA was accepted and
 * *quit on QUIT. */
static const char *s_smtp_command(s_smtp_txn_t *t, const char *line, int *data, int *quit)
{
    if (s_smtp_verb_is(line, "EHLO") || s_smtp_verb_is(line, "HELO")) {
        s_smtp_txn_reset(t);
        return "250 127.0.0.1 rectify test sink\r\n";
    }
    if (s_smtp_verb_is(line, "MAIL")) {
        if (t->in_mail)
            return "503 5.5.1 nested MAIL command\r\n";
        if (strncasecmp(line, "MAIL FROM:", 10) != 0)
            return "501 5.5.4 syntax: MAIL FROM:<address>\r\n";
        t->from = s_smtp_path(line + 10);
        if (!t->from)
            return "501 5.1.7 bad sender address syntax\r\n";
        t->in_mail = 1;
        return "250 2.1.0 ok\r\n";
    }
    if (s_smtp_verb_is(line, "RCPT")) {
        if (!t->in_mail)
            return "503 5.5.1 need MAIL before RCPT\r\n";
        if (strncasecmp(line, "RCPT TO:", 8) != 0)
            return "501 5.5.4 syntax: RCPT TO:<address>\r\n";
        char *to = s_smtp_path(line + 8);
        if (!to)
            return "501 5.1.3 bad recipient address syntax\r\n";
        if (t->nrcpt == 0)
            t->to = to;
        else
            free(to);
        t->nrcpt++;
        return "250 2.1.5 ok\r\n";
    }
    if (s_smtp_verb_is(line, "DATA")) {
        if (t->nrcpt == 0)
            return "503 5.5.1 need RCPT before DATA\r\n";
        *data = 1;
        return "354 end data with <CR><LF>.<CR><LF>\r\n";
    }
    if (s_smtp_verb_is(line, "RSET")) {
        s_smtp_txn_reset(t);
        return "250 2.0.0 ok\r\n";
    }
    if (s_smtp_verb_is(line, "NOOP"))
        return "250 2.0.0 ok\r\n";
    if (s_smtp_verb_is(line, "VRFY"))
        return "252 2.1.5 cannot verify\r\n";
    if (s_smtp_verb_is(line, "QUIT")) {
        *quit = 1;
        return "221 2.0.0 bye\r\n";
    }
    return "502 5.5.2 command unknown to this sink\r\n";
}

static int s_smtp_is_end_of_data(const char *line, size_t n)
{
    return (n == 3 && memcmp(line, ".\r\n", 3) == 0) || (n == 2 && memcmp(line, ".\n", 2) == 0);
}

/* One connection: commands, and messages between DATA and ".", until QUIT or close. */
static void s_smtp_serve(void *owner, s_conn_t *c)
{
    sink_smtp_t *self = owner;
    s_smtp_txn_t t;
    memset(&t, 0, sizeof t);
    int in_data = 0, at_line_start = 1, skipping = 0;

    if (s_conn_send_str(c, "220 127.0.0.1 rectify test sink ESMTP\r\n") < 0)
        goto out_free_txn;
    for (;;) {
        size_t n;
        int complete;
        if (!s_conn_line(c, &n, &complete))
            break;

        if (in_data) {
            const char *piece = c->buf;
            size_t len = n;
            if (at_line_start && complete && s_smtp_is_end_of_data(piece, len)) {
                s_conn_consume(c, n);
                in_data = 0;
                if (s_conn_send_str(c, s_smtp_store(self, &t)) < 0)
                    break;
                continue;
            }
            if (at_line_start && len > 0 && piece[0] == '.') { /* dot-unstuffing */
                piece++;
                len--;
            }
            s_smtp_txn_append(&t, piece, len);
            at_line_start = complete;
            s_conn_consume(c, n);
            continue;
        }

        if (skipping) { /* the rest of an over-long command line, already answered */
            skipping = !complete;
            s_conn_consume(c, n);
            continue;
        }
        if (!complete || n > S_SMTP_MAX_LINE) {
            skipping = !complete;
            s_conn_consume(c, n);
            if (s_conn_send_str(c, "500 5.5.6 line too long\r\n") < 0)
                break;
            continue;
        }
        char line[S_SMTP_MAX_LINE + 1];
        size_t len = n;
        while (len && (c->buf[len - 1] == '\n' || c->buf[len - 1] == '\r'))
            len--;
        memcpy(line, c->buf, len);
        line[len] = '\0';
        s_conn_consume(c, n);

        int quit = 0;
        const char *reply = s_smtp_command(&t, line, &in_data, &quit);
        at_line_start = 1;
        if (s_conn_send_str(c, reply) < 0 || quit)
            break;
    }
out_free_txn:
    s_smtp_txn_reset(&t);
}

sink_smtp_t *sink_smtp_start(void)
{
    sink_smtp_t *self = calloc(1, sizeof *self);
    if (!self)
        goto out_report;
    self->messages = calloc(SINK_SMTP_MAX_MESSAGES, sizeof *self->messages);
    if (!self->messages)
        goto out_free_self;
    if (pthread_mutex_init(&self->mutex, NULL) != 0)
        goto out_free_messages;
    if (s_cond_init_monotonic(&self->changed) < 0)
        goto out_destroy_mutex;
    if (s_server_start(&self->server, "SMTP", S_SMTP_BUF, s_smtp_serve, self) < 0)
        goto out_destroy_cond;
    snprintf(self->url, sizeof self->url, "smtp://127.0.0.1:%u", (unsigned)self->server.port);
    return self;

out_destroy_cond:
    pthread_cond_destroy(&self->changed);
out_destroy_mutex:
    pthread_mutex_destroy(&self->mutex);
out_free_messages:
    free(self->messages);
out_free_self:
    free(self);
out_report:
    fprintf(stderr, "sinks: sink_smtp_start failed\n");
    return NULL;
}

const char *sink_smtp_url(const sink_smtp_t *self)
{
    return self ? self->url : NULL;
}

int sink_smtp_count(sink_smtp_t *self)
{
    if (!self)
        return 0;
    pthread_mutex_lock(&self->mutex);
    int n = self->nmessages;
    pthread_mutex_unlock(&self->mutex);
    return n;
}

int sink_smtp_message(sink_smtp_t *self, int i, char *from, size_t fromlen, char *to, size_t tolen,
                      char *data, size_t datalen)
{
    if (!self)
        return -1;
    pthread_mutex_lock(&self->mutex);
    int found = i >= 0 && i < self->nmessages;
    if (found) {
        const s_message_t *m = &self->messages[i];
        s_copy_out(from, fromlen, m->from, strlen(m->from));
        s_copy_out(to, tolen, m->to, strlen(m->to));
        s_copy_out(data, datalen, m->data, m->data_len);
    }
    pthread_mutex_unlock(&self->mutex);
    return found ? 0 : -1;
}

int sink_smtp_wait(sink_smtp_t *self, int n, int timeout_ms)
{
    if (!self)
        return -1;
    struct timespec deadline = s_deadline(timeout_ms);
    pthread_mutex_lock(&self->mutex);
    while (self->nmessages < n)
        if (pthread_cond_timedwait(&self->changed, &self->mutex, &deadline) == ETIMEDOUT)
            break;
    int reached = self->nmessages >= n;
    pthread_mutex_unlock(&self->mutex);
    return reached ? 0 : -1;
}

void sink_smtp_stop(sink_smtp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sink_smtp_t *self = *self_p;
    *self_p = NULL;
    s_server_stop(&self->server);
    for (int i = 0; i < self->nmessages; i++) {
        free(self->messages[i].from);
        free(self->messages[i].to);
        free(self->messages[i].data);
    }
    free(self->messages);
    pthread_cond_destroy(&self->changed);
    pthread_mutex_destroy(&self->mutex);
    free(self);
}
