/* libFuzzer target: any frame a sender can put on intake's socket goes
 * through intake_decode and intake_check without crashing, leaking or
 * reading out of bounds; an accepted one names a known event type, and
 * holds only text that passes the strict check again once repacked. */
#include "errors.h"
#include "intake_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Rectify__Envelope *env = NULL;
    intake_refusal_t why;
    if (intake_decode(data, size, 65536, &env, &why) != RC_OK) {
        if (env || !why.code[0])
            abort(); /* a refusal names its code and leaves nothing behind */
        return 0;
    }
    const char *type = NULL;
    int checked = intake_check(env, &type, &why);
    if (checked == RC_OK && (!type || !*type))
        abort();
    if (checked != RC_OK) {
        rectify__envelope__free_unpacked(env, NULL);
        return 0;
    }
    /* what intake accepts is text PostgreSQL takes: packed again, the
     * Envelope passes the same strict check (every string valid UTF-8 with
     * no NUL, within its limit) */
    size_t len = rectify__envelope__get_packed_size(env);
    uint8_t *again = malloc(len ? len : 1);
    if (!again)
        abort();
    rectify__envelope__pack(env, again);
    Rectify__Envelope *env2 = NULL;
    if (intake_decode(again, len, len + 1, &env2, &why) != RC_OK)
        abort();
    rectify__envelope__free_unpacked(env2, NULL);
    free(again);
    rectify__envelope__free_unpacked(env, NULL);
    return 0;
}
