/* lease.c: the active copy of a service, by a lease in service_lease. */
#include "lease.h"
#include "errors.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lease_t {
    db_t *db;
    char name[64];
    char holder[128];
    char endpoint[256];
    char ms[16];
    int lease_ms;
    bool held;
    int64_t next_ms; /* when to renew, or to try again */
};

/* Takes the lease when it is free or expired, renews it when it is ours. */
static const db_stmt_t s_take = {
    "lease_take",
    "INSERT INTO service_lease AS l (name, holder, endpoint, expires_at)"
    " VALUES ($1, $2, $3, clock_timestamp() + $4::int * interval '1 millisecond')"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, endpoint = excluded.endpoint,"
    "   epoch = l.epoch + (l.holder <> excluded.holder)::int, expires_at = excluded.expires_at"
    " WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()"
    " RETURNING epoch::text",
    4, 0};
/* The fencing check renews the lease too, inside the caller's transaction:
 * a holder busy with a long backlog keeps its lease as long as it commits,
 * and the row stays locked until that commit, so a takeover waits for it. */
static const db_stmt_t s_fence = {
    "lease_fence",
    "UPDATE service_lease SET expires_at = clock_timestamp() + $3::int * interval '1 millisecond'"
    " WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp() RETURNING 1",
    3, 0};
static const db_stmt_t s_release = {
    "lease_release",
    "UPDATE service_lease SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2", 2,
    0};
static const db_stmt_t s_endpoint = {
    "lease_endpoint",
    "SELECT endpoint FROM service_lease WHERE name = $1 AND expires_at > clock_timestamp()", 1, 0};

lease_t *lease_new(db_t *db, const char *name, const char *endpoint, int lease_ms)
{
    lease_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    snprintf(self->name, sizeof self->name, "%s", name);
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint ? endpoint : "");
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(self->holder, sizeof self->holder, "%s:%d:%08x", host, (int)getpid(),
             (unsigned)rand());
    self->lease_ms = lease_ms;
    snprintf(self->ms, sizeof self->ms, "%d", lease_ms);
    return self;
}

void lease_destroy(lease_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    lease_t *self = *self_p;
    if (self->held) {
        const char *params[] = {self->name, self->holder};
        if (db_do(self->db, &s_release, params) == RC_OK)
            log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_STR("lease", self->name)}, 1,
                      "lease given up");
    }
    free(self);
    *self_p = NULL;
}

bool lease_held(const lease_t *self)
{
    return self->held;
}

int64_t lease_due_in(const lease_t *self, int64_t now_ms)
{
    return self->next_ms > now_ms ? self->next_ms - now_ms : 0;
}

static void s_lost(lease_t *self, const char *why)
{
    if (self->held)
        log_event(LOG_WARN, NULL, NULL,
                  (log_field_t[]){LF_STR("lease", self->name), LF_STR("holder", self->holder)}, 2,
                  "lease lost (%s); standing by", why);
    self->held = false;
}

bool lease_tick(lease_t *self, int64_t now_ms)
{
    if (now_ms < self->next_ms)
        return self->held;
    /* renew every third of the lease; a standby looks as often */
    self->next_ms = now_ms + self->lease_ms / 3;
    if (db_ensure(self->db) != RC_OK) {
        s_lost(self, "no database");
        return false;
    }
    const char *params[] = {self->name, self->holder, self->endpoint, self->ms};
    PGresult *res = db_run(self->db, &s_take, params, NULL, NULL);
    if (!res) {
        s_lost(self, "renewal failed");
        return false;
    }
    bool got = PQntuples(res) == 1;
    if (got && !self->held)
        log_event(LOG_INFO, NULL, NULL,
                  (log_field_t[]){LF_STR("lease", self->name), LF_STR("holder", self->holder),
                                  LF_STR("epoch", PQgetvalue(res, 0, 0))},
                  3, "lease taken: this copy is active");
    PQclear(res);
    if (!got)
        s_lost(self, "another copy holds it");
    self->held = got;
    return got;
}

int lease_fence(lease_t *self)
{
    const char *params[] = {self->name, self->holder, self->ms};
    PGresult *res = db_run(self->db, &s_fence, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    bool ours = PQntuples(res) == 1;
    PQclear(res);
    if (!ours) {
        s_lost(self, "fencing check at commit");
        self->next_ms = 0;
        return RC_ERR_STATE;
    }
    return RC_OK;
}

int lease_fence_cb(void *lease)
{
    return lease_fence(lease);
}

int lease_endpoint(db_t *db, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *params[] = {name};
    PGresult *res = db_run(db, &s_endpoint, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    if (PQntuples(res) == 1)
        snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return RC_OK;
}
