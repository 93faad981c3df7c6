/* errors.h: the one shared enum of return codes. 0 is success; every failure
 * is negative. Functions returning pointers return NULL on failure instead. */
#ifndef RECTIFY_ERRORS_H
#define RECTIFY_ERRORS_H

typedef enum {
    RC_OK = 0,
    RC_ERR_INVALID = -1,  /* bad input: a field, a value, a frame */
    RC_ERR_NOMEM = -2,    /* allocation failed */
    RC_ERR_DB = -3,       /* database error (see the log line for SQLSTATE) */
    RC_ERR_IO = -4,       /* file, socket or system call failed */
    RC_ERR_TIMEOUT = -5,  /* no answer in time */
    RC_ERR_STATE = -6,    /* the current state does not allow it */
    RC_ERR_DENIED = -7,   /* the sender has no right to do it */
    RC_ERR_NOTFOUND = -8, /* the thing named does not exist */
    RC_ERR_CONFIG = -9,   /* a setting is missing or out of bounds */
} rc_t;

/* Short machine-readable name of a code, e.g. "invalid"; never NULL. */
const char *rc_name(int rc);

#endif
