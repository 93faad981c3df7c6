/* ids.c: UUIDs through libuuid. */
#include "ids.h"

#include <string.h>
#include <uuid/uuid.h>

void ids_new_uuid(char out[IDS_UUID_LEN + 1])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

bool ids_is_uuid(const char *s)
{
    uuid_t u;
    return s && strlen(s) == IDS_UUID_LEN && uuid_parse(s, u) == 0;
}
