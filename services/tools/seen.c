/* seen.c: a ring of the last ids with a chained hash index over it. */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

struct seen_t {
    size_t capacity, used, next; /* next: the ring slot to fill (or reuse) */
    size_t mask;                 /* buckets - 1; buckets is a power of two */
    uuid_t *ids;                 /* the ring */
    uint32_t *chain;             /* per slot: the next slot of its bucket, plus 1; 0 ends */
    uint32_t *head;              /* per bucket: its first slot, plus 1; 0 when empty */
};

seen_t *seen_new(size_t capacity)
{
    if (capacity == 0 || capacity >= UINT32_MAX)
        return NULL;
    seen_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    size_t buckets = 1;
    while (buckets < capacity)
        buckets *= 2;
    self->capacity = capacity;
    self->mask = buckets - 1;
    self->ids = malloc(capacity * sizeof *self->ids);
    self->chain = malloc(capacity * sizeof *self->chain);
    self->head = calloc(buckets, sizeof *self->head);
    if (!self->ids || !self->chain || !self->head)
        seen_destroy(&self);
    return self;
}

void seen_destroy(seen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    seen_t *self = *self_p;
    free(self->ids);
    free(self->chain);
    free(self->head);
    free(self);
    *self_p = NULL;
}

/* FNV-1a over the 16 bytes: ids need not be random (version 5 UUIDs are not). */
static size_t s_bucket(const seen_t *self, const uuid_t id)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ id[i]) * 16777619u;
    return h & self->mask;
}

/* Takes slot out of its bucket's chain before it is reused. */
static void s_forget(seen_t *self, size_t slot)
{
    uint32_t *link = &self->head[s_bucket(self, self->ids[slot])];
    while (*link && *link != slot + 1)
        link = &self->chain[*link - 1];
    if (*link)
        *link = self->chain[slot];
}

bool seen_check(seen_t *self, const char *id)
{
    uuid_t u;
    if (!id || strlen(id) != 36 || uuid_parse(id, u) != 0)
        return false;
    size_t b = s_bucket(self, u);
    for (uint32_t i = self->head[b]; i; i = self->chain[i - 1])
        if (memcmp(self->ids[i - 1], u, sizeof u) == 0)
            return true;
    size_t slot = self->next;
    if (self->used == self->capacity)
        s_forget(self, slot);
    else
        self->used++;
    memcpy(self->ids[slot], u, sizeof u);
    self->chain[slot] = self->head[b];
    self->head[b] = (uint32_t)(slot + 1);
    self->next = (slot + 1) % self->capacity;
    return false;
}
