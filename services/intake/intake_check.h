/* intake_check.h: decides whether an incoming frame is an Envelope intake may
 * accept. Pure functions (no I/O): the refusal codes and messages below are
 * what the sender sees in its Ack.
 *
 * codes: too_large, malformed, missing_field, invalid_field, field_too_long,
 *        invalid_utf8, nul_in_text, out_of_range, unknown_event */
#ifndef RECTIFY_INTAKE_CHECK_H
#define RECTIFY_INTAKE_CHECK_H

#include "rectify.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define INTAKE_MAX_STRING 1024                  /* bytes, any string field of an event */
#define INTAKE_MAX_UNIT 64                      /* bytes, a unit code */
#define INTAKE_MAX_SENT_AT_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

typedef struct {
    char code[32];
    char message[256];
    char event_id[40]; /* set by intake_decode when a refused frame still shows its id */
} intake_refusal_t;

/* Unpacks a frame of len bytes. On success returns 0 and *env (caller frees
 * with rectify__envelope__free_unpacked). Otherwise returns RC_ERR_INVALID,
 * *env is NULL and why says what is wrong; the frame is never unpacked when
 * it is larger than max_bytes. When the frame is refused, its event_id is
 * still read off the wire format if it can be (bounded scan), so the Ack
 * can name it. */
int intake_decode(const uint8_t *data, size_t len, size_t max_bytes, Rectify__Envelope **env,
                  intake_refusal_t *why);

/* Checks an unpacked Envelope: its id, unit, event type, and every field of
 * the event (required fields present, strings bounded and valid UTF-8, dates
 * real calendar dates, enum values known). On success returns 0 and
 * *event_type names the event ("open_round"; static storage). */
int intake_check(const Rectify__Envelope *env, const char **event_type, intake_refusal_t *why);

#endif
