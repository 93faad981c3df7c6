/* intake_keys.h: the system keys intake admits, as it checks them on every
 * message: which unit a key posts as, whether it has been revoked since its
 * connection was admitted, and its token bucket (rate_per_s, rate_burst).
 * Read again from api_key at least every INTAKE_KEYS_REFRESH_MS, so a
 * revoked key is refused within a second, also on an open connection. */
#ifndef RECTIFY_INTAKE_KEYS_H
#define RECTIFY_INTAKE_KEYS_H

#include "db.h"

#include <stdbool.h>
#include <stdint.h>

#define INTAKE_KEYS_REFRESH_MS 500

typedef struct intake_keys_t intake_keys_t;

typedef enum {
    KEY_OK = 0,
    KEY_UNKNOWN, /* not a system key (or not known yet and the store is unreachable) */
    KEY_REVOKED,
    KEY_RATE_LIMITED,
} key_verdict_t;

intake_keys_t *intake_keys_new(db_t *db, int rate_per_s, int burst);
void intake_keys_destroy(intake_keys_t **self_p);

/* Checks the key user_id (the ZAP handler's User-Id: a key_id) at now_ms
 * and takes one token from its bucket. On KEY_OK, *unit is the unit it
 * posts as (valid until the next call) and *key_id its id; on
 * KEY_RATE_LIMITED, *retry_after_ms says when a token will be there. */
key_verdict_t intake_keys_check(intake_keys_t *self, const char *user_id, int64_t now_ms,
                                const char **unit, long long *key_id, int *retry_after_ms);

#endif
