/* errors.c: names of the shared return codes. */
#include "errors.h"

const char *rc_name(int rc)
{
    switch (rc) {
    case RC_OK:
        return "ok";
    case RC_ERR_INVALID:
        return "invalid";
    case RC_ERR_NOMEM:
        return "no_memory";
    case RC_ERR_DB:
        return "database";
    case RC_ERR_IO:
        return "io";
    case RC_ERR_TIMEOUT:
        return "timeout";
    case RC_ERR_STATE:
        return "state";
    case RC_ERR_DENIED:
        return "denied";
    case RC_ERR_NOTFOUND:
        return "not_found";
    case RC_ERR_CONFIG:
        return "config";
    }
    return "unknown";
}
