/* intake_keys.c: the system keys intake admits, and their token buckets. */
#include "intake_keys.h"
#include "errors.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    long long key_id;
    char unit[64];
    bool revoked;
    double tokens;
    int64_t filled_ms; /* when tokens was last topped up */
} key_entry_t;

struct intake_keys_t {
    db_t *db;
    double rate_per_ms;
    double burst;
    key_entry_t *keys; /* sorted by key_id */
    int nkeys;
    int64_t loaded_ms;  /* the last successful read; 0: never */
    int64_t tried_ms;   /* the last attempt */
};

static const db_stmt_t s_load = {
    "intake_keys_load",
    "SELECT key_id, unit, revoked_at IS NOT NULL FROM api_key WHERE kind = 'system'"
    " ORDER BY key_id",
    0, 0};

intake_keys_t *intake_keys_new(db_t *db, int rate_per_s, int burst)
{
    intake_keys_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->rate_per_ms = rate_per_s / 1000.0;
    self->burst = burst;
    return self;
}

void intake_keys_destroy(intake_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->keys);
    free(*self_p);
    *self_p = NULL;
}

static key_entry_t *s_find(key_entry_t *keys, int n, long long key_id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (keys[mid].key_id == key_id)
            return &keys[mid];
        if (keys[mid].key_id < key_id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Reads the keys again, keeping each known key's bucket. On failure the
 * keys read last time stay in force. */
static void s_load_keys(intake_keys_t *self, int64_t now_ms)
{
    self->tried_ms = now_ms;
    if (db_ensure(self->db) != RC_OK)
        return;
    PGresult *res = db_run(self->db, &s_load, NULL, NULL, NULL);
    if (!res)
        return;
    int n = PQntuples(res);
    key_entry_t *keys = calloc(n > 0 ? (size_t)n : 1, sizeof *keys);
    if (!keys) {
        PQclear(res);
        return;
    }
    for (int i = 0; i < n; i++) {
        key_entry_t *k = &keys[i];
        k->key_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(k->unit, sizeof k->unit, "%s", PQgetvalue(res, i, 1));
        k->revoked = PQgetvalue(res, i, 2)[0] == 't';
        key_entry_t *old = s_find(self->keys, self->nkeys, k->key_id);
        k->tokens = old ? old->tokens : self->burst;
        k->filled_ms = old ? old->filled_ms : now_ms;
    }
    PQclear(res);
    free(self->keys);
    self->keys = keys;
    self->nkeys = n;
    self->loaded_ms = now_ms;
}

key_verdict_t intake_keys_check(intake_keys_t *self, const char *user_id, int64_t now_ms,
                                const char **unit, long long *key_id, int *retry_after_ms)
{
    char *end;
    long long id = strtoll(user_id, &end, 10);
    if (*end != '\0' || id <= 0)
        return KEY_UNKNOWN;
    if (now_ms - self->loaded_ms >= INTAKE_KEYS_REFRESH_MS && now_ms - self->tried_ms >= 100)
        s_load_keys(self, now_ms);
    key_entry_t *k = s_find(self->keys, self->nkeys, id);
    if (!k) { /* a key made since the last read: the ZAP handler admitted it from the table */
        s_load_keys(self, now_ms);
        k = s_find(self->keys, self->nkeys, id);
    }
    if (!k)
        return KEY_UNKNOWN;
    if (k->revoked)
        return KEY_REVOKED;
    k->tokens += (double)(now_ms - k->filled_ms) * self->rate_per_ms;
    if (k->tokens > self->burst)
        k->tokens = self->burst;
    k->filled_ms = now_ms;
    if (k->tokens < 1.0) {
        *retry_after_ms = (int)((1.0 - k->tokens) / self->rate_per_ms) + 1;
        return KEY_RATE_LIMITED;
    }
    k->tokens -= 1.0;
    *unit = k->unit;
    *key_id = id;
    return KEY_OK;
}
