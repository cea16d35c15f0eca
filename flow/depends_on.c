/* Flow-trigger `dependsOn` / `window` / `mode` (flow/depends_on.h): checked and normalised into a multiple condition. */
#include "flow/depends_on.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/condition.h"
#include "flow/tasks.h"
#include "time/duration.h"
#include "time/isodate.h"

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static int present(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return v && !json_is_null(v);
}

#define FAIL(w, ...)                                                                                                 \
    do {                                                                                                             \
        snprintf(where, wcap, "%s", w);                                                                              \
        snprintf(err, errcap, __VA_ARGS__);                                                                          \
        goto fail;                                                                                                   \
    } while (0)

static int is_state(const char *s)
{
    for (size_t i = 0; s && kt_enum_states[i]; i++)
        if (!strcmp(kt_enum_states[i], s))
            return 1;
    return 0;
}

/* One entry as an upstream sub-condition; NULL with where/err set. */
static json_t *entry(const json_t *e, size_t i, int default_states, char *where, size_t wcap, char *err,
                     size_t errcap)
{
    static const char *const known[] = {"flowId", "namespace", "states", "labels", "when", NULL};
    char at[64];
    snprintf(at, sizeof at, "dependsOn[%zu]", i);
    json_t *c = NULL;
    if (!json_is_object(e))
        FAIL(at, "must be an object {flowId, namespace, states, labels, when}");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)e, k, v) {
        int ok = 0;
        for (size_t j = 0; known[j]; j++)
            ok |= !strcmp(known[j], k);
        if (!ok) {
            char p[96];
            snprintf(p, sizeof p, "%s.%s", at, k);
            FAIL(p, "Unrecognized field \"%s\" (known: flowId, namespace, states, labels, when)", k);
        }
    }
    c = json_pack("{s:s}", "type", KT_COND_TYPE_UPSTREAM_FLOW);
    static const char *const strs[] = {"flowId", "namespace", "when"};
    for (size_t j = 0; j < 3; j++) {
        if (!present(e, strs[j]))
            continue;
        if (!json_is_string(json_object_get(e, strs[j])) || !*str(e, strs[j])) {
            char p[96];
            snprintf(p, sizeof p, "%s.%s", at, strs[j]);
            FAIL(p, "must be a non-empty string");
        }
        json_object_set(c, strs[j], json_object_get(e, strs[j]));
    }
    if (present(e, "states")) {
        const json_t *st = json_object_get(e, "states");
        size_t j;
        json_t *s;
        char p[96];
        snprintf(p, sizeof p, "%s.states", at);
        if (!json_is_array(st) || !json_array_size(st))
            FAIL(p, "must be a non-empty list of states");
        json_array_foreach(st, j, s) if (!is_state(json_string_value(s)))
            FAIL(p, "'%s' is not an execution state", json_is_string(s) ? json_string_value(s) : "(not a string)");
        json_object_set(c, "states", (json_t *)st);
    } else if (!default_states) {
        /* the trigger's own `states` filters the executions first: no default of the entry's own */
    } else {
        /* an entry without states: the 2.0 default, every terminated state and PAUSED (the shipped code's default,
         * flows-changes.md; the guide's [SUCCESS, WARNING] is a documentation bug there) */
        json_object_set_new(c, "states", json_pack("[s,s,s,s,s,s,s,s]", "SUCCESS", "WARNING", "FAILED", "KILLED",
                                                   "CANCELLED", "RETRIED", "SKIPPED", "PAUSED"));
    }
    if (present(e, "labels")) {
        const json_t *l = json_object_get(e, "labels");
        char p[96];
        snprintf(p, sizeof p, "%s.labels", at);
        if (!json_is_object(l))
            FAIL(p, "must be a map of label values");
        json_object_set(c, "labels", (json_t *)l);
    }
    return c;
fail:
    json_decref(c);
    return NULL;
}

/* "namespace.flowId" with "*" for a missing part; repeats numbered. */
static void entry_key(const json_t *c, const json_t *subs, char *key, size_t cap)
{
    const char *ns = str(c, "namespace"), *fid = str(c, "flowId");
    char base[256];
    if (!ns && !fid)
        snprintf(base, sizeof base, "*");
    else
        snprintf(base, sizeof base, "%s.%s", ns ? ns : "*", fid ? fid : "*");
    snprintf(key, cap, "%s", base);
    for (int n = 2; json_object_get(subs, key); n++)
        snprintf(key, cap, "%s#%d", base, n);
}

static int time_of_day(const json_t *w, const char *k)
{
    const char *v = str(w, k);
    int64_t us;
    return v && kt_isodate_parse_time(v, &us) == (int)strlen(v);
}

static int duration_str(const json_t *w, const char *k, char *out, size_t cap)
{
    int64_t us;
    if (kt_duration_from_json(json_object_get(w, k), &us) || us <= 0)
        return -1;
    kt_duration_format(us, out, cap);
    return 0;
}

/* window -> timeWindow; exactly one group. */
static json_t *time_window(const json_t *w, char *where, size_t wcap, char *err, size_t errcap)
{
    static const char *const known[] = {"deadline", "from", "to", "every", "offset", "lookback", NULL};
    static const char *const group_names[] = {"deadline", "from/to", "every/offset", "lookback"};
    if (!w || json_is_null(w))
        return json_pack("{s:s, s:s}", "type", "DURATION_WINDOW", "window", "P1D");
    if (!json_is_object(w))
        FAIL("window", "must be an object with one of deadline | from + to | every (+ offset) | lookback");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)w, k, v) {
        int ok = 0;
        for (size_t j = 0; known[j]; j++)
            ok |= !strcmp(known[j], k);
        if (!ok) {
            char p[64];
            snprintf(p, sizeof p, "window.%s", k);
            FAIL(p, "Unrecognized field \"%s\" (known: deadline, from, to, every, offset, lookback)", k);
        }
    }
    int groups[4] = {present(w, "deadline"), present(w, "from") || present(w, "to"),
                     present(w, "every") || present(w, "offset"), present(w, "lookback")};
    int first = -1;
    for (int g = 0; g < 4; g++) {
        if (!groups[g])
            continue;
        if (first >= 0)
            FAIL("window", "`%s` and `%s` cannot be combined: a window is exactly one of deadline | from + to | "
                           "every (+ offset) | lookback", group_names[first], group_names[g]);
        first = g;
    }
    char d1[KT_DURATION_BUFSZ], d2[KT_DURATION_BUFSZ];
    switch (first) {
    case 0:
        if (!time_of_day(w, "deadline"))
            FAIL("window.deadline", "'%s' is not a time of day (HH:MM[:SS])", str(w, "deadline") ? str(w, "deadline") : "");
        return json_pack("{s:s, s:O}", "type", "DAILY_TIME_DEADLINE", "deadline", json_object_get(w, "deadline"));
    case 1:
        if (!present(w, "from") || !present(w, "to"))
            FAIL(present(w, "from") ? "window.to" : "window.from", "`from` and `to` go together");
        if (!time_of_day(w, "from"))
            FAIL("window.from", "'%s' is not a time of day (HH:MM[:SS])", str(w, "from") ? str(w, "from") : "");
        if (!time_of_day(w, "to"))
            FAIL("window.to", "'%s' is not a time of day (HH:MM[:SS])", str(w, "to") ? str(w, "to") : "");
        return json_pack("{s:s, s:O, s:O}", "type", "DAILY_TIME_WINDOW", "startTime", json_object_get(w, "from"),
                         "endTime", json_object_get(w, "to"));
    case 2:
        if (!present(w, "every"))
            FAIL("window.offset", "`offset` needs `every`");
        if (duration_str(w, "every", d1, sizeof d1))
            FAIL("window.every", "must be a positive ISO-8601 duration");
        if (!present(w, "offset"))
            return json_pack("{s:s, s:s}", "type", "DURATION_WINDOW", "window", d1);
        if (duration_str(w, "offset", d2, sizeof d2))
            FAIL("window.offset", "must be a positive ISO-8601 duration");
        return json_pack("{s:s, s:s, s:s}", "type", "DURATION_WINDOW", "window", d1, "windowAdvance", d2);
    case 3:
        if (duration_str(w, "lookback", d1, sizeof d1))
            FAIL("window.lookback", "must be a positive ISO-8601 duration");
        return json_pack("{s:s, s:s}", "type", "SLIDING_WINDOW", "window", d1);
    default:
        FAIL("window", "must have one of deadline | from + to | every (+ offset) | lookback");
    }
fail:
    return NULL;
}

/* mode + minSatisfied into m. */
static int mode(const json_t *t, json_t *m, size_t entries, char *where, size_t wcap, char *err, size_t errcap)
{
    const char *md = present(t, "mode") ? str(t, "mode") : "ALL";
    if (!md || (strcmp(md, "ALL") && strcmp(md, "ANY") && strcmp(md, "AT_LEAST")))
        FAIL("mode", "must be one of ALL, ANY, AT_LEAST");
    json_object_set_new(m, "mode", json_string(md));
    if (!strcmp(md, "AT_LEAST")) {
        const json_t *n = json_object_get(t, "minSatisfied");
        if (!json_is_integer(n) || json_integer_value(n) < 1 || (size_t)json_integer_value(n) > entries)
            FAIL("minSatisfied", "mode AT_LEAST needs minSatisfied between 1 and the number of dependsOn entries "
                                 "(%zu)", entries);
        json_object_set(m, "minSatisfied", (json_t *)n);
    } else if (present(t, "minSatisfied")) {
        FAIL("minSatisfied", "only with mode AT_LEAST");
    }
    return 0;
fail:
    return -1;
}

static int on_miss(const json_t *t, json_t *m, char *where, size_t wcap, char *err, size_t errcap)
{
    const json_t *o = json_object_get(t, "onMiss");
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        FAIL("onMiss", "must be an object {behavior, labels}");
    if (present(o, "behavior") && (!str(o, "behavior") || strcmp(str(o, "behavior"), "FAIL")))
        FAIL("onMiss.behavior", "must be FAIL");
    if (present(o, "labels") && !json_is_object(json_object_get(o, "labels")) &&
        !json_is_array(json_object_get(o, "labels")))
        FAIL("onMiss.labels", "must be a map of labels");
    if (!present(json_object_get(t, "window"), "deadline"))
        FAIL("onMiss", "needs a window with a deadline (it acts when the deadline passes unsatisfied)");
    json_object_set(m, "onMiss", (json_t *)o);
    return 0;
fail:
    return -1;
}

int kt_depends_on_normalize(const json_t *t, json_t **out, char *where, size_t wcap, char *err, size_t errcap)
{
    *out = NULL;
    const json_t *deps = json_object_get(t, "dependsOn");
    json_t *subs = NULL, *tw = NULL, *m = NULL;
    if (!deps || json_is_null(deps)) {
        static const char *const only[] = {"window", "mode", "minSatisfied", "onMiss"};
        for (size_t i = 0; i < 4; i++)
            if (present(t, only[i]))
                FAIL(only[i], "only with dependsOn");
        return 0;
    }
    if (!json_is_array(deps) || !json_array_size(deps))
        FAIL("dependsOn", "must be a non-empty list of upstream flows");
    subs = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(deps, i, e) {
        json_t *c = entry(e, i, !present(t, "states"), where, wcap, err, errcap);
        if (!c)
            goto fail;
        char key[300];
        entry_key(c, subs, key, sizeof key);
        json_object_set_new(subs, key, c);
    }
    if (!(tw = time_window(json_object_get(t, "window"), where, wcap, err, errcap)))
        goto fail;
    const char *tid = str(t, "id");
    char id[160];
    snprintf(id, sizeof id, "dependsOn_%s", tid ? tid : "trigger");
    m = json_pack("{s:s, s:b, s:o, s:b}", "id", id, "dependsOn", 1, "timeWindow", tw, "resetOnSuccess", 1);
    tw = NULL;
    if (mode(t, m, json_array_size(deps), where, wcap, err, errcap) || on_miss(t, m, where, wcap, err, errcap))
        goto fail;
    json_object_set_new(m, "conditions", subs);
    *out = m;
    return 1;
fail:
    json_decref(subs);
    json_decref(tw);
    json_decref(m);
    return -1;
}

int kt_depends_on_is(const json_t *multiple) { return json_is_true(json_object_get(multiple, "dependsOn")); }

void kt_depends_on_check(kt_validate_ctx *c, const json_t *trigger, const char *path)
{
    json_t *m = NULL;
    char where[128] = "", err[384] = "";
    if (kt_depends_on_normalize(trigger, &m, where, sizeof where, err, sizeof err) >= 0) {
        json_decref(m);
        return;
    }
    char *p = kt_validate_child(path, where);
    kt_validate_err(c, p ? p : path, 0, p ? p : path, "%s", err);
    free(p);
}
