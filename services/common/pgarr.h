/* pgarr.h: builds a PostgreSQL array literal ("{...}") to pass a whole batch
 * as one text parameter of PQexecParams, e.g. $1::uuid[] or $2::bytea[].
 * Elements are quoted and escaped, so no value is ever pasted into SQL. */
#ifndef RECTIFY_PGARR_H
#define RECTIFY_PGARR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t len, cap;
    int count;
    int failed; /* an allocation failed: pgarr_text returns NULL */
} pgarr_t;

void pgarr_init(pgarr_t *a);
void pgarr_add_text(pgarr_t *a, const char *s); /* s must hold no NUL inside */
void pgarr_add_bytea(pgarr_t *a, const uint8_t *data, size_t len);
void pgarr_add_int(pgarr_t *a, long long v);
void pgarr_add_null(pgarr_t *a);
/* The literal, owned by a (valid until pgarr_free or the next add); NULL on
 * allocation failure. */
const char *pgarr_text(pgarr_t *a);
void pgarr_free(pgarr_t *a);

#endif
