#include "flow/model.h"
#include "time/duration.h"
#include "base/assert.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>

int kt_state_is_terminated(const char *s) { return kt_state_is(s, KT_SF_TERMINATED); }
int kt_state_is_running(const char *s) { return kt_state_is(s, KT_SF_RUNNING); }
int kt_state_is_valid(const char *s) { return kt_state_of(s) != KT_STATE_NONE; }

/* Kestra persists instants with millisecond precision (JdbcMapper), so that is what its API and expressions show. */
static json_t *kt_date(int64_t us)
{
    char buf[48];
    kt_time_format(us - ((us % 1000) + 1000) % 1000, buf, sizeof buf);
    return json_string(buf);
}

json_t *kt_state_new(const char *s, int64_t now_us)
{
    KT_ASSERTF(kt_state_of(s) != KT_STATE_NONE, "'%s' is not a state", s ? s : "(null)");
    return json_pack("{s:s, s:[{s:s, s:o}]}", "current", s, "histories", "state", s, "date", kt_date(now_us));
}

void kt_state_set(json_t *state, const char *s, int64_t now_us)
{
    kt_state to = kt_state_of(s);
    KT_ASSERTF(to != KT_STATE_NONE, "'%s' is not a state", s ? s : "(null)");
    const char *cur = json_string_value(json_object_get(state, "current"));
    if (cur && !strcmp(cur, s))
        return;
    /* Documents from outside (the store, a peer) are checked when they come in (kt_execution_check), so a current
     * state that is not in the table, or a move the table refuses, is Kite's own mistake. */
    if (cur)
        KT_ASSERTF(kt_state_can_move(kt_state_of(cur), to), "state %s -> %s is not a transition Kestra makes", cur,
                   s);
    json_object_set_new(state, "current", json_string(s));
    json_t *h = json_object_get(state, "histories");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(state, "histories", h);
    }
    json_array_append_new(h, json_pack("{s:s, s:o}", "state", s, "date", kt_date(now_us)));
}

const char *kt_state_current(const json_t *holder)
{
    return json_string_value(json_object_get(json_object_get(holder, "state"), "current"));
}

json_t *kt_state_present(const json_t *state, int64_t now_us)
{
    json_t *out = json_deep_copy(state);
    if (!out)
        return NULL;
    /* read-only fields: whatever came in is recomputed from the histories */
    json_object_del(out, "startDate");
    json_object_del(out, "endDate");
    json_object_del(out, "duration");
    json_t *h = json_object_get(out, "histories");
    size_t n = json_array_size(h);
    if (!n)
        return out;
    const char *first = json_string_value(json_object_get(json_array_get(h, 0), "date"));
    const char *last = json_string_value(json_object_get(json_array_get(h, n - 1), "date"));
    int64_t a = 0, b = now_us;
    if (first)
        kt_time_parse(first, &a);
    if (n >= 2 && last)
        kt_time_parse(last, &b);
    char buf[48];
    kt_duration_format(b - a, buf, sizeof buf);
    json_object_set_new(out, "duration", json_string(buf));
    if (first)
        json_object_set_new(out, "startDate", json_string(first));
    const char *cur = json_string_value(json_object_get(out, "current"));
    if (last && kt_state_is(cur, KT_SF_TERMINATED | KT_SF_PAUSED))
        json_object_set_new(out, "endDate", json_string(last));
    return out;
}

static void kt_present_state_of(json_t *holder, int64_t now_us)
{
    json_t *st = json_object_get(holder, "state");
    if (st)
        json_object_set_new(holder, "state", kt_state_present(st, now_us));
}

json_t *kt_execution_present(const json_t *execution, int64_t now_us)
{
    json_t *out = json_deep_copy(execution);
    if (!out)
        return NULL;
    kt_present_state_of(out, now_us);
    size_t i, j;
    json_t *tr, *att;
    json_array_foreach(json_object_get(out, "taskRunList"), i, tr) {
        kt_present_state_of(tr, now_us);
        json_array_foreach(json_object_get(tr, "attempts"), j, att) kt_present_state_of(att, now_us);
    }
    return out;
}

json_t *kt_labels_normalize(const json_t *labels, char *err, size_t errcap)
{
    json_t *out = json_array();
    if (!labels || json_is_null(labels))
        return out;
    if (json_is_array(labels)) {
        size_t i;
        json_t *l;
        json_array_foreach(labels, i, l) {
            json_t *k = json_object_get(l, "key"), *v = json_object_get(l, "value");
            if (!json_is_string(k) || !json_is_string(v)) {
                snprintf(err, errcap, "labels[%zu]: a label needs a string key and value", i);
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, json_pack("{s:O, s:O}", "key", k, "value", v));
        }
        return out;
    }
    if (!json_is_object(labels)) {
        snprintf(err, errcap, "labels must be a list of {key, value} or a map");
        json_decref(out);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        json_t *sv = NULL;
        if (json_is_string(v))
            sv = json_incref(v);
        else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
            char *d = json_dumps(v, JSON_ENCODE_ANY);
            sv = json_string(d);
            free(d);
        }
        if (!sv) {
            snprintf(err, errcap, "Unsupported type for key: %s, value: %s", k, json_is_null(v) ? "null" : "object");
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_pack("{s:s, s:o}", "key", k, "value", sv));
    }
    return out;
}

json_t *kt_execution_new(const char *id, const char *ns, const char *flow_id, int revision, json_t *inputs,
                         const json_t *flow_labels, const json_t *labels, int64_t now_us)
{
    json_t *ex = json_object();
    json_object_set_new(ex, "id", json_string(id));
    json_object_set_new(ex, "namespace", json_string(ns));
    json_object_set_new(ex, "flowId", json_string(flow_id));
    json_object_set_new(ex, "flowRevision", json_integer(revision));
    if (inputs && json_object_size(inputs))
        json_object_set(ex, "inputs", inputs);
    json_t *all = json_array();
    char err[128];
    json_t *fl = kt_labels_normalize(flow_labels, err, sizeof err);
    size_t i;
    json_t *l;
    int has_corr = 0;
    json_array_foreach(fl, i, l) {
        if (strncmp(json_string_value(json_object_get(l, "key")), "system.", 7))
            json_array_append(all, l);
    }
    json_decref(fl);
    json_array_foreach(labels, i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "key")), "system.correlationId"))
            has_corr = 1;
        json_array_append(all, l);
    }
    if (!has_corr)
        json_array_append_new(all, json_pack("{s:s, s:s}", "key", "system.correlationId", "value", id));
    json_object_set_new(ex, "labels", all);
    json_object_set_new(ex, "state", kt_state_new(KT_S(CREATED), now_us));
    json_object_set_new(ex, "originalId", json_string(id));
    json_object_set_new(ex, "deleted", json_false());
    json_object_set_new(ex, "metadata", json_pack("{s:i, s:o}", "attemptNumber", 1, "originalCreatedDate", kt_date(now_us)));
    return ex;
}

json_t *kt_taskrun_add(json_t *execution, const char *id, const char *task_id, const char *parent_id,
                       const char *value, int64_t now_us)
{
    json_t *list = json_object_get(execution, "taskRunList");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(execution, "taskRunList", list);
    }
    json_t *tr = json_object();
    json_object_set_new(tr, "id", json_string(id));
    json_object_set(tr, "executionId", json_object_get(execution, "id"));
    json_object_set(tr, "namespace", json_object_get(execution, "namespace"));
    json_object_set(tr, "flowId", json_object_get(execution, "flowId"));
    json_object_set_new(tr, "taskId", json_string(task_id));
    if (parent_id)
        json_object_set_new(tr, "parentTaskRunId", json_string(parent_id));
    if (value)
        json_object_set_new(tr, "value", json_string(value));
    json_object_set_new(tr, "outputs", json_null());
    json_object_set_new(tr, "state", kt_state_new(KT_S(CREATED), now_us));
    json_array_append_new(list, tr);
    return tr;
}

json_t *kt_taskrun_find_at(const json_t *execution, const char *taskrun_id, size_t *index)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        const char *id = json_string_value(json_object_get(tr, "id"));
        if (id && !strcmp(id, taskrun_id)) {
            if (index)
                *index = i;
            return tr;
        }
    }
    return NULL;
}

json_t *kt_taskrun_find(const json_t *execution, const char *taskrun_id)
{
    return kt_taskrun_find_at(execution, taskrun_id, NULL);
}

size_t kt_taskrun_attempts(const json_t *taskrun) { return json_array_size(json_object_get(taskrun, "attempts")); }

static int kt_state_ok(const json_t *holder, const char *what, const char *id, char *err, size_t errcap)
{
    const char *cur = kt_state_current(holder);
    if (kt_state_of(cur) != KT_STATE_NONE)
        return 1;
    kt_errf(err, errcap, "%s %s has no valid state (%s)", what, id ? id : "?", cur ? cur : "none");
    return 0;
}

kt_status kt_execution_check(const json_t *execution, char *err, size_t errcap)
{
    const char *id = json_string_value(json_object_get(execution, "id"));
    if (!kt_state_ok(execution, "execution", id, err, errcap))
        return KT_EINVAL;
    size_t i, j;
    json_t *tr, *att;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        const char *trid = json_string_value(json_object_get(tr, "id"));
        if (!trid) {
            kt_errf(err, errcap, "execution %s has a task run without id", id ? id : "?");
            return KT_EINVAL;
        }
        if (!kt_state_ok(tr, "task run", trid, err, errcap))
            return KT_EINVAL;
        json_array_foreach(json_object_get(tr, "attempts"), j, att) {
            if (!kt_state_ok(att, "an attempt of task run", trid, err, errcap))
                return KT_EINVAL;
        }
    }
    return KT_OK;
}
