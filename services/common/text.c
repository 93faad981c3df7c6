/* text.c: UTF-8 as PostgreSQL accepts it; cutting on character boundaries. */
#include "text.h"

#include "errors.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t text_char_len(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return c == 0 ? 0 : 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* The longest prefix of the len bytes at p, at most max bytes, that ends on
 * a character boundary; reads nothing past len. */
static size_t s_prefix_n(const unsigned char *p, size_t len, size_t max)
{
    size_t i = 0;
    while (i < len) {
        size_t n = text_char_len(p + i, len - i);
        if (n == 0 || i + n > max)
            break;
        i += n;
    }
    return i;
}

text_verdict_t text_check(const char *s, size_t len, size_t max, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    text_verdict_t v = TEXT_OK;
    while (i < len) {
        if (p[i] == 0) {
            v = TEXT_NUL;
            break;
        }
        size_t n = text_char_len(p + i, len - i);
        if (n == 0) {
            v = TEXT_INVALID;
            break;
        }
        i += n;
    }
    if (v == TEXT_OK && max > 0 && len > max) {
        v = TEXT_TOO_LONG;
        i = s_prefix_n(p, len, max);
    }
    if (bad_at)
        *bad_at = v == TEXT_OK ? len : i;
    return v;
}

size_t text_prefix(const char *s, size_t max)
{
    return s_prefix_n((const unsigned char *)s, strnlen(s, max + 4), max);
}

/* True when the n bytes at s are the start of a character cut short: a lead
 * byte followed only by continuation bytes, fewer than it needs. */
static bool s_cut_short(const unsigned char *s, size_t n)
{
    size_t need = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (need == 0 || n >= need || s[0] > 0xF4)
        return false;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return false;
    return true;
}

bool text_cut(char *out, size_t size, const char *s)
{
    if (size == 0)
        return false;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), i = 0, o = 0;
    while (i < len) {
        size_t n = text_char_len(p + i, len - i);
        const unsigned char *src = p + i;
        size_t take = n;
        if (n == 0 && s_cut_short(p + i, len - i))
            break;    /* a character cut off at the end (by snprintf, say): drop it */
        if (n == 0) { /* an invalid byte: one '?' for it */
            src = (const unsigned char *)"?";
            take = 1;
            n = 1;
        }
        if (o + take > size - 1)
            break;
        memcpy(out + o, src, take);
        o += take;
        i += n;
    }
    out[o] = '\0';
    return i == len;
}

bool text_printf(char *out, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return false;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bool whole = text_cut(out, size, buf);
    return whole && n >= 0 && (size_t)n < sizeof buf;
}

bool text_is_utf8(const char *s, size_t len, size_t *bad_at)
{
    size_t at = 0;
    while (at < len) {
        size_t bad = 0;
        text_verdict_t v = text_check(s + at, len - at, 0, &bad);
        if (v == TEXT_OK)
            return true;
        if (v != TEXT_NUL) {
            *bad_at = at + bad;
            return false;
        }
        at += bad + 1; /* past the NUL */
    }
    return true;
}

int text_to_utf8(const char *from, const char *in, size_t len, char **out, size_t *outlen,
                 size_t *bad_at)
{
    *out = NULL;
    *outlen = 0;
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return RC_ERR_CONFIG;
    size_t cap = len * 2 + 16; /* GB18030 -> UTF-8 grows by half at most; room to spare */
    char *buf = malloc(cap);
    int rc = RC_OK;
    if (!buf) {
        rc = RC_ERR_NOMEM;
        goto out_close;
    }
    char *src = (char *)in, *dst = buf;
    size_t left = len, room = cap - 1;
    while (left > 0) {
        if (iconv(cd, &src, &left, &dst, &room) != (size_t)-1)
            continue;
        if (errno == E2BIG) {
            size_t used = (size_t)(dst - buf);
            char *p = realloc(buf, cap * 2);
            if (!p) {
                rc = RC_ERR_NOMEM;
                break;
            }
            buf = p;
            dst = buf + used;
            room += cap;
            cap *= 2;
            continue;
        }
        *bad_at = (size_t)(src - in); /* EILSEQ, or EINVAL: cut short at the end */
        rc = RC_ERR_INVALID;
        break;
    }
    if (rc == RC_OK && iconv(cd, NULL, NULL, &dst, &room) == (size_t)-1)
        rc = RC_ERR_INVALID, *bad_at = len;
    if (rc != RC_OK) {
        free(buf);
        goto out_close;
    }
    *dst = '\0';
    *out = buf;
    *outlen = (size_t)(dst - buf);
out_close:
    iconv_close(cd);
    return rc;
}
