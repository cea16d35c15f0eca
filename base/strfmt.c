/* printf into malloc'ed strings (see flow/strfmt.h). */
#include "base/strfmt.h"

#include <stdio.h>

char *kt_strfmt_v(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    return s;
}

char *kt_strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = kt_strfmt_v(fmt, ap);
    va_end(ap);
    return s;
}
