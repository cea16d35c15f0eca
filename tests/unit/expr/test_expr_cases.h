/* Shared driver for the table-driven expression tests: renders each case and reports every mismatch
 * (not just the first) so one run shows all regressions. */
#ifndef KT_TEST_EXPR_CASES_H
#define KT_TEST_EXPR_CASES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "expr/expr.h"

typedef struct expr_case {
    const char *tmpl;
    const char *vars; /* JSON object, NULL = the file's default variables */
    const char *out;  /* expected output, or NULL when an error is expected */
    const char *err;  /* substring of the expected error message */
} expr_case;

static inline int run_expr_cases(const expr_case *cases, const char *default_vars)
{
    int failures = 0, count = 0;
    json_t *dflt = json_loads(default_vars, 0, NULL);
    if (!dflt) {
        fprintf(stderr, "bad default vars\n");
        return 1;
    }
    for (const expr_case *c = cases; c->tmpl; c++, count++) {
        json_t *vars = c->vars ? json_loads(c->vars, 0, NULL) : json_incref(dflt);
        kt_tmpl *t = NULL;
        kt_expr_error err = {0};
        char *out = NULL;
        size_t len = 0;
        /* a fixed clock (with microseconds) and seed: now(), uuid(), randomInt() cases are reproducible */
        kt_env env;
        kt_env_init(&env, INT64_C(1700000000123456), 42);
        kt_status st = kt_tmpl_compile(c->tmpl, strlen(c->tmpl), &t, &err);
        if (!st) st = kt_tmpl_render(t, vars, &env, &out, &len, &err);
        if (c->out) {
            if (st || strcmp(out, c->out) != 0) {
                fprintf(stderr, "FAIL %s\n  expected: %s\n  got:      %s\n", c->tmpl, c->out, st ? err.message : out);
                failures++;
            } else if (len != strlen(out)) {
                fprintf(stderr, "FAIL %s: length %zu\n", c->tmpl, len);
                failures++;
            }
        } else if (!st || !strstr(err.message, c->err)) {
            fprintf(stderr, "FAIL %s\n  expected error: %s\n  got:            %s\n", c->tmpl, c->err,
                    st ? err.message : out);
            failures++;
        }
        free(out);
        kt_tmpl_free(t);
        json_decref(vars);
    }
    json_decref(dflt);
    fprintf(stderr, "%d cases, %d failures\n", count, failures);
    return failures;
}

#endif
