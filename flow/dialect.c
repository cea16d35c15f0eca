/* A flow's dialect, and what its other line's constructs mean in it (dialect.h). The constructs are found by
 * dialect_markers.c; this file holds the one table of what each is: its line, and in a 2.x flow whether it is
 * deprecated or refused, with the 2.0 migration guide's reason and replacement. */
#include "flow/dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/dialect_int.h"
#include "flow/flow.h"

/* Written once by cmd/ at start-up, before the loop and its threads start; read-only afterwards. */
static kt_dialect default_dialect = KT_DIALECT_1X;

void kt_flow_dialect_set_default(kt_dialect d) { default_dialect = d; }
kt_dialect kt_flow_dialect_default(void) { return default_dialect; }

/* ---------------------------------------------------------------- detection */

static void count_mark(void *ud, kt_dmark m, const char *path, const char *path2, const char *detail)
{
    (void)path, (void)path2, (void)detail;
    int *lines = ud;
    if (m < KT_DM_FIRST_V1)
        lines[1] = 1;
    else if (m < KT_DM_FIRST_AMB)
        lines[0] = 1;
    /* an ambiguous pair always has a 2.x half (when, dependsOn, checks when) or a common one (maxAttempts), whose
     * own mark decides */
}

kt_dialect kt_flow_dialect_detect(const json_t *flow, kt_dialect dflt)
{
    kt_dialect named;
    if (!kt_dialect_parse(json_string_value(json_object_get(flow, "dialect")), &named))
        return named;
    int lines[2] = {0, 0};
    kt_dialect_find_marks(flow, count_mark, lines);
    if (lines[1])
        return KT_DIALECT_2X; /* with 1.x markers too: half-way through a migration */
    if (lines[0])
        return KT_DIALECT_1X;
    return dflt;
}

/* ---------------------------------------------------------------- the 2.0 guide's table */

#define GUIDE "https://kestra.io/docs/migration-guide/v2.0.0"

enum { RULE_DEPRECATE = 1, RULE_REFUSE };

/* What a construct is in a 2.x flow. what: how the message names it (%s: the finding's detail); why: the guide's
 * reason and replacement. */
static const struct rule {
    kt_dmark mark;
    int action;
    const char *what, *why, *page;
} rules[] = {
    {KT_DM_FOREACH, RULE_DEPRECATE, "%s",
     "ForEach, ForEachItem, EachSequential and EachParallel are replaced by io.kestra.plugin.core.flow.Loop in Kestra "
     "2.0 (their iterations ran as task runs of one execution: a large one could exhaust the executor's memory)",
     "/foreach-loop"},
    {KT_DM_PLUGIN_DEFAULTS, RULE_DEPRECATE, "pluginDefaults",
     "plugin defaults are removed in Kestra 2.0: write the values in the tasks or in variables (Enterprise: "
     "policyRefs)",
     "/plugin-defaults-removed"},
    {KT_DM_JSON_FN, RULE_DEPRECATE, "json()", "the json() function is removed in Kestra 2.0: use fromJson()",
     "/json-function-removed"},
    {KT_DM_JSON_FILTER, RULE_DEPRECATE, "| json", "the json filter is removed in Kestra 2.0: use toJson",
     "/json-function-removed"},
    {KT_DM_INPUT_BOOLEAN, RULE_DEPRECATE, "BOOLEAN", "input type BOOLEAN is removed in Kestra 2.0: use BOOL", ""},
    {KT_DM_INPUT_ENUM, RULE_DEPRECATE, "ENUM", "input type ENUM is removed in Kestra 2.0: use SELECT or MULTISELECT",
     ""},
    {KT_DM_INPUT_NAME, RULE_DEPRECATE, "name", "an input's name is removed in Kestra 2.0: use id (and displayName)",
     ""},
    {KT_DM_MULTISELECT_OPTIONS, RULE_DEPRECATE, "options",
     "MULTISELECT options is removed in Kestra 2.0: use values", ""},
    {KT_DM_FILE_EXTENSION, RULE_DEPRECATE, "extension",
     "FILE extension is removed in Kestra 2.0: use allowedFileExtensions", ""},
    {KT_DM_RETRY_MAXATTEMPT, RULE_DEPRECATE, "maxAttempt",
     "retry maxAttempt is named maxAttempts in Kestra 2.0 (the old name is removed)", ""},
    {KT_DM_TRIGGER_CONDITIONS, RULE_DEPRECATE, "conditions",
     "trigger conditions are replaced by when (a Flow trigger's by dependsOn) in Kestra 2.0: conditions required a "
     "fully qualified Java type for every filtering need and did not compose across trigger types",
     "/trigger-conditions-redesign"},
    {KT_DM_PRECONDITIONS, RULE_DEPRECATE, "preconditions",
     "a Flow trigger's preconditions are replaced by dependsOn, window and mode in Kestra 2.0",
     "/trigger-conditions-redesign"},
    {KT_DM_SCHEDULE_CONDITIONS, RULE_DEPRECATE, "scheduleConditions",
     "scheduleConditions is removed in Kestra 2.0: use when", "/trigger-conditions-redesign"},
    {KT_DM_SCHEDULE_BACKFILL, RULE_DEPRECATE, "backfill", "Schedule backfill is removed in Kestra 2.0: remove it",
     ""},
    {KT_DM_LISTENERS, RULE_DEPRECATE, "listeners",
     "listeners are removed in Kestra 2.0: use a separate flow with a Flow trigger", ""},
    {KT_DM_PAUSE_DELAY, RULE_DEPRECATE, "delay", "Pause delay is removed in Kestra 2.0: use pauseDuration", ""},
    {KT_DM_PAUSE_TASKS, RULE_DEPRECATE, "tasks",
     "Pause tasks is removed in Kestra 2.0: put the tasks after the Pause", ""},
    {KT_DM_SUBFLOW_OUTPUTS, RULE_DEPRECATE, "outputs",
     "Subflow outputs is removed in Kestra 2.0: declare flow outputs in the child and read "
     "outputs.<subflow>.outputs.<id>",
     ""},
    {KT_DM_SCRIPT_RUNNER, RULE_DEPRECATE, "runner",
     "a script task's runner is removed in Kestra 2.0: use taskRunner (and containerImage)", ""},
    {KT_DM_SCHEDULE_VAR, RULE_DEPRECATE, "{{ schedule }}",
     "the schedule variable is removed in Kestra 2.0: use trigger (trigger.date...)", ""},
    {KT_DM_REMOVED_TYPE, RULE_REFUSE, "%s", NULL /* by type: removed_why() */, ""},
    {KT_DM_LEGACY_ALIAS, RULE_REFUSE, "%s", NULL /* names the canonical type */, ""},
    {KT_DM_EXIT_CANCELED, RULE_REFUSE, "CANCELED",
     "Exit state CANCELED is removed in Kestra 2.0: use CANCELLED (not KILLED)", ""},
    {KT_DM_READ_VERSION, RULE_REFUSE, "version=",
     "the version= argument of read() and fileURI() is removed in Kestra 2.0, with no alias: use revision=", ""},
    {KT_DM_AMB_CONDITIONS_WHEN, RULE_REFUSE, "%s",
     "beside when on one trigger, it is not said which one decides (Kestra 2.0 replaced conditions with when): keep "
     "only when",
     "/trigger-conditions-redesign"},
    {KT_DM_AMB_CONDITIONS_DEPENDS, RULE_REFUSE, "%s",
     "beside dependsOn/window on one Flow trigger, it is not said which one decides (Kestra 2.0 replaced them with "
     "dependsOn, window and mode): keep only dependsOn and window",
     "/trigger-conditions-redesign"},
    {KT_DM_AMB_MAXATTEMPT, RULE_REFUSE, "maxAttempt",
     "beside maxAttempts in one retry, it is not said which one counts (maxAttempts is its new name): keep only "
     "maxAttempts",
     ""},
};

/* The 2.0 guide's replacement for a removed type (canonical name). */
static const char *removed_why(const char *type)
{
    static const struct {
        const char *prefix, *why;
    } removed[] = {
        {"io.kestra.core.tasks.scripts.",
         "the core script tasks are removed in Kestra 2.0: use the script plugins (io.kestra.plugin.scripts.*)"},
        {"io.kestra.plugin.core.execution.Count", "execution.Count is removed in Kestra 2.0: use the KV store"},
        {"io.kestra.plugin.core.execution.Resume",
         "execution.Resume is removed in Kestra 2.0: use the SDK to change other executions' state (RBAC)"},
        {"io.kestra.plugin.core.trigger.Toggle", "trigger.Toggle is removed in Kestra 2.0: use the API or the SDK"},
        {"io.kestra.plugin.core.flow.Template",
         "templates are removed in Kestra 2.0: use io.kestra.plugin.core.flow.Subflow (templateId becomes flowId)"},
        {"io.kestra.plugin.core.debug.Echo", "debug.Echo is removed in Kestra 2.0: use io.kestra.plugin.core.log.Log"},
        {"io.kestra.plugin.core.state.",
         "the state store tasks are removed in Kestra 2.0: use the KV store tasks (io.kestra.plugin.core.kv.*)"},
        {"io.kestra.plugin.core.storage.LocalFiles",
         "LocalFiles is removed in Kestra 2.0: use the task's inputFiles and outputFiles"},
    };
    const char *canon = kt_task_canonical_type(type);
    for (size_t i = 0; i < sizeof removed / sizeof *removed; i++)
        if (!strncmp(canon, removed[i].prefix, strlen(removed[i].prefix)))
            return removed[i].why;
    return "removed in Kestra 2.0";
}

static const struct rule *rule_of(kt_dmark m)
{
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (rules[i].mark == m)
            return &rules[i];
    return NULL; /* a 2.x marker: nothing to say in a 2.x flow */
}

typedef struct findings {
    kt_dialect dialect;
    kt_flow_dialect_finding_fn fn;
    void *ud;
} findings;

static void on_mark(void *ud, kt_dmark m, const char *path, const char *path2, const char *detail)
{
    findings *f = ud;
    const struct rule *r = rule_of(m);
    if (!r || (f->dialect == KT_DIALECT_1X && m != KT_DM_AMB_MAXATTEMPT))
        return;
    char msg[1024];
    if (m == KT_DM_LEGACY_ALIAS) {
        const char *canon = kt_task_canonical_type(detail);
        snprintf(msg, sizeof msg, "%s is a legacy alias, removed in Kestra 2.0: use %s (%s)", detail,
                 strcmp(canon, detail) ? canon : "its io.kestra.plugin.core.* name", GUIDE);
    } else if (m == KT_DM_REMOVED_TYPE) {
        snprintf(msg, sizeof msg, "%s: %s (%s)", detail, removed_why(detail), GUIDE);
    } else {
        char what[160];
        snprintf(what, sizeof what, r->what, detail ? detail : "");
        /* an ambiguous pair names its first half; a deprecation says so first */
        snprintf(msg, sizeof msg, "%s%s%s%s (%s%s)", r->action == RULE_DEPRECATE ? "deprecated: " : "",
                 m >= KT_DM_FIRST_AMB || m == KT_DM_FOREACH ? what : "",
                 m >= KT_DM_FIRST_AMB ? " " : m == KT_DM_FOREACH ? ": " : "", r->why, GUIDE, r->page);
    }
    f->fn(f->ud, r->action == RULE_REFUSE, path, path2, msg);
}

void kt_flow_dialect_findings(const json_t *flow, kt_dialect d, kt_flow_dialect_finding_fn fn, void *ud)
{
    findings f = {d, fn, ud};
    kt_dialect_find_marks(flow, on_mark, &f);
}

/* ---------------------------------------------------------------- reserved ids */

static const char *const reserved_ids[] = {"pause",  "resume", "force-run", "change-status", "kill",
                                           "executions", "search", "source", "disable", "enable", NULL};

int kt_flow_dialect_reserved_id(const char *id)
{
    for (const char *const *r = reserved_ids; id && *r; r++)
        if (!strcmp(*r, id))
            return 1;
    return 0;
}

const char *kt_flow_dialect_reserved_list(void)
{
    return "pause, resume, force-run, change-status, kill, executions, search, source, disable, enable";
}
