/* A transaction begun inside another is Kite's own bug: kt_store_begin asserts (it used to return KT_EINTERNAL, which
 * its callers did not check). After a commit or a rollback, begin works again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tests/unit/abort_check.h"

static int rm_entry(const char *p, const struct stat *sb, int f, struct FTW *w)
{
    (void)sb, (void)f, (void)w;
    return remove(p);
}

static void begin(void *st) { kt_store_begin(st); }

static void test_nested_begin_aborts(void **s)
{
    (void)s;
    char root[] = "/tmp/kite-tx-XXXXXX", err[256];
    assert_non_null(mkdtemp(root));
    kt_store *st;
    assert_int_equal(kt_store_open(root, NULL, &st, err, sizeof err), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    assert_int_equal(kt_store_commit(st), KT_OK);
    assert_int_equal(kt_store_begin(st), KT_OK);
    kt_store_rollback(st);
    assert_int_equal(kt_store_begin(st), KT_OK);
    char out[512];
    assert_true(abort_check(begin, st, out, sizeof out)); /* the second begin */
    assert_non_null(strstr(out, "kite: assertion failed: "));
    assert_non_null(strstr(out, "transactions do not nest"));
    assert_int_equal(kt_store_commit(st), KT_OK); /* the parent's transaction is untouched */
    kt_store_close(st);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_begin_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
