/* libFuzzer target: any frame a sender can put on intake's socket goes
 * through intake_decode and intake_check without crashing, leaking or
 * reading out of bounds; an accepted one names a known event type. */
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
    if (intake_check(env, &type, &why) == RC_OK && (!type || !*type))
        abort();
    rectify__envelope__free_unpacked(env, NULL);
    return 0;
}
