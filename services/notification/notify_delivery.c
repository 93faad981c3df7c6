/* notify_delivery.c: webhook and mail deliveries through libcurl multi. */
#include "notify_delivery.h"
#include "clock.h"
#include "db.h"
#include "errors.h"
#include "log.h"
#include "text.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_WAIT_MS 100

/* One transfer in flight. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *rcpt;
    char *payload; /* JSON body, or the whole mail message */
    size_t len, sent;
    char notice_id[40];
    char channel[16];
    char *recipient;
    int attempt; /* this attempt's number, counted when it was claimed */
    char error[CURL_ERROR_SIZE];
} s_transfer_t;

struct notify_delivery_t {
    const config_t *cfg;
    pthread_t thread;
    atomic_bool stopping;
    db_t *db;
    CURLM *multi;
    s_transfer_t *slots;
    int concurrency, running;
    long timeout_ms;
    int max_attempts;
    long long retry_base_ms, retry_max_ms;
    unsigned seed;
};

/* Claims due deliveries and counts the attempt before it begins (a crash
 * during the transfer leaves it counted; the lease runs out and the next
 * attempt is counted too). */
static const db_stmt_t s_claim = {
    "dl_claim",
    "WITH due AS (SELECT notice_id, channel, recipient FROM delivery"
    "  WHERE status = 'pending' AND channel IN ('webhook', 'mail') AND next_attempt_at <= now()"
    "    AND (lease_until IS NULL OR lease_until < now())"
    "  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE delivery d SET lease_until = now() + $2::int * interval '1 millisecond',"
    "  attempts = d.attempts + 1, updated_at = now()"
    " FROM due WHERE (d.notice_id, d.channel, d.recipient) = (due.notice_id, due.channel, "
    "due.recipient)"
    " RETURNING d.notice_id::text, d.channel, d.recipient, d.attempts,"
    "  (SELECT row_to_json(x)::text FROM (SELECT n.notice_id, n.event_id, n.kind, n.unit, "
    "n.subject,"
    "    n.body, n.created_at FROM notification n WHERE n.notice_id = d.notice_id) x),"
    "  (SELECT n.subject FROM notification n WHERE n.notice_id = d.notice_id),"
    "  (SELECT n.body FROM notification n WHERE n.notice_id = d.notice_id)",
    2, 0};
static const db_stmt_t s_sent = {"dl_sent",
                                 "UPDATE delivery SET status = 'sent', lease_until = NULL,"
                                 " sent_at = now(), updated_at = now(), last_error = NULL"
                                 " WHERE notice_id = $1::uuid AND channel = $2 AND recipient = $3",
                                 3, 0};
static const db_stmt_t s_retry = {
    "dl_retry",
    "UPDATE delivery SET lease_until = NULL, updated_at = now(),"
    " last_error = $4, next_attempt_at = now() + $5::bigint * interval '1 millisecond',"
    " status = CASE WHEN attempts >= $6::int THEN 'dead' ELSE 'pending' END"
    " WHERE notice_id = $1::uuid AND channel = $2 AND recipient = $3 RETURNING status",
    6, 0};

static size_t s_read_payload(char *buf, size_t size, size_t nitems, void *arg)
{
    s_transfer_t *t = arg;
    size_t room = size * nitems, left = t->len - t->sent;
    size_t n = left < room ? left : room;
    memcpy(buf, t->payload + t->sent, n);
    t->sent += n;
    return n;
}

static size_t s_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

static void s_release(notify_delivery_t *self, s_transfer_t *t)
{
    if (t->easy) {
        curl_multi_remove_handle(self->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->rcpt);
    free(t->payload);
    free(t->recipient);
    memset(t, 0, sizeof *t);
}

/* The subject as RFC 2047 encoded-words (UTF-8, base64): each word at most
 * 75 characters and holding whole characters (45 bytes of text give 60 of
 * base64), the words folded onto lines of their own. NULL when out of
 * memory; the caller frees it. */
static char *s_encode_subject(const char *subject)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char open[] = "=?UTF-8?B?", fold[] = "\r\n ", close[] = "?=";
    size_t words = strlen(subject) + 1; /* each takes at least a byte: a bound, not a count */
    char *out = malloc(words * (sizeof fold + sizeof open + sizeof close + 60) + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)subject;
    do {
        size_t k = text_prefix((const char *)p, 45);
        if (k == 0) /* not valid text (stored text is): the bytes as they are */
            k = strnlen((const char *)p, 45);
        if (o != out) {
            memcpy(o, fold, sizeof fold - 1);
            o += sizeof fold - 1;
        }
        memcpy(o, open, sizeof open - 1);
        o += sizeof open - 1;
        for (size_t i = 0; i < k; i += 3) {
            unsigned v = (unsigned)p[i] << 16 | (i + 1 < k ? (unsigned)p[i + 1] << 8 : 0) |
                         (i + 2 < k ? p[i + 2] : 0);
            *o++ = b64[(v >> 18) & 63];
            *o++ = b64[(v >> 12) & 63];
            *o++ = i + 1 < k ? b64[(v >> 6) & 63] : '=';
            *o++ = i + 2 < k ? b64[v & 63] : '=';
        }
        memcpy(o, close, sizeof close);
        o += sizeof close - 1;
        p += k;
    } while (*p);
    return out;
}

/* "<address>" for the SMTP envelope; NULL when out of memory. */
static char *s_angle(const char *address)
{
    size_t n = strlen(address) + 3;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "<%s>", address);
    return out;
}

/* Builds and adds the transfer for one claimed row. */
static int s_begin(notify_delivery_t *self, s_transfer_t *t, PGresult *res, int r)
{
    snprintf(t->notice_id, sizeof t->notice_id, "%s", PQgetvalue(res, r, 0));
    snprintf(t->channel, sizeof t->channel, "%s", PQgetvalue(res, r, 1));
    t->recipient = strdup(PQgetvalue(res, r, 2));
    t->attempt = (int)strtol(PQgetvalue(res, r, 3), NULL, 10);
    t->easy = curl_easy_init();
    if (!t->recipient || !t->easy)
        return RC_ERR_NOMEM;
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    if (!strcmp(t->channel, "webhook")) {
        t->payload = strdup(PQgetvalue(res, r, 4));
        if (!t->payload)
            return RC_ERR_NOMEM;
        t->len = strlen(t->payload);
        char key[80];
        snprintf(key, sizeof key, "Idempotency-Key: %s", t->notice_id);
        t->headers = curl_slist_append(NULL, "Content-Type: application/json");
        t->headers = curl_slist_append(t->headers, key);
        curl_easy_setopt(e, CURLOPT_URL, t->recipient);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->payload);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)t->len);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_discard);
    } else {
        char date[64];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
        const char *from = config_str(self->cfg, SET_mail_from);
        const char *subject = PQgetvalue(res, r, 5), *body = PQgetvalue(res, r, 6);
        char *encoded = s_encode_subject(subject);
        char *to = s_angle(t->recipient), *mail_from = s_angle(from);
        size_t cap = (encoded ? strlen(encoded) : 0) + strlen(subject) + strlen(body) +
                     strlen(t->recipient) + strlen(from) + 512;
        t->payload = encoded && to && mail_from ? malloc(cap) : NULL;
        if (t->payload) {
            int n = snprintf(t->payload, cap,
                             "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s@rectify>\r\n"
                             "Subject: %s\r\nMIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=UTF-8\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n%s\r\n",
                             date, from, t->recipient, t->notice_id, encoded, subject, body);
            t->len = n > 0 && (size_t)n < cap ? (size_t)n : 0; /* sized to fit */
            t->rcpt = curl_slist_append(NULL, to);
            curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from); /* libcurl keeps a copy */
        }
        free(encoded);
        free(to);
        free(mail_from);
        if (!t->payload || t->len == 0 || !t->rcpt)
            return RC_ERR_NOMEM;
        curl_easy_setopt(e, CURLOPT_URL, config_str(self->cfg, SET_smtp_url));
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpt);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, s_read_payload);
        curl_easy_setopt(e, CURLOPT_READDATA, t);
    }
    return curl_multi_add_handle(self->multi, e) == CURLM_OK ? RC_OK : RC_ERR_IO;
}

/* Backoff before attempt n+1: base * 2^(n-1), capped, with up to 50% jitter. */
static long long s_backoff(notify_delivery_t *self, int attempts)
{
    long long d = self->retry_base_ms;
    for (int i = 1; i < attempts && d < self->retry_max_ms; i++)
        d *= 2;
    if (d > self->retry_max_ms)
        d = self->retry_max_ms;
    return d / 2 + (long long)(rand_r(&self->seed) % (unsigned)(d / 2 + 1));
}

static void s_finish(notify_delivery_t *self, s_transfer_t *t, CURLcode result)
{
    long code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    bool ok = result == CURLE_OK && (strcmp(t->channel, "webhook") || (code >= 200 && code < 300));
    const char *params[6] = {t->notice_id, t->channel, t->recipient};
    log_field_t f[] = {LF_STR("channel", t->channel), LF_STR("recipient", t->recipient),
                       LF_INT("attempt", t->attempt)};
    if (ok) {
        if (db_do(self->db, &s_sent, params) == RC_OK)
            log_event(LOG_INFO, NULL, NULL, f, 3, "delivered notice %s", t->notice_id);
        return;
    }
    char error[300], delay[24], max[16];
    if (result != CURLE_OK)
        text_cut(error, sizeof error, t->error[0] ? t->error : curl_easy_strerror(result));
    else
        snprintf(error, sizeof error, "HTTP %ld", code);
    snprintf(delay, sizeof delay, "%lld", s_backoff(self, t->attempt));
    snprintf(max, sizeof max, "%d", self->max_attempts);
    params[3] = error;
    params[4] = delay;
    params[5] = max;
    PGresult *res = db_run(self->db, &s_retry, params, NULL, NULL);
    bool dead = res && PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "dead");
    PQclear(res);
    if (dead)
        log_event(LOG_ERROR, NULL, NULL, f, 3, "dead letter: notice %s to %s after %d attempts: %s",
                  t->notice_id, t->recipient, t->attempt, error);
    else
        log_event(LOG_WARN, NULL, NULL, f, 3, "delivery failed (%s); trying again in %s ms", error,
                  delay);
}

static void s_claim_more(notify_delivery_t *self)
{
    int free_slots = self->concurrency - self->running;
    if (free_slots <= 0 || atomic_load(&self->stopping))
        return;
    char limit[16], lease[24];
    snprintf(limit, sizeof limit, "%d", free_slots);
    snprintf(lease, sizeof lease, "%ld", self->timeout_ms * 2 + 1000);
    const char *params[] = {limit, lease};
    if (db_ensure(self->db) != RC_OK)
        return;
    PGresult *res = db_run(self->db, &s_claim, params, NULL, NULL);
    if (!res)
        return;
    for (int r = 0, k = 0; r < PQntuples(res); r++) {
        while (k < self->concurrency && self->slots[k].easy)
            k++;
        if (k == self->concurrency)
            break; /* the lease runs out and another round takes it */
        s_transfer_t *t = &self->slots[k];
        if (s_begin(self, t, res, r) != RC_OK) {
            log_error("delivery: cannot start a transfer for notice %s", PQgetvalue(res, r, 0));
            s_release(self, t);
            continue;
        }
        self->running++;
    }
    PQclear(res);
}

static void *s_run(void *arg)
{
    notify_delivery_t *self = arg;
    while (!atomic_load(&self->stopping) || self->running > 0) {
        s_claim_more(self);
        int still = 0;
        curl_multi_perform(self->multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(self->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_transfer_t *t = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            if (!t)
                continue;
            s_finish(self, t, msg->data.result);
            s_release(self, t);
            self->running--;
        }
        curl_multi_poll(self->multi, NULL, 0, self->running > 0 ? 50 : IDLE_WAIT_MS, NULL);
    }
    return NULL;
}

notify_delivery_t *notify_delivery_start(const config_t *cfg)
{
    notify_delivery_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->concurrency = (int)config_int(cfg, SET_delivery_concurrency);
    self->timeout_ms = (long)config_int(cfg, SET_delivery_timeout_ms);
    self->max_attempts = (int)config_int(cfg, SET_delivery_max_attempts);
    self->retry_base_ms = config_int(cfg, SET_retry_base_ms);
    self->retry_max_ms = config_int(cfg, SET_retry_max_ms);
    self->seed = (unsigned)clock_mono_us();
    atomic_init(&self->stopping, false);
    char err[512];
    self->slots = calloc((size_t)self->concurrency, sizeof *self->slots);
    self->db = db_connect(config_str(cfg, SET_db), err, sizeof err);
    self->multi = curl_multi_init();
    if (!self->slots || !self->db || !self->multi) {
        log_error("delivery: cannot start: %s", self->db ? "out of memory" : err);
        goto out_free;
    }
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        log_error("delivery: cannot start its thread");
        goto out_free;
    }
    return self;

out_free:
    if (self->multi)
        curl_multi_cleanup(self->multi);
    db_destroy(&self->db);
    free(self->slots);
    free(self);
    return NULL;
}

void notify_delivery_stop(notify_delivery_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    notify_delivery_t *self = *self_p;
    atomic_store(&self->stopping, true);
    curl_multi_wakeup(self->multi);
    pthread_join(self->thread, NULL);
    for (int i = 0; i < self->concurrency; i++)
        if (self->slots[i].easy)
            s_release(self, &self->slots[i]);
    curl_multi_cleanup(self->multi);
    db_destroy(&self->db);
    free(self->slots);
    free(self);
    *self_p = NULL;
}
