/* libFuzzer target: any text rectifyctl post reads as a line is parsed by
 * pbjson_parse into an Envelope or refused with a message; a parsed one
 * dumps back to JSON and packs. */
#include "errors.h"
#include "pbjson.h"
#include "rectify.pb-c.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return 0;
    ProtobufCMessage *msg = NULL;
    char err[256];
    int rc = pbjson_parse(&rectify__envelope__descriptor, obj, &msg, err, sizeof err);
    json_decref(obj);
    if (rc != RC_OK) {
        if (msg || !err[0])
            abort();
        return 0;
    }
    json_t *back = pbjson_dump(msg, 0);
    json_decref(back);
    uint8_t *buf = malloc(protobuf_c_message_get_packed_size(msg) + 1);
    if (buf)
        protobuf_c_message_pack(msg, buf);
    free(buf);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
