/* workflow_server.h: workflow's loop. Applies intake's event batches (inbox),
 * records each event's outcome, and queues notices for notification
 * (outbox) in the same transaction. */
#ifndef RECTIFY_WORKFLOW_SERVER_H
#define RECTIFY_WORKFLOW_SERVER_H

#include "service.h"

typedef struct wf_server_t wf_server_t;

wf_server_t *wf_server_new(service_t *svc);
int wf_server_run(wf_server_t *self);
void wf_server_destroy(wf_server_t **self_p);

#endif
