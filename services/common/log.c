/* log.c: bounded JSON log lines to stderr and a ZeroMQ PUB socket. */
#include "log.h"
#include "bus.h"
#include "zap.h"
#include "errors.h"
#include "text.h"

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
    void *ctx; /* for log_rebind */
    char endpoint[256];
    bool closed; /* log_close ran: a rebind in flight must not reopen */
} s_log = {"rectify", LOG_INFO, NULL, NULL, "", false};

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

/* A PUB socket bound to endpoint, or NULL (errno set by ZeroMQ). */
static void *s_pub_new(void *ctx, const char *endpoint)
{
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    if (!pub)
        return NULL;
    int linger = 200, hwm = 10000;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    /* with CURVE, only on-call keys may listen (the lines name units) */
    if (bus_curve_server(pub, ZAP_DOMAIN_LOGS) != RC_OK || zmq_bind(pub, endpoint) != 0) {
        zmq_close(pub);
        return NULL;
    }
    return pub;
}

int log_open(const char *service, log_level_t min_level, void *zmq_ctx, const char *pub_endpoint)
{
    text_cut(s_log.service, sizeof s_log.service, service);
    s_log.min_level = min_level;
    if (!zmq_ctx || !pub_endpoint || !*pub_endpoint)
        return RC_OK;
    void *pub = s_pub_new(zmq_ctx, pub_endpoint);
    if (!pub)
        return RC_ERR_IO;
    pthread_mutex_lock(&s_pub_lock);
    s_log.ctx = zmq_ctx;
    snprintf(s_log.endpoint, sizeof s_log.endpoint, "%s", pub_endpoint);
    s_log.pub = pub;
    s_log.closed = false;
    pthread_mutex_unlock(&s_pub_lock);
    return RC_OK;
}

int log_rebind(void)
{
    /* taken out under the lock, so no other thread uses it; made again
     * outside it, since making it may log */
    pthread_mutex_lock(&s_pub_lock);
    void *old = s_log.pub;
    s_log.pub = NULL;
    pthread_mutex_unlock(&s_pub_lock);
    if (!old)
        return RC_OK;
    zmq_unbind(old, s_log.endpoint);
    zmq_close(old);
    /* the old socket lets go of the address in libzmq's I/O thread: a TCP
     * port may still be taken for a moment */
    void *pub = NULL;
    for (int i = 0; i < 100 && !(pub = s_pub_new(s_log.ctx, s_log.endpoint)); i++)
        usleep(10000);
    pthread_mutex_lock(&s_pub_lock);
    if (s_log.closed && pub) { /* the service stopped meanwhile */
        zmq_close(pub);
        pub = NULL;
    }
    s_log.pub = pub;
    bool closed = s_log.closed;
    pthread_mutex_unlock(&s_pub_lock);
    return pub || closed ? RC_OK : RC_ERR_IO;
}

void log_close(void)
{
    pthread_mutex_lock(&s_pub_lock);
    s_log.closed = true;
    if (s_log.pub) {
        zmq_close(s_log.pub);
        s_log.pub = NULL;
    }
    pthread_mutex_unlock(&s_pub_lock);
}

/* A line being built: everything goes in whole or not at all, and a reserve
 * at the end always holds the closing of a cut string and the marker. */
#define s_TRUNCATED_CLOSE ",\"truncated\":true}"

typedef struct {
    char *buf;
    size_t len;
    size_t room; /* the line's content ends before this */
    bool truncated;
} s_line_t;

static bool s_put(s_line_t *o, const char *s, size_t n)
{
    if (o->truncated || o->len + n > o->room) {
        o->truncated = true;
        return false;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return true;
}

/* Writes s as a JSON string: quotes, backslashes and control bytes escaped,
 * each byte that does not belong to a valid UTF-8 character (text_char_len)
 * as U+FFFD. When the line is full the string ends after its last whole
 * character or escape. Returns false if not even the opening quote fit. */
static bool s_put_string(s_line_t *o, const char *s)
{
    if (!s_put(o, "\"", 1))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len && !o->truncated;) {
        char esc[8];
        const char *out = esc;
        size_t n = 2, step = 1;
        switch (p[i]) {
        case '"':
            out = "\\\"";
            break;
        case '\\':
            out = "\\\\";
            break;
        case '\n':
            out = "\\n";
            break;
        case '\r':
            out = "\\r";
            break;
        case '\t':
            out = "\\t";
            break;
        default:
            if (p[i] < 0x20) {
                n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", p[i]);
            } else if ((step = text_char_len(p + i, len - i)) > 0) {
                out = (const char *)p + i;
                n = step;
            } else {
                out = "\xEF\xBF\xBD"; /* U+FFFD for the byte */
                n = 3;
                step = 1;
            }
        }
        s_put(o, out, n);
        i += step;
    }
    if (!s_put(o, "\"", 1))
        o->buf[o->len++] = '"'; /* the reserve keeps room for it */
    return true;
}

/* Appends "key":value (after a comma unless first): a string, or num when str
 * is NULL. A key never goes out without its value; a string value that does
 * not fit is cut (see s_put_string). */
static void s_put_field(s_line_t *o, bool first, const char *key, const char *str, long long num)
{
    size_t mark = o->len;
    char digits[24];
    if ((first || s_put(o, ",", 1)) && s_put_string(o, key) && s_put(o, ":", 1)) {
        if (!str) {
            snprintf(digits, sizeof digits, "%lld", num);
            if (s_put(o, digits, strlen(digits)))
                return;
        } else if (s_put_string(o, str)) {
            return;
        }
    }
    if (o->truncated) /* nothing of this field, rather than a key without a value */
        o->len = mark;
}

size_t log_format(char *buf, size_t size, long long ts_ms, log_level_t level, const char *service,
                  const char *event_id, const char *unit, const log_field_t *fields, size_t nfields,
                  const char *msg)
{
    const size_t reserve = sizeof s_TRUNCATED_CLOSE + 1; /* marker, NUL, a string's quote */
    if (size < reserve + 2) {                            /* not even room for a field */
        size_t n = size >= 3 ? 2 : 0;
        memcpy(buf, "{}", n);
        if (size > 0)
            buf[n] = '\0';
        return n;
    }
    s_line_t o = {buf, 0, size - reserve, false};
    s_put(&o, "{", 1);
    time_t secs = (time_t)(ts_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[64];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
    s_put_field(&o, true, "ts", ts, 0);
    s_put_field(&o, false, "level", log_level_name(level), 0);
    s_put_field(&o, false, "service", service, 0);
    if (event_id && *event_id)
        s_put_field(&o, false, "event_id", event_id, 0);
    if (unit && *unit)
        s_put_field(&o, false, "unit", unit, 0);
    s_put_field(&o, false, "msg", msg, 0);
    for (size_t i = 0; i < nfields && !o.truncated; i++)
        s_put_field(&o, false, fields[i].key, fields[i].str, fields[i].num);
    const char *close = !o.truncated ? "}" : o.len > 1 ? s_TRUNCATED_CLOSE : &s_TRUNCATED_CLOSE[1];
    size_t n = strlen(close);
    memcpy(buf + o.len, close, n + 1);
    return o.len + n;
}

__attribute__((format(printf, 6, 0))) static void s_write(log_level_t level, const char *event_id,
                                                          const char *unit,
                                                          const log_field_t *fields, size_t nfields,
                                                          const char *fmt, va_list ap)
{
    /* as long as a line: if vsnprintf cuts a character in half, log_format
     * has cut the line before it */
    char msg[LOG_LINE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);

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

void log_event(log_level_t level, const char *event_id, const char *unit, const log_field_t *fields,
               size_t nfields, const char *fmt, ...)
{
    if (level < s_log.min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    s_write(level, event_id, unit, fields, nfields, fmt, ap);
    va_end(ap);
}

void log_notice(const char *event_id, const char *unit, const log_field_t *fields, size_t nfields,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_write(LOG_INFO, event_id, unit, fields, nfields, fmt, ap);
    va_end(ap);
}
