/* pgarr.c: array literals for batch parameters. */
#include "pgarr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgarr_init(pgarr_t *a)
{
    memset(a, 0, sizeof *a);
}

static int s_reserve(pgarr_t *a, size_t more)
{
    if (a->failed)
        return -1;
    if (a->len + more + 2 <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->len + more + 2)
        cap *= 2;
    char *p = realloc(a->buf, cap);
    if (!p) {
        a->failed = 1;
        return -1;
    }
    a->buf = p;
    a->cap = cap;
    return 0;
}

static void s_sep(pgarr_t *a)
{
    a->buf[a->len++] = a->count++ ? ',' : '{';
}

void pgarr_add_text(pgarr_t *a, const char *s)
{
    size_t n = strlen(s);
    if (s_reserve(a, 2 * n + 3) < 0)
        return;
    s_sep(a);
    a->buf[a->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            a->buf[a->len++] = '\\';
        a->buf[a->len++] = s[i];
    }
    a->buf[a->len++] = '"';
}

void pgarr_add_bytea(pgarr_t *a, const uint8_t *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (s_reserve(a, 2 * len + 6) < 0)
        return;
    s_sep(a);
    /* element "\\x..." : the array parser turns \\ into the \ of bytea's hex form */
    memcpy(a->buf + a->len, "\"\\\\x", 4);
    a->len += 4;
    for (size_t i = 0; i < len; i++) {
        a->buf[a->len++] = hex[data[i] >> 4];
        a->buf[a->len++] = hex[data[i] & 15];
    }
    a->buf[a->len++] = '"';
}

void pgarr_add_int(pgarr_t *a, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    if (s_reserve(a, (size_t)n + 1) < 0)
        return;
    s_sep(a);
    memcpy(a->buf + a->len, num, (size_t)n);
    a->len += (size_t)n;
}

void pgarr_add_null(pgarr_t *a)
{
    if (s_reserve(a, 5) < 0)
        return;
    s_sep(a);
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
}

const char *pgarr_text(pgarr_t *a)
{
    if (s_reserve(a, 2) < 0)
        return NULL;
    if (a->count == 0) {
        a->buf[0] = '{';
        a->len = 1;
    }
    a->buf[a->len] = '}';
    a->buf[a->len + 1] = '\0';
    return a->buf;
}

void pgarr_free(pgarr_t *a)
{
    free(a->buf);
    pgarr_init(a);
}
