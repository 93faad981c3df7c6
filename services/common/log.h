/* log.h: one JSON object per line on stderr, and the same line published on
 * a ZeroMQ PUB socket for the on-call admins' tail tool.
 *
 * Line shape: {"ts":"2026-11-25T13:52:57.123Z","level":"info","service":"intake",
 *              "event_id":"...","unit":"...","msg":"...", <fields>}
 * Lines are built in a bounded buffer and are always valid JSON in valid
 * UTF-8 (text.h): a byte of a string that is not part of a valid character
 * is written as U+FFFD; an over-long line is cut after a whole character or
 * escape, never inside a key, and marked "truncated":true. Not
 * async-signal-safe: never call from a signal handler. */
#ifndef RECTIFY_LOG_H
#define RECTIFY_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

typedef struct {
    const char *key;
    const char *str; /* used when not NULL ... */
    long long num;   /* ... else this number */
} log_field_t;

#define LF_STR(k, v) ((log_field_t){(k), (v) ? (v) : "", 0})
#define LF_INT(k, v) ((log_field_t){(k), NULL, (long long)(v)})

#define LOG_LINE_MAX 4096

/* Starts logging for `service`. zmq_ctx and pub_endpoint may be NULL/empty
 * (no live stream). Returns 0, or RC_ERR_IO if the PUB socket cannot bind. */
int log_open(const char *service, log_level_t min_level, void *zmq_ctx, const char *pub_endpoint);
/* Closes the PUB socket (linger 200 ms); logging to stderr goes on. */
void log_close(void);
/* Closes the log stream's socket and binds a new one: every listener is cut
 * off, reconnects and is checked by the ZAP handler again (an on-call key
 * revoked meanwhile is refused). A few lines may be missed by listeners.
 * Returns 0, or RC_ERR_IO when the endpoint could not be bound again within
 * a second (the stream is then off; stderr goes on). */
int log_rebind(void);

/* "debug", "info", ... -> level; unknown names give LOG_INFO. */
log_level_t log_level_from_name(const char *name);
const char *log_level_name(log_level_t level);

void log_event(log_level_t level, const char *event_id, const char *unit, const log_field_t *fields,
               size_t nfields, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Writes an info line whatever the minimum level is: for a line that is
 * itself a delivery (the log channel's notice lines), which a level filter
 * must not lose while the delivery is recorded as sent. */
void log_notice(const char *event_id, const char *unit, const log_field_t *fields, size_t nfields,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Formats a line into buf (always NUL-terminated, no newline); returns its
 * length. Exposed for the tests. */
size_t log_format(char *buf, size_t size, long long ts_ms, log_level_t level, const char *service,
                  const char *event_id, const char *unit, const log_field_t *fields, size_t nfields,
                  const char *msg);

#define log_debug(...) log_event(LOG_DEBUG, NULL, NULL, NULL, 0, __VA_ARGS__)
#define log_info(...) log_event(LOG_INFO, NULL, NULL, NULL, 0, __VA_ARGS__)
#define log_warn(...) log_event(LOG_WARN, NULL, NULL, NULL, 0, __VA_ARGS__)
#define log_error(...) log_event(LOG_ERROR, NULL, NULL, NULL, 0, __VA_ARGS__)

#endif
