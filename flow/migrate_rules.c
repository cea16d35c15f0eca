/* `kite flow migrate`, the trigger rules (flow/migrate.h): 1.x trigger `conditions` become a 2.x `when` expression
 * (Schedule, Webhook, every non-Flow trigger) or `dependsOn` entries + `window` (Flow trigger, also its
 * `preconditions`). The mapping is the 2.0 guide's (https://kestra.io/docs/migration-guide/v2.0.0/
 * trigger-conditions-redesign) in the exact spelling kestra-migrate writes (its rewrites of Kestra's blueprints are
 * the golden files of tests/dialects/migrate/). A trigger with any condition that has no mechanical equivalent is
 * left whole and reported: half a filter would fire where the 1.x flow did not. */
#include "flow/migrate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/tasks.h"

#define COND "io.kestra.plugin.core.condition."

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *cond_type(const json_t *c)
{
    const char *t = str_at(c, "type");
    if (!t)
        return "";
    t = kt_task_canonical_type(t);
    return strncmp(t, COND, strlen(COND)) ? t : t + strlen(COND);
}

/* "{{ x }}" -> "x" (malloc'ed), NULL when s is not one expression tag. */
static char *strip_tag(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    while (n && (*s == ' ' || *s == '\n'))
        s++, n--;
    if (n < 4 || strncmp(s, "{{", 2) || strncmp(s + n - 2, "}}", 2))
        return NULL;
    const char *in = s + 2;
    size_t k = n - 4;
    for (size_t i = 0; i + 1 < k; i++)
        if ((in[i] == '{' && in[i + 1] == '{') || (in[i] == '}' && in[i + 1] == '}'))
            return NULL;
    while (k && in[0] == ' ')
        in++, k--;
    while (k && in[k - 1] == ' ')
        k--;
    return k ? strndup(in, k) : NULL;
}

/* The date a calendar condition tests: its `date` property (default {{ trigger.date }}) as an expression. */
static char *cond_date(const json_t *c)
{
    const char *d = str_at(c, "date");
    return d ? strip_tag(d) : strdup("trigger.date");
}

static char *join(char **parts, size_t n, const char *op, int paren)
{
    kt_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            kt_buf_printf(&b, " %s ", op);
        kt_buf_printf(&b, paren ? "(%s)" : "%s", parts[i]);
    }
    return kt_buf_take(&b);
}

static void free_parts(char **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
}

static char *cond_expr(kt_mig *m, const json_t *c, const char *path, int flow);

/* The expressions of a list of conditions; NULL (reported) when one has none. */
static char **list_exprs(kt_mig *m, const json_t *list, const char *path, int flow, size_t *n)
{
    *n = json_array_size(list);
    char **parts = calloc(*n + 1, sizeof *parts), p[512];
    for (size_t i = 0; i < *n; i++) {
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (!(parts[i] = cond_expr(m, json_array_get(list, i), p, flow))) {
            free_parts(parts, i);
            return NULL;
        }
    }
    return parts;
}

/* "08:00:00+02:00" -> hour 8, offset "+02:00"; -1 when the time is not on the hour (no mechanical form). */
static int whole_hour(const char *t, char *off, size_t cap)
{
    int h, mi, s, used = 0;
    if (!t || sscanf(t, "%2d:%2d:%2d%n", &h, &mi, &s, &used) != 3 || mi || s)
        return -1;
    snprintf(off, cap, "%s", t + used);
    return h;
}

static char *calendar_expr(kt_mig *m, const json_t *c, const char *path, const char *type)
{
    char *d = cond_date(c), *r = NULL;
    if (!d) {
        kt_mig_report(m, path, 0, "%s condition: its `date` is not a single {{ }} expression; write the `when` by "
                                  "hand", type);
        return NULL;
    }
    kt_buf b = {0};
    if (!strcmp(type, "DayWeek") && str_at(c, "dayOfWeek")) {
        kt_buf_printf(&b, "dayOfWeek(%s) == '%s'", d, str_at(c, "dayOfWeek"));
    } else if (!strcmp(type, "DayWeekInMonth") && str_at(c, "dayOfWeek") && str_at(c, "dayInMonth")) {
        kt_buf_printf(&b, "isDayWeekInMonth(%s, '%s', '%s')", d, str_at(c, "dayOfWeek"), str_at(c, "dayInMonth"));
    } else if (!strcmp(type, "Weekend")) {
        kt_buf_printf(&b, "isWeekend(%s)", d);
    } else if (!strcmp(type, "PublicHoliday") && str_at(c, "country")) {
        kt_buf_printf(&b, "isPublicHoliday(%s, '%s'", d, str_at(c, "country"));
        if (str_at(c, "subDivision"))
            kt_buf_printf(&b, ", '%s'", str_at(c, "subDivision"));
        kt_buf_putc(&b, ')');
    } else if (!strcmp(type, "DateTimeBetween") && (str_at(c, "after") || str_at(c, "before"))) {
        if (str_at(c, "after"))
            kt_buf_printf(&b, "%s > '%s'", d, str_at(c, "after"));
        if (str_at(c, "before"))
            kt_buf_printf(&b, "%s%s < '%s'", str_at(c, "after") ? " and " : "", d, str_at(c, "before"));
    } else if (!strcmp(type, "TimeBetween") && (str_at(c, "after") || str_at(c, "before"))) {
        char oa[32] = "", ob[32] = "";
        int ha = str_at(c, "after") ? whole_hour(str_at(c, "after"), oa, sizeof oa) : -2;
        int hb = str_at(c, "before") ? whole_hour(str_at(c, "before"), ob, sizeof ob) : -2;
        if (ha == -1 || hb == -1 || (ha >= 0 && hb >= 0 && strcmp(oa, ob))) {
            kt_mig_report(m, path, 0, "TimeBetween on a time that is not a whole hour (or two offsets): write the "
                                      "`when` by hand with hourOfDay()/the date filter");
            free(d);
            free(kt_buf_take(&b));
            return NULL;
        }
        const char *off = ha >= 0 ? oa : ob;
        char dd[512];
        if (*off)
            snprintf(dd, sizeof dd, "%s | date(timeZone='%s')", d, off);
        else
            snprintf(dd, sizeof dd, "%s", d);
        if (ha >= 0)
            kt_buf_printf(&b, "hourOfDay(%s) >= %d", dd, ha);
        if (hb >= 0)
            kt_buf_printf(&b, "%shourOfDay(%s) < %d", ha >= 0 ? " and " : "", dd, hb);
    } else {
        kt_mig_report(m, path, 0, "%s condition without the properties its `when` needs: write it by hand", type);
        free(d);
        free(kt_buf_take(&b));
        return NULL;
    }
    free(d);
    r = kt_buf_take(&b);
    return r;
}

static char *cond_expr(kt_mig *m, const json_t *c, const char *path, int flow)
{
    const char *type = cond_type(c);
    char p[512];
    if (!strcmp(type, "DayWeek") || !strcmp(type, "DayWeekInMonth") || !strcmp(type, "Weekend") ||
        !strcmp(type, "PublicHoliday") || !strcmp(type, "DateTimeBetween") || !strcmp(type, "TimeBetween"))
        return calendar_expr(m, c, path, type);
    if (!strcmp(type, "Expression")) {
        char *e = strip_tag(str_at(c, "expression"));
        if (!e)
            kt_mig_report(m, path, 0, "Expression condition that is not a single {{ }} expression: write the "
                                      "`when` by hand");
        return e;
    }
    if (!strcmp(type, "Not") || !strcmp(type, "Or")) {
        size_t n;
        snprintf(p, sizeof p, "%s.conditions", path);
        char **parts = list_exprs(m, json_object_get(c, "conditions"), p, flow, &n);
        if (!parts)
            return NULL;
        if (!n) {
            kt_mig_report(m, path, 0, "%s condition without conditions", type);
            free(parts);
            return NULL;
        }
        char *inner = join(parts, n, "or", n > 1 || !strcmp(type, "Or"));
        free_parts(parts, n);
        if (!strcmp(type, "Or"))
            return inner;
        kt_buf b = {0};
        kt_buf_printf(&b, "not (%s)", inner);
        free(inner);
        return kt_buf_take(&b);
    }
    if (flow && !strcmp(type, "ExecutionNamespace") && str_at(c, "namespace")) {
        const char *cmp = str_at(c, "comparison");
        if (!cmp)
            cmp = json_is_true(json_object_get(c, "prefix")) ? "PREFIX" : "EQUALS";
        const char *op = !strcmp(cmp, "PREFIX") ? "startsWith" : !strcmp(cmp, "SUFFIX") ? "endsWith" : "==";
        kt_buf b = {0};
        kt_buf_printf(&b, "trigger.namespace %s '%s'", op, str_at(c, "namespace"));
        return kt_buf_take(&b);
    }
    if (flow && !strcmp(type, "ExecutionFlow") && str_at(c, "flowId") && str_at(c, "namespace")) {
        kt_buf b = {0};
        kt_buf_printf(&b, "trigger.namespace == '%s' and trigger.flowId == '%s'", str_at(c, "namespace"),
                      str_at(c, "flowId"));
        return kt_buf_take(&b);
    }
    if (flow && !strcmp(type, "HasRetryAttempt"))
        return strdup("hasRetryAttempt == true");
    kt_mig_report(m, path, 0, "condition %s has no mechanical `when` equivalent on this trigger: write it by hand",
                  str_at(c, "type") ? str_at(c, "type") : "(no type)");
    return NULL;
}

/* ---- non-Flow triggers: conditions -> when --------------------------------------------------------------------- */

/* A `when` value: "{{ expr_inner }}" (its Pebble renamed), or verbatim when given, double-quoted. */
static void put_when_value(kt_buf *b, const char *expr_inner, const char *verbatim)
{
    if (verbatim) {
        kt_mig_put_dq(b, verbatim);
        return;
    }
    kt_buf t = {0};
    kt_buf_printf(&t, "{{ %s }}", expr_inner);
    char *s = kt_buf_take(&t);
    char *r = kt_mig_rewrite_pebble(s, strlen(s), NULL);
    kt_mig_put_dq(b, r ? r : s);
    free(r);
    free(s);
}

static void when_rule(kt_mig *m, const json_t *t, size_t ti, const char *key)
{
    char path[128];
    snprintf(path, sizeof path, "triggers[%zu].%s", ti, key);
    if (json_object_get(t, "when")) {
        kt_mig_report(m, path, 1, "trigger has both `%s` and `when`: merge them into `when` by hand", key);
        return;
    }
    const json_t *list = json_object_get(t, key);
    size_t n;
    char **parts = list_exprs(m, list, path, 0, &n);
    if (!parts)
        return;
    size_t s, e;
    int col;
    if (n && !kt_mig_entry_span(m, path, &s, &e, &col)) {
        /* one Expression condition is its own `when`, verbatim */
        const json_t *c0 = json_array_get(list, 0);
        const char *verbatim = n == 1 && !strcmp(cond_type(c0), "Expression") ? str_at(c0, "expression") : NULL;
        char *expr = join(parts, n, "and", n > 1);
        kt_buf b = {0};
        kt_buf_puts(&b, "when: ");
        put_when_value(&b, expr, verbatim);
        char *text = kt_buf_take(&b);
        kt_mig_edit_add(m, s, e, text, 1);
        free(text);
        free(expr);
    }
    free_parts(parts, n);
}

/* ---- Flow triggers: conditions / preconditions -> dependsOn + window ------------------------------------------- */

typedef struct dep_entry {
    const char *flow_id, *ns;
    const json_t *labels, *states; /* borrowed */
} dep_entry;

typedef struct dep {
    dep_entry flows[64];
    size_t nflows;
    const char *ns;           /* an EQUALS namespace filter for every entry */
    const json_t *labels;     /* ExecutionLabels */
    const json_t *states;     /* ExecutionStatus in / the trigger's states */
    char **when;              /* filters with no property of their own */
    size_t nwhen;
    const char *wkey[2], *wval[2]; /* the window group: up to two properties (NULL when none) */
} dep;

static void put_list(kt_buf *b, const json_t *list, int ind)
{
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        kt_mig_indent(b, ind);
        kt_buf_puts(b, "- ");
        kt_mig_put_scalar(b, x);
        kt_buf_putc(b, '\n');
    }
}

static void put_map(kt_buf *b, const json_t *map, int ind)
{
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)map, k, x) {
        kt_mig_indent(b, ind);
        kt_buf_printf(b, "%s: ", k);
        kt_mig_put_scalar(b, x);
        kt_buf_putc(b, '\n');
    }
}

/* The next property of a `dependsOn` item: "- " before the first one, aligned under it after; block: its value
 * follows on the next lines. */
static void entry_key(kt_buf *b, int *first, int ind, const char *key, int block)
{
    kt_mig_indent(b, *first ? ind : ind + 2);
    if (*first)
        kt_buf_puts(b, "- ");
    *first = 0;
    kt_buf_printf(b, "%s:%s", key, block ? "\n" : " ");
}

static void put_string_line(kt_buf *b, const char *s)
{
    json_t *v = json_string(s);
    kt_mig_put_scalar(b, v);
    json_decref(v);
    kt_buf_putc(b, '\n');
}

/* One `dependsOn` item at indentation ind ("- " included), properties in kestra-migrate's order. */
static void put_entry(kt_buf *b, const dep *d, const dep_entry *f, int ind)
{
    int first = 1;
    if (f && f->flow_id) {
        entry_key(b, &first, ind, "flowId", 0);
        put_string_line(b, f->flow_id);
    }
    const char *ns = f && f->ns ? f->ns : d->ns;
    if (ns) {
        entry_key(b, &first, ind, "namespace", 0);
        put_string_line(b, ns);
    }
    const json_t *labels = f && f->labels ? f->labels : d->labels;
    if (json_object_size(labels)) {
        entry_key(b, &first, ind, "labels", 1);
        put_map(b, labels, ind + 4);
    }
    if (d->nwhen) {
        char *expr = join(d->when, d->nwhen, "and", d->nwhen > 1);
        entry_key(b, &first, ind, "when", 0);
        put_when_value(b, expr, NULL);
        kt_buf_putc(b, '\n');
        free(expr);
    }
    const json_t *states = f && f->states ? f->states : d->states;
    if (json_array_size(states)) {
        entry_key(b, &first, ind, "states", 1);
        put_list(b, states, ind + 4);
    }
    if (first) { /* nothing to filter on: any execution, as the 1.x trigger fired */
        kt_mig_indent(b, ind);
        kt_buf_puts(b, "- {}\n");
    }
}

static void dep_free(dep *d)
{
    free_parts(d->when, d->nwhen);
}

static void dep_add_when(dep *d, char *expr)
{
    d->when = realloc(d->when, (d->nwhen + 2) * sizeof *d->when);
    d->when[d->nwhen++] = expr;
}

static int dep_add_flow(kt_mig *m, dep *d, const json_t *c, const char *path)
{
    if (d->nflows == sizeof d->flows / sizeof *d->flows) {
        kt_mig_report(m, path, 0, "too many upstream flows for one trigger");
        return -1;
    }
    d->flows[d->nflows++] = (dep_entry){str_at(c, "flowId"), str_at(c, "namespace"), json_object_get(c, "labels"),
                                        json_object_get(c, "states")};
    return 0;
}

/* MultipleCondition: its ExecutionFlow map becomes entries, its window a sliding `lookback` (kestra-migrate's
 * rewrite of the flow-downstream blueprint); a windowAdvance other than zero has no 2.x form. */
static int multiple_condition(kt_mig *m, dep *d, const json_t *c, const char *path)
{
    char p[512];
    const char *adv = str_at(c, "windowAdvance");
    if (adv && strcmp(adv, "P0D") && strcmp(adv, "PT0S")) {
        snprintf(p, sizeof p, "%s.windowAdvance", path);
        kt_mig_report(m, p, 1, "windowAdvance has no 2.x equivalent (the window is now `deadline`, `from`/`to`, "
                               "`every`/`offset` or `lookback`): rewrite the window by hand");
        return -1;
    }
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)json_object_get(c, "conditions"), k, x) {
        snprintf(p, sizeof p, "%s.conditions.%s", path, k);
        if (strcmp(cond_type(x), "ExecutionFlow") || !str_at(x, "flowId")) {
            kt_mig_report(m, p, 0, "MultipleCondition entry that is not an ExecutionFlow: write its `dependsOn` "
                                   "entry by hand");
            return -1;
        }
        if (dep_add_flow(m, d, x, p))
            return -1;
    }
    const char *w = str_at(c, "window");
    d->wkey[0] = "lookback";
    d->wval[0] = w ? w : "P1D";
    return 0;
}

/* One condition of a Flow trigger's list, folded into d. */
static int flow_condition(kt_mig *m, dep *d, const json_t *c, const char *path)
{
    const char *type = cond_type(c);
    if (!strcmp(type, "ExecutionStatus")) {
        if (json_object_get(c, "notIn")) {
            kt_mig_report(m, path, 0, "ExecutionStatus `notIn` has no `dependsOn` form: list the states wanted");
            return -1;
        }
        d->states = json_object_get(c, "in");
        return 0;
    }
    if (!strcmp(type, "ExecutionFlow") && str_at(c, "flowId"))
        return dep_add_flow(m, d, c, path);
    if (!strcmp(type, "ExecutionLabels") && json_is_object(json_object_get(c, "labels"))) {
        d->labels = json_object_get(c, "labels");
        return 0;
    }
    if (!strcmp(type, "ExecutionNamespace") && str_at(c, "namespace") && !d->ns &&
        (!str_at(c, "comparison") || !strcmp(str_at(c, "comparison"), "EQUALS")) &&
        !json_is_true(json_object_get(c, "prefix"))) {
        d->ns = str_at(c, "namespace");
        return 0;
    }
    if (!strcmp(type, "MultipleCondition"))
        return multiple_condition(m, d, c, path);
    char *e = cond_expr(m, c, path, 1);
    if (!e)
        return -1;
    dep_add_when(d, e);
    return 0;
}

/* preconditions: {flows, where, timeWindow, resetOnSuccess} */
static int preconditions(kt_mig *m, dep *d, const json_t *pc, const char *path)
{
    char p[512];
    if (json_array_size(json_object_get(pc, "where"))) {
        snprintf(p, sizeof p, "%s.where", path);
        kt_mig_report(m, p, 1, "preconditions `where` filters have no mechanical `dependsOn` form: add a `when` to "
                               "the entries by hand");
        return -1;
    }
    if (json_is_false(json_object_get(pc, "resetOnSuccess"))) {
        snprintf(p, sizeof p, "%s.resetOnSuccess", path);
        kt_mig_report(m, p, 1, "resetOnSuccess: false has no 2.x equivalent (the state resets after firing)");
        return -1;
    }
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(pc, "flows"), i, f) {
        snprintf(p, sizeof p, "%s.flows[%zu]", path, i);
        if (dep_add_flow(m, d, f, p))
            return -1;
    }
    const json_t *tw = json_object_get(pc, "timeWindow");
    if (!tw)
        return 0;
    const char *type = str_at(tw, "type") ? str_at(tw, "type") : "DURATION_WINDOW";
    const char *w = str_at(tw, "window"), *adv = str_at(tw, "windowAdvance");
    if (!strcmp(type, "DURATION_WINDOW") && w) {
        d->wkey[0] = "every", d->wval[0] = w;
        if (adv)
            d->wkey[1] = "offset", d->wval[1] = adv;
    } else if (!strcmp(type, "SLIDING_WINDOW") && w) {
        d->wkey[0] = "lookback", d->wval[0] = w;
    } else if (!strcmp(type, "DAILY_TIME_DEADLINE") && str_at(tw, "deadline")) {
        d->wkey[0] = "deadline", d->wval[0] = str_at(tw, "deadline");
    } else if (!strcmp(type, "DAILY_TIME_WINDOW") && str_at(tw, "startTime") && str_at(tw, "endTime")) {
        d->wkey[0] = "from", d->wval[0] = str_at(tw, "startTime");
        d->wkey[1] = "to", d->wval[1] = str_at(tw, "endTime");
    } else {
        snprintf(p, sizeof p, "%s.timeWindow", path);
        kt_mig_report(m, p, 1, "timeWindow %s without the properties its 2.x `window` needs", type);
        return -1;
    }
    return 0;
}

static char *dep_text(const dep *d, int ind)
{
    kt_buf b = {0};
    kt_buf_puts(&b, "dependsOn:\n");
    if (!d->nflows)
        put_entry(&b, d, NULL, ind + 2);
    for (size_t i = 0; i < d->nflows; i++)
        put_entry(&b, d, &d->flows[i], ind + 2);
    if (d->wkey[0]) {
        kt_mig_indent(&b, ind);
        kt_buf_puts(&b, "window:\n");
        for (int i = 0; i < 2 && d->wkey[i]; i++) {
            kt_mig_indent(&b, ind + 2);
            kt_buf_printf(&b, "%s: ", d->wkey[i]);
            json_t *v = json_string(d->wval[i]);
            kt_mig_put_scalar(&b, v);
            json_decref(v);
            kt_buf_putc(&b, '\n');
        }
    }
    b.len--; /* the replaced span ends before its newline */
    return kt_buf_take(&b);
}

static void flow_rule(kt_mig *m, const json_t *t, size_t ti)
{
    char path[128], sp[128];
    const char *key = json_object_get(t, "conditions") ? "conditions" : "preconditions";
    snprintf(path, sizeof path, "triggers[%zu].%s", ti, key);
    if (json_object_get(t, "conditions") && json_object_get(t, "preconditions")) {
        kt_mig_report(m, path, 1, "Flow trigger with both `conditions` and `preconditions`: merge them into "
                                  "`dependsOn` by hand");
        return;
    }
    if (json_object_get(t, "dependsOn")) {
        kt_mig_report(m, path, 1, "Flow trigger with both `%s` and `dependsOn`: merge them by hand", key);
        return;
    }
    dep d = {0};
    int bad = 0;
    if (!strcmp(key, "conditions")) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(t, "conditions"), i, c) {
            char p[256];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            bad |= flow_condition(m, &d, c, p) != 0;
        }
    } else {
        bad = preconditions(m, &d, json_object_get(t, "preconditions"), path) != 0;
    }
    /* the trigger's own `states` move into the entries (an ExecutionStatus condition says the same thing) */
    const json_t *tstates = json_object_get(t, "states");
    snprintf(sp, sizeof sp, "triggers[%zu].states", ti);
    if (tstates && d.states && !json_equal(tstates, d.states)) {
        kt_mig_report(m, sp, 1, "the trigger's `states` and an ExecutionStatus condition differ: keep their "
                                "intersection in the `dependsOn` entries by hand");
        bad = 1;
    }
    if (tstates && !d.states)
        d.states = tstates;
    size_t s, e, ds, de;
    int col;
    if (!bad && !kt_mig_entry_span(m, path, &s, &e, &col)) {
        int del = tstates ? kt_mig_entry_lines(m, sp, &ds, &de) : 1;
        if (tstates && del) {
            kt_mig_report(m, sp, 1, "could not move the trigger's `states` into `dependsOn`: move them by hand");
        } else {
            char *text = dep_text(&d, col - 1);
            kt_mig_edit_add(m, s, e, text, 1);
            free(text);
            if (tstates)
                kt_mig_edit_add(m, ds, de, "", 1);
        }
    }
    dep_free(&d);
}

void kt_mig_rules_triggers(kt_mig *m)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(m->root, "triggers"), i, t) {
        const char *type = str_at(t, "type") ? kt_task_canonical_type(str_at(t, "type")) : "";
        int is_flow = !strcmp(type, "io.kestra.plugin.core.trigger.Flow");
        if (is_flow && (json_object_get(t, "conditions") || json_object_get(t, "preconditions")))
            flow_rule(m, t, i);
        else if (json_array_size(json_object_get(t, "conditions")))
            when_rule(m, t, i, "conditions");
        if (json_array_size(json_object_get(t, "scheduleConditions")))
            when_rule(m, t, i, "scheduleConditions");
        char p[128];
        if (json_object_get(t, "minLogLevel")) {
            snprintf(p, sizeof p, "triggers[%zu].minLogLevel", i);
            kt_mig_report(m, p, 1, "trigger `minLogLevel` is removed in 2.x: remove it");
        }
    }
}
