/* Resolution of an execution's inputs, after Kestra's FlowInputOutput.readExecutionInputs (KESTRA-execution.md
 * §4.3): each input in dependsOn order, disabled when an input it depends on is, typed and validated by inputs.c,
 * then nested on '.' and sorted as Kestra's TreeMap. */
#include <stdlib.h>
#include <string.h>

#include "base/strfmt.h"
#include "expr/expr.h"
#include "flow/inputs.h"
#include "flow/inputs_int.h"

typedef struct rstate {
    const json_t *defs, *raw;
    const json_t *flow; /* kt_inputs_resolve_in: the flow whose dynamic defaults render (NULL: none render) */
    kt_env *env;
    int render; /* a 2.x flow with an environment: defaults holding an expression are rendered */
    size_t n;
    signed char *state; /* 0 todo, 1 in progress, 2 done */
    char *enabled;
    json_t *flat;       /* id -> typed value, enabled inputs only */
    kt_diags *diags;
    int errors;
} rstate;

static void resolve_one(rstate *r, size_t i);

/* A dynamic default (Kestra 1.0, 2.x flows: `defaults` is rendered when the execution is created), rendered typed (one value
 * keeps its type: `{{ 20 + 22 }}` is a number) with the flow and the inputs resolved before it; no execution exists
 * yet, so `execution` is undefined and a default naming it fails the creation with the reason. 0 with *out (a new
 * reference), or -1 with the error added. */
static int render_default(rstate *r, const char *id, const json_t *src, json_t **out)
{
    json_t *ctx = json_pack("{s:{s:O?, s:O?, s:O?, s:O?}, s:O, s:O?}", "flow", "id", json_object_get(r->flow, "id"),
                            "namespace", json_object_get(r->flow, "namespace"), "revision",
                            json_object_get(r->flow, "revision"), "tenantId", json_object_get(r->flow, "tenantId"),
                            "inputs", r->flat, "vars", json_object_get(r->flow, "variables"));
    kt_tmpl *t = NULL;
    kt_expr_error e = {0};
    const char *text = json_string_value(src);
    kt_status st = kt_tmpl_compile(text, strlen(text), &t, &e);
    if (st == KT_OK && kt_tmpl_render_typed(t, ctx, r->env, out, &e) != KT_OK) {
        /* several values in one text ("{{ a }}-{{ b }}") do not make one typed value: rendered as text */
        char *text_out = NULL;
        size_t len = 0;
        memset(&e, 0, sizeof e);
        st = kt_tmpl_render(t, ctx, r->env, &text_out, &len, &e);
        *out = st == KT_OK ? json_stringn(text_out, len) : NULL;
        free(text_out);
    }
    kt_tmpl_free(t);
    json_decref(ctx);
    if (st == KT_OK)
        return 0;
    char *detail = kt_strfmt("Unable to render the defaults: %s", e.message[0] ? e.message : "render error");
    char *m = kt_input_invalid(id, detail ? detail : "", src), *path = kt_strfmt("inputs.%s", id);
    kt_diags_add(r->diags, "", 0, 0, path, "%s", m ? m : "");
    free(path);
    free(m);
    free(detail);
    r->errors++;
    return -1;
}

static size_t find_input(const rstate *r, const char *id)
{
    for (size_t i = 0; id && i < r->n; i++) {
        const char *x = kt_input_id(json_array_get(r->defs, i));
        if (x && strcmp(x, id) == 0)
            return i;
    }
    return (size_t)-1;
}

static void resolve_one(rstate *r, size_t i)
{
    if (r->state[i])
        return; /* done, or a cycle (refused at save time): leave it to the outer call */
    r->state[i] = 1;
    const json_t *def = json_array_get(r->defs, i);
    const char *id = kt_input_id(def);
    int enabled = 1;
    size_t k;
    json_t *dep;
    json_array_foreach(json_object_get(json_object_get(def, "dependsOn"), "inputs"), k, dep) {
        size_t j = find_input(r, json_string_value(dep));
        if (j == (size_t)-1 || j == i)
            continue;
        resolve_one(r, j);
        enabled &= r->enabled[j];
    }
    r->state[i] = 2;
    r->enabled[i] = (char)enabled;
    if (!enabled || !id)
        return;
    const json_t *v = r->raw ? json_object_get(r->raw, id) : NULL;
    json_t *rendered = NULL;
    if (!v || json_is_null(v)) {
        v = json_object_get(def, "defaults");
        if (r->render && json_is_string(v) && kt_expr_is_template(json_string_value(v))) {
            if (render_default(r, id, v, &rendered))
                return;
            v = rendered;
        }
    }
    if (!v || json_is_null(v)) {
        if (kt_input_is_required(def)) {
            char *m = kt_input_invalid(id, "missing required input", NULL), *path = kt_strfmt("inputs.%s", id);
            kt_diags_add(r->diags, "", 0, 0, path, "%s", m ? m : "");
            free(path);
            free(m);
            r->errors++;
        } else {
            json_object_set_new(r->flat, id, json_null());
        }
        return;
    }
    char *err = NULL;
    json_t *typed = kt_input_check_value(def, v, &err);
    json_decref(rendered);
    if (!typed) {
        char *path = kt_strfmt("inputs.%s", id);
        kt_diags_add(r->diags, "", 0, 0, path, "%s", err ? err : "");
        free(path);
        free(err);
        r->errors++;
        return;
    }
    json_object_set_new(r->flat, id, typed);
}

/* Splits ids on '.' into nested objects (MapUtils.flattenToNestedMap); returns -1 on a key conflict. */
static int nest(json_t *out, const char *id, json_t *v, char **conflict)
{
    char *dup = strdup(id), *save = NULL;
    json_t *cur = out;
    int rc = dup ? 0 : -1;
    char *part = dup ? strtok_r(dup, ".", &save) : NULL;
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        json_t *x = json_object_get(cur, part);
        if (!next) {
            if (x) {
                *conflict = strdup(part);
                rc = -1;
            } else {
                json_object_set(cur, part, v);
            }
            break;
        }
        if (!x) {
            x = json_object();
            json_object_set_new(cur, part, x);
        } else if (!json_is_object(x)) {
            *conflict = strdup(part);
            rc = -1;
            break;
        }
        cur = x;
        part = next;
    }
    free(dup);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

kt_status kt_inputs_resolve(const json_t *input_defs, const json_t *raw, json_t **typed_out, kt_diags *diags)
{
    return kt_inputs_resolve_in(input_defs, raw, NULL, NULL, typed_out, diags);
}

kt_status kt_inputs_resolve_in(const json_t *input_defs, const json_t *raw, const json_t *flow, kt_env *env,
                               json_t **typed_out, kt_diags *diags)
{
    *typed_out = NULL;
    rstate r = {.defs = input_defs, .raw = raw, .flow = flow, .env = env, .n = json_array_size(input_defs),
                .diags = diags};
    /* Kestra 1.0 made defaults dynamic, a change of something 0.21 had: 1.x keeps them literal (0.21, a task may
     * render(inputs.x) itself), 2.x renders them (docs/dialects.md A11) */
    r.render = env && flow && kt_dialect_of_flow(flow) == KT_DIALECT_2X;
    r.state = calloc(r.n + 1, 1);
    r.enabled = calloc(r.n + 1, 1);
    r.flat = json_object();
    json_t *nested = json_object(), *out = json_object();
    const char **keys = NULL;
    kt_status st = KT_ENOMEM;
    if (!r.state || !r.enabled || !r.flat || !nested || !out)
        goto fail;
    for (size_t i = 0; i < r.n; i++)
        resolve_one(&r, i);
    if (r.errors) {
        st = KT_EINVAL;
        goto fail;
    }
    const char *k;
    json_t *v;
    json_object_foreach(r.flat, k, v) {
        char *conflict = NULL;
        if (nest(nested, k, v, &conflict)) {
            kt_diags_add(diags, "", 0, 0, "inputs", "Conflict at key: '%s', Map keys are: [%s]",
                         conflict ? conflict : k, k);
            free(conflict);
            st = KT_EINVAL;
            goto fail;
        }
    }
    /* The execution's inputs map is a TreeMap at the top level: sorted keys. */
    size_t nk = json_object_size(nested), i = 0;
    keys = calloc(nk + 1, sizeof(*keys));
    if (!keys)
        goto fail;
    json_object_foreach(nested, k, v)
        keys[i++] = k;
    qsort(keys, nk, sizeof(*keys), cmp_str);
    for (i = 0; i < nk; i++)
        json_object_set(out, keys[i], json_object_get(nested, keys[i]));
    *typed_out = out;
    out = NULL;
    st = KT_OK;
fail:
    free(keys);
    json_decref(out);
    json_decref(nested);
    json_decref(r.flat);
    free(r.state);
    free(r.enabled);
    return st;
}
