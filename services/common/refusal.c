/* refusal.c: the catalogue of refusal codes (refusal.h). */
#include "refusal.h"
#include "errors.h"

#include <string.h>

typedef struct {
    const char *code;
    int by;
    int class;
    const char *meaning;
} refusal_entry_t;

static const refusal_entry_t s_entries[REFUSAL_COUNT] = {
#define REFUSAL_ENTRY(code, by, class, meaning) {#code, by, class, meaning},
    REFUSALS(REFUSAL_ENTRY)
#undef REFUSAL_ENTRY
};

static const refusal_entry_t *s_entry(refusal_t r)
{
    return &s_entries[(unsigned)r < REFUSAL_COUNT ? r : 0];
}

const char *refusal_code(refusal_t r)
{
    return s_entry(r)->code;
}

const char *refusal_meaning(refusal_t r)
{
    return s_entry(r)->meaning;
}

int refusal_by(refusal_t r)
{
    return s_entry(r)->by;
}

int refusal_class(refusal_t r)
{
    return s_entry(r)->class;
}

refusal_t refusal_find(const char *code)
{
    for (int i = 0; code && i < REFUSAL_COUNT; i++)
        if (strcmp(s_entries[i].code, code) == 0)
            return (refusal_t)i;
    return REFUSAL_COUNT;
}
