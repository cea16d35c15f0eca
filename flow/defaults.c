/* Plugin defaults (defaults.h): matching, merging, and the walk over a flow that applies them. */
#include "flow/defaults.h"
#include "flow/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than any flow the YAML loader accepts (KT_YAML_MAX_DEPTH): the walk stops there rather than trusting
 * a JSON document's depth. */
#define KT_DEFAULTS_MAX_DEPTH 512

int kt_defaults_match(const char *dtype, const char *ptype)
{
    return dtype && ptype && !strncmp(ptype, dtype, strlen(dtype));
}

int kt_defaults_forced(const json_t *d)
{
    const json_t *f = json_object_get(d, "forced");
    return json_is_true(f) || (json_is_string(f) && !strcmp(json_string_value(f), "true"));
}

const json_t *kt_defaults_of_flow(const json_t *flow)
{
    const json_t *found = NULL;
    const char *k;
    json_t *v;
    /* jansson keeps the document's key order, so the last of the two keys is the one Jackson set last */
    json_object_foreach((json_t *)flow, k, v)
        if (!strcmp(k, "pluginDefaults") || !strcmp(k, "taskDefaults"))
            found = v;
    return json_is_array(found) ? found : NULL;
}

/* ---- checking (configuration) --------------------------------------------------------------------- */

int kt_defaults_check(const json_t *list, char *path, size_t pathcap, char *err, size_t errcap)
{
    path[0] = err[0] = 0;
    if (!json_is_array(list)) {
        snprintf(err, errcap, "expected a list of {type, values, forced}");
        return -1;
    }
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        snprintf(path, pathcap, "[%zu]", i);
        if (!json_is_object(d)) {
            snprintf(err, errcap, "expected a map with type, values and forced");
            return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach(d, k, v) {
            if (strcmp(k, "type") && strcmp(k, "values") && strcmp(k, "forced")) {
                snprintf(path, pathcap, "[%zu].%s", i, k);
                snprintf(err, errcap, "unknown property (a plugin default has type, values and forced)");
                return -1;
            }
        }
        const json_t *type = json_object_get(d, "type"), *values = json_object_get(d, "values"),
                     *forced = json_object_get(d, "forced");
        if (!type || json_is_null(type)) {
            snprintf(err, errcap, "No 'type' provided");
            return -1;
        }
        if (!json_is_string(type)) {
            snprintf(path, pathcap, "[%zu].type", i);
            snprintf(err, errcap, "expected a plugin type or a package prefix");
            return -1;
        }
        if (forced && !json_is_boolean(forced) &&
            !(json_is_string(forced) &&
              (!strcmp(json_string_value(forced), "true") || !strcmp(json_string_value(forced), "false")))) {
            snprintf(path, pathcap, "[%zu].forced", i);
            snprintf(err, errcap, "expected true or false");
            return -1;
        }
        if (!values || json_is_null(values)) {
            snprintf(err, errcap, "No 'values' provided");
            return -1;
        }
        if (!json_is_object(values)) {
            snprintf(path, pathcap, "[%zu].values", i);
            snprintf(err, errcap, "expected a map of property values");
            return -1;
        }
        json_object_foreach((json_t *)values, k, v) {
            if (json_is_null(v)) {
                snprintf(path, pathcap, "[%zu].values.%s", i, k);
                snprintf(err, errcap, "No value provided for key '%s'", k);
                return -1;
            }
        }
    }
    path[0] = 0;
    return 0;
}

/* ---- merging ---------------------------------------------------------------------------------------- */

/* Merges src into dst (an object this module owns outright: nothing else holds a reference to it or to anything
 * inside it). src_over: src is the upper map (a forced default), else dst is. Values taken from src are deep
 * copies, so no two plugins ever share a node. 0, or -1 when out of memory. */
static int merge_into(json_t *dst, const json_t *src, int src_over, int depth)
{
    const char *k;
    json_t *sv;
    if (depth > KT_DEFAULTS_MAX_DEPTH)
        return 0;
    json_object_foreach((json_t *)src, k, sv) {
        json_t *dv = json_object_get(dst, k);
        const json_t *over = src_over ? sv : dv, *under = src_over ? dv : sv;
        if (dv && json_is_object(dv) && json_is_object(sv)) {
            if (merge_into(dv, sv, src_over, depth + 1))
                return -1;
            continue;
        }
        if (dv && json_is_array(dv) && json_is_array(sv)) {
            /* MapUtils.merge concatenates: the lower list's items, then the upper one's */
            json_t *cat = json_deep_copy(under);
            json_t *top = json_deep_copy(over);
            int bad = !cat || !top || json_array_extend(cat, top);
            json_decref(top);
            if (bad || json_object_set_new(dst, k, cat))
                return -1;
            continue;
        }
        if (dv && !json_is_null(dv) && (!src_over || json_is_null(sv)))
            continue; /* the value on top stands (a null on top keeps the one below) */
        if (dv && json_is_null(sv))
            continue;
        json_t *copy = json_deep_copy(sv);
        if (!copy || json_object_set_new(dst, k, copy))
            return -1;
    }
    return 0;
}

json_t *kt_defaults_merge(const json_t *under, const json_t *over)
{
    if (!json_is_object(under) || !json_is_object(over))
        return NULL;
    json_t *out = json_deep_copy(over);
    if (out && merge_into(out, under, 0, 0)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- applying ---------------------------------------------------------------------------------------- */

typedef struct kt_default_rule {
    const char *type;
    const json_t *values;
} kt_default_rule;

typedef struct kt_default_rules {
    kt_default_rule *v;
    size_t n, cap;
} kt_default_rules;

static int rules_push(kt_default_rules *r, const char *type, const json_t *values)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        kt_default_rule *nv = realloc(r->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = (kt_default_rule){type, values};
    return 0;
}

/* Splits list into the forced and the other well-formed entries, keeping their order. */
static int rules_collect(kt_default_rules *plain, kt_default_rules *forced, const json_t *list)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        const char *type = json_string_value(json_object_get(d, "type"));
        const json_t *values = json_object_get(d, "values");
        if (!type || !json_is_object(values) || !json_object_size(values))
            continue;
        if (rules_push(kt_defaults_forced(d) ? forced : plain, type, values))
            return -1;
    }
    return 0;
}

/* Kestra appends, after every default, a copy under the canonical class name of each one whose type is a
 * legacy alias; the copies come last, so they rank below every default written with the canonical name. */
static int rules_add_aliases(kt_default_rules *r)
{
    size_t n = r->n;
    for (size_t i = 0; i < n; i++) {
        const char *canon = kt_task_canonical_type(r->v[i].type);
        if (strcmp(canon, r->v[i].type) && rules_push(r, canon, r->v[i].values))
            return -1;
    }
    return 0;
}

/* Bottom-up like Kestra's recursiveDefaults: a map's children first, then the map itself when it has a type.
 * Values a default brings are not walked again. */
static int walk(json_t *node, const kt_default_rules *r, int src_over, int depth)
{
    if (depth > KT_DEFAULTS_MAX_DEPTH)
        return 0;
    if (json_is_array(node)) {
        size_t i;
        json_t *x;
        json_array_foreach(node, i, x)
            if (walk(x, r, src_over, depth + 1))
                return -1;
        return 0;
    }
    if (!json_is_object(node))
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(node, k, v) {
        if (depth == 0 && (!strcmp(k, "pluginDefaults") || !strcmp(k, "taskDefaults")))
            continue; /* the defaults themselves are plugin-typed maps, never targets */
        if (walk(v, r, src_over, depth + 1))
            return -1;
    }
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type)
        return 0;
    /* Forced rules are walked in reverse (Kestra reverses the forced list) and each one goes on top, so the
     * earliest forced default is applied last and wins; plain ones each go under, so the earliest wins too. */
    for (size_t i = 0; i < r->n; i++) {
        const kt_default_rule *d = &r->v[src_over ? r->n - 1 - i : i];
        if (kt_defaults_match(d->type, type) && merge_into(node, d->values, src_over, 0))
            return -1;
    }
    return 0;
}

json_t *kt_defaults_apply(const json_t *flow, const json_t *global)
{
    kt_default_rules plain = {0}, forced = {0};
    json_t *out = NULL;
    if (rules_collect(&plain, &forced, kt_defaults_of_flow(flow)) || rules_collect(&plain, &forced, global) ||
        rules_add_aliases(&plain) || rules_add_aliases(&forced))
        goto done;
    out = json_deep_copy(flow);
    if (!out || (!plain.n && !forced.n))
        goto done;
    if (walk(out, &plain, 0, 0) || walk(out, &forced, 1, 0)) {
        json_decref(out);
        out = NULL;
    }
done:
    free(plain.v);
    free(forced.v);
    return out;
}
