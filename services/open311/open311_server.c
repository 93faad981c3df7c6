/* open311_server.c: the Open311 GeoReport v2 door, over libmicrohttpd.
 *
 *   GET  /open311/v2/services.json          the services (open311_service)
 *   POST /open311/v2/requests.json          a request: a post_order event through intake
 *   GET  /open311/v2/requests.json          requests of the key's hotline, filtered
 *   GET  /open311/v2/requests/{id}.json     one request
 *
 * The api_key is a system key of the ZeroMQ door: its secret key (Z85, the
 * secret-key line of the file rectifyctl key new writes). The door derives
 * the public key, and posts with that very key pair over CURVE, so intake
 * authenticates, rate-limits, audits and refuses it exactly as it does for
 * the system itself; reading needs the same key and shows only its unit's
 * orders. A request's caller (phone, email, device or account) is kept only
 * as a keyed digest (HMAC-SHA256 with caller_salt); names are not kept.
 *
 * libmicrohttpd runs every request in its one polling thread: the database
 * connection and the ZeroMQ sockets are used from that thread only. */
#include "open311_server.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "ids.h"
#include "log.h"
#include "poster.h"
#include "rectify.pb-c.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define BASE "/open311/v2/"
#define MAX_FIELD 4096   /* bytes of one form field */
#define MAX_IDS 100      /* service_request_id values in one query */
#define MAX_RESULTS 1000 /* requests in one answer, as the specification suggests */
#define OUTCOME_WAIT_MS 5000

struct open311_t {
    service_t *svc;
    struct MHD_Daemon *mhd;
    char server_key[CURVE_KEY_TEXT]; /* intake's public key */
    const char *intake;
    const char *salt;
    bool sim;
};

/* --- answers ------------------------------------------------------------------ */

static enum MHD_Result s_send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text)
        text = strdup("[{\"code\":500,\"description\":\"out of memory\"}]");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(text ? strlen(text) : 0, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The specification's error format: [{"code": ..., "description": ...}]. */
static enum MHD_Result s_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result s_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("[{s:i, s:s}]", "code", (int)status, "description", text);
    return s_send_json(conn, status, e);
}

/* --- keys ---------------------------------------------------------------------- */

typedef struct {
    curve_cert_t cert; /* the key pair the request speaks with */
    char unit[64];     /* the unit the key posts as */
} s_key_t;

static const db_stmt_t s_key_stmt = {
    "o311_key",
    "SELECT coalesce(unit, ''), kind = 'system' AND revoked_at IS NULL FROM api_key"
    " WHERE public_key = $1",
    1, 0};

/* Checks the api_key: a Z85 secret key whose public key is a registered,
 * unrevoked system key. Returns 0 or the HTTP status to refuse with, the
 * reason in why. */
static unsigned s_check_key(open311_t *self, const char *api_key, s_key_t *key, char *why,
                            size_t whylen)
{
    memset(key, 0, sizeof *key);
    if (!api_key || !*api_key) {
        snprintf(why, whylen, "api_key is required (the secret key of a system key)");
        return MHD_HTTP_FORBIDDEN;
    }
    if (!curve_key_valid(api_key) || zmq_curve_public(key->cert.public_key, api_key) != 0) {
        snprintf(why, whylen, "api_key: not a key (40 characters of Z85)");
        return MHD_HTTP_FORBIDDEN;
    }
    snprintf(key->cert.secret_key, sizeof key->cert.secret_key, "%s", api_key);
    const char *params[] = {key->cert.public_key};
    PGresult *res = db_run(self->svc->db, &s_key_stmt, params, NULL, NULL);
    if (!res) {
        snprintf(why, whylen, "the key store cannot be read now; try again");
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    bool ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    if (ok) {
        snprintf(key->unit, sizeof key->unit, "%s", PQgetvalue(res, 0, 0));
        snprintf(key->cert.unit, sizeof key->cert.unit, "%s", key->unit);
    }
    PQclear(res);
    if (!ok) {
        snprintf(why, whylen, "api_key: not a registered, unrevoked system key");
        return MHD_HTTP_FORBIDDEN;
    }
    return 0;
}

/* --- GET services.json --------------------------------------------------------- */

static const db_stmt_t s_services = {
    "o311_services",
    "SELECT service_code, service_name, description, keywords, grp FROM open311_service"
    " ORDER BY service_code",
    0, 0};

static enum MHD_Result s_get_services(open311_t *self, struct MHD_Connection *conn)
{
    PGresult *res = db_run(self->svc->db, &s_services, NULL, NULL, NULL);
    if (!res)
        return s_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the service list cannot be read now");
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code",
                            PQgetvalue(res, i, 0), "service_name", PQgetvalue(res, i, 1),
                            "description", PQgetvalue(res, i, 2), "metadata", 0, "type", "realtime",
                            "keywords", PQgetvalue(res, i, 3), "group", PQgetvalue(res, i, 4)));
    PQclear(res);
    return s_send_json(conn, MHD_HTTP_OK, list);
}

/* --- GET requests ---------------------------------------------------------------- */

/* $1 the key's unit; $2 ids ('' any, else comma-separated); $3 service_code
 * ('' any); $4 start, $5 end ('' none); $6 status ('' any, open, closed);
 * $7 sim */
static const db_stmt_t s_requests = {
    "o311_requests",
    "SELECT o.order_id, CASE WHEN o.status = 'closed' THEN 'closed' ELSE 'open' END,"
    " order_status_label(o.status), coalesce(s.service_code, o.category),"
    " coalesce(s.service_name, o.category), o.body, coalesce(u.name, ''),"
    " to_char(o.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " coalesce(to_char((SELECT min(k.due_at) FROM subject_clock k WHERE k.lifecycle = 'order'"
    "   AND k.subject = o.order_id AND k.clock = 'complete' AND k.step = 'breach'"
    "   AND k.fired_at IS NULL AND k.cancelled_at IS NULL) AT TIME ZONE 'UTC',"
    "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
    " o.address, coalesce(o.latitude::text, ''), coalesce(o.longitude::text, '')"
    " FROM work_order o LEFT JOIN open311_service s ON s.category = o.category"
    "  AND s.urgent = o.urgent"
    " LEFT JOIN unit u ON u.code = o.unit"
    " WHERE unit_covers($1, o.hotline)"
    " AND ($2 = '' OR o.order_id = ANY (string_to_array($2, ',')))"
    " AND ($3 = '' OR s.service_code = $3)"
    " AND o.received_at >= CASE WHEN $4 <> '' THEN $4::timestamptz"
    "  WHEN $2 <> '' THEN '-infinity' ELSE rectify_now($7::bool) - interval '90 days' END"
    " AND ($5 = '' OR o.received_at <= $5::timestamptz)"
    " AND ($6 = '' OR (o.status = 'closed') = ($6 = 'closed'))"
    " ORDER BY o.received_at DESC, o.order_id LIMIT 1000",
    7, 0};

static json_t *s_request_json(PGresult *res, int i)
{
    json_t *r =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "service_request_id",
                  PQgetvalue(res, i, 0), "status", PQgetvalue(res, i, 1), "status_notes",
                  PQgetvalue(res, i, 2), "service_code", PQgetvalue(res, i, 3), "service_name",
                  PQgetvalue(res, i, 4), "description", PQgetvalue(res, i, 5), "agency_responsible",
                  PQgetvalue(res, i, 6), "requested_datetime", PQgetvalue(res, i, 7),
                  "updated_datetime", PQgetvalue(res, i, 8));
    if (!r)
        return NULL;
    if (*PQgetvalue(res, i, 9))
        json_object_set_new(r, "expected_datetime", json_string(PQgetvalue(res, i, 9)));
    json_object_set_new(r, "address", json_string(PQgetvalue(res, i, 10)));
    if (*PQgetvalue(res, i, 11)) {
        json_object_set_new(r, "lat", json_real(strtod(PQgetvalue(res, i, 11), NULL)));
        json_object_set_new(r, "long", json_real(strtod(PQgetvalue(res, i, 12), NULL)));
    }
    return r;
}

/* An ISO 8601 date-time as PostgreSQL reads it; refuses anything else. */
static bool s_datetime_ok(const char *s)
{
    int y, mo, d, h, mi, sec;
    return strlen(s) >= 19 && strlen(s) <= 32 &&
           sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6 && mo >= 1 &&
           mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 60 &&
           strspn(s + 19, "0123456789.:+-Z") == strlen(s + 19);
}

static enum MHD_Result s_get_requests(open311_t *self, struct MHD_Connection *conn,
                                      const char *one_id)
{
    char why[200];
    s_key_t key;
    unsigned status =
        s_check_key(self, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "api_key"), &key,
                    why, sizeof why);
    if (status)
        return s_error(conn, status, "%s", why);
    const char *arg[5];
    static const char *const names[] = {"service_request_id", "service_code", "start_date",
                                        "end_date", "status"};
    for (int i = 0; i < 5; i++) {
        arg[i] = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, names[i]);
        if (!arg[i])
            arg[i] = "";
        if (strlen(arg[i]) > MAX_FIELD)
            return s_error(conn, MHD_HTTP_BAD_REQUEST, "%s is longer than %d bytes", names[i],
                           MAX_FIELD);
    }
    if (one_id)
        arg[0] = one_id;
    int ids = *arg[0] ? 1 : 0;
    for (const char *p = arg[0]; *p; p++)
        ids += *p == ',';
    if (ids > MAX_IDS)
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "service_request_id: %d ids; at most %d in one query", ids, MAX_IDS);
    for (int i = 2; i <= 3; i++)
        if (*arg[i] && !s_datetime_ok(arg[i]))
            return s_error(conn, MHD_HTTP_BAD_REQUEST,
                           "%s: \"%.40s\" is not a date and time (ISO 8601, e.g. "
                           "2026-12-01T00:00:00Z)",
                           names[i], arg[i]);
    if (*arg[4] && strcmp(arg[4], "open") && strcmp(arg[4], "closed"))
        return s_error(conn, MHD_HTTP_BAD_REQUEST, "status: \"%.40s\" is neither open nor closed",
                       arg[4]);
    const char *params[] = {
        key.unit, arg[0], arg[1], arg[2], arg[3], arg[4], self->sim ? "t" : "f"};
    PGresult *res = db_run(self->svc->db, &s_requests, params, NULL, NULL);
    if (!res)
        return s_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "requests cannot be read now");
    if (one_id && PQntuples(res) == 0) {
        PQclear(res);
        return s_error(conn, MHD_HTTP_NOT_FOUND, "service_request_id: no request \"%.80s\"",
                       one_id);
    }
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res) && i < MAX_RESULTS; i++)
        json_array_append_new(list, s_request_json(res, i));
    PQclear(res);
    return s_send_json(conn, MHD_HTTP_OK, list);
}

/* --- POST requests.json ------------------------------------------------------------ */

/* The form fields of a request the door reads; the rest are ignored. */
enum {
    F_API_KEY,
    F_SERVICE,
    F_LAT,
    F_LONG,
    F_ADDRESS,
    F_DESCRIPTION,
    F_PHONE,
    F_EMAIL,
    F_DEVICE,
    F_ACCOUNT,
    F_COUNT
};
static const char *const s_fields[F_COUNT] = {"api_key",        "service_code", "lat",   "long",
                                              "address_string", "description",  "phone", "email",
                                              "device_id",      "account_id"};

typedef struct {
    struct MHD_PostProcessor *pp;
    char *value[F_COUNT];
    size_t len[F_COUNT];
    char too_long[32]; /* the first field past MAX_FIELD */
    char twice[32];    /* the first field given twice */
    bool is_post;
} s_request_t;

static enum MHD_Result s_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    s_request_t *rq = cls;
    for (int f = 0; f < F_COUNT; f++) {
        if (strcmp(key, s_fields[f]) != 0)
            continue;
        if (off == 0 && rq->value[f]) {
            if (!*rq->twice)
                snprintf(rq->twice, sizeof rq->twice, "%s", key);
            return MHD_YES;
        }
        if (off + size > MAX_FIELD || off != rq->len[f]) {
            if (!*rq->too_long)
                snprintf(rq->too_long, sizeof rq->too_long, "%s", key);
            return MHD_YES;
        }
        char *grown = realloc(rq->value[f], rq->len[f] + size + 1);
        if (!grown)
            return MHD_NO;
        memcpy(grown + rq->len[f], data, size);
        rq->len[f] += size;
        grown[rq->len[f]] = '\0';
        rq->value[f] = grown;
    }
    return MHD_YES;
}

static const char *s_field(const s_request_t *rq, int f)
{
    return rq->value[f] ? rq->value[f] : "";
}

static const db_stmt_t s_service_stmt = {
    "o311_service", "SELECT category, urgent FROM open311_service WHERE service_code = $1", 1, 0};
static const db_stmt_t s_now_stmt = {
    "o311_now", "SELECT (extract(epoch FROM rectify_now($1::bool)) * 1000)::bigint", 1, 0};

/* The caller as a digest: HMAC-SHA256 of what identifies them (digits of a
 * phone number, a lower-cased email, a device or account id), keyed with
 * caller_salt; an anonymous request is a caller of its own. */
static void s_caller_hash(const char *salt, const s_request_t *rq, const char *order_id,
                          char out[65])
{
    char who[MAX_FIELD + 32] = "";
    size_t n = 0;
    if (*s_field(rq, F_PHONE)) {
        n = (size_t)snprintf(who, sizeof who, "phone:");
        for (const char *p = s_field(rq, F_PHONE); *p && n + 1 < sizeof who; p++)
            if (*p >= '0' && *p <= '9')
                who[n++] = *p;
        who[n] = '\0';
    } else if (*s_field(rq, F_EMAIL)) {
        n = (size_t)snprintf(who, sizeof who, "email:%s", s_field(rq, F_EMAIL));
        for (char *p = who; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    } else if (*s_field(rq, F_DEVICE)) {
        snprintf(who, sizeof who, "device:%s", s_field(rq, F_DEVICE));
    } else if (*s_field(rq, F_ACCOUNT)) {
        snprintf(who, sizeof who, "account:%s", s_field(rq, F_ACCOUNT));
    } else {
        snprintf(who, sizeof who, "anonymous:%s", order_id);
    }
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)salt, strlen(salt));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)who, strlen(who));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    sodium_memzero(who, sizeof who);
}

/* A coordinate: a finite number within limit. */
static bool s_coordinate(const char *text, double limit, double *v)
{
    char *end = NULL;
    *v = strtod(text, &end);
    return end != text && *end == '\0' && isfinite(*v) && fabs(*v) <= limit;
}

/* Posts the request's event to intake with the key and waits for
 * workflow's outcome; answers the client. */
static enum MHD_Result s_post_event(open311_t *self, struct MHD_Connection *conn,
                                    const s_key_t *key, Rectify__Envelope *env,
                                    const char *order_id)
{
    post_item_t item = {0};
    snprintf(item.event_id, sizeof item.event_id, "%s", env->event_id);
    item.len = rectify__envelope__get_packed_size(env);
    item.frame = malloc(item.len);
    if (!item.frame)
        return s_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    rectify__envelope__pack(env, item.frame);
    poster_creds_t creds = {.on = true, .nkeys = 1};
    memcpy(creds.server_key, self->server_key, sizeof creds.server_key);
    creds.keys[0] = key->cert;
    poster_opts_t opts = {.creds = &creds, .timeout_ms = 2000, .retries = 2, .window = 1};
    poster_run(self->svc->ctx, self->intake, &item, 1, &opts);
    enum MHD_Result answer;
    if (item.status == POST_ACCEPTED || item.status == POST_DUPLICATE) {
        poster_outcome_t out = {0};
        poster_outcomes(self->svc->ctx, self->intake, &item, 1, &opts, &out, OUTCOME_WAIT_MS);
        if (!strcmp(out.outcome, "refused"))
            answer = s_error(conn,
                             !strcmp(out.code, "denied") || !strcmp(out.code, "unknown_sender")
                                 ? MHD_HTTP_FORBIDDEN
                                 : MHD_HTTP_BAD_REQUEST,
                             "%s: %s", out.code, out.message);
        else
            answer = s_send_json(conn, MHD_HTTP_CREATED,
                                 json_pack("[{s:s, s:s}]", "service_request_id", order_id,
                                           "service_notice",
                                           !strcmp(out.outcome, "applied")
                                               ? ""
                                               : "accepted and stored; it is being registered"));
        log_event(LOG_INFO, env->event_id, env->unit, NULL, 0, "open311: request %s %s", order_id,
                  out.outcome[0] ? out.outcome : "accepted");
    } else if (item.status == POST_REJECTED) {
        answer = s_error(conn,
                         !strcmp(item.code, "key_refused") || !strcmp(item.code, "key_revoked")
                             ? MHD_HTTP_FORBIDDEN
                             : MHD_HTTP_BAD_REQUEST,
                         "%s: %s", item.code, item.message);
    } else {
        answer = s_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "intake did not answer; nothing may have been stored: send again");
    }
    free(item.frame);
    return answer;
}

static enum MHD_Result s_post_request(open311_t *self, struct MHD_Connection *conn,
                                      const s_request_t *rq)
{
    char why[200];
    if (*rq->too_long)
        return s_error(conn, MHD_HTTP_BAD_REQUEST, "%s is longer than %d bytes", rq->too_long,
                       MAX_FIELD);
    if (*rq->twice)
        return s_error(conn, MHD_HTTP_BAD_REQUEST, "%s is given twice", rq->twice);
    s_key_t key;
    unsigned status = s_check_key(self, s_field(rq, F_API_KEY), &key, why, sizeof why);
    if (status)
        return s_error(conn, status, "%s", why);
    const char *code = s_field(rq, F_SERVICE);
    if (!*code)
        return s_error(conn, MHD_HTTP_BAD_REQUEST, "service_code is required");
    PGresult *res = db_run(self->svc->db, &s_service_stmt, &code, NULL, NULL);
    if (!res)
        return s_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the service list cannot be read now");
    if (PQntuples(res) != 1) {
        PQclear(res);
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "service_code: \"%.64s\" is not a service (GET services.json)", code);
    }
    char category[80];
    snprintf(category, sizeof category, "%s", PQgetvalue(res, 0, 0));
    bool urgent = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    double lat = 0, lon = 0;
    bool located = *s_field(rq, F_LAT) || *s_field(rq, F_LONG);
    if (located && !s_coordinate(s_field(rq, F_LAT), 90, &lat))
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "lat: \"%.40s\" is not a latitude (-90 .. 90 degrees)", s_field(rq, F_LAT));
    if (located && !s_coordinate(s_field(rq, F_LONG), 180, &lon))
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "long: \"%.40s\" is not a longitude (-180 .. 180 degrees)",
                       s_field(rq, F_LONG));
    if (!located && !*s_field(rq, F_ADDRESS))
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "a location is required: lat and long, or address_string");
    if (!*s_field(rq, F_DESCRIPTION))
        return s_error(conn, MHD_HTTP_BAD_REQUEST,
                       "description is required: what the complaint is about");
    const char *sim[] = {self->sim ? "t" : "f"};
    res = db_run(self->svc->db, &s_now_stmt, sim, NULL, NULL);
    if (!res)
        return s_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the clock cannot be read now");
    long long now_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);

    char event_id[IDS_UUID_LEN + 1], order_id[48], caller[65], address[96];
    ids_new_uuid(event_id);
    snprintf(order_id, sizeof order_id, "311-%s", event_id);
    s_caller_hash(self->salt, rq, order_id, caller);
    snprintf(address, sizeof address, "%.7f,%.7f", lat, lon);
    Rectify__PostOrder ev = RECTIFY__POST_ORDER__INIT;
    ev.order_id = order_id;
    ev.received_ms = now_ms;
    ev.channel = *s_field(rq, F_DEVICE) ? RECTIFY__CHANNEL__APP : RECTIFY__CHANNEL__WEB;
    ev.caller_hash = caller;
    ev.address = *s_field(rq, F_ADDRESS) ? (char *)s_field(rq, F_ADDRESS) : address;
    ev.located = located;
    ev.latitude = lat;
    ev.longitude = lon;
    ev.category = category;
    ev.text = (char *)s_field(rq, F_DESCRIPTION);
    ev.urgency = urgent ? RECTIFY__URGENCY__URGENT : RECTIFY__URGENCY__NORMAL;
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = event_id;
    env.unit = key.unit;
    env.sent_at_ms = clock_now_ms();
    env.event_case = RECTIFY__ENVELOPE__EVENT_POST_ORDER;
    env.post_order = &ev;
    return s_post_event(self, conn, &key, &env, order_id);
}

/* --- routing --------------------------------------------------------------------- */

static enum MHD_Result s_route(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **state)
{
    (void)version;
    open311_t *self = cls;
    bool post = !strcmp(method, "POST");
    if (!*state) {
        s_request_t *rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->is_post = post;
        *state = rq;
        if (post && !strcmp(url, BASE "requests.json")) {
            rq->pp = MHD_create_post_processor(conn, 8192, s_form_field, rq);
        }
        return MHD_YES;
    }
    s_request_t *rq = *state;
    if (post && *upload_size) {
        if (rq->pp && MHD_post_process(rq->pp, upload, *upload_size) != MHD_YES)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, BASE "services.json")) {
        if (strcmp(method, "GET"))
            return s_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "services.json: GET only");
        return s_get_services(self, conn);
    }
    if (!strcmp(url, BASE "requests.json")) {
        if (post)
            return rq->pp ? s_post_request(self, conn, rq)
                          : s_error(conn, MHD_HTTP_BAD_REQUEST,
                                    "POST a form (application/x-www-form-urlencoded)");
        if (!strcmp(method, "GET"))
            return s_get_requests(self, conn, NULL);
        return s_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "requests.json: GET or POST");
    }
    const char *prefix = BASE "requests/";
    size_t plen = strlen(prefix), ulen = strlen(url);
    if (!strncmp(url, prefix, plen) && ulen > plen + 5 && !strcmp(url + ulen - 5, ".json")) {
        if (strcmp(method, "GET"))
            return s_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "requests/{id}.json: GET only");
        char id[80];
        size_t n = ulen - plen - 5;
        if (n >= sizeof id || memchr(url + plen, ',', n) || memchr(url + plen, '/', n))
            return s_error(conn, MHD_HTTP_NOT_FOUND, "no such request");
        memcpy(id, url + plen, n);
        id[n] = '\0';
        return s_get_requests(self, conn, id);
    }
    return s_error(conn, MHD_HTTP_NOT_FOUND, "%.100s: not an Open311 GeoReport v2 resource", url);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **state,
                        enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    s_request_t *rq = *state;
    if (!rq)
        return;
    if (rq->pp)
        MHD_destroy_post_processor(rq->pp);
    for (int f = 0; f < F_COUNT; f++) {
        if (rq->value[f])
            sodium_memzero(rq->value[f], rq->len[f]);
        free(rq->value[f]);
    }
    free(rq);
    *state = NULL;
}

/* --- life ------------------------------------------------------------------------- */

open311_t *open311_new(service_t *svc)
{
    if (sodium_init() < 0) {
        log_error("open311: libsodium cannot start");
        return NULL;
    }
    const config_t *cfg = svc->cfg;
    if (config_bool(cfg, SET_allow_plain)) {
        log_error("config: allow_plain: the Open311 door posts with its callers' system keys "
                  "over CURVE only; it does not run in plain mode");
        return NULL;
    }
    const char *salt = config_str(cfg, SET_caller_salt);
    if (strlen(salt) < 16) {
        log_error("config: caller_salt: set a secret of at least 16 characters (callers are "
                  "kept as HMAC-SHA256 digests keyed with it)");
        return NULL;
    }
    const char *bind = config_str(cfg, SET_open311_bind);
    char host[64];
    int port = 0;
    const char *colon = strrchr(bind, ':');
    struct sockaddr_in addr = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - bind) >= sizeof host || sscanf(colon + 1, "%d", &port) != 1 ||
        port < 1 || port > 65535) {
        log_error("config: open311_bind: \"%s\" is not HOST:PORT", bind);
        return NULL;
    }
    memcpy(host, bind, (size_t)(colon - bind));
    host[colon - bind] = '\0';
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        log_error("config: open311_bind: \"%s\" is not an IPv4 address", host);
        return NULL;
    }
    addr.sin_port = htons((uint16_t)port);
    open311_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->svc = svc;
    self->intake = config_str(cfg, SET_intake_bind);
    self->salt = salt;
    self->sim = config_bool(cfg, SET_sim_clock);
    char err[700];
    if (bus_curve_peer("intake", self->server_key, err, sizeof err) != RC_OK) {
        log_error("config: keys_dir: %s", err);
        free(self);
        return NULL;
    }
    self->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 s_route, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!self->mhd) {
        log_error("open311: cannot listen on %s", bind);
        free(self);
        return NULL;
    }
    log_info("open311: listening on http://%s" BASE, bind);
    return self;
}

int open311_run(open311_t *self)
{
    /* the requests run in libmicrohttpd's thread; this one waits for the
     * signal to stop */
    struct pollfd p = {.fd = self->svc->sigfd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0)
        ;
    log_info("open311: stopping");
    return 0;
}

void open311_destroy(open311_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->mhd)
        MHD_stop_daemon((*self_p)->mhd);
    free(*self_p);
    *self_p = NULL;
}
