/* Flow checks (flow/checks.h): the property table, the save-time rule on `when`/`condition`, and the evaluation
 * before an execution is created, after Kestra's FlowService.getFailedChecks and Check.resolveBehavior. */
#include "flow/checks.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/strfmt.h"
#include "expr/expr.h"
#include "flow/validate.h"

static const char *const check_styles[] = {"ERROR", "SUCCESS", "WARNING", "INFO", NULL};
static const char *const check_behaviors[] = {"BLOCK_EXECUTION", "FAIL_EXECUTION", "CREATE_EXECUTION", NULL};

const kt_prop kt_check_props[] = {
    {"condition", KT_P_STR, KT_PF_NONEMPTY, NULL, NULL}, /* 1.x's name, 2.0's deprecated alias */
    {"when", KT_P_STR, KT_PF_NONEMPTY, NULL, NULL},      /* 2.0's name */
    {"message", KT_P_STR, KT_PF_NONEMPTY, NULL, NULL},
    {"style", KT_P_ENUM, 0, check_styles, NULL},
    {"behavior", KT_P_ENUM, 0, check_behaviors, NULL},
    {NULL, 0, 0, NULL, NULL},
};

int kt_checks_validate(const json_t *checks, const kt_yaml_doc *doc, const char *file, kt_diags *diags)
{
    kt_validate_ctx c = {.doc = doc, .file = file, .diags = diags};
    size_t i;
    json_t *ck;
    json_array_foreach(json_is_array(checks) ? checks : NULL, i, ck) {
        if (!json_is_object(ck))
            continue; /* the property table said so */
        const json_t *cond = json_object_get(ck, "condition"), *when = json_object_get(ck, "when");
        char *p = kt_strfmt("checks[%zu]", i);
        if (cond && when) {
            char *cp = kt_strfmt("%s.condition", p), *wp = kt_strfmt("%s.when", p);
            kt_validate_err(&c, wp, 1, wp, "a check has either `when` or `condition` (its 1.x name), not both: "
                                           "`condition` is also at %s", cp);
            free(cp);
            free(wp);
        } else if (!cond && !when) {
            char *wp = kt_strfmt("%s.when", p);
            kt_validate_err(&c, p, 0, wp, "must not be null (the check's condition: `when`, or `condition` in 1.x)");
            free(wp);
        }
        if (!json_object_get(ck, "message")) {
            char *mp = kt_strfmt("%s.message", p);
            kt_validate_err(&c, p, 0, mp, "must not be empty");
            free(mp);
        }
        free(p);
    }
    return c.errors;
}

static kt_check_behavior behavior_of(const json_t *check)
{
    const char *b = json_string_value(json_object_get(check, "behavior"));
    if (!b || !strcmp(b, "BLOCK_EXECUTION"))
        return KT_CHECK_BLOCK; /* Check.behavior's default */
    return !strcmp(b, "FAIL_EXECUTION") ? KT_CHECK_FAIL : KT_CHECK_CREATE;
}

/* 1 when the condition renders to true, 0 when not, -1 with the error in e. */
static int holds(const char *src, const json_t *ctx, kt_env *env, kt_expr_error *e)
{
    kt_tmpl *t = NULL;
    json_t *v = NULL;
    if (kt_tmpl_compile(src, strlen(src), &t, e) != KT_OK)
        return -1;
    kt_status st = kt_tmpl_render_typed(t, ctx, env, &v, e);
    kt_tmpl_free(t);
    if (st != KT_OK)
        return -1;
    int ok = json_is_true(v); /* Boolean.TRUE.equals(renderTyped(...)): the text "true" is not */
    json_decref(v);
    return ok;
}

kt_check_behavior kt_checks_evaluate(const json_t *flow, const json_t *inputs, kt_env *env, json_t **failed)
{
    if (failed)
        *failed = json_array();
    const json_t *checks = json_object_get(flow, "checks");
    if (!json_array_size(checks))
        return KT_CHECK_CREATE;
    json_t *ctx = json_pack("{s:{s:O?, s:O?, s:O?, s:O?}, s:O, s:O?}", "flow", "id", json_object_get(flow, "id"),
                            "namespace", json_object_get(flow, "namespace"), "revision",
                            json_object_get(flow, "revision"), "tenantId", json_object_get(flow, "tenantId"),
                            "inputs", inputs ? (json_t *)inputs : json_object(), "vars",
                            json_object_get(flow, "variables"));
    kt_check_behavior worst = KT_CHECK_CREATE;
    size_t i;
    json_t *ck;
    json_array_foreach(checks, i, ck) {
        const char *src = json_string_value(json_object_get(ck, "when"));
        if (!src)
            src = json_string_value(json_object_get(ck, "condition"));
        kt_expr_error e = {0};
        int r = src && ctx ? holds(src, ctx, env, &e) : -1;
        if (r == 1)
            continue;
        kt_check_behavior b = r < 0 ? KT_CHECK_BLOCK : behavior_of(ck);
        if (b < worst)
            worst = b;
        if (!failed)
            continue;
        if (r < 0) { /* Kestra's stand-in check for one that could not be evaluated */
            char *m = kt_strfmt("Failed to evaluate check condition. Cause: %s",
                                e.message[0] ? e.message : "the check has no condition");
            json_array_append_new(*failed, json_pack("{s:s, s:s, s:s}", "message", m ? m : "", "style", "ERROR",
                                                     "behavior", "BLOCK_EXECUTION"));
            free(m);
        } else {
            const char *m = json_string_value(json_object_get(ck, "message"));
            const char *style = json_string_value(json_object_get(ck, "style"));
            json_array_append_new(*failed, json_pack("{s:s, s:s, s:s}", "message", m ? m : "", "style",
                                                     style ? style : "INFO", "behavior",
                                                     check_behaviors[behavior_of(ck)]));
        }
    }
    json_decref(ctx);
    return worst;
}

char *kt_checks_blocked_message(const json_t *failed)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "Flow execution blocked: one or more condition checks evaluated to false.\nFailed checks: ");
    size_t i;
    json_t *m;
    json_array_foreach(failed, i, m) {
        if (i)
            kt_buf_puts(&b, ", ");
        const char *text = json_string_value(json_object_get(m, "message"));
        kt_buf_puts(&b, text ? text : "");
    }
    return kt_buf_take(&b);
}
