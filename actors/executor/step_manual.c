/* The execution-level events that come from the API or a timer rather than from a task run (step.h): a pause made
 * through the API, force-run, the scheduleDate of a CREATED execution, a MAX_DURATION SLA's deadline. Apart from
 * step.c's runs and passes because each is one rule about the execution's own state. */
#include "actors/executor/step_int.h"
#include "base/clock.h" /* kt_time_parse: dates of the document, never the clock */
#include "flow/model.h"

/* An execution created with a scheduleDate still ahead waits CREATED for it (Kestra's ExecutionDelay RESUME_FLOW
 * without a task run): a timer, armed again whenever the execution is taken in (a restart). 1 when it waits. */
int kt_step_scheduled_later(kt_pass *p)
{
    const char *at = kt_step_str(p->ex, "scheduleDate");
    int64_t when;
    if (!at || kt_time_parse(at, &when) || when <= p->now)
        return 0;
    if (kt_step_add_timer_for(p, "", KT_CMD_SCHEDULED, when))
        return 0; /* no room for the timer: it runs now rather than never */
    return 1;
}

/* Forced to run now (force-run, its scheduleDate came): RUNNING without the concurrency check, as Kestra re-emits it
 * RUNNING. */
static void kt_run_now(kt_pass *p)
{
    kt_state_set(json_object_get(p->ex, "state"), KT_S(RUNNING), p->now);
    p->fx->changed = 1;
    kt_step_start(p);
}

kt_status kt_step_ev_pause(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)ev;
    /* Kestra's State.isRunning(): RUNNING or KILLING */
    const char *cur = kt_state_current(p->ex);
    if (!kt_step_streq(cur, KT_S(RUNNING)) && !kt_step_streq(cur, KT_S(KILLING))) {
        p->fx->stale = 1;
        return KT_OK;
    }
    kt_state_set(json_object_get(p->ex, "state"), KT_S(PAUSED), p->now);
    p->fx->changed = 1;
    *after = KT_DONE;
    return KT_OK;
}

kt_status kt_step_ev_scheduled(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    (void)ev, (void)after;
    if (!kt_step_streq(kt_state_current(p->ex), KT_S(CREATED))) {
        p->fx->stale = 1; /* forced to run before its date */
        return KT_OK;
    }
    kt_run_now(p);
    return KT_OK;
}

kt_status kt_step_ev_force_run(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    const char *cur = kt_state_current(p->ex);
    if (kt_step_streq(cur, KT_S(CREATED)))
        kt_run_now(p);
    else if (kt_step_streq(cur, KT_S(QUEUED)))
        kt_step_unqueue(p);
    else if (kt_step_streq(cur, KT_S(PAUSED))) {
        kt_exec_event resume = *ev;
        resume.kind = KT_EV_RESUME;
        resume.state = KT_S(RUNNING);
        resume.taskrun_id = NULL;
        resume.outputs = NULL;
        (void)after;
        return kt_step_resume(p, &resume);
    }
    return KT_OK; /* any other state: processed again, as Kestra re-emits it unchanged */
}

kt_status kt_step_ev_sla(kt_pass *p, const kt_exec_event *ev, kt_after_event *after)
{
    if (kt_step_sla_due(p, ev->taskrun_id))
        *after = KT_DONE;
    return KT_OK;
}

