/* intake_server.h: intake's loop. Outside systems send Envelope frames to a
 * ROUTER socket (from DEALER or REQ sockets); intake checks each, commits the
 * good ones in batches together with their outbox rows to workflow, and only
 * then answers each with an Ack. */
#ifndef RECTIFY_INTAKE_SERVER_H
#define RECTIFY_INTAKE_SERVER_H

#include "service.h"

typedef struct intake_server_t intake_server_t;

/* NULL on failure (logged). svc must outlive the server. */
intake_server_t *intake_server_new(service_t *svc);
/* Runs until SIGTERM or SIGINT, then drains. Returns 0 on a clean stop. */
int intake_server_run(intake_server_t *self);
void intake_server_destroy(intake_server_t **self_p);

#endif
