/* curve.h: CURVE key pairs and their certificate files, in ZeroMQ's
 * certificate layout (ZPL text, keys in Z85, as CZMQ's zcert writes them):
 * NAME.key holds the public key and may be handed to anyone; NAME.key_secret
 * holds both keys, mode 0600, for its holder alone. */
#ifndef RECTIFY_CURVE_H
#define RECTIFY_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define CURVE_KEY_TEXT 41 /* 40 Z85 characters and the terminator */

typedef struct {
    char public_key[CURVE_KEY_TEXT];
    char secret_key[CURVE_KEY_TEXT]; /* "" when only the public key is known */
    char unit[64];                   /* metadata: the unit a system key posts as, or "" */
} curve_cert_t;

/* A new key pair. Returns 0, or RC_ERR_IO when libzmq has no CURVE. */
int curve_new(curve_cert_t *cert);

/* True when text is a Z85-encoded 32-byte key (40 characters). */
bool curve_key_valid(const char *text);

/* Writes the certificate at path (the public one at path, without the
 * secret; with_secret: both keys at path, created 0600, refusing to replace
 * an existing file). meta: NULL-terminated "name", "value" pairs written in
 * the metadata section (values are quoted; may be NULL). Returns 0 or
 * RC_ERR_IO with the reason in err. */
int curve_save(const curve_cert_t *cert, const char *path, bool with_secret,
               const char *const *meta, char *err, size_t errlen);

/* Reads a certificate file (public or secret). Returns 0, or RC_ERR_IO /
 * RC_ERR_INVALID with the reason (naming the file) in err. A secret file
 * readable by others than its owner is refused. */
int curve_load(const char *path, curve_cert_t *cert, char *err, size_t errlen);

/* curve_load of a file that must hold the secret key too (a .key_secret):
 * one without is refused, naming the file. */
int curve_load_secret(const char *path, curve_cert_t *cert, char *err, size_t errlen);

/* The public key of peer name (dir/name.key) into public_key
 * (CURVE_KEY_TEXT bytes). */
int curve_peer_key(const char *dir, const char *name, char *public_key, char *err, size_t errlen);

/* path = dir/name.key or dir/name.key_secret. */
void curve_path(char *path, size_t len, const char *dir, const char *name, bool secret);

#endif
