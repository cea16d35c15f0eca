/* Partition leases on the SQLite store (lease_checks.h), and that they survive a reopen (a restarted process
 * finds its previous epochs and moves past them). */
#define _XOPEN_SOURCE 700
#include "lease_checks.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct fixture {
    char root[64];
    kt_store *s;
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static kt_store *open_at(const char *dir)
{
    kt_store *s = NULL;
    char err[512] = "";
    if (kt_store_open(dir, NULL, &s, err, sizeof err))
        fail_msg("kt_store_open(%s): %s", dir, err);
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/kite-test-lease-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    f->s = open_at(f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kt_store_close(f->s);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static void test_take_renew_fence(void **state) { check_take_renew_fence(((fixture *)*state)->s); }
static void test_release(void **state) { check_release(((fixture *)*state)->s); }
static void test_expiry_and_force(void **state) { check_expiry_and_force(((fixture *)*state)->s); }
static void test_arguments(void **state) { check_arguments(((fixture *)*state)->s); }
static void test_all_partitions(void **state) { check_all_partitions(((fixture *)*state)->s); }
static void test_fence_many(void **state) { check_fence_many(((fixture *)*state)->s); }

static void test_reopen(void **state)
{
    fixture *f = *state;
    int ids[] = {0, 1};
    kt_lease l[2];
    assert_int_equal(take(f->s, "executor", ids, 2, "first-life", 10 * SEC_US, 1, l), 2);
    kt_store_close(f->s);
    f->s = open_at(f->root);
    assert_int_equal(take(f->s, "executor", ids, 2, "second-life", 10 * SEC_US, 1, l), 2);
    assert_int_equal(l[0].epoch, 2);
    assert_int_equal(fence_once(f->s, "executor", 0, 1), KT_EFENCED);
    assert_int_equal(fence_once(f->s, "executor", 0, 2), KT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_take_renew_fence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
