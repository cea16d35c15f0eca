/* The dialect of a flow (flow/dialect.h): every marker of inventory §E alone gives its line whatever the default; a
 * flow of common constructs follows the default both ways; in a 2.x flow each removed 1.x construct is refused with
 * the 2.0 guide's reason, each renamed one is a deprecation (a warning at its line:col), each ambiguous pair is refused
 * naming both locations; in a 1.x flow nothing changes. Reserved ids per dialect, extend:, the pinned dialect of a
 * stored revision. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/dialect.h"
#include "flow/flow.h"

/* ---------------------------------------------------------------- detection */

/* A flow made of `tasks` (a YAML fragment, the task list's items) plus `extra` root lines. */
static json_t *doc(const char *extra, const char *tasks)
{
    char src[4096];
    snprintf(src, sizeof src, "id: x\nnamespace: company.team\n%stasks:\n%s", extra,
             tasks ? tasks : "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n");
    kt_diags d;
    kt_diags_init(&d);
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    if (kt_yaml_load(src, strlen(src), "t.yml", &docs, &n, &d) != KT_OK || n != 1)
        fail_msg("bad YAML in the test: %s", src);
    json_t *root = json_incref(kt_yaml_doc_root(docs[0]));
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    return root;
}

static const char *log_of(const char *expr, char *buf, size_t cap)
{
    snprintf(buf, cap, "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: \"%s\"\n", expr);
    return buf;
}

typedef struct marker {
    const char *name, *extra, *tasks;
} marker;

#define LOG "io.kestra.plugin.core.log.Log"
#define TASK(type, props) "  - id: t\n    type: " type "\n" props
#define TRIG(type, props) "triggers:\n  - id: tr\n    type: " type "\n" props

static const marker markers_2x[] = {
    {"trigger when", TRIG("io.kestra.plugin.core.trigger.Schedule", "    cron: '@daily'\n    when: \"{{ true }}\"\n"),
     NULL},
    {"webhook when", TRIG("io.kestra.plugin.core.trigger.Webhook", "    key: k\n    when: \"{{ true }}\"\n"), NULL},
    {"Flow dependsOn", TRIG("io.kestra.plugin.core.trigger.Flow", "    dependsOn:\n      - flowId: a\n"), NULL},
    {"Flow window", TRIG("io.kestra.plugin.core.trigger.Flow", "    window:\n      lookback: PT1H\n"), NULL},
    {"Flow mode", TRIG("io.kestra.plugin.core.trigger.Flow", "    mode: ANY\n"), NULL},
    {"Flow minSatisfied", TRIG("io.kestra.plugin.core.trigger.Flow", "    minSatisfied: 1\n"), NULL},
    {"Flow onMiss", TRIG("io.kestra.plugin.core.trigger.Flow", "    onMiss:\n      behavior: FAIL\n"), NULL},
    {"Loop", "", TASK("io.kestra.plugin.core.flow.Loop", "    values: [1, 2]\n    tasks: []\n")},
    {"Approval", "", TASK("io.kestra.plugin.core.flow.Approval", "")},
    {"Kill", "", TASK("io.kestra.plugin.core.execution.Kill", "")},
    {"BatchWebhook", TRIG("io.kestra.plugin.core.trigger.BatchWebhook", ""), NULL},
    {"McpToolTrigger", TRIG("io.kestra.plugin.core.trigger.McpToolTrigger", ""), NULL},
    {"input ION", "inputs:\n  - id: i\n    type: ION\n", NULL},
    {"input OBJECT", "inputs:\n  - id: i\n    type: OBJECT\n", NULL},
    {"input TABLE", "inputs:\n  - id: i\n    type: TABLE\n", NULL},
    {"checks when", "checks:\n  - when: \"{{ true }}\"\n    message: m\n", NULL},
    {"policyRefs", "policyRefs:\n  - p\n", NULL},
    {"workerSelector", "", TASK(LOG, "    message: hi\n    workerSelector: {}\n")},
    {"Webhook responseCode", TRIG("io.kestra.plugin.core.trigger.Webhook", "    key: k\n    responseCode: 201\n"),
     NULL},
    {"item.value", "", "@{{ item.value }}"},
    {"item.index", "", "@{{ item.index + 1 }}"},
    {"item.key", "", "@{{ item.key }}"},
    {"item.parent", "", "@{{ item.parent.value }}"},
    {"item.parents", "", "@{{ item.parents[0].value }}"},
    {"item in a tag", "", "@{% if item.index == 0 %}first{% endif %}"},
    {"loopOutputs(", "", "@{{ loopOutputs(outputs.l.outputs, 'x') }}"},
    {"read(revision=)", "", "@{{ read('f.txt', revision=2) }}"},
    {"fileURI(revision=)", "", "@{{ fileURI('f.txt', revision=2) }}"},
    {"isWeekend(", "", "@{{ isWeekend(trigger.date) }}"},
    {"dayOfWeek(", "", "@{{ dayOfWeek(trigger.date) == 'MONDAY' }}"},
    {"hourOfDay(", "", "@{{ hourOfDay(trigger.date) }}"},
    {"isPublicHoliday(", "", "@{{ isPublicHoliday(trigger.date, 'FR') }}"},
    {"isDayWeekInMonth(", "", "@{{ isDayWeekInMonth(trigger.date, 'MONDAY', 'FIRST') }}"},
    {"isLastWorkingDay(", "", "@{{ isLastWorkingDay(trigger.date) }}"},
    {"dayOfMonth(", "", "@{{ dayOfMonth(trigger.date) }}"},
    {"monthOfYear(", "", "@{{ monthOfYear(trigger.date) }}"},
};

static const marker markers_1x[] = {
    {"ForEach", "", TASK("io.kestra.plugin.core.flow.ForEach", "    values: [1]\n    tasks: []\n")},
    {"ForEachItem", "", TASK("io.kestra.plugin.core.flow.ForEachItem", "    items: x\n")},
    {"EachSequential", "", TASK("io.kestra.plugin.core.flow.EachSequential", "    value: [1]\n")},
    {"EachParallel", "", TASK("io.kestra.plugin.core.flow.EachParallel", "    value: [1]\n")},
    {"pluginDefaults", "pluginDefaults:\n  - type: " LOG "\n    values: {}\n", NULL},
    {"taskDefaults", "taskDefaults:\n  - type: " LOG "\n    values: {}\n", NULL},
    {"listeners", "listeners:\n  - tasks: []\n", NULL},
    {"json(", "", "@{{ json('{}') }}"},
    {"| json", "", "@{{ '{}' | json }}"},
    {"input BOOLEAN", "inputs:\n  - id: i\n    type: BOOLEAN\n", NULL},
    {"input ENUM", "inputs:\n  - id: i\n    type: ENUM\n    values: [a]\n", NULL},
    {"input name", "inputs:\n  - name: i\n    type: STRING\n", NULL},
    {"MULTISELECT options", "inputs:\n  - id: i\n    type: MULTISELECT\n    options: [a]\n", NULL},
    {"FILE extension", "inputs:\n  - id: i\n    type: FILE\n    extension: .txt\n", NULL},
    {"retry maxAttempt", "",
     TASK(LOG, "    message: m\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n")},
    {"trigger conditions",
     TRIG("io.kestra.plugin.core.trigger.Schedule",
          "    cron: '@daily'\n    conditions:\n      - type: io.kestra.plugin.core.condition.Weekend\n"),
     NULL},
    {"preconditions", TRIG("io.kestra.plugin.core.trigger.Flow", "    preconditions:\n      id: p\n"), NULL},
    {"scheduleConditions", TRIG("io.kestra.plugin.core.trigger.Schedule", "    cron: '@daily'\n    scheduleConditions: []\n"),
     NULL},
    {"backfill", TRIG("io.kestra.plugin.core.trigger.Schedule", "    cron: '@daily'\n    backfill: {}\n"), NULL},
    {"Pause delay", "", TASK("io.kestra.plugin.core.flow.Pause", "    delay: PT1S\n")},
    {"Pause tasks", "", TASK("io.kestra.plugin.core.flow.Pause", "    tasks: []\n")},
    {"Subflow outputs", "", TASK("io.kestra.plugin.core.flow.Subflow", "    outputs: {a: b}\n")},
    {"runner", "", TASK("io.kestra.plugin.scripts.shell.Commands", "    runner: PROCESS\n")},
    {"schedule.", "", "@{{ schedule.date }}"},
    {"Count", "", TASK("io.kestra.plugin.core.execution.Count", "")},
    {"Resume", "", TASK("io.kestra.plugin.core.execution.Resume", "")},
    {"Toggle", "", TASK("io.kestra.plugin.core.trigger.Toggle", "")},
    {"Template", "", TASK("io.kestra.plugin.core.flow.Template", "")},
    {"Echo", "", TASK("io.kestra.plugin.core.debug.Echo", "")},
    {"state.Set", "", TASK("io.kestra.plugin.core.state.Set", "")},
    {"LocalFiles", "", TASK("io.kestra.plugin.core.storage.LocalFiles", "")},
    {"core script task", "", TASK("io.kestra.core.tasks.scripts.Bash", "")},
    {"alias io.kestra.core.tasks.*", "", TASK("io.kestra.core.tasks.log.Log", "    message: m\n")},
    {"alias ...Condition", "",
     TASK(LOG, "    message: m\n") "triggers:\n  - id: tr\n    type: io.kestra.plugin.core.trigger.Webhook\n"
                                    "    key: k\n"},
    {"alias fs.http", "", TASK("io.kestra.plugin.fs.http.Request", "    uri: http://x\n")},
    {"Exit CANCELED", "", TASK("io.kestra.plugin.core.execution.Exit", "    state: CANCELED\n")},
    {"read(version=)", "", "@{{ read('f.txt', version=2) }}"},
    {"fileURI(version=)", "", "@{{ fileURI('f.txt', version=2) }}"},
};

/* Constructs common to both lines, and look-alikes of the markers that are not markers. */
static const marker common[] = {
    {"plain", "", NULL},
    {"fromJson(", "", "@{{ fromJson('{}').a }}"},
    {"toJson", "", "@{{ {} | toJson }}"},
    {"is json (the test stays)", "", "@{{ '{}' is json }}"},
    {"trigger.schedule", "", "@{{ trigger.schedule }}"},
    {"a property named json", "", "@{{ x.json('a') }}"},
    {"prose, outside any expression", "description: \"use json(x) and item.value and isWeekend(d)\"\n", NULL},
    {"a for loop's own item", "", "@{% for item in [1,2] %}{{ item.value }}{% endfor %}"},
    {"x.item.value", "", "@{{ outputs.item.value }}"},
    {"a raw block", "", "@{% raw %}{{ json(x) }} {{ item.value }}{% endraw %}{{ 1 }}"},
    {"a raw block, trimmed", "", "@{%- raw -%}{{ json(x) }}{%- endraw %}{{ 1 }}"},
    {"a string that says version=", "", "@{{ read('f.txt') }} version=2"},
    {"== is no named argument", "", "@{{ read('f.txt') == revision }}"},
    {"maxAttempts", "",
     TASK(LOG, "    message: m\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempts: 2\n")},
    {"input BOOL", "inputs:\n  - id: i\n    type: BOOL\n", NULL},
    {"finally", "finally:\n  - id: f\n    type: " LOG "\n    message: m\n", NULL},
    {"checks condition", "checks:\n  - condition: \"{{ true }}\"\n    message: m\n", NULL},
    {"Dag dependsOn (a task's, not a trigger's)", "",
     TASK("io.kestra.plugin.core.flow.Dag", "    tasks:\n      - task: {id: a, type: " LOG ", message: m}\n"
                                           "        dependsOn: []\n")},
    {"when in variables", "variables:\n  when: x\n  t: {type: io.kestra.plugin.core.flow.Loop}\n", NULL},
};

static json_t *marker_doc(const marker *m)
{
    char buf[512];
    const char *tasks = m->tasks && m->tasks[0] == '@' ? log_of(m->tasks + 1, buf, sizeof buf) : m->tasks;
    if (!strcmp(m->name, "alias ...Condition")) {
        json_t *d = doc("", tasks);
        json_t *cond = json_pack("{s:s}", "type", "io.kestra.core.models.conditions.types.VariableCondition");
        json_object_set_new(json_array_get(json_object_get(d, "triggers"), 0), "conditions", json_pack("[o]", cond));
        return d;
    }
    return doc(m->extra, tasks);
}

static void check_markers(const marker *ms, size_t n, int want /* -1: the default */)
{
    for (size_t i = 0; i < n; i++) {
        json_t *d = marker_doc(&ms[i]);
        for (int dflt = 0; dflt < 2; dflt++) {
            kt_dialect got = kt_flow_dialect_detect(d, (kt_dialect)dflt);
            kt_dialect expect = want < 0 ? (kt_dialect)dflt : (kt_dialect)want;
            if (got != expect)
                fail_msg("%s, default %s: read as %s, want %s", ms[i].name, kt_dialect_name((kt_dialect)dflt),
                         kt_dialect_name(got), kt_dialect_name(expect));
        }
        json_decref(d);
    }
}

static void test_markers_2x(void **state)
{
    (void)state;
    check_markers(markers_2x, sizeof markers_2x / sizeof *markers_2x, KT_DIALECT_2X);
}

static void test_markers_1x(void **state)
{
    (void)state;
    check_markers(markers_1x, sizeof markers_1x / sizeof *markers_1x, KT_DIALECT_1X);
}

static void test_common_follows_default(void **state)
{
    (void)state;
    check_markers(common, sizeof common / sizeof *common, -1);
}

/* A flow with both lines' markers is 2.x (half-way through a migration); `dialect:` wins over everything. */
static void test_mixed_and_named(void **state)
{
    (void)state;
    json_t *d = doc(TRIG("io.kestra.plugin.core.trigger.Schedule", "    cron: '@daily'\n    when: \"{{ true }}\"\n"),
                    TASK("io.kestra.plugin.core.flow.ForEach", "    values: [1]\n    tasks: []\n"));
    assert_int_equal(kt_flow_dialect_detect(d, KT_DIALECT_1X), KT_DIALECT_2X);
    json_object_set_new(d, "dialect", json_string("1.x"));
    assert_int_equal(kt_flow_dialect_detect(d, KT_DIALECT_2X), KT_DIALECT_1X);
    json_decref(d);
    d = doc("dialect: '2.0'\n", NULL);
    assert_int_equal(kt_flow_dialect_detect(d, KT_DIALECT_1X), KT_DIALECT_2X);
    json_decref(d);
}

/* ---------------------------------------------------------------- parsing with findings */

typedef struct parsed {
    kt_status st;
    kt_flow *flow;
    kt_diags errors, warnings;
} parsed;

static void parse(parsed *p, const char *src, kt_dialect dflt)
{
    kt_diags_init(&p->errors);
    kt_diags_init(&p->warnings);
    kt_flow_parse_opts o = {.pinned = 1, .dialect = dflt, .warnings = &p->warnings};
    p->flow = NULL;
    p->st = kt_flow_parse_opt(src, strlen(src), "f.yml", &o, &p->flow, &p->errors);
}

static void parsed_clear(parsed *p)
{
    kt_flow_free(p->flow);
    kt_diags_clear(&p->errors);
    kt_diags_clear(&p->warnings);
}

/* The diag of list at path, at line:col, whose message holds each of the NULL-terminated words; fails otherwise. */
static const kt_diag *find(const kt_diags *list, const char *path, int line, int col, const char *const *words)
{
    for (size_t i = 0; i < list->count; i++) {
        const kt_diag *g = &list->items[i];
        if (strcmp(g->path, path))
            continue;
        int ok = g->line == line && g->col == col;
        for (const char *const *w = words; ok && *w; w++)
            ok = strstr(g->message, *w) != NULL;
        if (ok)
            return g;
    }
    char *all = kt_diags_format(list);
    fail_msg("no diag at %s %d:%d with the words (first: %s); have:\n%s", path, line, col, words[0], all);
    return NULL;
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
#define GUIDE "https://kestra.io/docs/migration-guide/v2.0.0"

typedef struct removed_case {
    const char *name, *task, *path;
    int line, col;
    const char *const *words;
} removed_case;

/* Each removed 1.x construct in a 2.x flow (dialect: 2.x, line 1): an error at its line:col with the guide's reason
 * and address; the same flow without `dialect:` is 1.x and has no such error. */
static void test_removed_refused_in_2x(void **state)
{
    (void)state;
    const removed_case cases[] = {
        {"Count", "io.kestra.plugin.core.execution.Count", "tasks[0].type", 6, 5, W("Count", "KV store", GUIDE)},
        {"Resume", "io.kestra.plugin.core.execution.Resume", "tasks[0].type", 6, 5, W("Resume", "SDK", GUIDE)},
        {"Toggle", "io.kestra.plugin.core.trigger.Toggle", "tasks[0].type", 6, 5, W("Toggle", "API", GUIDE)},
        {"Template", "io.kestra.plugin.core.flow.Template", "tasks[0].type", 6, 5, W("Subflow", "flowId", GUIDE)},
        {"Echo", "io.kestra.plugin.core.debug.Echo", "tasks[0].type", 6, 5, W("Echo", "log.Log", GUIDE)},
        {"state", "io.kestra.plugin.core.state.Get", "tasks[0].type", 6, 5, W("state store", "kv", GUIDE)},
        {"LocalFiles", "io.kestra.plugin.core.storage.LocalFiles", "tasks[0].type", 6, 5,
         W("LocalFiles", "inputFiles", GUIDE)},
        {"core scripts", "io.kestra.core.tasks.scripts.Bash", "tasks[0].type", 6, 5,
         W("core script tasks", "io.kestra.plugin.scripts", GUIDE)},
        {"legacy alias", "io.kestra.core.tasks.debugs.Return", "tasks[0].type", 6, 5,
         W("legacy alias", "io.kestra.plugin.core.debug.Return", GUIDE)},
        {"fs.http alias", "io.kestra.plugin.fs.http.Request", "tasks[0].type", 6, 5,
         W("legacy alias", "io.kestra.plugin.core.http.Request", GUIDE)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char src[512];
        for (int named = 1; named >= 0; named--) {
            snprintf(src, sizeof src, "%snamespace: company.team\nid: x\ntasks:\n  - id: t\n    type: %s\n",
                     named ? "dialect: 2.x\n" : "\n", cases[i].task);
            parsed p;
            parse(&p, src, KT_DIALECT_1X);
            if (named) {
                assert_int_equal(p.st, KT_EINVAL);
                find(&p.errors, cases[i].path, cases[i].line, cases[i].col, cases[i].words);
            } else {
                for (size_t k = 0; k < p.errors.count; k++)
                    if (strstr(p.errors.items[k].message, "Kestra 2.0"))
                        fail_msg("%s in a 1.x flow: %s", cases[i].name, p.errors.items[k].message);
            }
            parsed_clear(&p);
        }
    }
    /* a condition's legacy name, Exit's CANCELED and read(version=) */
    parsed p;
    parse(&p, "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n"
              "    message: \"{{ read('a.txt', version=2) }}\"\n  - id: e\n"
              "    type: io.kestra.plugin.core.execution.Exit\n    state: CANCELED\ntriggers:\n  - id: w\n"
              "    type: io.kestra.plugin.core.trigger.Webhook\n    key: k\n    conditions:\n"
              "      - type: io.kestra.core.models.conditions.types.VariableCondition\n        expression: x\n",
          KT_DIALECT_1X);
    assert_int_equal(p.st, KT_EINVAL);
    find(&p.errors, "tasks[0].message", 7, 5, W("version=", "revision=", GUIDE));
    find(&p.errors, "tasks[1].state", 10, 5, W("CANCELED", "CANCELLED", GUIDE));
    find(&p.errors, "triggers[0].conditions[0].type", 16, 9,
         W("VariableCondition", "legacy alias", "io.kestra.plugin.core.condition.Expression"));
    parsed_clear(&p);
}

typedef struct dep_case {
    const char *name, *src, *path;
    int line, col;
    const char *const *words;
} dep_case;

/* Each renamed 1.x construct in a 2.x flow: accepted, a warning at its line:col saying what replaces it; in the same
 * flow read as 1.x, no warning. The sources begin with "dialect: 2.x\n" (line 1), dropped for the 1.x run. */
static void test_deprecations(void **state)
{
    (void)state;
    const dep_case cases[] = {
        {"ForEach",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: f\n    type: io.kestra.plugin.core.flow.ForEach\n"
         "    values: [1, 2]\n    tasks:\n      - id: t\n        type: " LOG "\n        message: m\n",
         "tasks[0].type", 6, 5, W("deprecated", "io.kestra.plugin.core.flow.ForEach", "Loop", GUIDE "/foreach-loop")},
        {"EachSequential",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: f\n"
         "    type: io.kestra.plugin.core.flow.EachSequential\n    value: [1, 2]\n    tasks:\n      - id: t\n"
         "        type: " LOG "\n        message: m\n",
         "tasks[0].type", 6, 5, W("deprecated", "EachSequential", "Loop")},
        {"pluginDefaults",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\npluginDefaults:\n"
         "  - type: " LOG "\n    values:\n      message: m\n",
         "pluginDefaults", 7, 1, W("deprecated", "plugin defaults", "variables", GUIDE "/plugin-defaults-removed")},
        {"taskDefaults",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\ntaskDefaults:\n"
         "  - type: " LOG "\n    values:\n      message: m\n",
         "taskDefaults", 7, 1, W("deprecated", "plugin defaults")},
        {"json()",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n"
         "    message: \"{{ json('{\\\"a\\\": 1}').a }}\"\n",
         "tasks[0].message", 7, 5, W("deprecated", "json()", "fromJson()", GUIDE "/json-function-removed")},
        {"| json",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n"
         "    message: \"{{ '[1]' | json }}\"\n",
         "tasks[0].message", 7, 5, W("deprecated", "json filter", "toJson")},
        {"BOOLEAN",
         "dialect: 2.x\nid: x\nnamespace: company.team\ninputs:\n  - id: b\n    type: BOOLEAN\ntasks:\n  - id: t\n"
         "    type: " LOG "\n    message: m\n",
         "inputs[0].type", 6, 5, W("deprecated", "BOOLEAN", "BOOL")},
        {"ENUM",
         "dialect: 2.x\nid: x\nnamespace: company.team\ninputs:\n  - id: e\n    type: ENUM\n    values: [a, b]\n"
         "tasks:\n  - id: t\n    type: " LOG "\n    message: m\n",
         "inputs[0].type", 6, 5, W("deprecated", "ENUM", "SELECT")},
        {"input name",
         "dialect: 2.x\nid: x\nnamespace: company.team\ninputs:\n  - name: n\n    type: STRING\ntasks:\n  - id: t\n"
         "    type: " LOG "\n    message: m\n",
         "inputs[0].name", 5, 5, W("deprecated", "name", "id")},
        {"MULTISELECT options",
         "dialect: 2.x\nid: x\nnamespace: company.team\ninputs:\n  - id: m\n    type: MULTISELECT\n"
         "    options: [a, b]\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n",
         "inputs[0].options", 7, 5, W("deprecated", "options", "values")},
        {"maxAttempt",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n"
         "    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n",
         "tasks[0].retry.maxAttempt", 11, 7, W("deprecated", "maxAttempts")},
        {"trigger conditions",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n"
         "triggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '@daily'\n"
         "    conditions:\n      - type: io.kestra.plugin.core.condition.Weekend\n",
         "triggers[0].conditions", 12, 5, W("deprecated", "when", GUIDE "/trigger-conditions-redesign")},
        {"scheduleConditions",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n"
         "triggers:\n  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '@daily'\n"
         "    scheduleConditions:\n      - type: io.kestra.plugin.core.condition.Weekend\n",
         "triggers[0].scheduleConditions", 12, 5, W("deprecated", "scheduleConditions", "when")},
        {"listeners",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n"
         "listeners:\n  - tasks:\n      - id: l\n        type: " LOG "\n        message: m\n",
         "listeners", 8, 1, W("deprecated", "listeners", "Flow trigger")},
        {"Pause delay",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: p\n    type: io.kestra.plugin.core.flow.Pause\n"
         "    delay: PT1S\n",
         "tasks[0].delay", 7, 5, W("deprecated", "delay", "pauseDuration")},
        {"schedule variable",
         "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n"
         "    message: \"{{ schedule.date ?? 'none' }}\"\n",
         "tasks[0].message", 7, 5, W("deprecated", "schedule", "trigger")},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        parsed p;
        parse(&p, cases[i].src, KT_DIALECT_1X);
        if (p.st != KT_OK) {
            char *all = kt_diags_format(&p.errors);
            fail_msg("%s: refused: %s", cases[i].name, all);
        }
        assert_string_equal(json_string_value(json_object_get(kt_flow_json(p.flow), "dialect")), "2.x");
        find(&p.warnings, cases[i].path, cases[i].line, cases[i].col, cases[i].words);
        parsed_clear(&p);
        /* the same flow as 1.x (its own 1.x marker decides): accepted, nothing to say */
        parse(&p, cases[i].src + strlen("dialect: 2.x\n"), KT_DIALECT_2X);
        assert_int_equal(p.st, KT_OK);
        assert_string_equal(json_string_value(json_object_get(kt_flow_json(p.flow), "dialect")), "1.x");
        if (p.warnings.count)
            fail_msg("%s as 1.x: %s", cases[i].name, p.warnings.items[0].message);
        parsed_clear(&p);
    }
}

/* Ambiguous pairs: refused, the error at one half naming the other's path and line:col. */
static void test_ambiguous_pairs(void **state)
{
    (void)state;
    parsed p;
    /* conditions beside when on one trigger */
    parse(&p,
          "id: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\ntriggers:\n"
          "  - id: s\n    type: io.kestra.plugin.core.trigger.Schedule\n    cron: '@daily'\n"
          "    when: \"{{ true }}\"\n    conditions:\n      - type: io.kestra.plugin.core.condition.Weekend\n",
          KT_DIALECT_1X);
    assert_int_equal(p.st, KT_EINVAL);
    find(&p.errors, "triggers[0].conditions", 12, 5, W("beside when", "keep only when", "line 11, column 5"));
    parsed_clear(&p);
    /* conditions / preconditions beside dependsOn / window on one Flow trigger */
    parse(&p,
          "id: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\ntriggers:\n"
          "  - id: f\n    type: io.kestra.plugin.core.trigger.Flow\n    dependsOn:\n      - flowId: a\n"
          "    conditions:\n      - type: io.kestra.plugin.core.condition.ExecutionStatus\n        in: [SUCCESS]\n"
          "  - id: g\n    type: io.kestra.plugin.core.trigger.Flow\n    window:\n      lookback: PT1H\n"
          "    preconditions:\n      id: p\n",
          KT_DIALECT_1X);
    assert_int_equal(p.st, KT_EINVAL);
    find(&p.errors, "triggers[0].conditions", 12, 5,
         W("beside dependsOn", "triggers[0].dependsOn at line 10, column 5"));
    find(&p.errors, "triggers[1].preconditions", 19, 5, W("preconditions", "triggers[1].window at line 17, column 5"));
    parsed_clear(&p);
    /* maxAttempt beside maxAttempts: refused in both dialects */
    for (int d = 0; d < 2; d++) {
        parse(&p,
              d ? "dialect: 2.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG
                  "\n    message: m\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n"
                  "      maxAttempts: 3\n"
                : "dialect: 1.x\nid: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG
                  "\n    message: m\n    retry:\n      type: constant\n      interval: PT1S\n      maxAttempt: 2\n"
                  "      maxAttempts: 3\n",
              KT_DIALECT_1X);
        assert_int_equal(p.st, KT_EINVAL);
        find(&p.errors, "tasks[0].retry.maxAttempt", 11, 7,
             W("beside maxAttempts", "tasks[0].retry.maxAttempts at line 12, column 7"));
        parsed_clear(&p);
    }
    /* a check's condition beside its when */
    parse(&p,
          "id: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\nchecks:\n"
          "  - condition: \"{{ true }}\"\n    when: \"{{ true }}\"\n    message: m\n",
          KT_DIALECT_1X);
    assert_int_equal(p.st, KT_EINVAL); /* flow/checks.c's rule, which names the other half */
    find(&p.errors, "checks[0].when", 9, 5, W("not both", "checks[0].condition"));
    parsed_clear(&p);
}

/* Reserved ids: refused in 2.x at the id, accepted in 1.x (Kestra 0.21 did). */
static void test_reserved_ids(void **state)
{
    (void)state;
    static const char *const ids[] = {"pause",      "resume", "force-run", "change-status", "kill",
                                      "executions", "search", "source",    "disable",       "enable"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char src[256];
        snprintf(src, sizeof src, "namespace: company.team\nid: %s\ntasks:\n  - id: t\n    type: " LOG
                                  "\n    message: m\n",
                 ids[i]);
        parsed p;
        parse(&p, src, KT_DIALECT_1X);
        assert_int_equal(p.st, KT_OK);
        parsed_clear(&p);
        parse(&p, src, KT_DIALECT_2X);
        assert_int_equal(p.st, KT_EINVAL);
        find(&p.errors, "id", 2, 5, W("reserved", "Kestra 2.x"));
        parsed_clear(&p);
        assert_true(kt_flow_dialect_reserved_id(ids[i]));
    }
    assert_false(kt_flow_dialect_reserved_id("pauses"));
    assert_false(kt_flow_dialect_reserved_id("Pause"));
}

/* extend: (the blueprint site's metadata) is accepted in both dialects, with a warning, and not in the flow JSON. */
static void test_extend(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        parsed p;
        parse(&p,
              "id: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\nextend:\n"
              "  title: Hello\n  tags:\n    - Getting Started\n",
              (kt_dialect)d);
        assert_int_equal(p.st, KT_OK);
        assert_null(json_object_get(kt_flow_json(p.flow), "extend"));
        find(&p.warnings, "extend", 7, 1, W("blueprint", "ignored"));
        parsed_clear(&p);
    }
}

/* A stored revision keeps its dialect: kt_flow_parse_pinned replaces the server's default (a common flow follows
 * the pin, a flow with markers its markers). */
static void test_pinned(void **state)
{
    (void)state;
    const char *src = "id: x\nnamespace: company.team\ntasks:\n  - id: t\n    type: " LOG "\n    message: m\n";
    kt_flow_dialect_set_default(KT_DIALECT_2X);
    kt_flow *f = NULL;
    kt_diags d;
    kt_diags_init(&d);
    assert_int_equal(kt_flow_parse_with_defaults(src, strlen(src), "f", NULL, &f, &d), KT_OK);
    assert_string_equal(json_string_value(json_object_get(kt_flow_json(f), "dialect")), "2.x");
    kt_flow_free(f);
    assert_int_equal(kt_flow_parse_pinned(src, strlen(src), "f", NULL, KT_DIALECT_1X, &f, &d), KT_OK);
    assert_string_equal(json_string_value(json_object_get(kt_flow_json(f), "dialect")), "1.x");
    kt_flow_free(f);
    kt_flow_dialect_set_default(KT_DIALECT_1X);
    assert_int_equal(kt_flow_parse_pinned(src, strlen(src), "f", NULL, KT_DIALECT_2X, &f, &d), KT_OK);
    assert_string_equal(json_string_value(json_object_get(kt_flow_json(f), "dialect")), "2.x");
    kt_flow_free(f);
    /* markers win over the pin */
    const char *v1 = "id: x\nnamespace: company.team\ninputs:\n  - id: b\n    type: BOOLEAN\ntasks:\n  - id: t\n"
                     "    type: " LOG "\n    message: m\n";
    assert_int_equal(kt_flow_parse_pinned(v1, strlen(v1), "f", NULL, KT_DIALECT_2X, &f, &d), KT_OK);
    assert_string_equal(json_string_value(json_object_get(kt_flow_json(f), "dialect")), "1.x");
    kt_flow_free(f);
    kt_diags_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markers_2x),
        cmocka_unit_test(test_markers_1x),
        cmocka_unit_test(test_common_follows_default),
        cmocka_unit_test(test_mixed_and_named),
        cmocka_unit_test(test_removed_refused_in_2x),
        cmocka_unit_test(test_deprecations),
        cmocka_unit_test(test_ambiguous_pairs),
        cmocka_unit_test(test_reserved_ids),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_pinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
