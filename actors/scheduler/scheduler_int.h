/* What the scheduler's files share: scheduler.c (the actor, the flow cache, Schedule ticks), due.c (the heap of due
 * dates and its timer), flow_trigger.c (Flow triggers), fire.c (building and committing the executions a trigger
 * starts), poll.c (polling triggers evaluated on a worker), resync.c (catching up: notices replayed, the periodic
 * reconcile). */
#ifndef KT_SCHEDULER_INT_H
#define KT_SCHEDULER_INT_H

#include "actors/scheduler/scheduler.h"
#include "base/env.h"
#include "base/map.h"
#include "flow/flow.h"

#include <uv.h>

/* The flows' revisions are compared with the store's this often by default (kt_sch_resync). */
#define KT_SCH_RECONCILE_US (60LL * 1000000)

/* A locked trigger (its execution running) is looked at this often, in case its end was not heard. */
#define KT_SCH_LOCK_CHECK_US (5LL * 1000000)

/* A failed commit is tried again after this long. */
#define KT_SCH_COMMIT_RETRY_MS 1000

/* One Schedule or ScheduleOnDates trigger of a cached flow. */
typedef struct kt_sch_trigger {
    const char *id;        /* borrowed from def */
    const json_t *def;     /* the trigger as the flow runs it (plugin defaults applied), borrowed from the flow */
    kt_sched *sched;       /* NULL when it does not compile (logged once): it never fires; NULL for a polling one */
    const struct kt_poll_type *poll; /* a polling trigger (flow/poll.h) whose interval compiled, else NULL */
    int64_t interval_us;   /* its interval */
    int onmiss;            /* a Flow trigger whose onMiss watches a deadline (onmiss.c): armed at each deadline */
} kt_sch_trigger;

/* The latest revision of one flow, as the scheduler acts on it. */
typedef struct kt_sch_flow {
    char *key;             /* "ns\x1fid" */
    char *ns, *id;
    json_t *json;          /* with plugin defaults applied (inputs, labels, triggers); the parsed flow is not kept:
                              thousands of schedules cost their JSON only */
    int revision;
    int disabled;
    kt_sch_trigger *triggers;
    size_t ntriggers;
    int flow_triggers;     /* it has at least one enabled Flow trigger */
} kt_sch_flow;

/* A due date in the heap; stale when its generation is not the armed one of its trigger. */
typedef struct kt_sch_due {
    int64_t at_us;
    uint64_t gen;
    char *key;             /* "ns\x1fflowId\x1ftriggerId" */
} kt_sch_due;

/* An execution committed by the scheduler that the executor has not accepted yet (its mailbox was full). */
typedef struct kt_sch_pending {
    json_t *execution;
    struct kt_sch_pending *next;
} kt_sch_pending;

struct kt_scheduler {
    kt_actor *self;
    kt_store *store;
    kt_env seeds;                 /* seeds each evaluation's environment */
    json_t *plugin_defaults;
    char *default_zone;
    kt_sched_recover recover;
    kt_map *flows;                /* "ns\x1fid" -> kt_sch_flow */
    kt_map *listeners;            /* the same, only the flows with a Flow trigger (borrowed from flows) */
    kt_map *armed;                /* trigger key -> (uintptr_t) generation of its live heap entry */
    kt_sch_due *heap;
    size_t nheap, capheap;
    uint64_t gen;
    uv_timer_t timer;             /* fires at the heap's earliest date */
    int64_t timer_at_us;          /* when it is armed for, 0: not armed */
    uv_timer_t retry;             /* resends pending executions */
    uv_timer_t resync;            /* the periodic reconcile (kt_sch_resync) */
    json_t *notices_prev;         /* "id\x1fstate" -> how many notices the previous periodic pass saw (orphans) */
    int64_t lock_check_us;        /* KT_SCH_LOCK_CHECK_US (tests shorten it) */
    json_t *seen;                 /* "ns\x1fid" -> the latest revision acted on, of every live flow (with triggers or
                                     not) */
    kt_sch_pending *pending, **pending_tail;
    json_t *notices_done;         /* [execution id, state] acted on without a commit of their own: deleted by the
                                     turn's flush */
    kt_map *awaiting;             /* corr id of an ExecutionCreate sent -> the execution's id, until the executor answers */
    uint64_t corr;
    kt_map *polls;                /* corr id of a TriggerEvaluate in flight -> its trigger key (malloc'd) */
    kt_map *poll_corr;            /* trigger key -> (uintptr_t) corr id of its one evaluation in flight */
    int64_t poll_lost_after_us;   /* kt_scheduler_options */
    uint64_t started, evaluations;
    int closing;                  /* timers whose close callback is still to come */
};

/* scheduler.c */
/* A flow was saved or deleted (or found so at start: starting): the cache takes its latest revision, the rows follow,
 * its triggers are re-armed. */
void kt_sch_flow_changed(kt_scheduler *s, const char *ns, const char *id, int starting);
/* The notices acted on without a commit of their own (notices_done) deleted in one transaction. */
void kt_sch_notices_flush(kt_scheduler *s);
char *kt_sch_key(const char *ns, const char *flow_id, const char *trigger_id); /* trigger_id NULL: the flow's key */
void kt_sch_arm(kt_scheduler *s, const char *key, int64_t at_us);
void kt_sch_disarm(kt_scheduler *s, const char *key);
const kt_sch_trigger *kt_sch_flow_trigger(const kt_sch_flow *f, const char *id);
/* A lock whose execution ended or vanished is released in *st (returns 1 when it changed). */
int kt_sch_release_if_ended(kt_scheduler *s, kt_trig_state *st, int64_t now_us);
/* Writes a trigger's row inside the caller's transaction, if it still holds basis (kt_trig_state_json of the state st
 * was computed from, or the row as read when it did not parse; NULL: the caller found no row, and it is written only
 * if there is still none). KT_ECONFLICT when another scheduler or the API moved (or made) it since: the caller rolls
 * back and evaluates again from the row as it is (scheduler.c). */
kt_status kt_sch_put_state(kt_scheduler *s, const json_t *basis, const kt_trig_state *st);
/* A committed change of an execution's state (KT_MSG_EXECUTION_CHANGED, a replayed notice, a refused execution):
 * a Schedule's lock released when it ended, Flow triggers evaluated. */
void kt_sch_execution_changed(kt_scheduler *s, const json_t *execution);
kt_sch_flow *kt_sch_flow_get(kt_scheduler *s, const char *ns, const char *id);
/* (Re-)evaluates one trigger now: fires what is due, then arms its next date. */
void kt_sch_evaluate(kt_scheduler *s, const char *ns, const char *flow_id, const char *trigger_id);
void kt_sch_env(kt_scheduler *s, kt_env *env, int64_t now_us);

/* fire.c */
/* A new execution of flow f started by a trigger (labels: the flow's without system.*, then the trigger's rendered
 * ones, no correlation id; inputs as given, borrowed). Returns NULL with err when the labels do not render. */
json_t *kt_sch_execution_new(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger_def, const json_t *inputs,
                             const json_t *extra_labels, const json_t *render_ctx, int64_t now_us, char *err,
                             size_t errcap);
/* Hands committed executions to the executor (kept and retried when its mailbox is full). */
void kt_sch_send(kt_scheduler *s, json_t *execution);
/* The executor's answer to one of them: a refusal fails the execution and frees its trigger. */
void kt_sch_on_reply(kt_scheduler *s, const kt_msg *m);

/* flow_trigger.c */
/* An execution changed state: evaluates every Flow trigger of every other flow against it, commits the windows, the
 * executions they start and the change's notice (store.h) together, then hands the executions to the executor. */
void kt_sch_flow_triggers(kt_scheduler *s, const json_t *execution);
/* Its two halves (tests drive them apart to play two schedulers racing). The plan, read from the store at now:
 * {"created": [executions], "windows": {key: {"basis": the window as read or null, "window": what it becomes or null
 * (unchanged), "delete": reset}}}. */
json_t *kt_sch_flow_triggers_plan(kt_scheduler *s, const json_t *execution, int64_t now);
/* Whether the plan has nothing to write. */
int kt_sch_plan_empty(const json_t *plan);
/* Takes the change's notice (*taken = 0 when another transaction did: nothing written) and commits the plan with it if
 * every window it changed is still as read; KT_ECONFLICT (rolled back) when one moved: plan again. */
kt_status kt_sch_flow_triggers_commit(kt_scheduler *s, const json_t *execution, const json_t *plan, int64_t now,
                                      int *taken);

/* onmiss.c: a Flow trigger's onMiss (a FAILED execution when a window.deadline passes with dependsOn unsatisfied) */
/* 1 when the trigger definition is a Flow trigger with dependsOn, onMiss and window.deadline. */
int kt_sch_onmiss_watches(const json_t *trigger);
/* At now, in one transaction: the watched deadline passed still unsatisfied gets its FAILED execution (*failed, a new
 * reference, committed), then the next deadline is watched; *next_us: when to look again. KT_EINVAL (logged) when the
 * trigger cannot be watched; a store failure or a row made meanwhile by another scheduler: try again. */
kt_status kt_sch_onmiss_check(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, int64_t now,
                              int64_t *next_us, json_t **failed);
/* The due date of an onMiss trigger (under key): checked, the next deadline armed. */
void kt_sch_onmiss_evaluate(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, const char *key);
/* The trigger's dependsOn window w completed: its deadline's row becomes SATISFIED in the plan (written with the
 * plan's windows, against the row as read now). */
void kt_sch_onmiss_satisfied(kt_scheduler *s, const kt_sch_flow *f, const json_t *trigger, const json_t *w,
                             json_t *plan);

/* resync.c */
/* At start: the notices left by the previous process, acted on each as its message would have been. */
void kt_sch_replay_notices(kt_scheduler *s);
/* The periodic reconcile: every flow whose latest revision in the store is not the one acted on (a FLOW_CHANGED lost:
 * sent while no scheduler listened, or refused by a full mailbox), and every flow deleted since, is brought up to date
 * as on the message; an enabled trigger row not armed is evaluated. Returns how many were. Cheap when nothing changed:
 * a listing of the flows and one of the trigger rows. */
int kt_sch_resync(kt_scheduler *s);
/* The timer's callback (data: the scheduler): kt_sch_resync, then the notices no scheduler took are acted on. */
void kt_sch_on_resync(uv_timer_t *t);

/* poll.c: polling triggers (flow/poll.h) */
/* The trigger (enabled, in an enabled flow) at its due date: its row read, an evaluation sent to a worker, its
 * conditions checked first, a lost evaluation given up; the next date armed under key. */
void kt_sch_poll_evaluate(kt_scheduler *s, const kt_sch_flow *f, const kt_sch_trigger *t, const char *key);
/* A Reply: 1 when it answers an evaluation (acted on), 0 when it is not one. */
int kt_sch_poll_on_reply(kt_scheduler *s, const kt_msg *m);
/* The trigger's evaluation in flight is no longer waited for (its row went): a late answer is dropped. */
void kt_sch_poll_forget(kt_scheduler *s, const char *key);
void kt_sch_poll_free(kt_scheduler *s);

#endif
