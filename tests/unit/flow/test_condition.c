/* Trigger conditions (flow/condition.h, KESTRA-execution.md §5.9): every type true and false under its canonical
 * name and its aliases, Kestra's errors, the render context, the list evaluators. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/condition.h"
#include "tests/unit/json_parse.h"

#define C "io.kestra.plugin.core.condition."
#define L "io.kestra.core.models.conditions.types."

static const char *const EXEC =
    "{\"id\": \"ex1\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\", \"flowRevision\": 2,"
    " \"state\": {\"current\": \"SUCCESS\", \"histories\": [{\"state\": \"CREATED\", \"date\": "
    "\"2024-06-15T10:00:00Z\"}, {\"state\": \"SUCCESS\", \"date\": \"2024-06-15T10:01:00Z\"}]},"
    " \"labels\": [{\"key\": \"team\", \"value\": \"data\"}, {\"key\": \"n\", \"value\": \"1\"}],"
    " \"inputs\": {\"who\": \"world\"}, \"outputs\": {\"total\": 42},"
    " \"trigger\": {\"id\": \"up\", \"type\": \"x\", \"variables\": {\"origin\": \"parent\"}},"
    " \"taskRunList\": ["
    "  {\"id\": \"t1\", \"taskId\": \"hello\", \"outputs\": {\"value\": \"hi\"}, \"state\": {\"current\": \"SUCCESS\"},"
    "   \"attempts\": [{\"state\": {\"current\": \"FAILED\"}}, {\"state\": {\"current\": \"SUCCESS\"}}]},"
    "  {\"id\": \"t2\", \"taskId\": \"once\", \"state\": {\"current\": \"SUCCESS\"},"
    "   \"attempts\": [{\"state\": {\"current\": \"KILLED\"}}]}]}";
static const char *const FLOW = "{\"id\": \"downstream\", \"namespace\": \"company.team\", \"revision\": 5,"
                                " \"variables\": {\"limit\": 10}}";

typedef struct fx {
    json_t *flow, *execution, *trigger;
    kt_env env;
    kt_cond_ctx ctx;
    char err[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->flow = parse(FLOW);
    f->execution = parse(EXEC);
    kt_env_init(&f->env, INT64_C(1718445600000000), 7);
    f->ctx = (kt_cond_ctx){f->flow, f->execution, NULL, NULL, &f->env};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    json_decref(f->flow);
    json_decref(f->execution);
    json_decref(f->trigger);
    free(f);
    return 0;
}

/* A Schedule's context: no execution, trigger = {date, next, previous}. */
static void schedule_ctx(fx *f, const char *date)
{
    json_decref(f->trigger);
    f->trigger = json_pack("{s:s, s:s, s:s}", "date", date, "next", "2099-01-01T00:00:00Z", "previous",
                           "2000-01-01T00:00:00Z");
    f->ctx.execution = NULL;
    f->ctx.trigger = f->trigger;
}

static kt_cond_result test1(fx *f, const char *cond)
{
    json_t *c = parse(cond);
    f->err[0] = '\0';
    kt_cond_result r = kt_cond_test(c, &f->ctx, f->err, sizeof f->err);
    json_decref(c);
    return r;
}

#define IS_TRUE(f, cond) assert_int_equal(test1(f, cond), KT_COND_TRUE)
#define IS_FALSE(f, cond) assert_int_equal(test1(f, cond), KT_COND_FALSE)
#define IS_ERROR(f, cond, msg)                                                                                   \
    do {                                                                                                         \
        assert_int_equal(test1(f, cond), KT_COND_ERROR);                                                         \
        if (!strstr((f)->err, msg))                                                                              \
            fail_msg("error '%s' should contain '%s'", (f)->err, msg);                                           \
    } while (0)

/* ---- execution conditions ------------------------------------------------------------------------ */

static void test_execution_flow(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "ExecutionFlow\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\"}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionFlow\", \"namespace\": \"company.team\", \"flowId\": \"upstream\"}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionFlow\", \"namespace\": \"company.team.sub\", \"flowId\": \"other\"}");
    /* both legacy aliases */
    IS_TRUE(f, "{\"type\": \"" L "ExecutionFlowCondition\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\"}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionFlowCondition\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\"}");
    IS_ERROR(f, "{\"type\": \"" C "ExecutionFlow\", \"namespace\": \"a\"}", "flowId: must not be null");
    f->ctx.execution = NULL;
    IS_ERROR(f, "{\"type\": \"" C "ExecutionFlow\", \"namespace\": \"a\", \"flowId\": \"b\"}",
             "Invalid condition with null execution");
}

static void test_execution_namespace(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"company.team.sub\"}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"company.team\"}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"company.team\", \"prefix\": true}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"company\", \"comparison\": \"PREFIX\"}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"team.sub\", \"comparison\": \"SUFFIX\"}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"team\", \"comparison\": \"SUFFIX\"}");
    /* comparison wins over prefix */
    IS_FALSE(f, "{\"type\": \"" L "ExecutionNamespaceCondition\", \"namespace\": \"company\", \"prefix\": true,"
                " \"comparison\": \"EQUALS\"}");
    IS_ERROR(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"c\", \"comparison\": \"LIKE\"}",
             "comparison");
    f->ctx.execution = NULL;
    IS_ERROR(f, "{\"type\": \"" C "ExecutionNamespace\", \"namespace\": \"c\"}", "Invalid condition with null execution");
}

static void test_execution_status(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "ExecutionStatus\", \"in\": [\"SUCCESS\", \"WARNING\"]}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionStatus\", \"in\": [\"FAILED\"]}");
    IS_FALSE(f, "{\"type\": \"" L "ExecutionStatusCondition\", \"notIn\": [\"SUCCESS\"]}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionStatusCondition\", \"notIn\": [\"FAILED\"]}");
    IS_TRUE(f, "{\"type\": \"" C "ExecutionStatus\"}");
    f->ctx.execution = NULL;
    IS_ERROR(f, "{\"type\": \"" C "ExecutionStatus\", \"in\": [\"SUCCESS\"]}", "Invalid condition with null execution");
}

static void test_execution_labels(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "ExecutionLabels\", \"labels\": [{\"key\": \"team\", \"value\": \"data\"}]}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionLabels\", \"labels\": [{\"key\": \"team\", \"value\": \"ops\"}]}");
    /* a map, its numbers as strings; every label must be there */
    IS_TRUE(f, "{\"type\": \"" L "ExecutionLabelsCondition\", \"labels\": {\"team\": \"data\", \"n\": 1}}");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionLabels\", \"labels\": {\"team\": \"data\", \"missing\": \"x\"}}");
    IS_ERROR(f, "{\"type\": \"" C "ExecutionLabels\"}", "labels: must not be null");
}

static void test_execution_outputs(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "ExecutionOutputs\", \"expression\": \"{{ trigger.outputs.total == 42 }}\"}");
    IS_FALSE(f, "{\"type\": \"" L "ExecutionOutputsCondition\", \"expression\": \"{{ trigger.outputs.total > 50 }}\"}");
    /* trigger.outputs is merged into the trigger variables the execution carries */
    IS_TRUE(f, "{\"type\": \"" C "ExecutionOutputs\", \"expression\": \"{{ trigger.origin }}\"}");
    /* no outputs: false without rendering (an expression that would fail) */
    json_object_del(f->execution, "outputs");
    IS_FALSE(f, "{\"type\": \"" C "ExecutionOutputs\", \"expression\": \"{{ nope.nope }}\"}");
}

static void test_has_retry_attempt(void **state)
{
    fx *f = *state;
    /* only task runs with more than one attempt count: t2's KILLED attempt does not */
    IS_TRUE(f, "{\"type\": \"" C "HasRetryAttempt\"}");
    IS_TRUE(f, "{\"type\": \"" C "HasRetryAttempt\", \"in\": [\"FAILED\"]}");
    IS_FALSE(f, "{\"type\": \"" L "HasRetryAttemptCondition\", \"in\": [\"KILLED\"]}");
    IS_TRUE(f, "{\"type\": \"" C "HasRetryAttempt\", \"notIn\": [\"FAILED\"]}");
    IS_FALSE(f, "{\"type\": \"" C "HasRetryAttempt\", \"notIn\": [\"FAILED\", \"SUCCESS\"]}");
    f->ctx.execution = NULL;
    IS_ERROR(f, "{\"type\": \"" C "HasRetryAttempt\"}", "Invalid condition with null execution");
}

/* ---- expression, flow, Not, Or ------------------------------------------------------------------- */

static void test_expression(void **state)
{
    fx *f = *state;
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ flow.id == 'downstream' }}\"}");
    IS_TRUE(f, "{\"type\": \"" C "ExpressionCondition\", \"expression\": \"{{ execution.id }}\"}");
    IS_FALSE(f, "{\"type\": \"" L "VariableCondition\", \"expression\": \"{{ labels.team == 'ops' }}\"}");
    /* blank and "false" (trimmed) are false, anything else true */
    IS_FALSE(f, "{\"type\": \"" C "Expression\", \"expression\": \"   \"}");
    IS_FALSE(f, "{\"type\": \"" C "Expression\", \"expression\": \" {{ false }} \"}");
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"0\"}");
    /* the render context: inputs, task outputs, flow variables, execution state and start */
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ inputs.who == 'world' and outputs.hello.value"
               " == 'hi' and vars.limit == 10 and execution.state == 'SUCCESS' }}\"}");
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ execution.startDate == '2024-06-15T10:00:00Z'"
               " and flow.revision == 5 and flow.namespace == 'company.team' }}\"}");
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ trigger.origin == 'parent' }}\"}");
    /* the caller's trigger replaces the execution's */
    json_t *t = json_pack("{s:s}", "body", "x");
    f->ctx.trigger = t;
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ trigger.body == 'x' }}\"}");
    f->ctx.trigger = NULL;
    json_decref(t);
    /* now() reads the environment's clock */
    IS_TRUE(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ now() | date('yyyy') == '2024' }}\"}");
    IS_ERROR(f, "{\"type\": \"" C "Expression\", \"expression\": \"{{ nope.x }}\"}", "nope");
    IS_ERROR(f, "{\"type\": \"" C "Expression\"}", "expression: must not be null");
}

static void test_flow_conditions(void **state)
{
    fx *f = *state;
    /* the flow being triggered, not the execution */
    IS_TRUE(f, "{\"type\": \"" C "FlowCondition\", \"namespace\": \"company.team\", \"flowId\": \"downstream\"}");
    IS_FALSE(f, "{\"type\": \"" L "FlowCondition\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\"}");
    IS_TRUE(f, "{\"type\": \"" C "FlowNamespaceCondition\", \"namespace\": \"company.team\"}");
    IS_FALSE(f, "{\"type\": \"" L "FlowNamespaceCondition\", \"namespace\": \"company\"}");
    IS_TRUE(f, "{\"type\": \"" C "FlowNamespaceCondition\", \"namespace\": \"company\", \"prefix\": true}");
    /* needs no execution */
    f->ctx.execution = NULL;
    IS_TRUE(f, "{\"type\": \"" C "FlowCondition\", \"namespace\": \"company.team\", \"flowId\": \"downstream\"}");
}

static void test_not_or(void **state)
{
    fx *f = *state;
    const char *yes = "{\"type\": \"" C "Expression\", \"expression\": \"true\"}";
    const char *no = "{\"type\": \"" C "Expression\", \"expression\": \"false\"}";
    const char *bad = "{\"type\": \"" C "Expression\", \"expression\": \"{{ nope.x }}\"}";
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"type\": \"" C "Or\", \"conditions\": [%s, %s]}", no, yes);
    IS_TRUE(f, buf);
    snprintf(buf, sizeof buf, "{\"type\": \"" L "OrCondition\", \"conditions\": [%s, %s]}", no, no);
    IS_FALSE(f, buf);
    snprintf(buf, sizeof buf, "{\"type\": \"" C "Not\", \"conditions\": [%s, %s]}", no, no);
    IS_TRUE(f, buf);
    snprintf(buf, sizeof buf, "{\"type\": \"" C "NotCondition\", \"conditions\": [%s, %s]}", no, yes);
    IS_FALSE(f, buf);
    /* an error before the deciding member is the whole condition's error; after it, never evaluated */
    snprintf(buf, sizeof buf, "{\"type\": \"" C "Or\", \"conditions\": [%s, %s]}", bad, yes);
    IS_ERROR(f, buf, "nope");
    snprintf(buf, sizeof buf, "{\"type\": \"" C "Or\", \"conditions\": [%s, %s]}", yes, bad);
    IS_TRUE(f, buf);
    /* nested */
    snprintf(buf, sizeof buf, "{\"type\": \"" C "Not\", \"conditions\": [{\"type\": \"" C "Or\", \"conditions\": [%s]}]}", yes);
    IS_FALSE(f, buf);
    IS_ERROR(f, "{\"type\": \"" C "Not\"}", "conditions: must not be null");
    IS_ERROR(f, "{\"type\": \"io.kestra.plugin.core.condition.Nope\"}", "Unknown condition type");
    IS_ERROR(f, "{\"type\": \"" C "MultipleCondition\", \"id\": \"m\", \"conditions\": {}}", "window");
}

/* ---- date conditions ----------------------------------------------------------------------------- */

static void test_date_time_between(void **state)
{
    fx *f = *state;
    schedule_ctx(f, "2024-06-15T10:00:00+02:00");
    IS_TRUE(f, "{\"type\": \"" C "DateTimeBetween\", \"after\": \"2024-06-15T07:59:59Z\"}");
    /* strictly after: the same instant written in another offset is not after */
    IS_FALSE(f, "{\"type\": \"" C "DateTimeBetween\", \"after\": \"2024-06-15T08:00:00Z\"}");
    IS_TRUE(f, "{\"type\": \"" L "DateTimeBetweenCondition\", \"before\": \"2024-06-15T10:00:01+02:00\"}");
    IS_FALSE(f, "{\"type\": \"" C "DateTimeBetweenCondition\", \"before\": \"2024-06-15T09:00:00+01:00\"}");
    IS_TRUE(f, "{\"type\": \"" C "DateTimeBetween\", \"after\": \"2024-01-01T00:00:00Z\","
               " \"before\": \"2025-01-01T00:00:00+01:00[Europe/Paris]\"}");
    IS_FALSE(f, "{\"type\": \"" C "DateTimeBetween\", \"after\": \"2024-07-01T00:00:00Z\","
                " \"before\": \"2025-01-01T00:00:00Z\"}");
    IS_ERROR(f, "{\"type\": \"" C "DateTimeBetween\"}", "Invalid condition with no before nor after");
    /* `date` rendered in the context instead of trigger.date */
    IS_TRUE(f, "{\"type\": \"" C "DateTimeBetween\", \"date\": \"{{ schedule.next }}\", \"after\": \"2098-12-31T00:00:00Z\"}");
    IS_ERROR(f, "{\"type\": \"" C "DateTimeBetween\", \"date\": \"2024-06-15 10:00\", \"after\": \"2020-01-01T00:00:00Z\"}",
             "could not be parsed at index 10");
    IS_ERROR(f, "{\"type\": \"" C "DateTimeBetween\", \"date\": \"2024-06-15T10:00:00\", \"after\": \"2020-01-01T00:00:00Z\"}",
             "could not be parsed at index 19");
    IS_ERROR(f, "{\"type\": \"" C "DateTimeBetween\", \"date\": \"2024-06-15T10:00:00Z[Mars/Olympus]\","
                " \"after\": \"2020-01-01T00:00:00Z\"}", "Unknown time-zone ID");
}

static void test_time_between(void **state)
{
    fx *f = *state;
    schedule_ctx(f, "2024-06-15T10:30:00+02:00");
    IS_TRUE(f, "{\"type\": \"" C "TimeBetween\", \"after\": \"10:00:00+02:00\", \"before\": \"11:00:00+02:00\"}");
    /* offsets count: 10:30+02:00 is 08:30 UTC */
    IS_TRUE(f, "{\"type\": \"" L "TimeBetweenCondition\", \"after\": \"08:00:00Z\", \"before\": \"09:00Z\"}");
    IS_FALSE(f, "{\"type\": \"" C "TimeBetween\", \"after\": \"10:00:00Z\"}");
    IS_FALSE(f, "{\"type\": \"" C "TimeBetweenCondition\", \"before\": \"10:30:00+02:00\"}");
    IS_ERROR(f, "{\"type\": \"" C "TimeBetween\"}", "Invalid condition with no before nor after");
    IS_ERROR(f, "{\"type\": \"" C "TimeBetween\", \"after\": \"10h\"}", "could not be parsed");
}

static void test_day_conditions(void **state)
{
    fx *f = *state;
    schedule_ctx(f, "2024-06-15T23:30:00-05:00"); /* Saturday 15 where it is written (Sunday 16 in UTC) */
    IS_TRUE(f, "{\"type\": \"" C "DayWeek\", \"dayOfWeek\": \"SATURDAY\"}");
    IS_FALSE(f, "{\"type\": \"" L "DayWeekCondition\", \"dayOfWeek\": \"SUNDAY\"}");
    IS_TRUE(f, "{\"type\": \"" C "Weekend\"}");
    IS_TRUE(f, "{\"type\": \"" L "WeekendCondition\", \"date\": \"2024-06-16\"}");
    IS_FALSE(f, "{\"type\": \"" C "WeekendCondition\", \"date\": \"2024-06-17\"}");
    /* the third Saturday of June 2024 */
    IS_TRUE(f, "{\"type\": \"" C "DayWeekInMonth\", \"dayOfWeek\": \"SATURDAY\", \"dayInMonth\": \"THIRD\"}");
    IS_FALSE(f, "{\"type\": \"" C "DayWeekInMonth\", \"dayOfWeek\": \"SATURDAY\", \"dayInMonth\": \"SECOND\"}");
    IS_TRUE(f, "{\"type\": \"" L "DayWeekInMonthCondition\", \"date\": \"2024-06-29\", \"dayOfWeek\": \"SATURDAY\","
               " \"dayInMonth\": \"LAST\"}");
    IS_TRUE(f, "{\"type\": \"" C "DayWeekInMonth\", \"date\": \"2024-06-03\", \"dayOfWeek\": \"MONDAY\","
               " \"dayInMonth\": \"FIRST\"}");
    /* 23 May 2024 is the fourth Thursday, not the last (the 30th is) */
    IS_TRUE(f, "{\"type\": \"" C "DayWeekInMonth\", \"date\": \"2024-05-23\", \"dayOfWeek\": \"THURSDAY\","
               " \"dayInMonth\": \"FOURTH\"}");
    IS_FALSE(f, "{\"type\": \"" C "DayWeekInMonth\", \"date\": \"2024-05-23\", \"dayOfWeek\": \"THURSDAY\","
                " \"dayInMonth\": \"LAST\"}");
    IS_ERROR(f, "{\"type\": \"" C "DayWeek\", \"dayOfWeek\": \"FUNDAY\"}", "dayOfWeek");
    IS_ERROR(f, "{\"type\": \"" C "DayWeekInMonth\", \"dayOfWeek\": \"MONDAY\", \"dayInMonth\": \"FIFTH\"}",
             "Invalid dayInMonth");
    IS_ERROR(f, "{\"type\": \"" C "DayWeek\", \"dayOfWeek\": \"MONDAY\", \"date\": \"June 3\"}", "could not be parsed");
    /* no trigger at all: the default date cannot render */
    f->ctx.trigger = NULL;
    assert_int_equal(test1(f, "{\"type\": \"" C "Weekend\"}"), KT_COND_ERROR);
}

static void test_public_holiday(void **state)
{
    fx *f = *state;
    schedule_ctx(f, "2024-07-14T09:00:00+02:00");
    IS_TRUE(f, "{\"type\": \"" C "PublicHoliday\", \"country\": \"FR\"}");
    IS_FALSE(f, "{\"type\": \"" L "PublicHolidayCondition\", \"country\": \"DE\"}");
    IS_TRUE(f, "{\"type\": \"" C "PublicHolidayCondition\", \"date\": \"2024-01-06\", \"country\": \"{{ 'DE' }}\","
               " \"subDivision\": \"{{ 'BY' }}\"}");
    IS_FALSE(f, "{\"type\": \"" C "PublicHoliday\", \"date\": \"2024-01-06\", \"country\": \"DE\", \"subDivision\": \"BE\"}");
    /* no country: the JVM default locale of Kestra's image (en_US) */
    IS_TRUE(f, "{\"type\": \"" C "PublicHoliday\", \"date\": \"2024-07-04\"}");
    IS_FALSE(f, "{\"type\": \"" C "PublicHoliday\"}");
    IS_ERROR(f, "{\"type\": \"" C "PublicHoliday\", \"country\": \"IT\"}", "no holiday calendar for country 'IT'");
    IS_ERROR(f, "{\"type\": \"" C "PublicHoliday\", \"country\": \"{{ nope.x }}\"}", "country: ");
}

/* ---- lists and types ----------------------------------------------------------------------------- */

static void test_lists(void **state)
{
    fx *f = *state;
    json_t *l = parse("[{\"type\": \"" C "ExecutionStatus\", \"in\": [\"SUCCESS\"]},"
                      " {\"type\": \"" C "MultipleCondition\", \"id\": \"m\", \"conditions\": {}},"
                      " {\"type\": \"" C "ExecutionFlow\", \"namespace\": \"company.team.sub\", \"flowId\": \"upstream\"}]");
    assert_int_equal(kt_cond_all(l, &f->ctx, f->err, sizeof f->err), KT_COND_TRUE);
    json_array_append_new(l, parse("{\"type\": \"" C "ExecutionStatus\", \"in\": [\"FAILED\"]}"));
    json_array_append_new(l, parse("{\"type\": \"" C "Expression\", \"expression\": \"{{ nope.x }}\"}"));
    assert_int_equal(kt_cond_all(l, &f->ctx, f->err, sizeof f->err), KT_COND_FALSE);
    json_array_remove(l, 3);
    assert_int_equal(kt_cond_all(l, &f->ctx, f->err, sizeof f->err), KT_COND_ERROR);
    assert_int_equal(kt_cond_all(NULL, &f->ctx, f->err, sizeof f->err), KT_COND_TRUE);
    json_decref(l);
    /* a Schedule re-checks its ScheduleConditions only: an execution condition is skipped, not an error */
    schedule_ctx(f, "2024-06-15T10:00:00Z");
    l = parse("[{\"type\": \"" C "ExecutionStatus\", \"in\": [\"FAILED\"]}, {\"type\": \"" C "Weekend\"}]");
    assert_int_equal(kt_cond_all_schedule(l, &f->ctx, f->err, sizeof f->err), KT_COND_TRUE);
    assert_int_equal(kt_cond_all(l, &f->ctx, f->err, sizeof f->err), KT_COND_ERROR);
    assert_string_equal(f->err, "Invalid condition with null execution");
    json_array_append_new(l, parse("{\"type\": \"" L "DayWeekCondition\", \"dayOfWeek\": \"MONDAY\"}"));
    assert_int_equal(kt_cond_all_schedule(l, &f->ctx, f->err, sizeof f->err), KT_COND_FALSE);
    json_decref(l);
}

static void test_types(void **state)
{
    (void)state;
    static const char *const schedule[] = {"ExecutionOutputs", "Expression", "Not", "Or", "DateTimeBetween",
                                           "TimeBetween", "DayWeek", "DayWeekInMonth", "Weekend", "PublicHoliday"};
    static const char *const other[] = {"ExecutionFlow", "ExecutionNamespace", "ExecutionStatus", "ExecutionLabels",
                                        "HasRetryAttempt", "FlowCondition", "FlowNamespaceCondition",
                                        "MultipleCondition"};
    char buf[160];
    for (size_t i = 0; i < sizeof schedule / sizeof *schedule; i++) {
        snprintf(buf, sizeof buf, C "%s", schedule[i]);
        assert_true(kt_cond_is_schedule(buf) && kt_cond_is_known(buf) && !kt_cond_is_multiple(buf));
        if (strcmp(schedule[i], "Expression")) {
            snprintf(buf, sizeof buf, L "%sCondition", schedule[i]);
            assert_true(kt_cond_is_schedule(buf));
            snprintf(buf, sizeof buf, C "%sCondition", schedule[i]);
            assert_true(kt_cond_is_schedule(buf));
        }
    }
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        snprintf(buf, sizeof buf, C "%s", other[i]);
        assert_true(kt_cond_is_known(buf) && !kt_cond_is_schedule(buf));
    }
    assert_true(kt_cond_is_schedule(L "VariableCondition"));
    assert_true(kt_cond_is_schedule(C "ExpressionCondition"));
    assert_true(kt_cond_is_multiple(C "MultipleCondition") && kt_cond_is_multiple(L "MultipleCondition"));
    assert_false(kt_cond_is_known(C "Nope") || kt_cond_is_known(NULL) || kt_cond_is_known(KT_COND_TYPE_FILTER));
    assert_false(kt_cond_is_known("io.kestra.plugin.core.log.Log"));
}

int main(void)
{
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_execution_flow),   T(test_execution_namespace), T(test_execution_status), T(test_execution_labels),
        T(test_execution_outputs), T(test_has_retry_attempt),  T(test_expression),       T(test_flow_conditions),
        T(test_not_or),           T(test_date_time_between),   T(test_time_between),     T(test_day_conditions),
        T(test_public_holiday),   T(test_lists),               T(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
