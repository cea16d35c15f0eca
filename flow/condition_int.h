/* Private to flow/condition*.c: the condition kinds, the lazily built render context, and the helpers the three
 * files share. */
#ifndef KT_FLOW_CONDITION_INT_H
#define KT_FLOW_CONDITION_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "flow/condition.h"

typedef enum kc_kind {
    KC_UNKNOWN = 0,
    KC_EXECUTION_FLOW,
    KC_EXECUTION_NAMESPACE,
    KC_EXECUTION_STATUS,
    KC_EXECUTION_LABELS,
    KC_EXECUTION_OUTPUTS,
    KC_HAS_RETRY_ATTEMPT,
    KC_EXPRESSION,
    KC_FLOW,
    KC_FLOW_NAMESPACE,
    KC_NOT,
    KC_OR,
    KC_DATE_TIME_BETWEEN,
    KC_TIME_BETWEEN,
    KC_DAY_WEEK,
    KC_DAY_WEEK_IN_MONTH,
    KC_WEEKEND,
    KC_PUBLIC_HOLIDAY,
    KC_MULTIPLE,
    KC_UPSTREAM_FLOW, /* internal: preconditions.flows[i] */
    KC_FILTER,        /* internal: preconditions.where[j] */
} kc_kind;

/* The kind of a type name, canonical or alias; KC_UNKNOWN for anything else. */
kc_kind kc_kind_of(const char *type);

/* One evaluation: the caller's context and the render variables, built on first use and shared by every
 * condition of a list (nested Not/Or included). */
typedef struct kc_eval {
    const kt_cond_ctx *ctx;
    json_t *vars;
} kc_eval;

/* The render variables (built once, borrowed). */
const json_t *kc_vars(kc_eval *ev);

/* Renders src in the condition's variables (extra, when not NULL, deep-merged over them first). 0 with a malloc'ed
 * *out, or -1 with err set to the engine's message. */
int kc_render(kc_eval *ev, const char *src, const json_t *extra, char **out, char *err, size_t errcap);

/* Tests one condition inside an evaluation (kt_cond_test is this with a fresh kc_eval). */
kt_cond_result kc_test(kc_eval *ev, const json_t *cond, char *err, size_t errcap);

/* The date conditions (flow/condition_date.c): DateTimeBetween, TimeBetween, DayWeek, DayWeekInMonth, Weekend,
 * PublicHoliday. */
kt_cond_result kc_test_date(kc_eval *ev, kc_kind kind, const json_t *cond, char *err, size_t errcap);

/* The preconditions' internal sub-conditions (flow/condition_multiple.c). */
kt_cond_result kc_test_upstream(kc_eval *ev, const json_t *cond, char *err, size_t errcap);
kt_cond_result kc_test_filter(kc_eval *ev, const json_t *cond, char *err, size_t errcap);

/* A JSON scalar as Java's String.valueOf writes it (strings as they are); NULL for null, arrays and objects.
 * malloc'ed. */
char *kc_scalar_string(const json_t *v);

/* 1 when a list of state names (JSON strings) holds s. */
int kc_states_contain(const json_t *list, const char *s);

#endif
