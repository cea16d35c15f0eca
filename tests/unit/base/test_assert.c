/* base/assert.h and base/alloc.h: KT_ASSERT stays on in this (release) build and says where and why it failed; the
 * aborting allocators keep their contract, abort with "kite: out of memory" when memory runs out, and are the ones
 * jansson uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "tests/unit/abort_check.h"

/* The value comes by address (abort_check passes a void *); the conditions read a plain long, named as in the
 * messages. */
static void check_positive(void *arg)
{
    long v = *(const long *)arg;
    KT_ASSERT(v > 0);
}

static void check_explained(void *arg)
{
    long v = *(const long *)arg;
    KT_ASSERTF(v % 2 == 0, "%ld is odd", v);
}

static void test_assert(void **s)
{
    (void)s;
    char out[512];
    assert_false(abort_check(check_positive, &(long){1}, out, sizeof out));
    assert_string_equal(out, "");
    assert_true(abort_check(check_positive, &(long){-3}, out, sizeof out));
    /* the condition, the place (this file, the function) and nothing else */
    assert_non_null(strstr(out, "kite: assertion failed: v > 0 ("));
    assert_non_null(strstr(out, "test_assert.c:"));
    assert_non_null(strstr(out, " in check_positive)\n"));
    assert_true(abort_check(check_explained, &(long){7}, out, sizeof out));
    assert_non_null(strstr(out, "kite: assertion failed: v % 2 == 0 ("));
    assert_non_null(strstr(out, "in check_explained): 7 is odd\n"));
#ifdef NDEBUG
    /* the point of KT_ASSERT: NDEBUG (release builds) does not turn it off */
    assert_true(abort_check(check_positive, &(long){0}, out, sizeof out));
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
static void alloc_huge(void *arg)
{
    long which = *(const long *)arg;
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
        if (!abort_check(alloc_huge, &i, out, sizeof out))
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
