/* TEMP stub of flow/condition.h until the `cond` branch lands on main: only the Expression condition (and its
 * aliases), enough for flow/schedule.c's tests. Drop this commit once flow/condition.c is merged. */
#include "flow/condition.h"
#include "expr/expr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static kt_cond_result stub_test(const json_t *cond, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    const char *type = json_string_value(json_object_get(cond, "type"));
    size_t n = type ? strlen(type) : 0;
    if (!type || !((n >= 10 && !strcmp(type + n - 10, "Expression")) ||
                   (n >= 19 && !strcmp(type + n - 19, "ExpressionCondition")))) {
        kt_errf(err, errcap, "stub: condition type %s not supported", type ? type : "?");
        return KT_COND_ERROR;
    }
    json_t *c = json_pack("{s:O?, s:O?, s:O?}", "flow", ctx->flow, "trigger", ctx->trigger, "schedule",
                          ctx->trigger);
    kt_env e = *ctx->env;
    char *out = NULL;
    kt_expr_error xe = {0};
    kt_status st = kt_expr_render_string(json_string_value(json_object_get(cond, "expression")), c, &e, &out, &xe);
    json_decref(c);
    if (st) {
        kt_errf(err, errcap, "%s", xe.message);
        return KT_COND_ERROR;
    }
    char *p = out;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1]))
        len--;
    kt_cond_result r = (len == 0 || (len == 5 && !strncmp(p, "false", 5))) ? KT_COND_FALSE : KT_COND_TRUE;
    free(out);
    return r;
}

kt_cond_result kt_cond_all(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        kt_cond_result r = stub_test(c, ctx, err, errcap);
        if (r != KT_COND_TRUE)
            return r;
    }
    return KT_COND_TRUE;
}

kt_cond_result kt_cond_all_schedule(const json_t *conds, const kt_cond_ctx *ctx, char *err, size_t errcap)
{
    return kt_cond_all(conds, ctx, err, errcap);
}
