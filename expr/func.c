/* Functions (reference 4, 5 render, 7.1), tests (4.1, 7.2), builtin lookup and the registry of
 * functions the runtime plugs in (secret, kv, read, ...). */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/id.h"

#include "base/alloc.h"
#include "expr/expr_int.h"

/* ---- lookup ---- */

static const kx_builtin *find_in(const kx_builtin *t, const char *name)
{
    for (; t->name; t++)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

const kx_builtin *kx_find_filter(const char *name) { return find_in(kx_filters, name); }

extern const kx_builtin kx_functions_calendar[]; /* isWeekend, dayOfWeek... (func_calendar.c) */

const kx_builtin *kx_find_function(const char *name)
{
    const kx_builtin *b = find_in(kx_functions_core, name);
    if (!b)
        b = find_in(kx_functions_calendar, name);
    if (!b)
        b = find_in(kx_functions_files, name);
    if (!b)
        b = find_in(kx_functions_secret, name);
    if (!b)
        b = find_in(kx_functions_loop, name);
    return b ? b : find_in(kx_functions_kv, name);
}
const kx_builtin *kx_find_test(const char *name) { return find_in(kx_tests_core, name); }

/* ---- registry ---- */

typedef struct reg_fn {
    char *name;
    char **argnames; /* NULL = positional only */
    int nargs;
    kt_expr_fn fn;
    void *ud;
} reg_fn;

static reg_fn *g_reg;
static int g_nreg;
static pthread_rwlock_t g_reg_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Thread_local kx_env *tl_env;

static void reg_clear(reg_fn *r)
{
    free(r->name);
    for (int i = 0; i < r->nargs; i++) free(r->argnames[i]);
    free(r->argnames);
    memset(r, 0, sizeof *r);
}

void kt_expr_register_function_named(const char *name, const char *const *argnames, kt_expr_fn fn, void *ud)
{
    pthread_rwlock_wrlock(&g_reg_lock);
    int i;
    for (i = 0; i < g_nreg; i++)
        if (!strcmp(g_reg[i].name, name)) break;
    if (i < g_nreg) reg_clear(&g_reg[i]);
    if (!fn) {
        if (i < g_nreg) g_reg[i] = g_reg[--g_nreg];
        goto done;
    }
    if (i == g_nreg) {
        g_reg = kt_xrealloc(g_reg, (size_t)(g_nreg + 1) * sizeof *g_reg);
        g_nreg++;
    }
    reg_fn *r = &g_reg[i];
    memset(r, 0, sizeof *r);
    r->name = kt_xstrdup(name);
    r->fn = fn;
    r->ud = ud;
    if (argnames) {
        int n = 0;
        while (argnames[n]) n++;
        r->argnames = calloc((size_t)n + 1, sizeof *r->argnames);
        for (int k = 0; r->argnames && k < n; k++) r->argnames[k] = strdup(argnames[k]);
        r->nargs = r->argnames ? n : 0;
        if (!n && r->argnames) { /* declared with no names: still "named" mode */
            r->nargs = 0;
        }
    }
    if (!r->name) {
        reg_clear(r);
        g_nreg--;
    }
done:
    pthread_rwlock_unlock(&g_reg_lock);
}

void kt_expr_register_function(const char *name, kt_expr_fn fn, void *ud)
{
    kt_expr_register_function_named(name, NULL, fn, ud);
}

const json_t *kt_expr_current_context(void) { return tl_env ? kx_context_view(tl_env) : NULL; }

json_t *kx_call_registered(kx_env *env, const kx_node *n, int *found)
{
    *found = 0;
    pthread_rwlock_rdlock(&g_reg_lock);
    reg_fn r = {0};
    for (int i = 0; i < g_nreg; i++)
        if (!strcmp(g_reg[i].name, n->s)) {
            r = g_reg[i];
            break;
        }
    pthread_rwlock_unlock(&g_reg_lock);
    if (!r.fn) return NULL;
    *found = 1;
    json_t *slots[16];
    int na;
    if (r.argnames) {
        na = kx_eval_args(env, n, (const char *const *)r.argnames, 0, slots, 16);
    } else {
        for (int i = 0; i < n->nkids; i++)
            if (n->names[i]) return kx_fail(env, n, KX_E_PEBBLE, "The following named argument does not exist: %s", n->names[i]);
        na = kx_eval_args(env, n, NULL, 1, slots, 16);
    }
    if (na < 0) return NULL;
    json_t *args = json_array();
    for (int i = 0; args && i < na; i++) json_array_append(args, slots[i] ? slots[i] : json_null());
    kx_free_args(slots, 16);
    if (!args) return kx_fail(env, n, KX_E_JAVA, "out of memory");
    json_t *res = NULL;
    kt_expr_error e = {0};
    kx_env *saved = tl_env;
    tl_env = env;
    kt_status st = r.fn(r.ud, args, &res, &e);
    tl_env = saved;
    json_decref(args);
    if (st) {
        json_decref(res);
        return kx_fail(env, n, KX_E_PEBBLE, "%s", e.message[0] ? e.message : "function failed");
    }
    return res ? res : json_null();
}

/* ---- helpers ---- */

static json_t *bad_arg(kx_env *env, const kx_node *n, const char *msg)
{
    return kx_fail(env, n, KX_E_PEBBLE, "%s", msg);
}

/* ---- functions ---- */

static json_t *fn_range(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    json_t *s = na > 0 ? a[0] : NULL, *e = na > 1 ? a[1] : NULL, *inc = na > 2 ? a[2] : NULL;
    long long step = 1;
    if (inc && !json_is_null(inc)) {
        if (!json_is_number(inc)) {
            char *t = kx_tostring_dup(inc);
            kx_fail(env, n, KX_E_PEBBLE, "The increment of the range function must be a number %s", t ? t : "");
            free(t);
            return NULL;
        }
        step = (long long)json_number_value(inc);
    }
    if (step == 0) return bad_arg(env, n, "The increment of the range function must be different than 0");
    json_t *r = json_array();
    if (json_is_number(s) && json_is_number(e)) {
        long long x = (long long)json_number_value(s), y = (long long)json_number_value(e);
        for (long long i = x; step > 0 ? i <= y : i >= y; i += step) {
            if (json_array_size(r) >= 10000000) {
                json_decref(r);
                return bad_arg(env, n, "range too large");
            }
            json_array_append_new(r, json_integer(i));
            if ((step > 0 && i > LLONG_MAX - step) || (step < 0 && i < LLONG_MIN - step)) break;
        }
        return r;
    }
    if (json_is_string(s) && json_is_string(e) && json_string_length(s) == 1 && json_string_length(e) == 1) {
        int x = (unsigned char)json_string_value(s)[0], y = (unsigned char)json_string_value(e)[0];
        for (int i = x; step > 0 ? i <= y : i >= y; i += (int)step) {
            char c[2] = {(char)i, 0};
            json_array_append_new(r, json_string(c));
        }
        return r;
    }
    json_decref(r);
    return bad_arg(env, n, "Arguments of range function must be of type Number or String with a length of 1");
}

static json_t *fn_minmax(kx_env *env, const kx_node *n, json_t **a, int na, int max)
{
    json_t *best = NULL;
    for (int i = 0; i < na; i++) {
        json_t *c = a[i];
        if (!c) continue;
        if (!best || json_is_null(best)) {
            best = c;
            continue;
        }
        if (json_is_null(c)) continue;
        if (!json_is_number(c) || !json_is_number(best))
            return kx_fail(env, n, KX_E_JAVA, "invalid operands for mathematical comparison [%s]",
                           max ? "GREATER_THAN" : "LESS_THAN");
        double x = json_number_value(c), y = json_number_value(best);
        if (max ? x > y : x < y) best = c;
    }
    return best ? json_incref(best) : json_null();
}

static json_t *fn_max(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return fn_minmax(env, n, a, na, 1); }
static json_t *fn_min(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return fn_minmax(env, n, a, na, 0); }

static json_t *parse_json_arg(kx_env *env, const kx_node *n, json_t *v)
{
    if (!v) return bad_arg(env, n, "The 'fromJson' function expects an argument 'json'.");
    if (json_is_null(v)) return json_null();
    if (!json_is_string(v)) return bad_arg(env, n, "The 'fromJson' function expects an argument 'json' with type string.");
    json_error_t je;
    json_t *r = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
                           JSON_ALLOW_NUL, &je);
    if (!r)
        return kx_fail(env, n, KX_E_PEBBLE, "Invalid json: %s\n at [Source: (String)\"%.100s\"; line: %d, column: %d]",
                       je.text, json_string_value(v), je.line, je.column);
    return r;
}

static json_t *fn_fromjson(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    return parse_json_arg(env, n, a[0]);
}

json_t *kx_ion_parse(const char *text, size_t len, char *err, size_t errcap);

static json_t *fn_fromion(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'fromIon' function expects an argument 'ion'.");
    if (json_is_null(a[0])) return json_null();
    if (!json_is_string(a[0])) return bad_arg(env, n, "The 'fromIon' function expects an argument 'ion' with type string.");
    char err[256];
    json_t *r = kx_ion_parse(json_string_value(a[0]), json_string_length(a[0]), err, sizeof err);
    return r ? r : kx_fail(env, n, KX_E_PEBBLE, "Invalid ion: %s", err);
}

static json_t *fn_yaml(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'yaml' function expects an argument 'yaml'.");
    if (!json_is_string(a[0])) return bad_arg(env, n, "The 'yaml' function expects an argument 'yaml' with type string.");
    char err[256];
    json_t *r = kx_yaml_parse(json_string_value(a[0]), err, sizeof err);
    return r ? r : kx_fail(env, n, KX_E_PEBBLE, "Invalid yaml: %s", err);
}

kt_env *kx_ambient(kx_env *env, const kx_node *n, const char *fn_name)
{
    if (env->ambient) return env->ambient;
    /* Kestra always has a clock and randomness; Kite's engine has only what its caller hands it (expr/expr.h). */
    kx_fail(env, n, KX_E_PEBBLE, "The '%s' function needs a clock and a random source, and this render has none",
            fn_name);
    return NULL;
}

static json_t *fn_uuid(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    kt_env *ambient = kx_ambient(env, n, "uuid");
    if (!ambient) return NULL;
    unsigned char b[16];
    kt_env_uuid_bytes(ambient, b);
    char s[40];
    snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return json_string(s);
}

static json_t *fn_id(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    kt_env *ambient = kx_ambient(env, n, "id");
    if (!ambient) return NULL;
    char out[KT_ID_LEN + 1];
    kt_env_id(ambient, out); /* IdUtils.create(): a random (v4) UUID in base 62 */
    return json_string(out);
}

static json_t *fn_randomint(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'GenerateRandomNumber' function expects an argument lower");
    if (!a[1]) return bad_arg(env, n, "The 'GenerateRandomNumber' function expects an argument upper");
    if (!json_is_integer(a[0])) return bad_arg(env, n, "The 'GenerateRandomNumber' function expects an argument lowerwith type Integer.");
    if (!json_is_integer(a[1])) return bad_arg(env, n, "The 'GenerateRandomNumber' function expects an argument upperwith type Integer.");
    long long lo = json_integer_value(a[0]), hi = json_integer_value(a[1]);
    if (hi < lo) return bad_arg(env, n, "In 'GenerateRandomNumber' upper is less than lower");
    kt_env *ambient = kx_ambient(env, n, "randomInt");
    if (!ambient) return NULL;
    double u = kt_env_unit(ambient);
    return json_integer((json_int_t)floor(u * (double)(hi - lo)) + lo);
}

static json_t *fn_printcontext(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    json_t *v = json_deep_copy(kx_context_view(env));
    return v ? kx_hashmap_order(v, 16) : json_object();
}

static json_t *fn_current_each(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'currentEachOutput' function expects an argument 'outputs'.");
    if (!json_is_object(a[0])) return bad_arg(env, n, "The 'currentEachOutput' function expects an argument 'outputs' with type map.");
    json_t *outputs = a[0];
    json_t *parents = kx_lookup(env, "parents");
    if (json_is_array(parents)) {
        for (size_t i = json_array_size(parents); i-- > 0;) { /* outermost parent first */
            json_t *tr = json_object_get(json_array_get(parents, i), "taskrun");
            json_t *val = json_object_get(tr, "value");
            if (!json_is_object(tr)) continue;
            char *k = kx_tostring_dup(val);
            outputs = json_object_get(outputs, k ? k : "");
            free(k);
            if (!outputs) return json_null();
        }
    }
    json_t *tr = kx_lookup(env, "taskrun");
    if (!json_is_object(tr)) return kx_fail(env, n, KX_E_JAVA, "java.lang.NullPointerException");
    char *k = kx_tostring_dup(json_object_get(tr, "value"));
    json_t *r = json_object_get(outputs, k ? k : "");
    free(k);
    return r ? json_incref(r) : json_null();
}

static json_t *fn_render(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'render' function expects an argument 'toRender'.");
    int rec = 1;
    if (a[1] && !json_is_null(a[1])) {
        if (!json_is_boolean(a[1])) return bad_arg(env, n, "The 'render' function expects an optional argument 'recursive' with type boolean.");
        rec = json_is_true(a[1]);
    }
    return kx_render_value(env, n, a[0], rec);
}

static json_t *fn_render_once(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (!a[0]) return bad_arg(env, n, "The 'renderOnce' function expects an argument 'toRender'.");
    return kx_render_value(env, n, a[0], 0);
}

static json_t *fn_parent(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return json_string(""); }

extern json_t *kx_fn_now(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na);

const kx_builtin kx_functions_core[] = {
    {"range", fn_range, {"start", "end", "increment"}, 0},
    {"max", fn_max, {NULL}, 1},
    {"min", fn_min, {NULL}, 1},
    {"fromJson", fn_fromjson, {"json"}, 0},
    /* Kestra 2.0 removed json() (use fromJson()); a 2.x flow that still has it is half-migrated, and Kite reads the
     * rename as a deprecation (docs/dialects.md C9): it works in both dialects, flow validation reports it */
    {"json", fn_fromjson, {"json"}, 0},
    {"yaml", fn_yaml, {"yaml"}, 0},
    {"fromIon", fn_fromion, {"ion"}, 0},
    {"uuid", fn_uuid, {NULL}, 0},
    {"id", fn_id, {NULL}, 0},
    {"randomInt", fn_randomint, {"lower", "upper"}, 0},
    {"printContext", fn_printcontext, {NULL}, 0},
    {"fetchContext", fn_printcontext, {NULL}, 0},
    {"currentEachOutput", fn_current_each, {"outputs"}, 0},
    {"render", fn_render, {"toRender", "recursive"}, 0},
    {"renderOnce", fn_render_once, {"toRender"}, 0},
    {"now", kx_fn_now, {"format", "timeZone", "existingFormat", "locale"}, 0},
    {"parent", fn_parent, {NULL}, 0},
    {NULL, NULL, {NULL}, 0},
};

/* ---- tests ---- */

static json_t *t_null(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na) { return json_boolean(json_is_null(v)); }

static json_t *t_empty(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na)
{
    if (json_is_null(v)) return json_true();
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (size_t i = 0; i < json_string_length(v); i++)
            if ((unsigned char)s[i] > ' ') return json_false();
        return json_true();
    }
    if (json_is_array(v)) return json_boolean(json_array_size(v) == 0);
    if (json_is_object(v)) return json_boolean(json_object_size(v) == 0);
    return json_false();
}

static json_t *parity(kx_env *env, const kx_node *n, json_t *v, int even)
{
    if (json_is_null(v)) return kx_fail(env, n, even ? KX_E_PEBBLE : KX_E_JAVA, "Can not pass null value to \"%s\" test.",
                                        even ? "even" : "odd");
    if (!json_is_integer(v))
        return kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.Number", kx_java_class(v));
    long long x = json_integer_value(v);
    return json_boolean((x % 2 == 0) == even);
}

static json_t *t_even(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na) { return parity(env, n, v, 1); }
static json_t *t_odd(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na) { return parity(env, n, v, 0); }
static json_t *t_iterable(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na) { return json_boolean(json_is_array(v)); }
static json_t *t_map(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na) { return json_boolean(json_is_object(v)); }

static json_t *t_json(kx_env *env, const kx_node *n, json_t *v, json_t **a, int na)
{
    if (!json_is_string(v))
        return kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.String", kx_java_class(v));
    const char *s = json_string_value(v);
    size_t i = 0, len = json_string_length(v);
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (i == len) return json_true(); /* Jackson's readTree gives a "missing" node, no error */
    json_t *r = json_loadb(s, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    json_decref(r);
    return json_boolean(r != NULL);
}

const kx_builtin kx_tests_core[] = {
    {"null", t_null, {NULL}, 0},       {"empty", t_empty, {NULL}, 0}, {"even", t_even, {NULL}, 0},
    {"odd", t_odd, {NULL}, 0},         {"iterable", t_iterable, {NULL}, 0}, {"map", t_map, {NULL}, 0},
    {"json", t_json, {NULL}, 0},       {"defined", t_null, {NULL}, 0}, /* handled by the evaluator */
    {NULL, NULL, {NULL}, 0},
};
