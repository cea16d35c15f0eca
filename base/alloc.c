/* The aborting allocators of base/alloc.h. */
#include "base/alloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kt_oom(void)
{
    static const char msg[] = "kite: out of memory\n";
    /* write(2), not stdio: nothing here may allocate */
    ssize_t rc = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)rc;
    abort();
}

void *kt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        kt_oom();
    return p;
}

void *kt_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1); /* calloc itself refuses an overflowing product */
    if (!p)
        kt_oom();
    return p;
}

void *kt_xrealloc(void *p, size_t n)
{
    if (!n) {
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    if (!q)
        kt_oom();
    return q;
}

char *kt_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        kt_oom();
    return d;
}

char *kt_xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d)
        kt_oom();
    return d;
}

/* Before main (and before any json_t exists): every binary that links kite_base gets the policy. */
__attribute__((constructor)) static void kt_alloc_at_start(void) { json_set_alloc_funcs(kt_xmalloc, free); }
