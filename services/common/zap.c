/* zap.c: the ZAP handler thread. */
#include "zap.h"
#include "clock.h"
#include "db.h"
#include "errors.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_MAX_PEERS 4

struct zap_t {
    void *sock;
    char *conninfo;
    db_t *db;
    zap_peer_t peers[ZAP_MAX_PEERS];
    int npeers;
    pthread_t thread;
    atomic_bool stop;
    long long oncall_revoked; /* on-call keys revoked when last looked; -1 not yet */
};

static atomic_bool s_running;

static const db_stmt_t s_find_key = {
    "zap_find_key",
    "SELECT key_id::text FROM api_key WHERE public_key = $1 AND kind = $2 AND revoked_at IS NULL",
    2, 0};

bool zap_running(void)
{
    return atomic_load(&s_running);
}

typedef struct {
    char status[4];
    char text[64];
    char user_id[64];
} zap_verdict_t;

static void s_refuse(zap_verdict_t *v, const char *status, const char *text)
{
    snprintf(v->status, sizeof v->status, "%s", status);
    snprintf(v->text, sizeof v->text, "%s", text);
    v->user_id[0] = '\0';
}

/* How long a handshake waits for the key store to come back (a restart of
 * PostgreSQL) before it is refused: a client whose handshake is refused is
 * not reconnected by libzmq, so a refusal must mean the key, not a blip. */
#define ZAP_STORE_WAIT_MS 10000

/* Looks the key up in api_key as kind; fills v. A broken connection (the
 * first query after PostgreSQL restarted fails) is made again and the
 * query retried for up to ZAP_STORE_WAIT_MS (db_ensure backs off). */
static void s_lookup(zap_t *self, const char *key, const char *kind, const char *prefix,
                     zap_verdict_t *v)
{
    char err[256];
    const char *params[] = {key, kind};
    PGresult *res = NULL;
    int64_t until = clock_mono_ms() + ZAP_STORE_WAIT_MS;
    for (;;) {
        if (!self->db)
            self->db = db_connect(self->conninfo, err, sizeof err);
        if (self->db && db_ensure(self->db) == RC_OK)
            res = db_run(self->db, &s_find_key, params, NULL, NULL);
        if (res)
            break;
        if (atomic_load(&self->stop) || clock_mono_ms() >= until) {
            s_refuse(v, "300", "the key store is unavailable");
            return;
        }
        usleep(100 * 1000); /* db_ensure spaces the reconnections out */
    }
    if (PQntuples(res) == 1) {
        snprintf(v->status, sizeof v->status, "200");
        snprintf(v->text, sizeof v->text, "OK");
        snprintf(v->user_id, sizeof v->user_id, "%s%s", prefix, PQgetvalue(res, 0, 0));
    } else {
        s_refuse(v, "400", "unknown or revoked key");
    }
    PQclear(res);
}

static void s_decide(zap_t *self, const char *domain, const char *mechanism,
                     const zmq_msg_t *cred, zap_verdict_t *v)
{
    if (strcmp(mechanism, "CURVE") != 0 || zmq_msg_size((zmq_msg_t *)cred) != 32) {
        s_refuse(v, "400", "CURVE only");
        return;
    }
    char key[CURVE_KEY_TEXT];
    zmq_z85_encode(key, zmq_msg_data((zmq_msg_t *)cred), 32);
    if (!strcmp(domain, ZAP_DOMAIN_SYSTEMS)) {
        s_lookup(self, key, "system", "", v);
    } else if (!strcmp(domain, ZAP_DOMAIN_LOGS)) {
        s_lookup(self, key, "oncall", "oncall:", v);
    } else if (!strcmp(domain, ZAP_DOMAIN_PEERS)) {
        s_refuse(v, "400", "not a pinned service key");
        for (int i = 0; i < self->npeers; i++)
            if (!strcmp(self->peers[i].public_key, key)) {
                snprintf(v->status, sizeof v->status, "200");
                snprintf(v->text, sizeof v->text, "OK");
                snprintf(v->user_id, sizeof v->user_id, "%s", self->peers[i].name);
            }
    } else {
        s_refuse(v, "400", "unknown ZAP domain");
    }
    const char *shown = key;
    if (strcmp(v->status, "200") != 0)
        log_event(LOG_WARN, NULL, NULL,
                  (log_field_t[]){LF_STR("domain", domain), LF_STR("key", shown),
                                  LF_STR("status", v->status)},
                  3, "zap: connection refused: %s", v->text);
}

/* Reads one request (every frame; those past the eighth are dropped),
 * answers it. */
static void s_serve_one(zap_t *self)
{
    zmq_msg_t part[8];
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t scratch, *m = n < 8 ? &part[n] : &scratch;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, self->sock, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (n < 8)
            n++;
        else
            zmq_msg_close(m);
    }
    zap_verdict_t v;
    char domain[128] = "", mechanism[16] = "";
    if (n >= 7) {
        snprintf(domain, sizeof domain, "%.*s", (int)zmq_msg_size(&part[2]),
                 (const char *)zmq_msg_data(&part[2]));
        snprintf(mechanism, sizeof mechanism, "%.*s", (int)zmq_msg_size(&part[5]),
                 (const char *)zmq_msg_data(&part[5]));
        s_decide(self, domain, mechanism, &part[6], &v);
    } else {
        s_refuse(&v, "400", "malformed ZAP request");
    }
    /* version, request id (echoed), status, text, user id, metadata */
    zmq_send(self->sock, "1.0", 3, ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(self->sock, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ZMQ_SNDMORE);
    else
        zmq_send(self->sock, "", 0, ZMQ_SNDMORE);
    zmq_send(self->sock, v.status, strlen(v.status), ZMQ_SNDMORE);
    zmq_send(self->sock, v.text, strlen(v.text), ZMQ_SNDMORE);
    zmq_send(self->sock, v.user_id, strlen(v.user_id), ZMQ_SNDMORE);
    zmq_send(self->sock, "", 0, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&part[i]);
}

static const db_stmt_t s_oncall_revoked = {
    "zap_oncall_revoked",
    "SELECT count(*) FROM api_key WHERE kind = 'oncall' AND revoked_at IS NOT NULL", 0, 0};

/* A log stream's listeners are checked at their handshake only (a PUB
 * socket cannot drop one peer): when an on-call key has been revoked since
 * the last look, the stream is bound again, so every listener reconnects
 * and is checked again. */
static void s_watch_oncall(zap_t *self)
{
    char err[256];
    if (!self->db)
        self->db = db_connect(self->conninfo, err, sizeof err);
    if (!self->db || db_ensure(self->db) != RC_OK)
        return;
    PGresult *res = db_run(self->db, &s_oncall_revoked, NULL, NULL, NULL);
    if (!res)
        return;
    long long revoked = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (self->oncall_revoked >= 0 && revoked > self->oncall_revoked) {
        if (log_rebind() == RC_OK)
            log_event(LOG_INFO, NULL, NULL, NULL, 0,
                      "an on-call key was revoked: the log stream was bound again, and its "
                      "listeners are checked again as they reconnect");
        else
            log_error("an on-call key was revoked, and the log stream could not be bound "
                      "again: it is off");
    }
    self->oncall_revoked = revoked;
}

#define ZAP_WATCH_MS 500

static void *s_run(void *arg)
{
    zap_t *self = arg;
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    int64_t next_watch = 0;
    while (!atomic_load(&self->stop)) {
        if (zmq_poll(&item, 1, 100) > 0)
            s_serve_one(self);
        if (clock_mono_ms() >= next_watch) {
            s_watch_oncall(self);
            next_watch = clock_mono_ms() + ZAP_WATCH_MS;
        }
    }
    return NULL;
}

zap_t *zap_start(void *ctx, const char *conninfo, const zap_peer_t *peers, int npeers,
                 char *err, size_t errlen)
{
    if (npeers > ZAP_MAX_PEERS) {
        snprintf(err, errlen, "zap: at most %d pinned peers", ZAP_MAX_PEERS);
        return NULL;
    }
    zap_t *self = calloc(1, sizeof *self);
    if (!self || !(self->conninfo = strdup(conninfo ? conninfo : ""))) {
        snprintf(err, errlen, "zap: out of memory");
        free(self);
        return NULL;
    }
    for (int i = 0; i < npeers; i++)
        self->peers[i] = peers[i];
    self->npeers = npeers;
    self->oncall_revoked = -1;
    self->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (self->sock)
        zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (!self->sock || zmq_bind(self->sock, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "zap: cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
        goto out_fail;
    }
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        snprintf(err, errlen, "zap: cannot start its thread");
        goto out_fail;
    }
    atomic_store(&s_running, true);
    return self;

out_fail:
    if (self->sock)
        zmq_close(self->sock);
    free(self->conninfo);
    free(self);
    return NULL;
}

void zap_stop(zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zap_t *self = *self_p;
    atomic_store(&s_running, false);
    atomic_store(&self->stop, true);
    pthread_join(self->thread, NULL);
    zmq_close(self->sock);
    db_destroy(&self->db);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}
