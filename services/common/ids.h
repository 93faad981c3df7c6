/* ids.h: event ids are UUIDs in their canonical lower-case text form. */
#ifndef RECTIFY_IDS_H
#define RECTIFY_IDS_H

#include <stdbool.h>

#define IDS_UUID_LEN 36

/* Writes a new random (version 4) UUID into out (37 bytes with the NUL). */
void ids_new_uuid(char out[IDS_UUID_LEN + 1]);
/* True when s is a UUID in the 8-4-4-4-12 hexadecimal form. */
bool ids_is_uuid(const char *s);

#endif
