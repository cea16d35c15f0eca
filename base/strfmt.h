/* printf into a fresh malloc'ed string, for the messages and property paths flow/ builds. vasprintf leaves its
 * pointer undefined on failure; these return NULL instead, so callers can test or free the result.
 * Prefix kt_strfmt. */
#ifndef KT_BASE_STRFMT_H
#define KT_BASE_STRFMT_H

#include <stdarg.h>

/* The formatted text (free it), or NULL when out of memory. */
char *kt_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list (ap is consumed as by vsnprintf). */
char *kt_strfmt_v(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
