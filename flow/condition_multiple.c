/* Multiple conditions of a Flow trigger (§5.6, §5.8): the legacy MultipleCondition entries and `preconditions`
 * normalized into one shape (Kestra's MultipleCondition interface: id, timeWindow, resetOnSuccess, conditions),
 * the preconditions' sub-conditions (Flow.UpstreamFlowCondition, Flow.FilterCondition), the merge of a
 * window's results, and the window a multiple condition opens at a given instant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "flow/condition_int.h"
#include "flow/depends_on.h"
#include "flow/model.h"
#include "flow/trigger_when.h"
#include "time/duration.h"
#include "time/isodate.h"
#include "time/tz.h"

#define US_PER_S 1000000LL
#define US_PER_MS 1000LL
#define US_PER_DAY 86400000000LL

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* @Pattern(regexp="^[a-zA-Z0-9][a-zA-Z0-9_-]*"), matched whole as Bean Validation does. */
static int valid_id(const char *id)
{
    if (!id || !*id)
        return 0;
    for (const char *p = id; *p; p++) {
        int alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        if (!alnum && (p == id || (*p != '_' && *p != '-')))
            return 0;
    }
    return 1;
}

static int one_of(const char *v, const char *const *names)
{
    for (; v && *names; names++)
        if (!strcmp(v, *names))
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- normalization */

/* A LocalTime property of a time window: copied when it parses whole, else an error. */
static int copy_time(json_t *out, const json_t *tw, const char *prop, const char *where, char *err, size_t errcap)
{
    const char *v = str(tw, prop);
    int64_t us;
    if (!v || kt_isodate_parse_time(v, &us) != (int)strlen(v)) {
        snprintf(err, errcap, "%s.timeWindow.%s: '%s' is not a time of day (HH:MM[:SS])", where, prop, v ? v : "");
        return -1;
    }
    json_object_set_new(out, prop, json_string(v));
    return 0;
}

static int copy_duration(json_t *out, const json_t *v, const char *prop, const char *where, char *err,
                         size_t errcap)
{
    int64_t us;
    if (kt_duration_from_json(v, &us)) {
        snprintf(err, errcap, "%s.timeWindow.%s: not an ISO-8601 duration", where, prop);
        return -1;
    }
    char buf[KT_DURATION_BUFSZ];
    kt_duration_format(us, buf, sizeof buf);
    json_object_set_new(out, prop, json_string(buf));
    return 0;
}

/* TimeWindow with its defaults, checked as TimeWindowValidator does. `window`/`windowAdvance` (legacy
 * MultipleCondition's deprecated properties, may be NULL) replace the time window's own. */
static json_t *time_window(const json_t *tw, const json_t *window, const json_t *advance, const char *where,
                           char *err, size_t errcap)
{
    static const char *const types[] = {"DURATION_WINDOW", "SLIDING_WINDOW", "DAILY_TIME_WINDOW",
                                        "DAILY_TIME_DEADLINE", NULL};
    if (tw && !json_is_null(tw) && !json_is_object(tw)) {
        snprintf(err, errcap, "%s.timeWindow: must be an object", where);
        return NULL;
    }
    const char *type = str(tw, "type") ? str(tw, "type") : "DURATION_WINDOW";
    if (!one_of(type, types)) {
        snprintf(err, errcap, "%s.timeWindow.type: '%s' is not one of DURATION_WINDOW, SLIDING_WINDOW, "
                              "DAILY_TIME_WINDOW, DAILY_TIME_DEADLINE", where, type);
        return NULL;
    }
    if (!window || json_is_null(window))
        window = json_object_get(tw, "window");
    if (!advance || json_is_null(advance))
        advance = json_object_get(tw, "windowAdvance");
    int has_window = window && !json_is_null(window), has_advance = advance && !json_is_null(advance);
    int has_start = !!json_object_get(tw, "startTime"), has_end = !!json_object_get(tw, "endTime");
    int has_deadline = !!json_object_get(tw, "deadline");
    const char *bad = NULL;
    int daily = !strcmp(type, "DAILY_TIME_WINDOW"), deadline = !strcmp(type, "DAILY_TIME_DEADLINE");
    int sliding = !strcmp(type, "SLIDING_WINDOW");
    if ((daily || deadline) && has_window)
        bad = "cannot have a window";
    else if ((daily || deadline || sliding) && has_advance)
        bad = "cannot have a window advance";
    else if (!deadline && has_deadline)
        bad = "cannot have a deadline";
    else if (!daily && has_start)
        bad = "cannot have a start time";
    else if (!daily && has_end)
        bad = "cannot have an end time";
    else if (deadline && !has_deadline)
        bad = "must have a deadline";
    else if (daily && !has_start)
        bad = "must have a start time";
    else if (daily && !has_end)
        bad = "must have an end time";
    if (bad) {
        snprintf(err, errcap, "%s.timeWindow: Time window of type `%s` %s.", where, type, bad);
        return NULL;
    }
    json_t *out = json_pack("{s:s}", "type", type);
    int rc = 0;
    if (daily)
        rc = copy_time(out, tw, "startTime", where, err, errcap) || copy_time(out, tw, "endTime", where, err, errcap);
    else if (deadline)
        rc = copy_time(out, tw, "deadline", where, err, errcap);
    else {
        json_t *def = json_string("P1D");
        rc = copy_duration(out, has_window ? window : def, "window", where, err, errcap) ||
             (has_advance && copy_duration(out, advance, "windowAdvance", where, err, errcap));
        json_decref(def);
    }
    if (rc) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *multiple_new(const char *id, json_t *tw, const json_t *reset, json_t *conditions)
{
    return json_pack("{s:s, s:o, s:b, s:o}", "id", id, "timeWindow", tw, "resetOnSuccess",
                     !json_is_false(reset), "conditions", conditions);
}

/* A legacy MultipleCondition entry of `conditions`. */
static json_t *legacy(const json_t *c, size_t index, char *err, size_t errcap)
{
    char where[48];
    snprintf(where, sizeof where, "conditions[%zu]", index);
    const char *id = str(c, "id");
    if (!valid_id(id)) {
        snprintf(err, errcap, "%s.id: %s", where, id ? "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"" : "must not be null");
        return NULL;
    }
    const json_t *subs = json_object_get(c, "conditions");
    if (!json_is_object(subs) || !json_object_size(subs)) {
        snprintf(err, errcap, "%s.conditions: must not be empty", where);
        return NULL;
    }
    json_t *tw = time_window(json_object_get(c, "timeWindow"), json_object_get(c, "window"),
                             json_object_get(c, "windowAdvance"), where, err, errcap);
    if (!tw)
        return NULL;
    return multiple_new(id, tw, json_object_get(c, "resetOnSuccess"), json_deep_copy(subs));
}

static const char *const filter_fields[] = {"FLOW_ID", "NAMESPACE", "STATE", "EXPRESSION", NULL};
static const char *const filter_types[] = {"EQUAL_TO",    "NOT_EQUAL_TO", "IN",        "NOT_IN",
                                           "IS_TRUE",     "IS_FALSE",     "IS_NULL",   "IS_NOT_NULL",
                                           "STARTS_WITH", "ENDS_WITH",    "REGEX",     "CONTAINS",
                                           NULL};

/* PreconditionFilterValidator: IN/NOT_IN take `values`, every other type `value`. NULL when fine. */
static const char *filter_problem(const json_t *f, char *buf, size_t cap)
{
    const char *field = str(f, "field"), *type = str(f, "type");
    if (!one_of(field, filter_fields))
        return "field: must be one of FLOW_ID, NAMESPACE, STATE, EXPRESSION";
    if (!one_of(type, filter_types))
        return "type: must be one of EQUAL_TO, NOT_EQUAL_TO, IN, NOT_IN, IS_TRUE, IS_FALSE, IS_NULL, IS_NOT_NULL, "
               "STARTS_WITH, ENDS_WITH, REGEX, CONTAINS";
    int list = !strcmp(type, "IN") || !strcmp(type, "NOT_IN");
    const json_t *value = json_object_get(f, "value"), *values = json_object_get(f, "values");
    int has_value = value && !json_is_null(value), has_values = values && !json_is_null(values);
    if (!list && !has_value)
        snprintf(buf, cap, "`value` cannot be null for type %s", type);
    else if (list && has_value)
        snprintf(buf, cap, "`value` must be null for type %s", type);
    else if (list && !json_is_array(values))
        snprintf(buf, cap, "`values` cannot be null for type %s", type);
    else if (!list && has_values)
        snprintf(buf, cap, "`values` must be null for type %s", type);
    else if (has_value && !json_is_string(value))
        snprintf(buf, cap, "`value` must be a string");
    else
        return NULL;
    return buf;
}

/* Flow.Preconditions.getConditions: flows[i] -> condition_<n>, then where[j] -> condition_<n>_<id>, n counting
 * on from 1 across both lists. */
static json_t *preconditions(const json_t *p, char *err, size_t errcap)
{
    if (!json_is_object(p)) {
        snprintf(err, errcap, "preconditions: must be an object");
        return NULL;
    }
    const char *id = str(p, "id");
    if (!valid_id(id)) {
        snprintf(err, errcap, "preconditions.id: %s",
                 id ? "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"" : "must not be null");
        return NULL;
    }
    json_t *subs = json_object();
    int n = 0;
    size_t i, j;
    json_t *f, *w, *x;
    char key[96], why[160];
    json_array_foreach(json_object_get(p, "flows"), i, f) {
        if (!json_is_string(json_object_get(f, "namespace"))) {
            snprintf(err, errcap, "preconditions.flows[%zu].namespace: must not be null", i);
            goto fail;
        }
        json_t *c = json_pack("{s:s}", "type", KT_COND_TYPE_UPSTREAM_FLOW);
        static const char *const props[] = {"namespace", "flowId", "states", "labels"};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(f, props[k]) && !json_is_null(json_object_get(f, props[k])))
                json_object_set(c, props[k], json_object_get(f, props[k]));
        snprintf(key, sizeof key, "condition_%d", ++n);
        json_object_set_new(subs, key, c);
    }
    json_array_foreach(json_object_get(p, "where"), i, w) {
        const char *wid = str(w, "id");
        const json_t *filters = json_object_get(w, "filters");
        const char *operand = str(w, "operand") ? str(w, "operand") : "AND";
        if (!wid || !*wid) {
            snprintf(err, errcap, "preconditions.where[%zu].id: must not be empty", i);
            goto fail;
        }
        if (strcmp(operand, "AND") && strcmp(operand, "OR")) {
            snprintf(err, errcap, "preconditions.where[%zu].operand: must be AND or OR", i);
            goto fail;
        }
        if (!json_array_size(filters)) {
            snprintf(err, errcap, "preconditions.where[%zu].filters: must not be empty", i);
            goto fail;
        }
        json_array_foreach(filters, j, x) {
            const char *problem = filter_problem(x, why, sizeof why);
            if (problem) {
                snprintf(err, errcap, "preconditions.where[%zu].filters[%zu]: %s", i, j, problem);
                goto fail;
            }
        }
        snprintf(key, sizeof key, "condition_%d_%.64s", ++n, wid);
        json_object_set_new(subs, key, json_pack("{s:s, s:s, s:s, s:O}", "type", KT_COND_TYPE_FILTER, "id", wid,
                                                 "operand", operand, "filters", filters));
    }
    json_t *tw = time_window(json_object_get(p, "timeWindow"), NULL, NULL, "preconditions", err, errcap);
    if (!tw)
        goto fail;
    return multiple_new(id, tw, json_object_get(p, "resetOnSuccess"), subs);
fail:
    json_decref(subs);
    return NULL;
}

json_t *kt_cond_multiples(const json_t *trigger, char *err, size_t errcap)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(trigger, "conditions"), i, c) {
        if (!kt_cond_is_multiple(str(c, "type")))
            continue;
        json_t *m = legacy(c, i, err, errcap);
        if (!m)
            goto fail;
        json_array_append_new(out, m);
    }
    const json_t *p = json_object_get(trigger, "preconditions");
    if (p && !json_is_null(p)) {
        json_t *m = preconditions(p, err, errcap);
        if (!m)
            goto fail;
        json_array_append_new(out, m);
    }
    /* 2.0's dependsOn + window + mode: the same shape, so the same stored windows (flow/depends_on.h) */
    json_t *dep = NULL;
    char where[128];
    int rc = kt_depends_on_normalize(trigger, &dep, where, sizeof where, err, errcap);
    if (rc < 0) {
        char why[384];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errcap, "%s: %s", where, why);
        goto fail;
    }
    if (rc > 0)
        json_array_append_new(out, dep);
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* ---------------------------------------------------------------- results */

int kt_cond_multiple_eval(const json_t *multiple, const kt_cond_ctx *ctx, json_t *results)
{
    int n = 0;
    const char *id;
    json_t *c;
    kc_eval ev = {ctx, NULL};
    char err[256];
    json_object_foreach(json_object_get(multiple, "conditions"), id, c) {
        if (kc_test(&ev, c, err, sizeof err) != KT_COND_TRUE)
            continue;
        n++;
        json_object_set_new(results, id, json_true());
    }
    json_decref(ev.vars);
    return n;
}

int kt_cond_multiple_holds(const json_t *multiple, const json_t *results)
{
    const char *id;
    json_t *c;
    size_t n = 0, satisfied = 0;
    json_object_foreach(json_object_get(multiple, "conditions"), id, c) {
        (void)c;
        n++;
        satisfied += json_is_true(json_object_get(results, id));
    }
    /* dependsOn's mode (flow/depends_on.h); preconditions and MultipleCondition are ALL */
    const char *mode = str(multiple, "mode");
    if (mode && !strcmp(mode, "ANY"))
        return satisfied > 0;
    if (mode && !strcmp(mode, "AT_LEAST"))
        return satisfied >= (size_t)json_integer_value(json_object_get(multiple, "minSatisfied"));
    return satisfied == n;
}

/* ---------------------------------------------------------------- sub-conditions */

kt_cond_result kc_test_upstream(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    const json_t *ex = ev->ctx->execution;
    if (!ex) {
        snprintf(err, errcap, "Invalid condition with null execution");
        return KT_COND_ERROR;
    }
    const char *ns = str(cond, "namespace"), *fid = str(cond, "flowId");
    const char *ens = str(ex, "namespace"), *efid = str(ex, "flowId");
    if ((ns && (!ens || strcmp(ens, ns))) || (fid && (!efid || strcmp(efid, fid))))
        return KT_COND_FALSE;
    const json_t *states = json_object_get(cond, "states");
    if (json_is_array(states) && !kc_states_contain(states, kt_state_current(ex)))
        return KT_COND_FALSE;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(cond, "labels"), k, v) {
        /* Label(key, String.valueOf(value)) */
        char *sv = kc_scalar_string(v);
        int found = 0;
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(ex, "labels"), i, l) {
            const char *lk = str(l, "key"), *lv = str(l, "value");
            if (sv && lk && lv && !strcmp(lk, k) && !strcmp(lv, sv))
                found = 1;
        }
        free(sv);
        if (!found)
            return KT_COND_FALSE;
    }
    /* a dependsOn entry's `when`, in the Flow trigger's variables for this upstream execution */
    const char *when = str(cond, "when");
    if (!when)
        return KT_COND_TRUE;
    json_t *vars = kt_trigger_when_flow_vars(ev->ctx->flow, ex);
    kt_cond_result r = kt_trigger_when_eval(when, vars, ev->ctx->env, err, errcap);
    json_decref(vars);
    return r;
}

/* String.matches: the whole subject. -1 with err for a bad pattern. */
static int regex_full_match(const char *pattern, const char *subject, char *err, size_t errcap)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errcap, "%s near index %zu\n%s", (const char *)msg, (size_t)eo, pattern);
        return -1;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static int truthy(const char *s)
{
    return s && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "-0") && strcmp(s, "");
}

/* One filter of a where[] entry: 1, 0, or -1 with err set (Flow.FilterCondition.evaluate). */
static int filter_holds(kc_eval *ev, const json_t *f, char *err, size_t errcap)
{
    char why[160];
    const char *problem = filter_problem(f, why, sizeof why);
    if (problem) {
        snprintf(err, errcap, "%s", problem);
        return -1;
    }
    const json_t *ex = ev->ctx->execution;
    const char *field = str(f, "field"), *type = str(f, "type"), *value = str(f, "value");
    char *rendered = NULL;
    const char *fv;
    if (!strcmp(field, "FLOW_ID"))
        fv = str(ex, "flowId");
    else if (!strcmp(field, "NAMESPACE"))
        fv = str(ex, "namespace");
    else if (!strcmp(field, "STATE"))
        fv = kt_state_current(ex);
    else if (kc_render(ev, value, NULL, &rendered, err, errcap))
        return -1;
    else
        fv = rendered;
    int r;
    if (!strcmp(type, "EQUAL_TO") || !strcmp(type, "NOT_EQUAL_TO"))
        r = (fv && !strcmp(value, fv)) == !strcmp(type, "EQUAL_TO");
    else if (!strcmp(type, "IN") || !strcmp(type, "NOT_IN"))
        r = kc_states_contain(json_object_get(f, "values"), fv) == !strcmp(type, "IN");
    else if (!strcmp(type, "IS_TRUE") || !strcmp(type, "IS_FALSE"))
        r = truthy(fv) == !strcmp(type, "IS_TRUE");
    else if (!strcmp(type, "IS_NULL") || !strcmp(type, "IS_NOT_NULL"))
        r = !fv == !strcmp(type, "IS_NULL");
    else if (!fv)
        r = 0;
    else if (!strcmp(type, "STARTS_WITH"))
        r = !strncmp(fv, value, strlen(value));
    else if (!strcmp(type, "ENDS_WITH"))
        r = strlen(fv) >= strlen(value) && !strcmp(fv + strlen(fv) - strlen(value), value);
    else if (!strcmp(type, "CONTAINS"))
        r = strstr(fv, value) != NULL;
    else /* REGEX */
        r = regex_full_match(value, fv, err, errcap);
    free(rendered);
    return r;
}

kt_cond_result kc_test_filter(kc_eval *ev, const json_t *cond, char *err, size_t errcap)
{
    if (!ev->ctx->execution) {
        snprintf(err, errcap, "Invalid condition with null execution");
        return KT_COND_ERROR;
    }
    int is_or = str(cond, "operand") && !strcmp(str(cond, "operand"), "OR");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(cond, "filters"), i, f) {
        int r = filter_holds(ev, f, err, errcap);
        if (r < 0)
            return KT_COND_ERROR;
        if (r == is_or) /* OR: the first true decides; AND: the first false */
            return is_or ? KT_COND_TRUE : KT_COND_FALSE;
    }
    return is_or ? KT_COND_FALSE : KT_COND_TRUE;
}

/* ---------------------------------------------------------------- windows */

/* The instant of local wall time `l` in zone z, preferring offset `prefer` (ZonedDateTime.resolveLocal). */
static int64_t resolve_local(const kt_tz_zone *z, const kt_isodate_local *l, int32_t prefer)
{
    return kt_tz_local_to_epoch(z, kt_isodate_seconds_from_local(l), &prefer);
}

static int window_duration(const json_t *tw, const char *prop, int64_t dflt, int64_t *us)
{
    const json_t *v = json_object_get(tw, prop);
    if (!v || json_is_null(v)) {
        *us = dflt;
        return 0;
    }
    return kt_duration_from_json(v, us);
}

static int time_of_day_s(const json_t *tw, const char *prop, int64_t *s)
{
    const char *v = str(tw, prop);
    int64_t us;
    if (!v || kt_isodate_parse_time(v, &us) != (int)strlen(v))
        return -1;
    *s = us / US_PER_S; /* LocalTime.toSecondOfDay */
    return 0;
}

/* floor to a multiple of m (truncatedTo for instants after 1970 and before alike) */
static int64_t floor_to(int64_t v, int64_t m) { return v / m * m - (v % m < 0 ? m : 0); }

kt_status kt_cond_window(const json_t *multiple, int64_t now_us, const char *zone, int64_t *start_us,
                         int64_t *end_us, char *err, size_t errcap)
{
    kt_tz_zone z;
    if (zone ? kt_tz_zone_of(zone, &z) : kt_tz_zone_of("UTC", &z)) {
        snprintf(err, errcap, "Unknown time-zone ID: %s", zone);
        return KT_EINVAL;
    }
    const json_t *tw = json_object_get(multiple, "timeWindow");
    const char *type = str(tw, "type") ? str(tw, "type") : "DURATION_WINDOW";
    int64_t now_s = floor_to(now_us, US_PER_S) / US_PER_S; /* withNano(0) */
    kt_isodate_local l;
    int32_t off = kt_tz_local_at(&z, now_s, &l);
    int64_t window, advance = 0;
    if (!strcmp(type, "DURATION_WINDOW") || !strcmp(type, "SLIDING_WINDOW")) {
        if (window_duration(tw, "window", US_PER_DAY, &window) || window_duration(tw, "windowAdvance", 0, &advance)) {
            snprintf(err, errcap, "timeWindow: window and windowAdvance must be ISO-8601 durations");
            return KT_EINVAL;
        }
        if (!strcmp(type, "SLIDING_WINDOW")) {
            *start_us = now_s * US_PER_S;
            *end_us = *start_us + window;
            return KT_OK;
        }
        /* Duration.toDays/toHours/toMinutes truncate; each truncation is a local change resolved with the
           current offset preferred, the slot of the hour an elapsed-time addition */
        int64_t minutes = window / (60 * US_PER_S), slot = 0;
        if (window / US_PER_DAY > 0)
            l.hour = 0;
        if (window / (3600 * US_PER_S) > 0)
            l.minute = 0;
        if (minutes > 0) {
            slot = minutes * (l.minute / minutes);
            l.second = 0;
            l.minute = 0;
        }
        int64_t start = (resolve_local(&z, &l, off) + slot * 60) * US_PER_S;
        if (json_object_get(tw, "windowAdvance") && !json_is_null(json_object_get(tw, "windowAdvance")))
            start = floor_to(start + advance, US_PER_MS);
        *start_us = start;
        *end_us = floor_to(start + window - US_PER_MS, US_PER_MS);
        return KT_OK;
    }
    int64_t a, b = 0;
    int daily = !strcmp(type, "DAILY_TIME_WINDOW");
    if (daily ? time_of_day_s(tw, "startTime", &a) || time_of_day_s(tw, "endTime", &b)
              : !strcmp(type, "DAILY_TIME_DEADLINE") ? (a = 0, time_of_day_s(tw, "deadline", &b)) : -1) {
        snprintf(err, errcap, "timeWindow: a %s needs %s", type,
                 daily ? "startTime and endTime (HH:MM[:SS])" : "a known type and its deadline (HH:MM[:SS])");
        return KT_EINVAL;
    }
    /* truncatedTo(DAYS): local midnight, then plusSeconds: elapsed time */
    l.hour = l.minute = l.second = 0;
    int64_t midnight = resolve_local(&z, &l, off);
    *start_us = (midnight + a) * US_PER_S;
    *end_us = (midnight + b) * US_PER_S;
    return KT_OK;
}
