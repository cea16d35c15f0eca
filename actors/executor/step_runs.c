/* The step's view of taskRunList: an index by task id and by run id, built as runs are appended, and a memo of the
 * (list, parent) lookups Kestra's rules repeat on every pass; with them the few changes every rule makes to the
 * execution and to the effects (touch, state, log, timer). Kept apart from the rules so they read as Kestra's
 * FlowableUtils and ExecutorService do, without the bookkeeping. See step_int.h. */
#include "base/secrets.h"
#include "flow/model.h"
#include "actors/executor/step_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runs of one (parent, task) pair with their positions in taskRunList. */
typedef struct kt_slot {
    json_t *run;
    size_t pos;
} kt_slot;

typedef struct kt_bucket {
    kt_slot *v;
    size_t n, cap;
} kt_bucket;

/* ---- resolved lists, effects, the index ---------------------------------------------------------- */

void kt_step_rl_push(kt_rlist *l, const json_t *task, const char *value)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = kt_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (kt_res){task, value};
}

void kt_step_rl_free(kt_rlist *l)
{
    free(l->v);
    json_decref(l->hold);
    memset(l, 0, sizeof *l);
}

void kt_step_touch(kt_pass *p, size_t index)
{
    kt_exec_effects *fx = p->fx;
    fx->changed = 1;
    p->changed = 1;
    for (size_t i = 0; i < fx->ntouched; i++)
        if (fx->touched[i] == index)
            return;
    if (fx->ntouched < KT_EXEC_MAX_TOUCHED)
        fx->touched[fx->ntouched++] = index;
    else
        fx->touched_all = 1;
}

void kt_step_index_sync(kt_pass *p)
{
    json_t *runs = kt_step_runs(p);
    size_t n = json_array_size(runs);
    for (; p->indexed < n; p->indexed++) {
        json_t *run = json_array_get(runs, p->indexed);
        const char *key = kt_step_str(run, "taskId");
        if (!key)
            continue;
        kt_bucket *b = kt_map_get(p->by_task, key);
        if (!b) {
            b = kt_xcalloc(1, sizeof *b);
            kt_map_put(p->by_task, key, b, NULL);
        }
        if (b->n == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 4;
            b->v = kt_xrealloc(b->v, b->cap * sizeof *b->v);
        }
        b->v[b->n++] = (kt_slot){run, p->indexed};
        if (kt_step_str(run, "id"))
            kt_map_put(p->by_id, kt_step_str(run, "id"), (void *)(uintptr_t)(p->indexed + 1), NULL);
    }
}

void kt_step_index_free(kt_pass *p)
{
    for (size_t i = 0; i < sizeof p->memo / sizeof *p->memo; i++)
        free(p->memo[i].runs);
    size_t pos = 0;
    const char *key;
    void *val;
    while (p->by_task && kt_map_next(p->by_task, &pos, &key, &val)) {
        kt_bucket *b = val;
        free(b->v);
        free(b);
    }
    kt_map_free(p->by_task);
    kt_map_free(p->by_id);
}

size_t kt_step_index_of(kt_pass *p, const json_t *run)
{
    kt_step_index_sync(p);
    uintptr_t v = (uintptr_t)kt_map_get(p->by_id, kt_step_str(run, "id"));
    return v ? (size_t)(v - 1) : (size_t)-1;
}

static const kt_bucket *kt_bucket_of(kt_pass *p, const char *task_id)
{
    kt_step_index_sync(p);
    return task_id ? kt_map_get(p->by_task, task_id) : NULL;
}

void kt_step_log(kt_pass *p, const json_t *run, const char *level, const char *fmt, ...)
{
    kt_exec_effects *fx = p->fx;
    if (fx->nlogs == KT_EXEC_MAX_LOGS) {
        fx->logs_dropped++;
        return;
    }
    kt_exec_log *l = &fx->logs[fx->nlogs++];
    snprintf(l->taskrun_id, sizeof l->taskrun_id, "%s", run ? kt_step_str(run, "id") : "");
    snprintf(l->level, sizeof l->level, "%s", level);
    /* formatted whole, the secrets the pass's renders obtained (and the SECRET inputs the caller put there) masked,
     * then cut to the line's size: a cut first could keep the head of a secret that no longer matches in full */
    char *full = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(&full, fmt, ap);
    va_end(ap);
    if (len < 0)
        snprintf(l->message, sizeof l->message, "(log line lost: out of memory)");
    else
        kt_mask_copy(l->message, sizeof l->message, full, (size_t)len, p->env ? p->env->secrets_used : NULL);
    free(full);
}

void kt_step_set_state(kt_pass *p, json_t *run, const char *state)
{
    if (kt_step_streq(kt_state_current(run), state))
        return;
    kt_state_set(json_object_get(run, "state"), state, p->now);
    kt_step_touch(p, kt_step_index_of(p, run));
}

int kt_step_add_timer_for(kt_pass *p, const char *subject, kt_cmd command, int64_t at)
{
    KT_ASSERT(kt_cmd_flags(command) & KT_CF_TIMER);
    kt_exec_effects *fx = p->fx;
    if (fx->ntimers == KT_EXEC_MAX_TIMERS)
        return -1;
    kt_exec_timer *t = &fx->timers[fx->ntimers++];
    snprintf(t->taskrun_id, sizeof t->taskrun_id, "%s", subject);
    t->command = command;
    t->at_us = at;
    t->iteration = 0;
    return 0;
}

int kt_step_add_timer(kt_pass *p, const json_t *run, kt_cmd command, int64_t at)
{
    KT_ASSERT(kt_cmd_flags(command) & KT_CF_TIMER);
    kt_exec_effects *fx = p->fx;
    if (fx->ntimers == KT_EXEC_MAX_TIMERS)
        return -1;
    kt_exec_timer *t = &fx->timers[fx->ntimers++];
    snprintf(t->taskrun_id, sizeof t->taskrun_id, "%s", kt_step_str(run, "id"));
    t->command = command;
    t->at_us = at;
    t->iteration = 0;
    return 0;
}

/* ---- runs ---------------------------------------------------------------------------------------- */

/* FlowableUtils.isTaskRunFor: same task id, same parent (or both top level), same value when one is resolved. */
static int kt_run_is_for(const json_t *run, const kt_res *r, const char *parent_id)
{
    if (!kt_step_streq(kt_step_str(run, "taskId"), kt_step_str(r->task, "id")))
        return 0;
    if (!kt_step_streq(kt_step_str(run, "parentTaskRunId"), parent_id))
        return 0;
    return !r->value || kt_step_streq(kt_step_str(run, "value"), r->value);
}

json_t *kt_step_run_for(kt_pass *p, const kt_res *r, const char *parent_id)
{
    const kt_bucket *b = kt_bucket_of(p, kt_step_str(r->task, "id"));
    for (size_t i = b ? b->n : 0; i-- > 0;)
        if (kt_run_is_for(b->v[i].run, r, parent_id))
            return b->v[i].run; /* the last one wins */
    return NULL;
}

static int kt_slot_cmp(const void *a, const void *b)
{
    size_t x = ((const kt_slot *)a)->pos, y = ((const kt_slot *)b)->pos;
    return x < y ? -1 : x > y;
}

/* The runs of a resolved list under a parent, in taskRunList order. */
static json_t **kt_runs_collect(kt_pass *p, const kt_rlist *l, const char *parent_id, size_t *n)
{
    size_t cap = 16, k = 0;
    kt_slot *found = kt_xmalloc(cap * sizeof *found);
    /* Each (task, value) of the list matches its own runs: a run has one value, so nothing is collected twice. */
    for (size_t j = 0; j < l->n; j++) {
        const kt_bucket *b = kt_bucket_of(p, kt_step_str(l->v[j].task, "id"));
        for (size_t i = 0; b && i < b->n; i++) {
            if (!kt_run_is_for(b->v[i].run, &l->v[j], parent_id))
                continue;
            if (k == cap) {
                cap *= 2;
                found = kt_xrealloc(found, cap * sizeof *found);
            }
            found[k++] = b->v[i];
        }
    }
    qsort(found, k, sizeof *found, kt_slot_cmp);
    json_t **out = kt_xmalloc((k ? k : 1) * sizeof *out);
    for (size_t i = 0; i < k; i++)
        out[i] = found[i].run;
    free(found);
    *n = k;
    return out;
}

uint64_t kt_step_sig_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
}

/* Same as kt_runs_collect, memoised for the pass; the array belongs to the pass (do not free it). */
json_t **kt_step_runs_for(kt_pass *p, const kt_rlist *l, const char *parent_id, size_t *n)
{
    kt_step_index_sync(p);
    uint64_t sig = kt_step_sig_str(1469598103934665603ULL, parent_id);
    for (size_t i = 0; i < l->n; i++) {
        sig = (sig ^ (uint64_t)(uintptr_t)l->v[i].task) * 1099511628211ULL;
        sig = kt_step_sig_str(sig, l->v[i].value);
    }
    sig ^= l->n;
    for (size_t i = 0; i < sizeof p->memo / sizeof *p->memo; i++)
        if (p->memo[i].runs && p->memo[i].sig == sig && p->memo[i].indexed == p->indexed) {
            *n = p->memo[i].n;
            return p->memo[i].runs;
        }
    struct kt_memo *m = &p->memo[p->memo_next++ % (sizeof p->memo / sizeof *p->memo)];
    free(m->runs);
    m->runs = kt_runs_collect(p, l, parent_id, &m->n);
    m->sig = sig;
    m->indexed = p->indexed;
    *n = m->n;
    return m->runs;
}

int kt_step_created(const char *s) { return kt_step_streq(s, KT_S(CREATED)) || kt_step_streq(s, KT_S(RESTARTED)); }

/* Execution.isTerminated(tasks, parent): as many terminated runs as tasks. */
int kt_step_all_terminated(kt_pass *p, const kt_rlist *l, const char *parent_id)
{
    size_t n, terminated = 0;
    json_t **runs = kt_step_runs_for(p, l, parent_id, &n);
    for (size_t i = 0; i < n; i++)
        terminated += kt_state_is_terminated(kt_state_current(runs[i]));
    return terminated >= l->n;
}

int kt_step_any_in_state(kt_pass *p, const kt_rlist *l, const char *parent_id, const char *state)
{
    size_t n;
    int found = 0;
    json_t **runs = kt_step_runs_for(p, l, parent_id, &n);
    for (size_t i = 0; i < n && !found; i++)
        found = kt_step_streq(kt_state_current(runs[i]), state);
    return found;
}

int kt_step_any_run(kt_pass *p, const kt_rlist *l, const char *parent_id)
{
    size_t n;
    kt_step_runs_for(p, l, parent_id, &n);
    return n > 0;
}

/* Execution.guessFinalState: KILLED, FAILED, WARNING, PAUSED else SUCCESS; then allowFailure / allowWarning. */
const char *kt_step_guess_final(kt_pass *p, const kt_rlist *l, const char *parent_id, int allow_failure,
                                int allow_warning)
{
    static const kt_state order[] = {KT_STATE_KILLED, KT_STATE_FAILED, KT_STATE_WARNING, KT_STATE_PAUSED};
    const char *st = KT_S(SUCCESS);
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        if (kt_step_any_in_state(p, l, parent_id, kt_state_name(order[k]))) {
            st = kt_state_name(order[k]);
            break;
        }
    if (!strcmp(st, KT_S(FAILED)) && allow_failure)
        st = KT_S(WARNING);
    if (!strcmp(st, KT_S(WARNING)) && allow_warning)
        st = KT_S(SUCCESS);
    return st;
}

/* Execution.findTaskDependingFlowState (Kestra 1.x, with `finally`): once a finally run exists, the finally list;
 * after a failure (or once an error task ran), the errors list — while it is not over when there is a finally; then,
 * with a finally, the finally list as soon as the tasks are all terminated or one failed; else the tasks. Without a
 * finally (fin NULL or empty) this is 0.21's rule. A FAILED run is always "failed and not retried" here: a run
 * waiting for its retry is RETRYING, not FAILED. */
void kt_step_depending(kt_pass *p, const kt_rlist *tasks, const kt_rlist *errors, const kt_rlist *fin,
                       const char *parent_id, kt_rlist *out)
{
    int has_fin = fin && fin->n;
    int failed = kt_step_any_in_state(p, tasks, parent_id, KT_S(FAILED));
    int use_errors = (errors && errors->n && kt_step_any_run(p, errors, parent_id)) || failed;
    const kt_rlist *src = tasks;
    if (has_fin && kt_step_any_run(p, fin, parent_id))
        src = fin;
    else if (use_errors && (!has_fin || (errors && errors->n && !kt_step_all_terminated(p, errors, parent_id))))
        src = errors;
    else if (has_fin && (failed || kt_step_all_terminated(p, tasks, parent_id)))
        src = fin;
    memset(out, 0, sizeof *out);
    out->absent = tasks->absent && src == tasks;
    if (src)
        for (size_t i = 0; i < src->n; i++)
            kt_step_rl_push(out, src->v[i].task, src->v[i].value);
}

