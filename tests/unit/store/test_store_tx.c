/* A transaction begun inside another is Kite's own bug: kt_store_begin asserts (it used to return KT_EINTERNAL, which
 * its callers did not check). After a commit or a rollback, begin works again. */
#include "store_fixture.h"
#include "tests/unit/abort_check.h"

static void begin(void *st) { kt_store_begin(st); }

static void test_nested_begin_aborts(void **state)
{
    fixture *f = *state;
    kt_store *st = f->s;
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
}

int main(void)
{
    int backend = fixture_backend(); /* 77: PostgreSQL asked for, none there */
    if (backend)
        return backend;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nested_begin_aborts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
