/* Kite's one out-of-memory policy: allocation failure aborts the process with "kite: out of memory", as h2o does
 * (h2o_fatal in h2o_mem_alloc_recycle).
 *
 * Why abort rather than return KT_ENOMEM: an executor that drops a job, a timer or a state change because one malloc
 * failed leaves an execution stuck forever without anyone knowing, while a crash is visible, restarts cleanly (the
 * executor resumes unfinished executions from the store) and loses nothing that was committed. So every allocation
 * whose failure would drop work goes through these, and jansson and libuv are given them too (see below),
 * so json_* and uv_* never return NULL for lack of memory either. */
#ifndef KT_BASE_ALLOC_H
#define KT_BASE_ALLOC_H

#include <stddef.h>

void *kt_xmalloc(size_t n);              /* never NULL; n == 0 gives a unique pointer */
void *kt_xcalloc(size_t count, size_t size); /* never NULL; aborts on count * size overflow too */
void *kt_xrealloc(void *p, size_t n);    /* never NULL for n > 0; n == 0 frees p and returns NULL */
char *kt_xstrdup(const char *s);         /* never NULL; s must not be NULL */
char *kt_xstrndup(const char *s, size_t n);

/* Prints "kite: out of memory" and aborts. */
_Noreturn void kt_oom(void) __attribute__((cold));

/* jansson gets kt_xmalloc/free from a constructor in alloc.c, before main, so every binary that links kite_base
 * follows the policy; libuv's allocator is set where a process makes its loop (cmd/main.c, bench). */

#endif
