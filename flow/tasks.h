/* The plugin catalogue: every task, trigger, condition and task-runner type Kite knows, under its canonical
 * Kestra class name and its legacy aliases, with the properties each accepts. The flow validator walks these
 * tables (strict like Kestra's Jackson mapper: an unknown property is an error); the executor and the worker
 * ask them what kind of task a type is. */
#ifndef KT_FLOW_TASKS_H
#define KT_FLOW_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* What a property's YAML value must look like. */
typedef enum kt_prop_kind {
    KT_P_ANY,         /* anything */
    KT_P_STR,         /* scalar (numbers and booleans are accepted and read as text, as Jackson does) */
    KT_P_BOOL,        /* true/false (or the strings "true"/"false") */
    KT_P_INT,         /* integer or integer string */
    KT_P_NUM,         /* number or numeric string */
    KT_P_DUR,         /* ISO-8601 duration, or a number of seconds */
    KT_P_ENUM,        /* one of prop->enums, exact case */
    KT_P_MAP,         /* object, any content */
    KT_P_LIST,        /* array, any content */
    KT_P_STR_LIST,    /* array of scalars */
    KT_P_ENUM_LIST,   /* array of prop->enums values */
    KT_P_STR_OR_LIST, /* scalar or array of scalars */
    KT_P_STR_OR_MAP,  /* scalar or object */
    KT_P_LABELS,      /* map of scalars, or list of {key, value} */
    KT_P_OBJ,         /* object checked against prop->sub (strict) */
    KT_P_OBJ_LIST,    /* array of objects checked against prop->sub */
    KT_P_TASKS,       /* array of tasks */
    KT_P_CASES,       /* Switch: object of arrays of tasks */
    KT_P_DAG,         /* Dag: array of {task, dependsOn} */
    KT_P_RETRY,       /* retry policy object (constant/exponential/random) */
    KT_P_CONDS,       /* array of conditions */
    KT_P_COND_MAP,    /* MultipleCondition: object id -> condition */
    KT_P_RUNNER,      /* task runner object */
    KT_P_INPUTS,      /* array of input definitions (Pause onResume) */
    KT_P_CRON,        /* cron expression (checked with the sibling withSeconds) */
} kt_prop_kind;

enum {
    KT_PF_REQ = 1,      /* @NotNull: "must not be null" when absent */
    KT_PF_NONEMPTY = 2, /* @NotEmpty/@NotBlank: "must not be empty" when "" or [] */
    KT_PF_DYN = 4,      /* Property<T> or rendered: a string holding an expression is accepted for any kind */
    KT_PF_RAW = 8,      /* left unrendered by the executor: the task renders it itself, once per record
                         * (FilterItems' filterCondition, DeduplicateItems' expr: @PluginProperty(dynamic = false)) */
    KT_PF_TYPED = 16,   /* a string rendered as Kestra's renderTyped: one `{{ expr }}` yields the value itself (a
                         * number, a map...), as kv.Set's `value` */
};

typedef struct kt_prop {
    const char *name;
    uint8_t kind; /* kt_prop_kind */
    uint8_t flags;
    const char *const *enums;   /* KT_P_ENUM, KT_P_ENUM_LIST: NULL-terminated */
    const struct kt_prop *sub;  /* KT_P_OBJ, KT_P_OBJ_LIST: {NULL}-terminated */
} kt_prop;

typedef enum kt_plugin_kind {
    KT_PLUGIN_RUNNABLE,      /* runs on a worker */
    KT_PLUGIN_FLOWABLE,      /* resolved by the executor */
    KT_PLUGIN_EXECUTABLE,    /* starts another execution (Subflow) */
    KT_PLUGIN_EXEC_UPDATE,   /* modifies the running execution in the executor (Labels) */
    KT_PLUGIN_TRIGGER,
    KT_PLUGIN_CONDITION,
    KT_PLUGIN_TASK_RUNNER,
} kt_plugin_kind;

/* Whether Kite does what a type asks. The truth is the code that acts on it, which the catalogue must follow:
 * the worker's implementations (actors/worker: kt_worker_find_impl, kt_task_runner_available), the flowables,
 * Subflow and Labels the executor handles (actors/executor/step.c), the Webhook endpoint (web/). The unit test
 * tests/unit/actors/test_catalogue.c checks the task and task-runner flags against the worker and the executor. */
typedef enum kt_support {
    KT_SUPPORT_RUNS,    /* runs (tasks, task runners), acts (Webhook), or is evaluated by what holds it (conditions) */
    KT_SUPPORT_NOT_YET, /* a flow using it is refused when saved: "... is not supported yet by Kite" */
} kt_support;

typedef struct kt_task_def {
    const char *type;             /* canonical class name */
    const char *const *aliases;   /* NULL-terminated, may be NULL */
    uint8_t kind;                 /* kt_plugin_kind */
    uint8_t to_worker;            /* sent to a worker as a job (runnables and WorkingDirectory) */
    uint8_t support;              /* kt_support */
    const kt_prop *props;         /* own properties, {NULL}-terminated (common ones are implied by kind) */
} kt_task_def;

/* The whole catalogue, *n entries (for tests and listings). */
const kt_task_def *kt_task_catalogue(size_t *n);
/* Looks a type up by canonical name or alias; NULL when unknown. */
const kt_task_def *kt_task_lookup(const char *type);
/* Canonical type for a task/trigger type name (legacy io.kestra.core.tasks.* aliases -> io.kestra.plugin.core.*);
 * returns the input when it is not an alias. */
const char *kt_task_canonical_type(const char *type);
/* Properties every task has (id, type, retry, timeout...), and the extra ones of flowables (errors, finally). */
const kt_prop *kt_task_common_props(void);
const kt_prop *kt_task_flowable_props(void);
const kt_prop *kt_task_trigger_common_props(void);
/* Finds name in a {NULL}-terminated property table. */
const kt_prop *kt_prop_find(const kt_prop *props, const char *name);

/* Every plugin a flow document uses, in the places the property tables give plugins (tasks at any depth, errors,
 * listeners, Dag entries, Switch cases, triggers, conditions, task runners; never pluginDefaults nor variables),
 * depth first in document order. fn gets the plugin's path in the validator's notation ("tasks[0].then[1]",
 * "tasks[2].taskRunner", "triggers[0]"), its type as written and its catalogue entry; unknown types and
 * malformed parts (the validator reports those) are skipped. */
typedef void (*kt_task_visit_fn)(void *ud, const char *path, const char *type, const kt_task_def *d);
void kt_task_walk_flow(const json_t *flow, kt_task_visit_fn fn, void *ud);
/* The distinct types, as written, of the plugins of a flow document that do not run yet (KT_SUPPORT_NOT_YET),
 * joined with ", " into buf (always terminated, truncated to cap); returns how many there are. Save-time
 * validation refuses such a flow; the acceptance table skips its rows, with this list as the reason. */
size_t kt_task_unsupported_in_flow(const json_t *flow, char *buf, size_t cap);
/* "task", "trigger", "condition", "task runner": how a message names a plugin of this kind. */
const char *kt_task_kind_name(const kt_task_def *d);

/* Enum value lists shared with the validator. */
extern const char *const kt_enum_log_levels[];
extern const char *const kt_enum_input_types[];
extern const char *const kt_enum_states[];

#endif
