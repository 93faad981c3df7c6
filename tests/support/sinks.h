/* sinks.h: a real HTTP receiver and a real SMTP sink on loopback, for tests of the
 * notification service's webhook and mail delivery.
 *
 * Each sink listens on 127.0.0.1 only, on a port the kernel chooses (bind to port 0, read back
 * with getsockname); nothing here ever binds or connects to any other address. A sink runs an
 * accept thread inside the test process and one thread per connection (at most
 * SINK_MAX_CONNECTIONS at once; further connections are closed at once), so several clients are
 * served concurrently. Stopping a sink wakes every one of its threads, closes every socket it
 * opened and joins every thread before returning: nothing outlives sink_*_stop().
 *
 * All sockets and pipes are close-on-exec, so services forked and exec'd by the test do not
 * inherit them. Every accessor is thread-safe and may be called while clients are connected.
 *
 * Ownership: a sink is allocated by sink_*_start() and freed only by sink_*_stop(), which takes
 * the caller's pointer by address and sets it to NULL; stopping NULL or an already-NULL pointer
 * does nothing. Strings returned by sink_*_url() are owned by the sink and die with it. Every
 * other output is copied into caller-owned buffers, always NUL-terminated and truncated to the
 * buffer's size; an output buffer may be NULL when its length is 0.
 */
#ifndef RECTIFY_SINKS_H
#define RECTIFY_SINKS_H

#include <stddef.h>

/* Limits, per sink. */
#define SINK_MAX_CONNECTIONS 128         /* open client connections at once */
#define SINK_HTTP_MAX_PATHS 16           /* paths configurable with sink_http_set() */
#define SINK_HTTP_MAX_PATH_LEN 255       /* bytes of a configured path */
#define SINK_HTTP_MAX_REQUESTS 1000      /* requests stored; later ones are answered, not stored */
#define SINK_HTTP_MAX_HEAD (16 * 1024)   /* request line + headers; larger heads get 431 */
#define SINK_HTTP_MAX_BODY (64 * 1024)   /* Content-Length above this gets 413 and a close */
#define SINK_SMTP_MAX_MESSAGES 1000      /* messages stored; later ones get 250, not stored */
#define SINK_SMTP_MAX_DATA (1024 * 1024) /* message data; larger messages get 552, not stored */

typedef enum { SINK_OK = 0, SINK_FAIL_500, SINK_HANG } sink_behaviour_t;

/* ---- HTTP ---------------------------------------------------------------------------------
 * HTTP/1.1 and HTTP/1.0 requests: request line, headers (names case-insensitive), body framed by
 * Content-Length only. A request with Transfer-Encoding (chunked uploads) gets 501 and the
 * connection is closed: libcurl sends Content-Length for CURLOPT_POSTFIELDS. "Expect:
 * 100-continue" is answered with 100 Continue. Connections are kept alive (several requests,
 * pipelined or not, on one connection) unless the client sends "Connection: close" or speaks
 * HTTP/1.0 without "Connection: keep-alive". Malformed requests get 400 and a close; those and
 * the 413/431/501/505 refusals are not stored or counted.
 *
 * A request's path is its target up to any '?' (the query string is ignored for matching);
 * an absolute-form target ("http://host:port/p") is reduced to its path. */

typedef struct sink_http_t sink_http_t;

/* Starts an HTTP/1.1 server on 127.0.0.1:<ephemeral>. NULL on failure (message on stderr).
 * The caller owns the result and frees it with sink_http_stop(). */
sink_http_t *sink_http_start(void);

/* "http://127.0.0.1:PORT" (owned by the sink, valid until it is stopped). */
const char *sink_http_url(const sink_http_t *self);

/* How to answer requests whose path is `path` (e.g. "/a"; copied):
 *   SINK_OK        200 with body "ok"; with fail_first > 0 the next fail_first requests to that
 *                  path get 500 first (counted from this call), later ones 200;
 *   SINK_FAIL_500  500 every time;
 *   SINK_HANG      reads and stores the request, never answers, and keeps the connection open
 *                  until the client closes it or the sink stops (anything the client sends
 *                  after it on that connection is read and dropped).
 * Paths not configured answer 200. Setting a path again replaces its behaviour. A path that does
 * not start with '/', is longer than SINK_HTTP_MAX_PATH_LEN, or would be the
 * SINK_HTTP_MAX_PATHS+1-th path is a programmer error: message on stderr and abort(). */
void sink_http_set(sink_http_t *self, const char *path, sink_behaviour_t behaviour, int fail_first);

/* Number of stored requests whose path is `path`, whatever their method and answer (at most
 * SINK_HTTP_MAX_REQUESTS over all paths). 0 for a NULL sink or path. */
int sink_http_count(sink_http_t *self, const char *path);

/* Copies of the i-th (from 0, in order of full receipt) stored request on `path`: its body, its
 * Idempotency-Key header value and its Content-Type header value ("" for a missing header).
 * Outputs (each may be NULL with length 0): body[bodylen], idempotency_key[keylen],
 * content_type[ctlen]. Returns 0, or -1 if there is no such request. A body containing NUL
 * bytes reads as cut at the first one. */
int sink_http_request(sink_http_t *self, const char *path, int i, char *body, size_t bodylen,
                      char *idempotency_key, size_t keylen, char *content_type, size_t ctlen);

/* Monotonic time in ms (CLOCK_MONOTONIC) at which the i-th request on path was fully received
 * (head and body); -1 if there is no such request. */
long long sink_http_received_ms(sink_http_t *self, const char *path, int i);

/* Waits until sink_http_count(self, path) >= n or timeout_ms has passed.
 * Returns 0 if the count was reached, -1 on timeout. */
int sink_http_wait(sink_http_t *self, const char *path, int n, int timeout_ms);

/* Closes the listening socket and every connection (hanging ones included), joins every thread,
 * frees the sink and sets *self_p to NULL. Safe on NULL and on a pointer to NULL. */
void sink_http_stop(sink_http_t **self_p);

/* ---- SMTP ---------------------------------------------------------------------------------
 * A minimal SMTP server, the RFC 5321 subset that libcurl's smtp:// upload needs: greeting 220;
 * EHLO and HELO 250 (EHLO advertises no extension: no STARTTLS, no AUTH, no SIZE); MAIL FROM 250
 * (503 inside a transaction); RCPT TO 250 (503 before MAIL); DATA 354 (503 before RCPT), then the
 * message up to a line holding only ".", dot-unstuffed, then 250; RSET 250; NOOP 250; VRFY 252;
 * QUIT 221 and close; anything else 502. Command lines longer than 1000 bytes get 500. Commands
 * may come before EHLO/HELO. No authentication, no TLS, nothing is relayed anywhere. */

typedef struct sink_smtp_t sink_smtp_t;

/* Starts the SMTP sink on 127.0.0.1:<ephemeral>. NULL on failure (message on stderr).
 * The caller owns the result and frees it with sink_smtp_stop(). */
sink_smtp_t *sink_smtp_start(void);

/* "smtp://127.0.0.1:PORT" (owned by the sink, valid until it is stopped). */
const char *sink_smtp_url(const sink_smtp_t *self);

/* Number of messages stored (accepted with 250 after DATA). 0 for a NULL sink. */
int sink_smtp_count(sink_smtp_t *self);

/* Copies of the i-th (from 0) stored message: envelope sender (the address inside MAIL FROM's
 * angle brackets, "" for the null sender <>), first recipient (likewise from RCPT TO), and the
 * full data (headers and body, line endings as sent, dot-unstuffed; it ends with the line break
 * that preceded the final "." line, and does not contain that line).
 * Outputs (each may be NULL with length 0): from[fromlen], to[tolen], data[datalen].
 * Returns 0, or -1 if there is no such message. */
int sink_smtp_message(sink_smtp_t *self, int i, char *from, size_t fromlen, char *to, size_t tolen,
                      char *data, size_t datalen);

/* Waits until sink_smtp_count(self) >= n or timeout_ms has passed.
 * Returns 0 if the count was reached, -1 on timeout. */
int sink_smtp_wait(sink_smtp_t *self, int n, int timeout_ms);

/* Closes every socket, joins every thread, frees the sink and sets *self_p to NULL.
 * Safe on NULL and on a pointer to NULL. */
void sink_smtp_stop(sink_smtp_t **self_p);

#endif
