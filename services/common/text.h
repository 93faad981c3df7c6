/* text.h: the one place that decides what text Rectify accepts, and how it
 * cuts text without breaking a character.
 *
 * "Valid" means UTF-8 exactly as PostgreSQL's UTF8 encoding accepts it: no
 * overlong forms, no UTF-16 surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF, and no NUL byte (PostgreSQL text cannot hold one). Every string
 * of every event is checked with text_check before it is stored; every
 * string the services build themselves is cut with text_cut or formatted
 * with text_printf, so what they store and send stays valid. */
#ifndef RECTIFY_TEXT_H
#define RECTIFY_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TEXT_OK = 0,
    TEXT_NUL,     /* a NUL byte inside the text */
    TEXT_INVALID, /* not UTF-8 as PostgreSQL accepts it */
    TEXT_TOO_LONG /* more than max bytes */
} text_verdict_t;

/* Checks len bytes at s (need not be NUL-terminated). max 0 means no limit.
 * *bad_at (may be NULL) receives the offset of the first offending byte. */
text_verdict_t text_check(const char *s, size_t len, size_t max, size_t *bad_at);

/* Length in bytes of the UTF-8 character starting at s (1..4) when it is
 * complete and valid within len bytes; 0 otherwise. */
size_t text_char_len(const unsigned char *s, size_t len);

/* The longest prefix of s, at most max bytes, that ends on a character
 * boundary (s is assumed valid; an invalid tail is cut off too). */
size_t text_prefix(const char *s, size_t max);

/* Copies s into out (size bytes with room for the NUL), cut on a character
 * boundary; invalid bytes in s become '?'. Returns true when all of s fit. */
bool text_cut(char *out, size_t size, const char *s);

/* snprintf into out, then the result is made valid the way text_cut does
 * (cut on a character boundary, invalid bytes replaced). Returns true when
 * nothing was cut. */
bool text_printf(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Where a file's bytes stop being UTF-8: false with *bad_at the offset of
 * the first byte that is not (NUL bytes are left to the reader to refuse),
 * true when all of it is. */
bool text_is_utf8(const char *s, size_t len, size_t *bad_at);

/* Converts len bytes in the encoding `from` (an iconv name: "GB18030",
 * "GBK", ...) to UTF-8. On RC_OK *out is a malloc'd, NUL-terminated string
 * of *outlen bytes that the caller frees. RC_ERR_CONFIG: iconv knows no such
 * encoding. RC_ERR_INVALID: the bytes at *bad_at are not text in `from`.
 * RC_ERR_NOMEM. */
int text_to_utf8(const char *from, const char *in, size_t len, char **out, size_t *outlen,
                 size_t *bad_at);

#endif
