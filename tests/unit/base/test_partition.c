/* The partition of an execution (base/partition.h): FNV-1a's known answers, ids spread evenly over the partitions,
 * a limited flow's ids all in the flow's partition and still Kestra-shaped, the same draws from the same seed, and
 * rendezvous weights that share the partitions out fairly and move only a leaving member's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/partition.h"

static const char k_base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void assert_kestra_id(const char *id)
{
    assert_true(strlen(id) >= 1 && strlen(id) <= KT_ID_LEN);
    assert_int_equal(strspn(id, k_base62), strlen(id));
}

/* Pearson's chi-square of counts against an even spread over k buckets. */
static double chi_square(const int *counts, int k, int n)
{
    double expect = (double)n / k, x = 0;
    for (int i = 0; i < k; i++)
        x += (counts[i] - expect) * (counts[i] - expect) / expect;
    return x;
}

static void test_fnv1a(void **state)
{
    (void)state;
    /* the published FNV-1a 32-bit test vectors */
    assert_int_equal(kt_fnv1a("", 0), 0x811c9dc5u);
    assert_int_equal(kt_fnv1a("a", 1), 0xe40c292cu);
    assert_int_equal(kt_fnv1a("foobar", 6), 0xbf9cf968u);
    assert_int_equal(kt_exec_partition("foobar"), (int)(0xbf9cf968u % KT_PARTITIONS));
    assert_int_equal(kt_flow_partition("company.team", "hello"), kt_exec_partition("company.team/hello"));
    assert_int_equal(kt_flow_partition(NULL, NULL), kt_exec_partition("/"));
    assert_int_equal(KT_PARTITIONS, 64);
}

/* 64 000 random ids: every partition used, and chi-square with 63 degrees of freedom under 120 (p < 0.00002 for a
 * truly even spread: a fixed bug, not bad luck, fails it). */
static void test_distribution(void **state)
{
    (void)state;
    enum { N = 64000 };
    int counts[KT_PARTITIONS] = {0};
    char id[KT_ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        kt_exec_id_for("company.team", "hello", 0, id);
        assert_kestra_id(id);
        int p = kt_exec_partition(id);
        assert_true(p >= 0 && p < KT_PARTITIONS);
        counts[p]++;
    }
    for (int p = 0; p < KT_PARTITIONS; p++)
        assert_true(counts[p] > 0);
    double x = chi_square(counts, KT_PARTITIONS, N);
    printf("chi-square over %d partitions: %.1f\n", KT_PARTITIONS, x);
    assert_true(x < 120.0);
    /* the flows' own partitions spread too: 6 400 flow ids over 64 partitions */
    int fc[KT_PARTITIONS] = {0};
    for (int i = 0; i < 6400; i++) {
        char fid[32];
        snprintf(fid, sizeof fid, "flow_%d", i);
        fc[kt_flow_partition("company.team", fid)]++;
    }
    assert_true(chi_square(fc, KT_PARTITIONS, 6400) < 120.0);
}

/* A limited flow's executions all land in its partition, with distinct well-formed ids; an unlimited one's do not
 * all (they spread). */
static void test_limited_flow(void **state)
{
    (void)state;
    const char *flows[][2] = {{"company.team", "limited"}, {"io.kestra.tests", "concurrency-queue"}, {"a", "b"}};
    for (size_t f = 0; f < 3; f++) {
        int want = kt_flow_partition(flows[f][0], flows[f][1]);
        char prev[KT_ID_LEN + 1] = "";
        for (int i = 0; i < 200; i++) {
            char id[KT_ID_LEN + 1];
            kt_exec_id_for(flows[f][0], flows[f][1], 1, id);
            assert_kestra_id(id);
            assert_int_equal(kt_exec_partition(id), want);
            assert_string_not_equal(id, prev);
            strcpy(prev, id);
        }
    }
    int seen[KT_PARTITIONS] = {0}, distinct = 0;
    for (int i = 0; i < 200; i++) {
        char id[KT_ID_LEN + 1];
        kt_exec_id_for("company.team", "limited", 0, id);
        distinct += !seen[kt_exec_partition(id)]++;
    }
    assert_true(distinct > 32);
}

/* From a pure computation's environment: the same seed draws the same id, in the flow's partition when limited;
 * a partition asked for by number is honoured; ids the environment names are taken as they are. */
static int g_named;
static void named_ids(void *ud, char *out)
{
    (void)ud;
    snprintf(out, KT_ID_LEN + 1, "tr%d", ++g_named);
}

static void test_env_draws(void **state)
{
    (void)state;
    char a[KT_ID_LEN + 1], b[KT_ID_LEN + 1];
    kt_env e1, e2;
    kt_env_init(&e1, 1, 42);
    kt_env_init(&e2, 1, 42);
    kt_exec_id_env(&e1, "company.team", "limited", 1, a);
    kt_exec_id_env(&e2, "company.team", "limited", 1, b);
    assert_string_equal(a, b);
    assert_kestra_id(a);
    assert_int_equal(kt_exec_partition(a), kt_flow_partition("company.team", "limited"));
    for (int p = 0; p < KT_PARTITIONS; p += 7) {
        kt_exec_id_env_in(&e1, p, a);
        assert_int_equal(kt_exec_partition(a), p);
    }
    /* unlimited: exactly one draw, the one kt_env_id would have made */
    kt_env_init(&e1, 1, 7);
    kt_env_init(&e2, 1, 7);
    kt_exec_id_env(&e1, "company.team", "free", 0, a);
    kt_env_id(&e2, b);
    assert_string_equal(a, b);
    kt_env_init(&e1, 1, 7);
    e1.ids = named_ids;
    g_named = 0;
    kt_exec_id_env(&e1, "company.team", "limited", 1, a);
    assert_string_equal(a, "tr1");
    assert_int_equal(g_named, 1);
}

/* Rendezvous: with three members each owns about a third of the partitions; when one leaves, exactly its partitions
 * move and they spread over both others; the weights are the same on every call. */
static int owner_of(const char *const *members, int n, int p)
{
    int best = -1;
    uint64_t bw = 0;
    for (int i = 0; i < n; i++) {
        uint64_t w = kt_partition_weight(members[i], p);
        if (best < 0 || w > bw)
            best = i, bw = w;
    }
    return best;
}

static void test_rendezvous(void **state)
{
    (void)state;
    const char *three[] = {"node-a1b2", "node-c3d4", "node-e5f6"};
    const char *two[] = {"node-a1b2", "node-e5f6"};
    int counts[3] = {0}, moved_to[2] = {0};
    for (int p = 0; p < KT_PARTITIONS; p++) {
        assert_int_equal(kt_partition_weight("node-a1b2", p), kt_partition_weight("node-a1b2", p));
        int o3 = owner_of(three, 3, p), o2 = owner_of(two, 2, p);
        counts[o3]++;
        if (o3 == 1)
            moved_to[o2]++;
        else
            assert_string_equal(two[o2], three[o3]); /* a partition of a staying member stays */
    }
    for (int i = 0; i < 3; i++)
        assert_true(counts[i] >= 10 && counts[i] <= 34);
    assert_true(moved_to[0] > 0 && moved_to[1] > 0);
    /* over many node names the shares stay fair: 8 members, 64 partitions, none owning more than 20 */
    char names[8][16];
    const char *eight[8];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        eight[i] = names[i];
    }
    int c8[8] = {0};
    for (int p = 0; p < KT_PARTITIONS; p++)
        c8[owner_of(eight, 8, p)]++;
    for (int i = 0; i < 8; i++)
        assert_true(c8[i] <= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a),    cmocka_unit_test(test_distribution), cmocka_unit_test(test_limited_flow),
        cmocka_unit_test(test_env_draws), cmocka_unit_test(test_rendezvous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
