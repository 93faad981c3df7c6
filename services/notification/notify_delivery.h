/* notify_delivery.h: the webhook and mail channels. A thread of its own, with
 * its own database connection, claims due deliveries (a lease, SKIP LOCKED:
 * several notification processes share the work), runs up to `concurrency`
 * transfers at once through libcurl's multi interface, so a slow or dead
 * endpoint holds up only its own delivery. An attempt is counted when it is
 * claimed, before it begins: a crash during a transfer leaves it counted,
 * and the lease runs out for the next. Each outcome is recorded: sent;
 * or again later, after an exponential backoff with jitter; or, after the
 * last attempt, dead (a dead letter, listed and sent again by rectifyctl).
 *
 * Webhook: POST of the notice as JSON, with Idempotency-Key: the notice id.
 * Mail: through the SMTP relay smtp_url, with Message-ID from the notice id. */
#ifndef RECTIFY_NOTIFY_DELIVERY_H
#define RECTIFY_NOTIFY_DELIVERY_H

#include "config.h"

typedef struct notify_delivery_t notify_delivery_t;

/* Starts the thread. NULL on failure (logged). cfg must outlive it. */
notify_delivery_t *notify_delivery_start(const config_t *cfg);
/* Stops taking new deliveries, lets the running ones end (at most their
 * timeout), joins the thread. Safe on NULL. */
void notify_delivery_stop(notify_delivery_t **self_p);

#endif
