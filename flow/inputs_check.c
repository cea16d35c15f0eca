/* Save-time checks of input definitions (flow `inputs`, Pause `onResume`), as Kestra validates them when a flow
 * is saved: id pattern and uniqueness, known type, the properties each type accepts, itemType, validator regex,
 * min/max/after/before and defaults readable as the type, dependsOn references and cycles. Defines
 * kt_inputs_check_defs, declared in flow/inputs.h; typing a value is flow/inputs.c's kt_input_parse_value.
 * Errors go through flow/validate.h's kt_validate_err, like the rest of save-time validation. */
#include "flow/inputs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/strfmt.h"
#include "expr/expr.h"
#include "flow/tasks.h"
#include "flow/validate.h"

/* The input type named s as kt_enum_input_types spells it; NULL when not an input type. */
static const char *known_type(const char *s)
{
    for (int i = 0; s && kt_enum_input_types[i]; i++)
        if (strcmp(s, kt_enum_input_types[i]) == 0)
            return kt_enum_input_types[i];
    return NULL;
}

static int is(const char *type, const char *name)
{
    return type && strcmp(type, name) == 0;
}

/* Properties each input type accepts beyond the common ones (Kestra's Input subclasses). */
static const char *const *type_props(const char *t)
{
    static const char *const validator[] = {"validator", NULL};
    static const char *const values[] = {"values", NULL};
    /* autoSelectFirst, allowedFileExtensions: Kestra 1.x additions, accepted in both dialects */
    static const char *const select[] = {"values", "expression", "allowCustomValue", "isRadio", "autoSelectFirst",
                                         NULL};
    static const char *const multi[] = {"values",           "options",         "expression", "itemType",
                                        "allowCustomValue", "autoSelectFirst", NULL};
    static const char *const minmax[] = {"min", "max", NULL};
    static const char *const dates[] = {"after", "before", NULL};
    static const char *const file[] = {"extension", "allowedFileExtensions", NULL};
    static const char *const array[] = {"itemType", NULL};
    static const char *const none[] = {NULL};
    static const struct {
        const char *type;
        const char *const *props;
    } table[] = {
        {"STRING", validator}, {"SECRET", validator}, {"ENUM", values},     {"SELECT", select},  {"MULTISELECT", multi},
        {"INT", minmax},       {"FLOAT", minmax},     {"DURATION", minmax}, {"DATETIME", dates}, {"DATE", dates},
        {"TIME", dates},       {"FILE", file},        {"ARRAY", array},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (is(t, table[i].type))
            return table[i].props;
    return none;
}

/* Does the pattern compile (as Java's Pattern.compile would be asked to)? */
static int regex_compiles(const char *pattern)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
    pcre2_code_free(re);
    return re != NULL;
}

static int has_name(const char *const *list, const char *k)
{
    for (; *list; list++)
        if (strcmp(*list, k) == 0)
            return 1;
    return 0;
}

/* A defaults / prefill value readable as the input's type. Computed SELECT values are only known when an execution
 * is created, and so is an expression in a 2.x flow (dynamic defaults, Kestra 1.0): neither is checked here; a 1.x
 * flow's literal expression is, by kt_inputs_check_dialect. */
static void check_static_value(kt_validate_ctx *c, const json_t *def, const json_t *v, const char *p,
                               const char *fallback)
{
    if (json_object_get(def, "expression") || (json_is_string(v) && kt_expr_is_template(json_string_value(v))))
        return;
    char *err = NULL;
    json_t *x = kt_input_check_value(def, v, &err);
    if (!x)
        kt_validate_err(c, p, 0, p, "%s", err ? err : fallback);
    json_decref(x);
    free(err);
}

static void check_def(kt_validate_ctx *c, const json_t *def, const char *ip)
{
    static const char *const common[] = {"id",       "name",      "type",    "description", "displayName",
                                         "required", "defaults",  "prefill", "dependsOn",   NULL};
    const char *id = kt_input_id(def);
    char *p = kt_strfmt("%s.id", ip);
    if (!id)
        kt_validate_err(c, ip, 0, p, "must not be null");
    else if (!*id || !(isalnum((unsigned char)id[0])) || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(id))
        kt_validate_err(c, json_object_get(def, "id") ? p : ip, 0, p, "must match \"^[a-zA-Z0-9][.a-zA-Z0-9_-]*\"");
    free(p);
    const json_t *tj = json_object_get(def, "type");
    const char *t = known_type(json_string_value(tj));
    p = kt_strfmt("%s.type", ip);
    if (!t) {
        char *ts = tj ? kt_input_java_string(tj) : NULL;
        kt_validate_err(c, tj ? p : ip, 0, p, "Invalid type: %s", ts ? ts : "null");
        free(ts);
        free(p);
        return;
    }
    free(p);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)def, k, v) {
        if (has_name(common, k) || has_name(type_props(t), k))
            continue;
        p = kt_strfmt("%s.%s", ip, k);
        kt_validate_err(c, p, 1, p, "Unrecognized field \"%s\" (class %s input), not marked as ignorable", k, t);
        free(p);
    }
    const json_t *req = json_object_get(def, "required");
    if (req && !json_is_boolean(req) && !json_is_null(req)) {
        p = kt_strfmt("%s.required", ip);
        kt_validate_err(c, p, 0, p, "must be a boolean (true or false)");
        free(p);
    }
    const json_t *asf = json_object_get(def, "autoSelectFirst");
    if (asf && !json_is_boolean(asf) && !json_is_null(asf)) {
        p = kt_strfmt("%s.autoSelectFirst", ip);
        kt_validate_err(c, p, 0, p, "must be a boolean (true or false)");
        free(p);
    }
    const json_t *exts = json_object_get(def, "allowedFileExtensions");
    size_t xi;
    json_t *x;
    int exts_ok = !exts || json_is_null(exts) || json_is_array(exts);
    json_array_foreach(json_is_array(exts) ? exts : NULL, xi, x) exts_ok &= json_is_string(x);
    if (!exts_ok) {
        p = kt_strfmt("%s.allowedFileExtensions", ip);
        kt_validate_err(c, p, 0, p, "must be a list of file extensions (.csv, .txt...)");
        free(p);
    }
    const char *dn = json_string_value(json_object_get(def, "displayName"));
    if (dn && strlen(dn) > 64) {
        p = kt_strfmt("%s.displayName", ip);
        kt_validate_err(c, p, 0, p, "size must be between 0 and 64");
        free(p);
    }
    const json_t *it = json_object_get(def, "itemType");
    if ((is(t, "ARRAY") || is(t, "MULTISELECT")) && (it || is(t, "ARRAY"))) {
        p = kt_strfmt("%s.itemType", ip);
        const char *itt = known_type(json_string_value(it));
        if (!it)
            kt_validate_err(c, ip, 0, p, "must not be null");
        else if (!itt)
            kt_validate_err(c, p, 0, p, "Invalid type: %s", json_is_string(it) ? json_string_value(it) : "?");
        else if (is(itt, "ARRAY"))
            kt_validate_err(c, p, 0, p, "`itemType` cannot be `ARRAY`");
        free(p);
    }
    if (is(t, "ENUM") && !json_is_array(json_object_get(def, "values"))) {
        p = kt_strfmt("%s.values", ip);
        kt_validate_err(c, ip, 0, p, json_object_get(def, "values") ? "must be a list" : "must not be null");
        free(p);
    }
    const char *re = json_string_value(json_object_get(def, "validator"));
    if (re && !regex_compiles(re)) {
        p = kt_strfmt("%s.validator", ip);
        kt_validate_err(c, p, 0, p, "invalid pattern [%s]", re);
        free(p);
    }
    static const char *const bounds[] = {"min", "max", "after", "before", NULL};
    for (int b = 0; bounds[b]; b++) {
        const json_t *bv = json_object_get(def, bounds[b]);
        if (!bv || json_is_null(bv) || !has_name(type_props(t), bounds[b]))
            continue;
        char *err = NULL;
        json_t *d = json_pack("{ss}", "type", t);
        json_t *x = d ? kt_input_parse_value(d, bv, &err) : NULL;
        if (!x) {
            p = kt_strfmt("%s.%s", ip, bounds[b]);
            kt_validate_err(c, p, 0, p, "invalid %s: %s", bounds[b], err ? err : "");
            free(p);
        }
        json_decref(x);
        json_decref(d);
        free(err);
    }
    const json_t *dv = json_object_get(def, "defaults");
    if (dv && !json_is_null(dv)) {
        p = kt_strfmt("%s.defaults", ip);
        if (is(t, "FILE"))
            kt_validate_err(c, p, 0, p, "no `defaults` can be set for inputs of type 'FILE'");
        else
            check_static_value(c, def, dv, p, "invalid defaults");
        free(p);
    }
    /* prefill (Kestra 1.1, both dialects): an initial value a form shows, never beside defaults (InputValidator) */
    const json_t *pv = json_object_get(def, "prefill");
    if (pv && !json_is_null(pv)) {
        if (dv && !json_is_null(dv))
            kt_validate_err(c, ip, 0, ip, "Inputs with a default value cannot also have a prefill.");
        p = kt_strfmt("%s.prefill", ip);
        check_static_value(c, def, pv, p, "invalid prefill");
        free(p);
    }
}

/* Depth-first walk along dependsOn; on reaching `target` again the path is a cycle. */
static int dep_cycle(const json_t *defs, const json_t *byid, const char *cur, const char *target, json_t *trail,
                     int depth)
{
    if (depth > 64)
        return 0;
    const json_t *def = json_array_get(defs, (size_t)json_integer_value(json_object_get(byid, cur)));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(json_object_get(def, "dependsOn"), "inputs"), i, d) {
        const char *ds = json_string_value(d);
        if (!ds || !json_object_get(byid, ds))
            continue;
        json_array_append_new(trail, json_string(ds));
        if (strcmp(ds, target) == 0 || dep_cycle(defs, byid, ds, target, trail, depth + 1))
            return 1;
        json_array_remove(trail, json_array_size(trail) - 1);
    }
    return 0;
}

int kt_inputs_check_defs(const json_t *defs, const kt_yaml_doc *doc, const char *file, const char *path,
                         kt_diags *diags)
{
    kt_validate_ctx c = {.doc = doc, .file = file, .diags = diags};
    if (!defs || json_is_null(defs))
        return 0;
    if (!json_is_array(defs)) {
        kt_validate_err(&c, path, 0, path, "must be a list of inputs");
        return c.errors;
    }
    json_t *byid = json_object();
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def) {
        char *ip = kt_strfmt("%s[%zu]", path, i);
        if (!json_is_object(def)) {
            kt_validate_err(&c, ip, 0, ip, "an input must be a mapping with an id and a type");
        } else {
            check_def(&c, def, ip);
            const char *id = kt_input_id(def);
            if (id && json_object_get(byid, id)) {
                char *p = kt_strfmt("%s.id", ip);
                kt_validate_err(&c, p, 0, p, "Duplicate input with name [%s]", id);
                free(p);
            } else if (id) {
                json_object_set_new(byid, id, json_integer((json_int_t)i));
            }
        }
        free(ip);
    }
    json_array_foreach(defs, i, def) {
        const char *id = kt_input_id(def);
        size_t k;
        json_t *d;
        char *dp = kt_strfmt("%s[%zu].dependsOn", path, i);
        json_array_foreach(json_object_get(json_object_get(def, "dependsOn"), "inputs"), k, d) {
            if (id && (!json_is_string(d) || !json_object_get(byid, json_string_value(d))))
                kt_validate_err(&c, dp, 0, dp, "Input with id '%s' depends on a non-existent input '%s'.", id,
                     json_is_string(d) ? json_string_value(d) : "?");
        }
        json_t *trail = json_array();
        if (id && trail && json_object_get(byid, id) && dep_cycle(defs, byid, id, id, trail, 0)) {
            char *ts = kt_input_java_string(trail);
            kt_validate_err(&c, dp, 0, dp, "Cycle dependency detected for input with id '%s': %s", id, ts ? ts : "");
            free(ts);
        }
        json_decref(trail);
        free(dp);
    }
    json_decref(byid);
    return c.errors;
}

int kt_inputs_check_dialect(const json_t *defs, kt_dialect dialect, const kt_yaml_doc *doc, const char *file,
                            const char *path, kt_diags *diags)
{
    kt_validate_ctx c = {.doc = doc, .file = file, .diags = diags};
    size_t i;
    json_t *def;
    json_array_foreach(json_is_array(defs) ? defs : NULL, i, def) {
        const json_t *dv = json_object_get(def, "defaults");
        if (!json_is_object(def) || !dv || json_is_null(dv))
            continue;
        if (dialect == KT_DIALECT_1X) { /* literal defaults: an expression is the value, typed as written */
            const char *t = known_type(json_string_value(json_object_get(def, "type")));
            if (t && !is(t, "FILE") && !json_object_get(def, "expression") && json_is_string(dv) &&
                kt_expr_is_template(json_string_value(dv))) {
                char *err = NULL, *p = kt_strfmt("%s[%zu].defaults", path, i);
                json_t *x = kt_input_check_value(def, dv, &err);
                if (!x)
                    kt_validate_err(&c, p, 0, p, "%s", err ? err : "invalid defaults");
                json_decref(x);
                free(err);
                free(p);
            }
            continue; /* and Kestra 0.21 took required: false with defaults (the default applies when none is given) */
        }
        if (!json_is_false(json_object_get(def, "required")))
            continue;
        char *ip = kt_strfmt("%s[%zu]", path, i);
        kt_validate_err(&c, ip, 0, ip, "Inputs with a default value must be required, since the default is always "
                                       "applied.");
        free(ip);
    }
    return c.errors;
}
