/* A growable string buffer, Java's Double.toString, and JSON written as Kestra's Jackson mapper writes it.
 * Prefixes kt_buf, kt_fmt_double, kt_json. */
#ifndef KT_BASE_JSON_H
#define KT_BASE_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Zero-initialise; kt_buf_take hands the text over. Out of memory aborts (base/alloc.h's policy). */
typedef struct kt_buf {
    char *p;
    size_t len, cap;
} kt_buf;

void kt_buf_put(kt_buf *b, const char *s, size_t n);
void kt_buf_puts(kt_buf *b, const char *s);
void kt_buf_putc(kt_buf *b, char c);
void kt_buf_printf(kt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *kt_buf_take(kt_buf *b); /* NUL-terminated (an empty buffer gives ""), caller frees; never NULL */

/* Java's Double.toString: 0.1, 3.0, 1.0E10, NaN, -Infinity. */
void kt_fmt_double(double d, char *buf, size_t cap);

/* Appends v as Kestra's Jackson mapper writes it (null map values dropped, NON_NULL). */
void kt_json_write(kt_buf *b, const json_t *v);

/* Compact JSON as Kestra's Jackson mapper writes it: numbers as Java prints them (0.1, 1.0, 1.0E10), strings
 * escaped like Jackson, null values kept. malloc'ed; *len (optional) gets the length. */
char *kt_json_dump_jackson(const json_t *v, size_t *len);

#endif
