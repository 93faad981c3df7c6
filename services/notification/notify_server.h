/* notify_server.h: notification's loop. Stores workflow's notices (inbox)
 * with one delivery row per channel and recipient, and delivers the log
 * channel: a JSON line per notice on the log stream, at least once (see
 * notify_server.c). Webhooks and mail go out from notify_delivery.h. */
#ifndef RECTIFY_NOTIFY_SERVER_H
#define RECTIFY_NOTIFY_SERVER_H

#include "service.h"

typedef struct notify_server_t notify_server_t;

notify_server_t *notify_server_new(service_t *svc);
int notify_server_run(notify_server_t *self);
void notify_server_destroy(notify_server_t **self_p);

#endif
