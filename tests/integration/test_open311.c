/* The Open311 GeoReport v2 door, rectify-open311, over real HTTP (libcurl)
 * in front of the real services: the service list, a request posted and
 * read back, its status following the order, the caller kept only as a
 * digest, and every refusal in the specification's error format with
 * nothing stored. */
#include "cluster.h"
#include "curve.h"
#include "errors.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cluster_t c;
static int port;
static char hotline_key[CURVE_KEY_TEXT], street_key[CURVE_KEY_TEXT];
static const char *const sim[] = {"RECTIFY_SIM_CLOCK=true", "RECTIFY_TIMER_INTERVAL_MS=20", NULL};
#define SALT "test-salt-0123456789"

/* The secret key of unit's system key: what its operator would paste as api_key. */
static void secret_of(const char *unit, char out[CURVE_KEY_TEXT])
{
    cluster_key(&c, unit);
    char path[300], err[700];
    snprintf(path, sizeof path, "%s/clients/%s.key_secret", c.dir, unit);
    curve_cert_t cert;
    cr_assert_eq(curve_load_secret(path, &cert, err, sizeof err), RC_OK, "%s", err);
    memcpy(out, cert.secret_key, CURVE_KEY_TEXT);
}

static void setup(void)
{
    cluster_start(&c, sim);
    cluster_set_clock(&c, "2026-12-01T02:00:00Z");
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"hotline\",\"name\":\"12345热线\","
        "\"role\":\"HOTLINE\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"hotline-2\",\"name\":\"另一热线\","
        "\"role\":\"HOTLINE\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"street-a\",\"name\":\"甲街道\","
        "\"role\":\"UNIT\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(&c);
    secret_of("hotline", hotline_key);
    secret_of("street-a", street_key);
    port = cluster_spawn_open311(&c, SALT);
    cr_assert_gt(port, 0, "rectify-open311 did not start");
}

static void teardown(void)
{
    cluster_stop(&c);
}

TestSuite(open311, .init = setup, .fini = teardown, .timeout = 120);

typedef struct {
    char *text;
    size_t len;
} body_t;

static size_t s_write(char *data, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    char *grown = realloc(b->text, b->len + size * n + 1);
    cr_assert(grown);
    memcpy(grown + b->len, data, size * n);
    b->len += size * n;
    grown[b->len] = '\0';
    b->text = grown;
    return size * n;
}

/* One HTTP request to the door: method GET, POST (form is the body) or any
 * other; returns the status, the body parsed as JSON into *json. */
static long http(const char *method, const char *path, const char *form, json_t **json)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/open311/v2/%s", port, path);
    CURL *h = curl_easy_init();
    body_t b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (!strcmp(method, "POST"))
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form ? form : "");
    else if (strcmp(method, "GET"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s", method, url);
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
    cr_assert(type && strstr(type, "application/json"), "%s: content type %s", path, type);
    json_error_t err;
    *json = json_loads(b.text ? b.text : "", 0, &err);
    cr_assert(*json, "%s %s: not JSON: %s", method, path, b.text);
    free(b.text);
    curl_easy_cleanup(h);
    return status;
}

/* A request the door must refuse with status want, in the specification's
 * error format, [{code, description}], the description naming what. */
static void refused(const char *method, const char *path, const char *form, long want,
                    const char *what)
{
    json_t *j;
    long status = http(method, path, form, &j);
    char *text = json_dumps(j, 0);
    cr_assert_eq(status, want, "status %ld, want %ld: %s", status, want, text);
    json_t *e = json_array_get(j, 0);
    cr_assert(json_is_array(j) && json_array_size(j) == 1 && e, "%s", text);
    cr_assert_eq(json_integer_value(json_object_get(e, "code")), want, "%s", text);
    const char *d = json_string_value(json_object_get(e, "description"));
    cr_assert(d && strstr(d, what), "description lacks \"%s\": %s", what, text);
    free(text);
    json_decref(j);
}

/* key, escaped for a form or a query string (a Z85 key holds '+', '&', '=', ...) */
static const char *enc(const char *key)
{
    static char out[4][160];
    static int next;
    char *e = curl_easy_escape(NULL, key, 0);
    char *slot = out[next++ % 4];
    snprintf(slot, 160, "%s", e);
    curl_free(e);
    return slot;
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* Posts a request from phone; returns its service_request_id (asserts 201). */
static void post_request(const char *key, const char *phone, char *id, size_t idlen)
{
    char form[1024];
    snprintf(form, sizeof form,
             "api_key=%s&service_code=noise&lat=31.2304&long=121.4737"
             "&address_string=%%E4%%BA%%BA%%E6%%B0%%91%%E8%%B7%%AF1%%E5%%8F%%B7"
             "&description=night+works&phone=%s",
             enc(key), phone);
    json_t *j;
    long status = http("POST", "requests.json", form, &j);
    char *text = json_dumps(j, 0);
    cr_assert_eq(status, 201, "%s", text);
    snprintf(id, idlen, "%s", str(json_array_get(j, 0), "service_request_id"));
    cr_assert(strncmp(id, "311-", 4) == 0, "%s", text);
    free(text);
    json_decref(j);
}

Test(open311, the_service_list_is_served)
{
    json_t *j;
    cr_assert_eq(http("GET", "services.json", NULL, &j), 200);
    cr_assert(json_array_size(j) >= 4);
    bool noise = false;
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *s = json_array_get(j, i);
        if (!strcmp(str(s, "service_code"), "noise")) {
            noise = true;
            cr_assert_str_eq(str(s, "service_name"), "噪声扰民");
            cr_assert_str_eq(str(s, "type"), "realtime");
            cr_assert(json_is_false(json_object_get(s, "metadata")));
        }
    }
    cr_assert(noise);
    json_decref(j);
}

Test(open311, a_request_round_trip_follows_the_order_and_keeps_no_phone_number)
{
    char id[80];
    post_request(hotline_key, "%2B86+138-0013-8000", id, sizeof id);
    /* registered as a work order of the key's unit, through intake */
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM work_order WHERE order_id = '%s' AND hotline = 'hotline'"
             " AND category = 'noise' AND channel = 'web' AND latitude = 31.2304",
             id);
    cr_assert_eq(testdb_number(&c.db, sql), 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event e JOIN api_key k USING"
                                      " (key_id) WHERE k.unit = 'hotline'"),
                 1, "intake stored it under the hotline's key");
    /* the caller: a digest of the digits, never the number */
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM intake_event"
                                      " WHERE position('13800138000' in"
                                      " encode(payload, 'escape')) > 0"),
                 0);
    char got[200];
    snprintf(sql, sizeof sql, "SELECT caller_hash FROM work_order WHERE order_id = '%s'", id);
    testdb_text(&c.db, sql, got, sizeof got);
    cr_assert_eq(strlen(got), 64);
    /* the same phone written another way is the same caller */
    char id2[80];
    post_request(hotline_key, "8613800138000", id2, sizeof id2);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(DISTINCT caller_hash) FROM work_order"), 1);

    char path[300];
    snprintf(path, sizeof path, "requests/%s.json?api_key=%s", id, enc(hotline_key));
    json_t *j;
    cr_assert_eq(http("GET", path, NULL, &j), 200);
    json_t *r = json_array_get(j, 0);
    cr_assert_str_eq(str(r, "service_request_id"), id);
    cr_assert_str_eq(str(r, "status"), "open");
    cr_assert_str_eq(str(r, "service_code"), "noise");
    cr_assert_str_eq(str(r, "description"), "night works");
    cr_assert_str_eq(str(r, "address"), "人民路1号");
    cr_assert_str_eq(str(r, "requested_datetime"), "2026-12-01T02:00:00Z");
    cr_assert_float_eq(json_real_value(json_object_get(r, "lat")), 31.2304, 1e-9);
    json_decref(j);

    /* the hotline and the street handle it over ZeroMQ; the door shows it closed */
    char json[600], out[400];
    const char *steps[][2] = {{"hotline", "\"step\":\"DISPATCH\",\"unit\":\"street-a\""},
                              {"street-a", "\"step\":\"TAKE\""},
                              {"street-a", "\"step\":\"CONTACT\""},
                              {"street-a", "\"step\":\"COMPLETE\""},
                              {"street-a", "\"step\":\"REPLY\""},
                              {"hotline", "\"step\":\"CLOSE\",\"satisfaction\":\"SATISFIED\""}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        snprintf(json, sizeof json, "{\"unit\":\"%s\",\"move_order\":{\"order_id\":\"%s\",%s}}\n",
                 steps[i][0], id, steps[i][1]);
        cluster_post_one(&c, json, out, sizeof out);
        cr_assert_str_eq(out, "applied", "%s", json);
    }
    cr_assert_eq(http("GET", path, NULL, &j), 200);
    r = json_array_get(j, 0);
    cr_assert_str_eq(str(r, "status"), "closed");
    cr_assert_str_eq(str(r, "agency_responsible"), "甲街道");
    json_decref(j);

    /* the list, filtered */
    snprintf(path, sizeof path, "requests.json?api_key=%s&status=closed", enc(hotline_key));
    cr_assert_eq(http("GET", path, NULL, &j), 200);
    cr_assert_eq(json_array_size(j), 1);
    cr_assert_str_eq(str(json_array_get(j, 0), "service_request_id"), id);
    json_decref(j);
    snprintf(path, sizeof path, "requests.json?api_key=%s&service_request_id=%s,%s",
             enc(hotline_key), id, id2);
    cr_assert_eq(http("GET", path, NULL, &j), 200);
    cr_assert_eq(json_array_size(j), 2);
    json_decref(j);
    /* another hotline sees none of them */
    char other[CURVE_KEY_TEXT];
    secret_of("hotline-2", other);
    snprintf(path, sizeof path, "requests.json?api_key=%s", enc(other));
    cr_assert_eq(http("GET", path, NULL, &j), 200);
    cr_assert_eq(json_array_size(j), 0);
    json_decref(j);
    snprintf(path, sizeof path, "requests/%s.json?api_key=%s", id, enc(other));
    refused("GET", path, NULL, 404, "no request");
}

Test(open311, refusals_use_the_error_format_and_store_nothing)
{
    char form[1024];
    long before = (long)testdb_number(&c.db, "SELECT count(*) FROM intake_event");
    refused("POST", "requests.json", "service_code=noise&lat=1&long=1&description=x", 403,
            "api_key is required");
    refused("POST", "requests.json",
            "api_key=not-a-key&service_code=noise&lat=1&long=1&description=x", 403,
            "api_key: not a key");
    /* a well-formed key nobody registered */
    curve_cert_t stranger;
    cr_assert_eq(curve_new(&stranger), RC_OK);
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=1&long=1&description=x",
             enc(stranger.secret_key));
    refused("POST", "requests.json", form, 403, "not a registered");
    snprintf(form, sizeof form, "api_key=%s&service_code=parking&lat=1&long=1&description=x",
             enc(hotline_key));
    refused("POST", "requests.json", form, 400, "service_code");
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&description=x", enc(hotline_key));
    refused("POST", "requests.json", form, 400, "location");
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=95&long=1&description=x",
             enc(hotline_key));
    refused("POST", "requests.json", form, 400, "lat:");
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=31&long=abc&description=x",
             enc(hotline_key));
    refused("POST", "requests.json", form, 400, "long:");
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=31&long=121", enc(hotline_key));
    refused("POST", "requests.json", form, 400, "description is required");
    snprintf(form, sizeof form,
             "api_key=%s&service_code=noise&lat=31&long=121&description=x&phone=1&phone=2",
             enc(hotline_key));
    refused("POST", "requests.json", form, 400, "phone is given twice");
    char *huge = malloc(6000);
    cr_assert(huge);
    int n = snprintf(
        huge, 6000, "api_key=%s&service_code=noise&lat=31&long=121&description=", enc(hotline_key));
    memset(huge + n, 'x', 5000);
    huge[n + 5000] = '\0';
    refused("POST", "requests.json", huge, 400, "description is longer than 4096 bytes");
    free(huge);
    cr_assert_eq((long)testdb_number(&c.db, "SELECT count(*) FROM intake_event"), before,
                 "a refusal at the door stored an event");
    /* a unit's key is a real key, but only a hotline posts orders: workflow says no */
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=31&long=121&description=x",
             enc(street_key));
    refused("POST", "requests.json", form, 403, "denied");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM work_order"), 0);
    /* a revoked key is refused at once */
    char out[400], cmd[64];
    snprintf(cmd, sizeof cmd, "key revoke %lld",
             testdb_number(&c.db, "SELECT key_id FROM api_key WHERE unit = 'hotline'"));
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, cmd), 0, "%s", out);
    snprintf(form, sizeof form, "api_key=%s&service_code=noise&lat=31&long=121&description=x",
             enc(hotline_key));
    refused("POST", "requests.json", form, 403, "not a registered, unrevoked");
    /* reading */
    refused("GET", "requests.json", NULL, 403, "api_key is required");
    char path[200];
    snprintf(path, sizeof path, "requests.json?api_key=%s&status=pending", enc(street_key));
    refused("GET", path, NULL, 400, "status:");
    snprintf(path, sizeof path, "requests.json?api_key=%s&start_date=yesterday", enc(street_key));
    refused("GET", path, NULL, 400, "start_date:");
    refused("GET", "tickets.json", NULL, 404, "not an Open311");
    refused("DELETE", "requests.json", NULL, 405, "GET or POST");
    refused("POST", "services.json", "", 405, "GET only");
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM work_order"), 0);
}

Test(open311, the_door_will_not_start_without_a_salt)
{
    cluster_stop(&c); /* the running door and cluster; a fresh one below */
    cluster_start(&c, sim);
    cr_assert_eq(cluster_spawn_open311(&c, "short"), -1, "started with a 5-character salt");
    char log[300];
    snprintf(log, sizeof log, "grep -c caller_salt %s/open311.log", c.dir);
    char out[64];
    cr_assert_eq(test_shell(log, out, sizeof out), 0, "the log does not name caller_salt");
}
