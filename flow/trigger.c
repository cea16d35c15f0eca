/* The stored trigger state (Kestra's Trigger entity): its JSON both ways, its key, and the transitions the
 * scheduler and the triggers API apply to it outside a Schedule evaluation (reset after an execution, unlock,
 * backfill removal). The Schedule rules themselves are in flow/schedule.c. */
#include "flow/trigger.h"
#include "flow/trigger_int.h"
#include "flow/model.h"
#include "flow/poll.h"
#include "time/isodate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- zoned date-times ---- */

int kt_trig__parse_zoned(const char *s, int64_t *us)
{
    if (!s)
        return -1;
    size_t n = strlen(s);
    char buf[80];
    /* ZonedDateTime.toString appends the region in brackets; the offset before it fixes the instant */
    if (n && s[n - 1] == ']') {
        const char *b = strchr(s, '[');
        if (!b || b == s)
            return -1;
        n = (size_t)(b - s);
    }
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *why = NULL;
    int rc = kt_isodate_parse_instant(buf, us, &why);
    free(why);
    return rc ? -1 : 0;
}

int kt_trig__date_from_json(const json_t *v, int64_t *us)
{
    if (json_is_string(v))
        return kt_trig__parse_zoned(json_string_value(v), us);
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < -62135596800LL || s > 253402300799LL) /* years 1-9999 */
            return -1;
        *us = (int64_t)s * 1000000;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d < -62135596800.0 || d > 253402300799.0)
            return -1;
        *us = (int64_t)llround(d * 1e6);
        return 0;
    }
    return -1;
}

void kt_trig__format_zoned(int64_t us, const kt_tz_zone *z, char *buf, size_t cap)
{
    int64_t s = us / 1000000, f = us % 1000000;
    if (f < 0) {
        f += 1000000;
        s--;
    }
    kt_isodate_local l;
    int32_t off = kt_tz_local_at(z, s, &l);
    int n = snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)l.year, l.month, l.day, l.hour,
                     l.minute, l.second);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (f) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06lld", (long long)f);
        for (int i = 5; i > 0 && frac[i] == '0'; i--)
            frac[i] = 0;
        n += snprintf(buf + n, cap - (size_t)n, ".%s", frac);
        if ((size_t)n >= cap)
            return;
    }
    kt_tz_offset_id(off, buf + n, cap - (size_t)n);
}

/* ---- the state ---- */

void kt_trig_backfill_free(kt_trig_backfill *bf)
{
    if (!bf)
        return;
    json_decref(bf->inputs);
    json_decref(bf->labels);
    free(bf);
}

void kt_trig_state_clear(kt_trig_state *t)
{
    if (!t)
        return;
    free(t->namespace_);
    free(t->flow_id);
    free(t->trigger_id);
    kt_trig_backfill_free(t->backfill);
    json_decref(t->stop_after);
    free(t->execution_id);
    free(t->worker_id);
    memset(t, 0, sizeof *t);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

kt_status kt_trig_state_copy(kt_trig_state *dst, const kt_trig_state *src)
{
    *dst = *src;
    dst->namespace_ = dst->flow_id = dst->trigger_id = dst->execution_id = dst->worker_id = NULL;
    dst->backfill = NULL;
    dst->stop_after = NULL;
    if (dup_str(&dst->namespace_, src->namespace_) || dup_str(&dst->flow_id, src->flow_id) ||
        dup_str(&dst->trigger_id, src->trigger_id) || dup_str(&dst->execution_id, src->execution_id) ||
        dup_str(&dst->worker_id, src->worker_id))
        goto fail;
    if (src->stop_after && !(dst->stop_after = json_deep_copy(src->stop_after)))
        goto fail;
    if (src->backfill) {
        dst->backfill = calloc(1, sizeof *dst->backfill);
        if (!dst->backfill)
            goto fail;
        *dst->backfill = *src->backfill;
        dst->backfill->inputs = src->backfill->inputs ? json_deep_copy(src->backfill->inputs) : NULL;
        dst->backfill->labels = src->backfill->labels ? json_deep_copy(src->backfill->labels) : NULL;
        if ((src->backfill->inputs && !dst->backfill->inputs) || (src->backfill->labels && !dst->backfill->labels))
            goto fail;
    }
    return KT_OK;
fail:
    kt_trig_state_clear(dst);
    return KT_ENOMEM;
}

char *kt_trig_uid(const char *ns, const char *flow_id, const char *trigger_id)
{
    /* IdUtils.fromParts joins the non-null parts with '_' */
    const char *parts[3] = {ns, flow_id, trigger_id};
    size_t len = 1;
    for (int i = 0; i < 3; i++)
        len += parts[i] ? strlen(parts[i]) + 1 : 0;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p = 0;
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        if (p != out)
            *p++ = '_';
        size_t n = strlen(parts[i]);
        memcpy(p, parts[i], n + 1);
        p += n;
    }
    return out;
}

/* An instant as Kestra writes a zoned date-time read from storage (server zone UTC): `...Z`, fraction in groups
 * of three only when needed. */
static int set_date(json_t *o, const char *key, int64_t us)
{
    if (!us)
        return 0;
    char buf[48];
    kt_isodate_format_instant(us, buf, sizeof buf);
    return json_object_set_new(o, key, json_string(buf));
}

static json_t *backfill_json(const kt_trig_backfill *bf)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = set_date(o, "start", bf->start_us) | set_date(o, "end", bf->end_us) |
             set_date(o, "currentDate", bf->current_us) |
             json_object_set_new(o, "paused", json_boolean(bf->paused));
    if (bf->inputs)
        rc |= json_object_set(o, "inputs", bf->inputs);
    if (bf->labels) {
        char err[128];
        json_t *l = kt_labels_normalize(bf->labels, err, sizeof err);
        rc |= json_object_set_new(o, "labels", l ? l : json_deep_copy(bf->labels));
    }
    rc |= set_date(o, "previousNextExecutionDate", bf->prev_next_us);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *kt_trig_state_json(const kt_trig_state *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    if (t->namespace_)
        rc |= json_object_set_new(o, "namespace", json_string(t->namespace_));
    if (t->flow_id)
        rc |= json_object_set_new(o, "flowId", json_string(t->flow_id));
    if (t->trigger_id)
        rc |= json_object_set_new(o, "triggerId", json_string(t->trigger_id));
    rc |= set_date(o, "date", t->date_us);
    rc |= set_date(o, "nextExecutionDate", t->next_us);
    if (t->backfill) {
        json_t *b = backfill_json(t->backfill);
        rc |= b ? json_object_set_new(o, "backfill", b) : -1;
    }
    if (t->stop_after)
        rc |= json_object_set(o, "stopAfter", t->stop_after);
    rc |= json_object_set_new(o, "disabled", json_boolean(t->disabled));
    if (t->execution_id)
        rc |= json_object_set_new(o, "executionId", json_string(t->execution_id));
    rc |= set_date(o, "updatedDate", t->updated_us);
    rc |= set_date(o, "evaluateRunningDate", t->evaluate_running_us);
    if (t->worker_id)
        rc |= json_object_set_new(o, "workerId", json_string(t->worker_id));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A member read from JSON: absent and null are "none"; anything else must have the right type. */
static int get_date(const json_t *o, const char *key, const char *path, int64_t *us, char *err, size_t errcap)
{
    const json_t *v = json_object_get(o, key);
    *us = 0;
    if (!v || json_is_null(v))
        return 0;
    if (kt_trig__date_from_json(v, us)) {
        kt_errf(err, errcap, "%s%s: not a date-time with an offset (2024-12-20T10:00:00Z)", path, key);
        return -1;
    }
    return 0;
}

static int get_str(const json_t *o, const char *key, char **out, char *err, size_t errcap)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        kt_errf(err, errcap, "%s: must be a string", key);
        return -1;
    }
    if (!(*out = strdup(json_string_value(v)))) {
        kt_errf(err, errcap, "out of memory");
        return -1;
    }
    return 0;
}

static int get_bool(const json_t *o, const char *key, const char *path, int *out, char *err, size_t errcap)
{
    const json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        kt_errf(err, errcap, "%s%s: must be a boolean", path, key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static int backfill_from_json(const json_t *b, kt_trig_backfill **out, char *err, size_t errcap)
{
    *out = NULL;
    if (!b || json_is_null(b))
        return 0;
    if (!json_is_object(b)) {
        kt_errf(err, errcap, "backfill: must be an object");
        return -1;
    }
    kt_trig_backfill *bf = calloc(1, sizeof *bf);
    if (!bf) {
        kt_errf(err, errcap, "out of memory");
        return -1;
    }
    if (get_date(b, "start", "backfill.", &bf->start_us, err, errcap) ||
        get_date(b, "end", "backfill.", &bf->end_us, err, errcap) ||
        get_date(b, "currentDate", "backfill.", &bf->current_us, err, errcap) ||
        get_date(b, "previousNextExecutionDate", "backfill.", &bf->prev_next_us, err, errcap) ||
        get_bool(b, "paused", "backfill.", &bf->paused, err, errcap))
        goto fail;
    if (!bf->start_us) {
        kt_errf(err, errcap, "backfill.start: must not be null");
        goto fail;
    }
    const json_t *in = json_object_get(b, "inputs");
    if (in && !json_is_null(in)) {
        if (!json_is_object(in)) {
            kt_errf(err, errcap, "backfill.inputs: must be a map");
            goto fail;
        }
        bf->inputs = json_deep_copy(in);
    }
    const json_t *lb = json_object_get(b, "labels");
    if (lb && !json_is_null(lb)) {
        char why[160];
        bf->labels = kt_labels_normalize(lb, why, sizeof why);
        if (!bf->labels) {
            kt_errf(err, errcap, "backfill.%s", why);
            goto fail;
        }
    }
    *out = bf;
    return 0;
fail:
    kt_trig_backfill_free(bf);
    return -1;
}

kt_status kt_trig_state_from_json(const json_t *j, kt_trig_state *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j)) {
        kt_errf(err, errcap, "a trigger must be a JSON object");
        return KT_EINVAL;
    }
    if (get_str(j, "namespace", &out->namespace_, err, errcap) || get_str(j, "flowId", &out->flow_id, err, errcap) ||
        get_str(j, "triggerId", &out->trigger_id, err, errcap) ||
        get_str(j, "executionId", &out->execution_id, err, errcap) ||
        get_str(j, "workerId", &out->worker_id, err, errcap))
        goto fail;
    static const char *const need[] = {"namespace", "flowId", "triggerId"};
    char *const have[] = {out->namespace_, out->flow_id, out->trigger_id};
    for (int i = 0; i < 3; i++) {
        if (!have[i] || !*have[i]) {
            kt_errf(err, errcap, "%s: must not be null", need[i]);
            goto fail;
        }
    }
    if (get_date(j, "date", "", &out->date_us, err, errcap) ||
        get_date(j, "nextExecutionDate", "", &out->next_us, err, errcap) ||
        get_date(j, "updatedDate", "", &out->updated_us, err, errcap) ||
        get_date(j, "evaluateRunningDate", "", &out->evaluate_running_us, err, errcap) ||
        get_bool(j, "disabled", "", &out->disabled, err, errcap) ||
        backfill_from_json(json_object_get(j, "backfill"), &out->backfill, err, errcap))
        goto fail;
    const json_t *sa = json_object_get(j, "stopAfter");
    if (sa && !json_is_null(sa)) {
        size_t i;
        const json_t *v;
        if (!json_is_array(sa))
            goto bad_stop;
        json_array_foreach(sa, i, v) {
            if (!json_is_string(v) || !kt_state_is_valid(json_string_value(v)))
                goto bad_stop;
        }
        out->stop_after = json_deep_copy(sa);
    }
    return KT_OK;
bad_stop:
    kt_errf(err, errcap, "stopAfter: must be a list of execution states");
fail:
    kt_trig_state_clear(out);
    return KT_EINVAL;
}

/* ---- transitions outside an evaluation ---- */

void kt_trig_reset_execution(kt_trig_state *t, const char *final_state)
{
    free(t->execution_id);
    free(t->worker_id);
    t->execution_id = t->worker_id = NULL;
    t->updated_us = 0;
    if (t->stop_after && json_is_array(t->stop_after)) {
        int in = 0;
        size_t i;
        json_t *v;
        json_array_foreach(t->stop_after, i, v) {
            if (final_state && json_is_string(v) && !strcmp(json_string_value(v), final_state))
                in = 1;
        }
        t->disabled = in;
    }
}

int kt_trig_unlock(kt_trig_state *t)
{
    int locked = t->execution_id || t->evaluate_running_us;
    free(t->execution_id);
    free(t->worker_id);
    t->execution_id = t->worker_id = NULL;
    t->updated_us = t->evaluate_running_us = 0;
    return locked;
}

int kt_trig_backfill_delete(kt_trig_state *t)
{
    if (!t->backfill)
        return -1;
    t->next_us = t->backfill->prev_next_us;
    kt_trig_backfill_free(t->backfill);
    t->backfill = NULL;
    return 0;
}

kt_trig_kind kt_trig_kind_of(const char *type)
{
    if (!type)
        return KT_TRIG_OTHER;
    if (!strcmp(type, "io.kestra.plugin.core.trigger.Schedule") ||
        !strcmp(type, "io.kestra.core.models.triggers.types.Schedule"))
        return KT_TRIG_SCHEDULE;
    if (!strcmp(type, "io.kestra.plugin.core.trigger.ScheduleOnDates"))
        return KT_TRIG_SCHEDULE_ON_DATES;
    if (kt_poll_type_of(type))
        return KT_TRIG_POLLING;
    return KT_TRIG_OTHER;
}
