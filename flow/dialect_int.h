/* Inside flow/dialect*.c: the constructs that tell Kestra's lines apart (inventory §E, the 2.0 migration guide) and
 * the walk that finds them in a flow document. dialect_markers.c finds; dialect.c decides what each one means
 * (a flow's line, and in a 2.x flow whether a 1.x construct is a deprecation or a refusal). */
#ifndef KT_FLOW_DIALECT_INT_H
#define KT_FLOW_DIALECT_INT_H

#include <jansson.h>

/* One construct of one line. The order is the rules table's (dialect.c), which must follow it. */
typedef enum kt_dmark {
    /* 2.x markers: any one makes the flow 2.x */
    KT_DM_TRIGGER_WHEN,     /* `when` on a trigger */
    KT_DM_FLOW_DEPENDS,     /* Flow trigger dependsOn / window / mode / minSatisfied / onMiss */
    KT_DM_LOOP,             /* io.kestra.plugin.core.flow.Loop */
    KT_DM_TYPE_2X,          /* Approval, execution.Kill, BatchWebhook, McpToolTrigger */
    KT_DM_INPUT_2X,         /* input types ION, OBJECT, TABLE */
    KT_DM_CHECK_WHEN,       /* checks[].when */
    KT_DM_POLICY_REFS,      /* policyRefs at the root */
    KT_DM_WORKER_SELECTOR,  /* workerSelector on a task */
    KT_DM_WEBHOOK_RESPONSE, /* Webhook responseCode / responseHeaders / responseBody (2.1) */
    KT_DM_ITEM_VAR,         /* item.value|index|key|parent|parents in an expression */
    KT_DM_LOOP_OUTPUTS,     /* loopOutputs( */
    KT_DM_READ_REVISION,    /* read(..., revision=) / fileURI(..., revision=) */
    KT_DM_DATE_FN,          /* isWeekend( dayOfWeek( hourOfDay( isPublicHoliday( ... */
    /* 1.x markers, deprecated in a 2.x flow */
    KT_DM_FOREACH,          /* ForEach, ForEachItem, EachSequential, EachParallel */
    KT_DM_PLUGIN_DEFAULTS,  /* pluginDefaults / taskDefaults at the root */
    KT_DM_JSON_FN,          /* json( */
    KT_DM_JSON_FILTER,      /* | json */
    KT_DM_INPUT_BOOLEAN,
    KT_DM_INPUT_ENUM,
    KT_DM_INPUT_NAME,
    KT_DM_MULTISELECT_OPTIONS,
    KT_DM_FILE_EXTENSION,
    KT_DM_RETRY_MAXATTEMPT,
    KT_DM_TRIGGER_CONDITIONS, /* conditions on a trigger without when / dependsOn */
    KT_DM_PRECONDITIONS,      /* a Flow trigger's preconditions without dependsOn / window */
    KT_DM_SCHEDULE_CONDITIONS,
    KT_DM_SCHEDULE_BACKFILL,
    KT_DM_LISTENERS,
    KT_DM_PAUSE_DELAY,
    KT_DM_PAUSE_TASKS,
    KT_DM_SUBFLOW_OUTPUTS,
    KT_DM_SCRIPT_RUNNER,    /* runner: on a script task */
    KT_DM_SCHEDULE_VAR,     /* {{ schedule.* }} */
    /* 1.x markers, refused in a 2.x flow */
    KT_DM_REMOVED_TYPE,     /* Count, Resume, Toggle, Template, Echo, state.*, LocalFiles, core script tasks */
    KT_DM_LEGACY_ALIAS,     /* io.kestra.core.tasks.*, ...Condition, io.kestra.plugin.fs.http.* */
    KT_DM_EXIT_CANCELED,
    KT_DM_READ_VERSION,     /* read(..., version=) / fileURI(..., version=) */
    /* ambiguous pairs (two locations), refused in a 2.x flow */
    KT_DM_AMB_CONDITIONS_WHEN,
    KT_DM_AMB_CONDITIONS_DEPENDS,
    KT_DM_AMB_MAXATTEMPT,
    KT_DM_COUNT
} kt_dmark;

/* First of each group, for the line of a mark. */
#define KT_DM_FIRST_V1 KT_DM_FOREACH
#define KT_DM_FIRST_AMB KT_DM_AMB_CONDITIONS_WHEN

/* Called for each construct found, depth first in document order: the property or value it is about ("tasks[0].
 * retry.maxAttempt", in the validator's notation), the other location of an ambiguous pair (else NULL), and a
 * detail for the message (the type as written, the input's type...; may be NULL). */
typedef void (*kt_dmark_fn)(void *ud, kt_dmark m, const char *path, const char *path2, const char *detail);
void kt_dialect_find_marks(const json_t *flow, kt_dmark_fn fn, void *ud);

#endif
