/* KT_ASSERT's failure path (base/assert.h): one line on stderr, then abort() for a core dump. */
#include "base/assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void kt_assert_fail(const char *cond, const char *file, int line, const char *func, const char *fmt, ...)
{
    /* formatted on the stack and written at once: no heap (it may be what failed), no interleaving with other
     * threads' lines */
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "kite: assertion failed: %s (%s:%d in %s)", cond, file, line, func);
    if (fmt && n >= 0 && (size_t)n < sizeof msg - 2) {
        va_list ap;
        va_start(ap, fmt);
        msg[n++] = ':';
        msg[n++] = ' ';
        int m = vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
        n = m < 0 ? n : n + m;
    }
    if (n < 0 || (size_t)n >= sizeof msg - 1)
        n = (int)sizeof msg - 2; /* cut, but still one line */
    msg[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, msg, (size_t)n);
    (void)rc;
    abort();
}
