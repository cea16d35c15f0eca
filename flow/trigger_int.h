/* Shared between flow/trigger.c (the stored state) and flow/schedule.c (the Schedule rules): reading and writing
 * the zoned date-times Kestra's trigger JSON and trigger variables hold. Private to those two files. */
#ifndef KT_FLOW_TRIGGER_INT_H
#define KT_FLOW_TRIGGER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "time/tz.h"

/* A ZonedDateTime as text: `2024-01-01T10:00:00+01:00`, `...Z`, with an optional `[Zone]` suffix (the offset
 * decides the instant). 0, or -1 when it does not parse. */
int kt_trig__parse_zoned(const char *s, int64_t *us);
/* A JSON date member: such a string, or a number of epoch seconds (Jackson accepts both). 0, or -1. */
int kt_trig__date_from_json(const json_t *v, int64_t *us);
/* ISO_OFFSET_DATE_TIME of us in zone z: `2024-12-20T10:00:00+01:00`, `Z` for a zero offset; the fraction only
 * when not whole seconds (without trailing zeros). */
void kt_trig__format_zoned(int64_t us, const kt_tz_zone *z, char *buf, size_t cap);

/* ---- flow/schedule.c <-> flow/schedule_eval.c ---- */

#include "base/env.h"
#include "flow/condition.h"
#include "flow/trigger.h"
#include "time/cron.h"

#define S_US 1000000LL

struct kt_sched {
    kt_trig_kind kind;
    json_t *def;        /* deep copy of the definition */
    const char *id;     /* in def */
    kt_cron *cron;      /* Schedule */
    kt_tz_zone zone;    /* the trigger's zone: cron wall times and the variables' offsets */
    kt_tz_zone czone;   /* the server's zone: dates given to conditions (Kestra's Output.toMap()) */
    kt_sched_recover recover;
    int has_late;
    int64_t late_us;
    json_t *conditions; /* conditions + scheduleConditions, NULL when none (Schedule.getConditions) */
    int64_t *dates;     /* ScheduleOnDates: sorted, whole seconds */
    size_t ndates;
};

typedef struct sdates {
    int64_t date, next, prev; /* 0: none */
} sdates;

int64_t kt_sched__trunc_s(int64_t us);
/* The first occurrence strictly after / last strictly before; 1 found, 0 none. */
int kt_sched__occ_next(const kt_sched *s, int64_t after, int64_t *out);
int kt_sched__occ_prev(const kt_sched *s, int64_t before, int64_t *out);
/* Schedule.scheduleDates(d): date = first occurrence >= d - 1 s, next after it, previous strictly before d. */
int kt_sched__sched_dates(const kt_sched *s, int64_t d, sdates *sd);
json_t *kt_sched__date_str(int64_t us, const kt_tz_zone *z);
json_t *kt_sched__vars_json(const sdates *sd, const kt_tz_zone *z);
/* The schedule conditions for one occurrence's dates (written in the server zone). */
kt_cond_result kt_sched__cond_check(const kt_sched *s, const json_t *flow, const sdates *sd, const kt_env *env,
                                   char *err, size_t errcap);
/* The nearest occurrence after (next) / before `from` satisfying the schedule conditions: 1, 0 none, -1 error. */
int kt_sched__true_near(const kt_sched *s, const json_t *flow, int64_t from, int next, int64_t now,
                        const kt_env *env, int64_t *out, char *err, size_t errcap);
int64_t kt_sched__plus_year(int64_t now);
/* ScheduleOnDates: the first date > after (>= when incl), 0 none. */
int64_t kt_sched__date_after(const kt_sched *s, int64_t after, int incl);
/* nextEvaluationDate(last) from last_date or the backfill's current date; 0 none. */
int64_t kt_sched__next_eval(const kt_sched *s, const json_t *flow, int64_t last_date, const kt_trig_backfill *bf,
                            int64_t now, const kt_env *env);
/* {flow: {id, namespace, revision, tenantId}, trigger: {id, type}}: the context of the trigger's own properties. */
json_t *kt_sched__render_ctx(const kt_sched *s, const json_t *flow);

#endif
