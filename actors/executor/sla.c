/* Flow SLAs (KESTRA-execution.md §2.17; Kestra's SLA, MaxDurationSLA, ExecutionAssertionSLA, ExecutorService's
 * handleExecutionChangedSLA and processViolation): part of the step, so as pure as the rest of it.
 *   MAX_DURATION: a monitor per SLA, a timer at the execution's start + duration, armed when the execution is taken
 *   in (new, or again after a restart: the deadline comes from the stored start, so it survives it);
 *   EXECUTION_ASSERTION: rendered at every event of a non-terminated execution, before the passes.
 * A violation logs `SLA '<id>' violated: <reason>`; FAIL or CANCEL end the execution in that state (its last task run
 * too, as Kestra's markAs does; the runs still going are killed, without cascading to subflows), NONE changes
 * nothing; the SLA's labels are added unless the execution has them all. */
#include "actors/executor/step_int.h"
#include "base/clock.h"
#include "flow/model.h"
#include "flow/render.h"
#include "time/duration.h"

#include <stdio.h>
#include <stdlib.h>

static const json_t *kt_sla_list(const kt_pass *p) { return json_object_get(p->f->flow, "sla"); }

/* The SLA's labels as [{key, value}] (a map or a list in the flow). */
static json_t *kt_sla_labels(const json_t *sla)
{
    json_t *in = json_object_get(sla, "labels"), *out = json_array();
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(in)) {
        json_object_foreach(in, k, v) if (json_is_string(v))
            json_array_append_new(out, json_pack("{s:s, s:O}", "key", k, "value", v));
    } else {
        json_array_foreach(in, i, v) if (json_is_string(json_object_get(v, "key")))
            json_array_append_new(out, json_pack("{s:O, s:O?}", "key", json_object_get(v, "key"), "value",
                                                 json_object_get(v, "value")));
    }
    return out;
}

static int kt_sla_has_label(const json_t *labels, const json_t *l)
{
    size_t i;
    json_t *e;
    json_array_foreach(labels, i, e) if (json_equal(e, l)) return 1;
    return 0;
}

/* Every label of the SLA is on the execution already. */
static int kt_sla_labels_present(const kt_pass *p, const json_t *sla)
{
    json_t *wanted = kt_sla_labels(sla), *labels = json_object_get(p->ex, "labels");
    int all = 1;
    size_t i;
    json_t *l;
    json_array_foreach(wanted, i, l) all &= kt_sla_has_label(labels, l);
    json_decref(wanted);
    return all;
}

/* Kestra's processViolation. Returns 1 when the execution ended. */
static int kt_sla_violated(kt_pass *p, const json_t *sla, const char *reason)
{
    const char *id = kt_step_str(sla, "id"), *behavior = kt_step_str(sla, "behavior");
    const char *state = kt_step_streq(behavior, "FAIL") ? KT_S(FAILED)
                        : kt_step_streq(behavior, "CANCEL") ? KT_S(CANCELLED)
                                                            : NULL;
    if (state == KT_S(FAILED))
        kt_step_log(p, NULL, "ERROR", "Execution failed due to SLA '%s' violated: %s", id, reason);
    if (state) {
        /* markAs: Kestra's findLastNotTerminated answers the last run of the list whatever its state (§2.10) */
        json_t *runs = kt_step_runs(p), *last = json_array_get(runs, json_array_size(runs) - 1);
        size_t i;
        json_t *tr;
        json_array_foreach(runs, i, tr) {
            if (tr == last || kt_state_is_terminated(kt_state_current(tr)))
                continue;
            kt_step_set_state(p, tr, KT_S(KILLED)); /* the kill request that follows in Kestra */
        }
        if (last)
            kt_step_set_state(p, last, state);
        json_array_foreach(runs, i, tr) { /* an attempt still going ends as its run */
            json_t *atts = json_object_get(tr, "attempts"), *att = json_array_get(atts, json_array_size(atts) - 1);
            if (att && !kt_state_is_terminated(kt_state_current(att)))
                kt_state_set(json_object_get(att, "state"), kt_state_current(tr), p->now);
        }
        kt_state_set(json_object_get(p->ex, "state"), state, p->now);
        p->fx->ended = p->fx->killed = 1;
    }
    json_t *wanted = kt_sla_labels(sla), *labels = json_object_get(p->ex, "labels");
    int all = 1;
    size_t i;
    json_t *l;
    json_array_foreach(wanted, i, l) all &= kt_sla_has_label(labels, l);
    if (!all) {
        if (!json_is_array(labels)) {
            labels = json_array();
            json_object_set_new(p->ex, "labels", labels);
        }
        json_array_extend(labels, wanted);
    }
    json_decref(wanted);
    p->fx->changed |= state != NULL || !all;
    return state != NULL;
}

void kt_step_sla_arm(kt_pass *p)
{
    const json_t *slas = kt_sla_list(p);
    /* Kestra creates the monitors when a CREATED execution first comes in; one waiting for its scheduleDate comes back
     * RUNNING, so it never gets any */
    if (!json_array_size(slas) || kt_state_is_terminated(kt_state_current(p->ex)) ||
        json_object_get(p->ex, "scheduleDate"))
        return;
    const json_t *hist = json_object_get(json_object_get(p->ex, "state"), "histories");
    int64_t start = p->now;
    if (json_array_size(hist))
        kt_time_parse(kt_step_str(json_array_get(hist, 0), "date"), &start);
    size_t i;
    json_t *sla;
    json_array_foreach(slas, i, sla) {
        int64_t us;
        if (!kt_step_streq(kt_step_str(sla, "type"), "MAX_DURATION") ||
            kt_duration_from_json(json_object_get(sla, "duration"), &us))
            continue;
        /* Kestra deletes a monitor once processed: one already past whose only effect (NONE: labels) is there was
         * processed before this restart, and is not fired again */
        if (start + us < p->now && kt_step_streq(kt_step_str(sla, "behavior"), "NONE") && kt_sla_labels_present(p, sla))
            continue;
        char which[24];
        snprintf(which, sizeof which, "%zu", i);
        /* Kestra's check is "longer than": one millisecond past the deadline it holds */
        if (kt_step_add_timer_for(p, which, KT_CMD_SLA, start + us + 1000))
            kt_step_log(p, NULL, "ERROR", "SLA '%s' not monitored: more than %d timers in one step",
                        kt_step_str(sla, "id"), KT_EXEC_MAX_TIMERS);
    }
}

int kt_step_sla_due(kt_pass *p, const char *which)
{
    char *end;
    unsigned long i = strtoul(which ? which : "", &end, 10);
    const json_t *sla = which && *which && !*end ? json_array_get(kt_sla_list(p), i) : NULL;
    int64_t max;
    /* the flow revision the execution runs has no such SLA any more: nothing to check (Kestra logs and ignores) */
    if (!sla || !kt_step_streq(kt_step_str(sla, "type"), "MAX_DURATION") ||
        kt_duration_from_json(json_object_get(sla, "duration"), &max))
        return 0;
    const json_t *hist = json_object_get(json_object_get(p->ex, "state"), "histories");
    int64_t start = p->now;
    if (json_array_size(hist))
        kt_time_parse(kt_step_str(json_array_get(hist, 0), "date"), &start);
    int64_t took = (p->now - start) / 1000 * 1000; /* truncatedTo(MILLIS) */
    if (took <= max)
        return 0;
    char d[64], m[64], reason[200];
    kt_duration_format(took, d, sizeof d);
    kt_duration_format(max, m, sizeof m);
    snprintf(reason, sizeof reason, "execution duration of %s exceed the maximum duration of %s.", d, m);
    kt_step_log(p, NULL, "WARN", "SLA '%s' violated: %s", kt_step_str(sla, "id"), reason);
    return kt_sla_violated(p, sla, reason);
}

int kt_step_sla_changed(kt_pass *p)
{
    const json_t *slas = kt_sla_list(p);
    if (!json_array_size(slas) || kt_state_is_terminated(kt_state_current(p->ex)))
        return 0;
    const json_t *first = NULL;
    char first_reason[700] = "";
    size_t i;
    json_t *sla;
    json_array_foreach(slas, i, sla) {
        if (!kt_step_streq(kt_step_str(sla, "type"), "EXECUTION_ASSERTION"))
            continue;
        json_t *ctx = kt_render_context(p->f->flow, p->ex, NULL, NULL), *r = NULL;
        kt_expr_error e = {0};
        int bad = kt_expr_render_json_cached(p->f->templates, json_object_get(sla, "assert"), ctx, p->env, &r, &e);
        json_decref(ctx);
        if (bad) {
            kt_step_log(p, NULL, "ERROR", "Ignoring SLA '%s' because of the error: %s", kt_step_str(sla, "id"),
                        e.message);
            continue;
        }
        char *text = json_is_string(r) ? strdup(json_string_value(r)) : json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT);
        json_decref(r);
        int ok = kt_step_truthy(text);
        free(text);
        if (ok)
            continue;
        char reason[700];
        snprintf(reason, sizeof reason, "assertion is false: %s.", kt_step_str(sla, "assert"));
        kt_step_log(p, NULL, "WARN", "SLA '%s' violated: %s", kt_step_str(sla, "id"), reason);
        if (!first) { /* only the first violation acts; the others are logged */
            first = sla;
            snprintf(first_reason, sizeof first_reason, "%s", reason);
        }
    }
    return first ? kt_sla_violated(p, first, first_reason) : 0;
}
