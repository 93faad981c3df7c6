/* log.c: bounded JSON log lines to stderr and a ZeroMQ PUB socket. */
#include "log.h"
#include "errors.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static struct {
    char service[32];
    log_level_t min_level;
    void *pub;
} s_log = {"rectify", LOG_INFO, NULL};

/* the PUB socket is shared by the threads of a process: one sender at a time */
static pthread_mutex_t s_pub_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

const char *log_level_name(log_level_t level)
{
    return (level >= LOG_DEBUG && level <= LOG_ERROR) ? s_level_names[level] : "info";
}

log_level_t log_level_from_name(const char *name)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (name && strcmp(name, s_level_names[i]) == 0)
            return (log_level_t)i;
    return LOG_INFO;
}

int log_open(const char *service, log_level_t min_level, void *zmq_ctx, const char *pub_endpoint)
{
    snprintf(s_log.service, sizeof s_log.service, "%s", service);
    s_log.min_level = min_level;
    if (!zmq_ctx || !pub_endpoint || !*pub_endpoint)
        return RC_OK;
    void *pub = zmq_socket(zmq_ctx, ZMQ_PUB);
    if (!pub)
        return RC_ERR_IO;
    int linger = 200, hwm = 10000;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(pub, pub_endpoint) != 0) {
        zmq_close(pub);
        return RC_ERR_IO;
    }
    s_log.pub = pub;
    return RC_OK;
}

void log_close(void)
{
    pthread_mutex_lock(&s_pub_lock);
    if (s_log.pub) {
        zmq_close(s_log.pub);
        s_log.pub = NULL;
    }
    pthread_mutex_unlock(&s_pub_lock);
}

typedef struct {
    char *buf;
    size_t size, len;
    bool truncated;
} s_out_t;

static void s_put(s_out_t *o, const char *s, size_t n)
{
    /* keep room for the closing of the object: ,"truncated":true} */
    size_t room = o->size > 24 ? o->size - 24 : 0;
    if (o->len + n > room) {
        n = room > o->len ? room - o->len : 0;
        o->truncated = true;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void s_puts(s_out_t *o, const char *s)
{
    s_put(o, s, strlen(s));
}

/* Writes s as a JSON string, escaping quotes, backslashes and control bytes.
 * A multi-byte UTF-8 sequence is never cut in half. */
static void s_put_escaped(s_out_t *o, const char *s)
{
    s_put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && !o->truncated; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            s_put(o, "\\\"", 2);
            break;
        case '\\':
            s_put(o, "\\\\", 2);
            break;
        case '\n':
            s_put(o, "\\n", 2);
            break;
        case '\r':
            s_put(o, "\\r", 2);
            break;
        case '\t':
            s_put(o, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                s_put(o, esc, 6);
            } else if (*p >= 0x80) {
                size_t n = 1;
                while (p[n] && (p[n] & 0xC0) == 0x80 && n < 4)
                    n++;
                size_t before = o->len;
                s_put(o, (const char *)p, n);
                if (o->truncated) { /* drop a partial character */
                    o->len = before;
                    o->buf[o->len] = '\0';
                }
                p += n - 1;
            } else {
                s_put(o, (const char *)p, 1);
            }
        }
    }
    s_put(o, "\"", 1);
}

size_t log_format(char *buf, size_t size, long long ts_ms, log_level_t level, const char *service,
                  const char *event_id, const char *unit, const log_field_t *fields, size_t nfields,
                  const char *msg)
{
    s_out_t o = {buf, size, 0, false};
    buf[0] = '\0';
    time_t secs = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[96];
    snprintf(ts, sizeof ts, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
    s_puts(&o, ts);
    s_puts(&o, ",\"level\":\"");
    s_puts(&o, log_level_name(level));
    s_puts(&o, "\",\"service\":");
    s_put_escaped(&o, service);
    if (event_id && *event_id) {
        s_puts(&o, ",\"event_id\":");
        s_put_escaped(&o, event_id);
    }
    if (unit && *unit) {
        s_puts(&o, ",\"unit\":");
        s_put_escaped(&o, unit);
    }
    s_puts(&o, ",\"msg\":");
    s_put_escaped(&o, msg);
    for (size_t i = 0; i < nfields && !o.truncated; i++) {
        s_puts(&o, ",");
        s_put_escaped(&o, fields[i].key);
        s_puts(&o, ":");
        if (fields[i].str) {
            s_put_escaped(&o, fields[i].str);
        } else {
            char num[32];
            snprintf(num, sizeof num, "%lld", fields[i].num);
            s_puts(&o, num);
        }
    }
    if (o.truncated) {
        /* the reserve kept by s_put leaves room for this */
        const char *tail = "\",\"truncated\":true}";
        /* close an open string only if we were inside one: simplest is to
         * end cleanly with a marker field; an unterminated string was cut at
         * a character boundary, so closing the quote keeps the JSON valid */
        bool in_string = false;
        for (size_t i = 0; i < o.len; i++) {
            if (buf[i] == '\\')
                i++;
            else if (buf[i] == '"')
                in_string = !in_string;
        }
        if (!in_string)
            tail++;
        size_t n = strlen(tail);
        memcpy(buf + o.len, tail, n + 1);
        return o.len + n;
    }
    memcpy(buf + o.len, "}", 2);
    return o.len + 1;
}

void log_event(log_level_t level, const char *event_id, const char *unit, const log_field_t *fields,
               size_t nfields, const char *fmt, ...)
{
    if (level < s_log.min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ts_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;

    char line[LOG_LINE_MAX + 1];
    size_t n = log_format(line, LOG_LINE_MAX, ts_ms, level, s_log.service, event_id, unit, fields,
                          nfields, msg);
    line[n] = '\n';
    fwrite(line, 1, n + 1, stderr);
    pthread_mutex_lock(&s_pub_lock);
    if (s_log.pub)
        zmq_send(s_log.pub, line, n,
                 ZMQ_DONTWAIT); /* a slow subscriber drops lines, never blocks */
    pthread_mutex_unlock(&s_pub_lock);
}
