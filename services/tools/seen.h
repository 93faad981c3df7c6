/* seen.h: a bounded memory of the ids seen last.
 *
 * rectify-tail shows a notice of the log channel once although the channel
 * delivers at least once (a crash between writing a line and recording it
 * as sent writes the line again): each notice line carries its notice id,
 * and a line whose id is among the last `capacity` ids shown is a repeat.
 * The memory is bounded: the oldest id is forgotten when a new one comes,
 * so a repeat that comes after more than `capacity` other notices shows
 * again. Ids are UUIDs (16 bytes each, ~24 bytes an id with the index). */
#ifndef RECTIFY_SEEN_H
#define RECTIFY_SEEN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct seen_t seen_t;

/* A memory of up to capacity ids (at least 1). NULL when out of memory.
 * The caller frees it with seen_destroy. */
seen_t *seen_new(size_t capacity);
/* Frees the memory and sets *self_p to NULL. Safe on NULL. */
void seen_destroy(seen_t **self_p);

/* True when id is among the ids remembered; otherwise remembers it
 * (forgetting the oldest if full) and returns false. An id that is not a
 * UUID is never remembered: false. */
bool seen_check(seen_t *self, const char *id);

#endif
