/* Router precedence (Micronaut: literals outrank parameters), percent-decoding and query parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "web/router.h"

/* Handlers are only compared by address: each route gets a distinct ud tag. */
static void h(kt_http_req *r, void *ud) { (void)r, (void)ud; }

typedef struct {
    kt_web_match m;
    char scratch[1024];
    char err[160];
    kt_status st;
} res;

static const char *match(kt_web_router *rt, const char *method, const char *path, res *out)
{
    const char *q = strchr(path, '?');
    size_t len = q ? (size_t)(q - path) : strlen(path);
    assert_true(kt_web_scratch_size(len) <= sizeof(out->scratch));
    out->st = kt_web_router_match(rt, method, path, len, out->scratch, &out->m, out->err, sizeof(out->err));
    if (out->st || !out->m.route)
        return NULL;
    return kt_web_route_ud(out->m.route);
}

static const char *param(const res *r, const char *name)
{
    for (size_t i = 0; i < r->m.nparams; i++)
        if (!strcmp(r->m.names[i], name))
            return r->m.values[i];
    return NULL;
}

static kt_web_router *kestra_router(void)
{
    kt_web_router *rt;
    assert_int_equal(kt_web_router_new(&rt), KT_OK);
    /* registration order deliberately puts the parameter routes first */
    static const char *routes[][2] = {
        {"GET", "/api/v1/executions/{executionId}"},
        {"POST", "/api/v1/executions/{namespace}/{id}"},
        {"POST", "/api/v1/executions/{executionId}/restart"},
        {"GET", "/api/v1/executions/search"},
        {"GET", "/api/v1/flows/{namespace}"},
        {"GET", "/api/v1/flows/{namespace}/{id}"},
        {"GET", "/api/v1/flows/search"},
        {"GET", "/api/v1/flows/distinct-namespaces"},
        {"GET", "/api/v1/executions/{executionId}/follow"},
        {"GET", "/ui/{path:*}"},
        {"GET", "/"},
        {"GET", "/a/{x}/c/{y}"},
        {"GET", "/a/b/{x}/{y}"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        char err[200];
        assert_int_equal(kt_web_router_add(rt, routes[i][0], routes[i][1], h, (void *)routes[i][1], err, sizeof(err)),
                         KT_OK);
    }
    return rt;
}

static void test_precedence(void **state)
{
    (void)state;
    kt_web_router *rt = kestra_router();
    res r;
    assert_string_equal(match(rt, "GET", "/api/v1/executions/search", &r), "/api/v1/executions/search");
    assert_string_equal(match(rt, "GET", "/api/v1/executions/abc123", &r), "/api/v1/executions/{executionId}");
    assert_string_equal(param(&r, "executionId"), "abc123");
    assert_string_equal(match(rt, "POST", "/api/v1/executions/abc/restart", &r),
                        "/api/v1/executions/{executionId}/restart");
    assert_string_equal(param(&r, "executionId"), "abc");
    assert_string_equal(match(rt, "POST", "/api/v1/executions/company.team/hello", &r),
                        "/api/v1/executions/{namespace}/{id}");
    assert_string_equal(param(&r, "namespace"), "company.team");
    assert_string_equal(param(&r, "id"), "hello");
    assert_string_equal(match(rt, "GET", "/api/v1/flows/search", &r), "/api/v1/flows/search");
    assert_string_equal(match(rt, "GET", "/api/v1/flows/distinct-namespaces", &r), "/api/v1/flows/distinct-namespaces");
    assert_string_equal(match(rt, "GET", "/api/v1/flows/company", &r), "/api/v1/flows/{namespace}");
    /* leftmost literal wins when the literal counts tie */
    assert_string_equal(match(rt, "GET", "/a/b/c/d", &r), "/a/b/{x}/{y}");
    assert_string_equal(match(rt, "GET", "/a/z/c/d", &r), "/a/{x}/c/{y}");
    /* the method is part of the key */
    assert_null(match(rt, "DELETE", "/api/v1/executions/search", &r));
    assert_int_equal(r.st, KT_OK);
    assert_null(match(rt, "GET", "/api/v1/executions/x/restart", &r));
    kt_web_router_free(rt);
}

static void test_paths(void **state)
{
    (void)state;
    kt_web_router *rt = kestra_router();
    res r;
    assert_string_equal(match(rt, "GET", "/", &r), "/");
    assert_int_equal(r.m.nparams, 0);
    /* a trailing slash is ignored, an empty middle segment matches no parameter */
    assert_string_equal(match(rt, "GET", "/api/v1/flows/search/", &r), "/api/v1/flows/search");
    assert_null(match(rt, "GET", "/api/v1/flows//x", &r));
    assert_null(match(rt, "GET", "/api/v1/flows", &r));
    /* query strings are the caller's business: match() here cuts at '?' */
    assert_string_equal(match(rt, "GET", "/api/v1/flows/ns?x=1", &r), "/api/v1/flows/{namespace}");
    /* decoding per segment: %2F stays inside its parameter, '+' is literal in paths */
    assert_string_equal(match(rt, "GET", "/api/v1/flows/a%2Fb/x+y%20z", &r), "/api/v1/flows/{namespace}/{id}");
    assert_string_equal(param(&r, "namespace"), "a/b");
    assert_string_equal(param(&r, "id"), "x+y z");
    assert_string_equal(r.m.path, "/api/v1/flows/a/b/x+y z");
    /* literals compare decoded */
    assert_string_equal(match(rt, "GET", "/api/v1/flows/%73earch", &r), "/api/v1/flows/search");
    /* UTF-8 */
    assert_string_equal(match(rt, "GET", "/api/v1/executions/%C3%A9t%C3%A9", &r), "/api/v1/executions/{executionId}");
    assert_string_equal(param(&r, "executionId"), "\xc3\xa9t\xc3\xa9");
    /* catch-all: zero or more segments */
    assert_string_equal(match(rt, "GET", "/ui", &r), "/ui/{path:*}");
    assert_string_equal(param(&r, "path"), "");
    assert_string_equal(match(rt, "GET", "/ui/", &r), "/ui/{path:*}");
    assert_string_equal(param(&r, "path"), "");
    assert_string_equal(match(rt, "GET", "/ui/assets/app%20x.js", &r), "/ui/{path:*}");
    assert_string_equal(param(&r, "path"), "assets/app x.js");
    /* not a path */
    assert_null(match(rt, "GET", "*", &r));
    assert_int_equal(r.st, KT_OK);
    kt_web_router_free(rt);
}

static void test_bad_encoding(void **state)
{
    (void)state;
    kt_web_router *rt = kestra_router();
    res r;
    static const char *bad[] = {"/api/v1/flows/%zz", "/api/v1/flows/%4", "/api/v1/flows/%", "/api/v1/flows/a%00b",
                                "/api/v1/%G1/x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(match(rt, "GET", bad[i], &r));
        assert_int_equal(r.st, KT_EINVAL);
        assert_non_null(strstr(r.err, "percent-encoding"));
    }
    match(rt, "GET", "/api/v1/flows/%zz", &r);
    assert_non_null(strstr(r.err, "byte 14"));
    kt_web_router_free(rt);
}

static void test_patterns(void **state)
{
    (void)state;
    kt_web_router *rt;
    char err[200];
    assert_int_equal(kt_web_router_new(&rt), KT_OK);
    assert_int_equal(kt_web_router_add(rt, "GET", "/x/{id}", h, NULL, err, sizeof(err)), KT_OK);
    assert_int_equal(kt_web_router_add(rt, "GET", "/x/{other}", h, NULL, err, sizeof(err)), KT_ECONFLICT);
    assert_non_null(strstr(err, "conflicts"));
    assert_int_equal(kt_web_router_add(rt, "POST", "/x/{other}", h, NULL, err, sizeof(err)), KT_OK);
    static const char *bad[] = {"x/y", "/a//b", "/{}", "/{a", "/a{b}", "/{p:*}/x", "/{a:b}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (kt_web_router_add(rt, "GET", bad[i], h, NULL, err, sizeof(err)) != KT_EINVAL)
            fail_msg("pattern '%s' should be rejected", bad[i]);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(kt_web_router_add(rt, "GET", "/x", NULL, NULL, err, sizeof(err)), KT_EINVAL);
    assert_int_equal(kt_web_router_count(rt), 2);
    kt_web_router_free(rt);
}

static void test_query(void **state)
{
    (void)state;
    const char *q = "labels=a%3A1&labels=b:2&q=hello+world&flag&&empty=&x=%E2%82%AC&a+b=c%2Bd";
    size_t len = strlen(q), cap = kt_web_query_count(q, len), n = 0;
    kt_web_qparam *ps = calloc(cap, sizeof(*ps));
    char *scratch = malloc(kt_web_query_scratch_size(len, cap));
    char err[160];
    assert_int_equal(kt_web_query_parse(q, len, scratch, ps, &n, err, sizeof(err)), KT_OK);
    assert_int_equal(n, 7);
    static const char *want[][2] = {{"labels", "a:1"}, {"labels", "b:2"}, {"q", "hello world"}, {"flag", ""},
                                    {"empty", ""},     {"x", "\xe2\x82\xac"}, {"a b", "c+d"}};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ps[i].name, want[i][0]);
        assert_string_equal(ps[i].value, want[i][1]);
    }
    free(ps);
    free(scratch);

    /* empty query, and bad escapes with their byte offset */
    n = 99;
    kt_web_qparam one[1];
    char s1[8];
    assert_int_equal(kt_web_query_parse("", 0, s1, one, &n, err, sizeof(err)), KT_OK);
    assert_int_equal(n, 0);
    const char *bad = "a=1&b=%ZZ";
    kt_web_qparam two[2];
    char s2[64];
    assert_int_equal(kt_web_query_parse(bad, strlen(bad), s2, two, &n, err, sizeof(err)), KT_EINVAL);
    assert_non_null(strstr(err, "byte 6"));
    const char *badname = "%x=1";
    assert_int_equal(kt_web_query_parse(badname, strlen(badname), s2, two, &n, err, sizeof(err)), KT_EINVAL);
    assert_non_null(strstr(err, "byte 0"));
}

static void test_pct_decode(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(kt_web_pct_decode("a%20b+c", 7, out, 0), 7 - 2);
    assert_string_equal(out, "a b+c");
    assert_int_equal(kt_web_pct_decode("a%20b+c", 7, out, 1), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(kt_web_pct_decode("%41%62", 6, out, 0), 2);
    assert_string_equal(out, "Ab");
    assert_int_equal(kt_web_pct_decode("ab%4", 4, out, 0), -1 - 2);
    assert_int_equal(kt_web_pct_decode("%00", 3, out, 0), -1);
    assert_int_equal(kt_web_pct_decode("", 0, out, 0), 0);
    assert_string_equal(out, "");
    /* the decoded bytes must be UTF-8: a lone continuation byte, an overlong '/', a surrogate, a cut sequence */
    assert_int_equal(kt_web_pct_decode("%C3%A9t%C3%A9", 13, out, 0), 5);
    assert_string_equal(out, "\xc3\xa9t\xc3\xa9");
    assert_int_equal(kt_web_pct_decode("%F0%9F%98%80", 12, out, 0), 4);
    assert_true(kt_web_pct_decode("%FF", 3, out, 0) < 0);
    assert_true(kt_web_pct_decode("a%80", 4, out, 0) < 0);
    assert_true(kt_web_pct_decode("%C0%AF", 6, out, 0) < 0);
    assert_true(kt_web_pct_decode("%ED%A0%80", 9, out, 0) < 0);
    assert_true(kt_web_pct_decode("%E2%82", 6, out, 0) < 0);
}

/* method NULL collects the methods routed for a path (the 405's Allow list), sorted, each once. */
static void test_allowed_methods(void **state)
{
    (void)state;
    kt_web_router *rt = kestra_router();
    char err[200];
    assert_int_equal(kt_web_router_add(rt, "PUT", "/api/v1/flows/{namespace}/{id}", h, "put", err, sizeof err), KT_OK);
    assert_int_equal(kt_web_router_add(rt, "DELETE", "/api/v1/flows/{ns}/{x}", h, "del", err, sizeof err), KT_OK);
    res r;
    assert_null(match(rt, NULL, "/api/v1/flows/a/b", &r));
    assert_string_equal(r.m.allow, "DELETE, GET, PUT");
    /* a literal route and a parameter route both match: both methods */
    assert_null(match(rt, NULL, "/api/v1/executions/search", &r));
    assert_string_equal(r.m.allow, "GET");
    assert_null(match(rt, NULL, "/api/v1/executions/x/restart", &r));
    assert_string_equal(r.m.allow, "POST");
    assert_null(match(rt, NULL, "/nothing/here", &r));
    assert_string_equal(r.m.allow, "");
    /* a method's own match is unchanged */
    assert_string_equal(match(rt, "DELETE", "/api/v1/flows/a/b", &r), "del");
    kt_web_router_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence), cmocka_unit_test(test_paths),   cmocka_unit_test(test_bad_encoding),
        cmocka_unit_test(test_patterns),   cmocka_unit_test(test_query),   cmocka_unit_test(test_pct_decode), cmocka_unit_test(test_allowed_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
