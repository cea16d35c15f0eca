/* base/assert.h and base/alloc.h: KT_ASSERT stays on in this (release) build and says where and why it failed; the
 * aborting allocators keep their contract, abort with "kite: out of memory" when memory runs out, and are the ones
 * jansson uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"

/* Runs fn(arg) in a child; 1 when it died of SIGABRT, its stderr in out. */
static int aborts(void (*fn)(long), long arg, char *out, size_t cap)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void check_positive(long v) { KT_ASSERT(v > 0); }
static void check_explained(long v) { KT_ASSERTF(v % 2 == 0, "%ld is odd", v); }

static void test_assert(void **s)
{
    (void)s;
    char out[512];
    assert_false(aborts(check_positive, 1, out, sizeof out));
    assert_string_equal(out, "");
    assert_true(aborts(check_positive, -3, out, sizeof out));
    /* the condition, the place (this file, the function) and nothing else */
    assert_non_null(strstr(out, "kite: assertion failed: v > 0 ("));
    assert_non_null(strstr(out, "test_assert.c:"));
    assert_non_null(strstr(out, " in check_positive)\n"));
    assert_true(aborts(check_explained, 7, out, sizeof out));
    assert_non_null(strstr(out, "kite: assertion failed: v % 2 == 0 ("));
    assert_non_null(strstr(out, "in check_explained): 7 is odd\n"));
#ifdef NDEBUG
    /* the point of KT_ASSERT: NDEBUG (release builds) does not turn it off */
    assert_true(aborts(check_positive, 0, out, sizeof out));
#endif
}

static void test_alloc_contract(void **s)
{
    (void)s;
    char *p = kt_xmalloc(0); /* a unique pointer, never NULL */
    assert_non_null(p);
    free(p);
    int *z = kt_xcalloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    z = kt_xrealloc(z, 1024 * sizeof *z);
    assert_int_equal(z[15], 0); /* kept across the move */
    assert_null(kt_xrealloc(z, 0)); /* frees */
    char *d = kt_xstrdup("kite");
    assert_string_equal(d, "kite");
    free(d);
    d = kt_xstrndup("kitestring", 4);
    assert_string_equal(d, "kite");
    free(d);
    /* jansson allocates through the aborting allocator (installed before main) */
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    assert_ptr_equal(m, kt_xmalloc);
    assert_ptr_equal(f, free);
}

#if !defined(__SANITIZE_ADDRESS__) /* ASan reports an impossible size itself, before malloc could return NULL */
static void alloc_huge(long which)
{
    /* sizes no allocator can give: malloc returns NULL, which must not come back to the caller */
    volatile size_t huge = SIZE_MAX / 2;
    void *p = NULL;
    switch (which) {
    case 0: p = kt_xmalloc(huge); break;
    case 1: p = kt_xcalloc(huge, 4); break; /* an overflowing product */
    case 2: p = kt_xrealloc(NULL, huge); break;
    case 3: p = json_stringn_nocheck("x", huge / 4); break; /* jansson through the installed allocator */
    }
    printf("%p\n", p); /* not reached */
}

static void test_out_of_memory_aborts(void **s)
{
    (void)s;
    char out[256];
    for (long i = 0; i < 4; i++) {
        if (!aborts(alloc_huge, i, out, sizeof out))
            fail_msg("case %ld did not abort", i);
        assert_string_equal(out, "kite: out of memory\n");
    }
}
#else
static void test_out_of_memory_aborts(void **s) { skip(); }
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assert),
        cmocka_unit_test(test_alloc_contract),
        cmocka_unit_test(test_out_of_memory_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
