/* The plugin catalogue (see tasks.h). Property lists follow KESTRA-model.md §4-7 and KESTRA-execution.md §5,
 * i.e. Kestra's model classes at the December 2024 snapshot; `finally` is accepted as well since newer
 * flows use it. Common properties are not repeated per entry: the validator adds them by kind. */
#include "flow/tasks.h"
#include "base/json.h"
#include "flow/state.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(n, k) {n, k, 0, NULL, NULL}
#define PR(n, k) {n, k, KT_PF_REQ, NULL, NULL}
#define PF(n, k, f) {n, k, f, NULL, NULL}
#define PE(n, e) {n, KT_P_ENUM, 0, e, NULL}
#define PEL(n, e) {n, KT_P_ENUM_LIST, 0, e, NULL}
#define PO(n, k, f, sub) {n, k, f, NULL, sub}
#define END {NULL, 0, 0, NULL, NULL}
#define D KT_PF_DYN
#define R KT_PF_REQ
#define NE KT_PF_NONEMPTY

const char *const kt_enum_log_levels[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE", NULL};
const char *const kt_enum_input_types[] = {"STRING", "ENUM",   "SELECT", "INT",   "FLOAT",       "BOOLEAN",
                                           "BOOL",   "DATETIME", "DATE", "TIME",  "DURATION",    "FILE",
                                           "JSON",   "URI",    "SECRET", "ARRAY", "MULTISELECT", "YAML",
                                           "EMAIL",  NULL};
#define KT_ENUM_STATE_(name, flags, sources) #name,
const char *const kt_enum_states[] = {KT_STATE_TABLE(KT_ENUM_STATE_) NULL}; /* flow/state.h's names */
#undef KT_ENUM_STATE_
static const char *const e_fallback[] = {"FAIL", "WAIT", "CANCEL", NULL};
static const char *const e_http_method[] = {"OPTIONS", "GET",   "HEAD",    "POST",  "PUT",    "DELETE",
                                            "TRACE",   "CONNECT", "PATCH", "CUSTOM", NULL};
static const char *const e_proxy[] = {"DIRECT", "HTTP", "SOCKS", NULL};
static const char *const e_http_log[] = {"ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF", "NOT_SPECIFIED", NULL};
static const char *const e_kv_type[] = {"STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON", NULL};
static const char *const e_filter_type[] = {"INCLUDE", "EXCLUDE", NULL};
static const char *const e_err_null[] = {"FAIL", "INCLUDE", "EXCLUDE", NULL};
static const char *const e_conflict[] = {"OVERWRITE", "ERROR", "SKIP", NULL};
static const char *const e_target_os[] = {"LINUX", "WINDOWS", "AUTO", NULL};
static const char *const e_runner[] = {"PROCESS", "DOCKER", NULL};
static const char *const e_recover[] = {"ALL", "LAST", "NONE", NULL};
static const char *const e_comparison[] = {"EQUALS", "PREFIX", "SUFFIX", NULL};
static const char *const e_day_of_week[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                                            "FRIDAY", "SATURDAY", "SUNDAY", NULL};
static const char *const e_day_in_month[] = {"FIRST", "SECOND", "THIRD", "FOURTH", "LAST", NULL};

/* ---------------------------------------------------------------- shared sub-objects */

static const kt_prop o_worker_group[] = {P("key", KT_P_STR), PE("fallback", e_fallback), END};
static const kt_prop o_ns_files[] = {P("enabled", KT_P_BOOL), P("include", KT_P_STR_LIST),
                                     P("exclude", KT_P_STR_LIST), END};

/* Kestra 1.x taskCache (Cache.java: enabled @NotNull, ttl): acted on for runnable tasks (actors/executor/task_cache.h) */
static const kt_prop o_task_cache[] = {PR("enabled", KT_P_BOOL), P("ttl", KT_P_DUR), END};
static const kt_prop common_task[] = {
    PF("id", KT_P_STR, R | NE),
    PF("type", KT_P_STR, R | NE),
    P("description", KT_P_STR),
    P("retry", KT_P_RETRY),
    PF("timeout", KT_P_DUR, D),
    P("disabled", KT_P_BOOL),
    PO("workerGroup", KT_P_OBJ, 0, o_worker_group),
    PE("logLevel", kt_enum_log_levels),
    P("allowFailure", KT_P_BOOL),
    P("allowWarning", KT_P_BOOL),
    P("logToFile", KT_P_BOOL),
    P("runIf", KT_P_STR),
    PO("taskCache", KT_P_OBJ, 0, o_task_cache),
    END,
};
/* `finally` came with Kestra 1.x (flowables and flows alike): run after the tasks and errors of the flowable. */
static const kt_prop common_flowable[] = {P("errors", KT_P_TASKS), P("finally", KT_P_TASKS), END};
static const kt_prop common_trigger[] = {
    PF("id", KT_P_STR, R | NE),
    PF("type", KT_P_STR, R | NE),
    P("description", KT_P_STR),
    P("conditions", KT_P_CONDS),
    P("when", KT_P_STR), /* 2.0: the Pebble expression replacing conditions (flow/trigger_when.h) */
    P("disabled", KT_P_BOOL),
    PO("workerGroup", KT_P_OBJ, 0, o_worker_group),
    PE("logLevel", kt_enum_log_levels),
    PE("minLogLevel", kt_enum_log_levels),
    P("labels", KT_P_LABELS),
    PEL("stopAfter", kt_enum_states),
    P("logToFile", KT_P_BOOL),
    END,
};

const kt_prop *kt_task_common_props(void) { return common_task; }
const kt_prop *kt_task_flowable_props(void) { return common_flowable; }
const kt_prop *kt_task_trigger_common_props(void) { return common_trigger; }

/* ---------------------------------------------------------------- flow control */

static const kt_prop t_sequential[] = {P("tasks", KT_P_TASKS), END};
/* onChildFailure (Kestra 2.0): FAIL interrupts the other running children when one fails; the default is FAIL in a
 * 2.x flow, CONTINUE (1.x's behaviour) in a 1.x one (actors/executor/flowable.c) */
static const char *const e_on_child_failure[] = {"FAIL", "CONTINUE", NULL};
static const kt_prop t_parallel[] = {PF("tasks", KT_P_TASKS, R | NE), P("concurrent", KT_P_INT),
                                     PE("onChildFailure", e_on_child_failure), END};
static const kt_prop t_if[] = {P("condition", KT_P_STR), PF("then", KT_P_TASKS, R | NE), P("else", KT_P_TASKS), END};
static const kt_prop t_switch[] = {PF("value", KT_P_STR, R | NE), P("cases", KT_P_CASES), P("defaults", KT_P_TASKS), END};
static const kt_prop t_foreach[] = {PF("values", KT_P_ANY, R), P("concurrencyLimit", KT_P_INT), P("tasks", KT_P_TASKS), END};
/* Kestra 2.0's Loop (Loop.java 05f736b; flow/loop.h): declared outputs; its errors and finally (common) run per
 * iteration */
static const char *const e_loop_fetch[] = {"AUTO", "FETCH", "STORE", NULL};
static const kt_prop o_loop_output[] = {PF("id", KT_P_STR, R | NE), P("type", KT_P_STR), P("value", KT_P_ANY),
                                       P("displayName", KT_P_STR), P("description", KT_P_STR),
                                       P("required", KT_P_BOOL), END};
static const kt_prop t_loop[] = {PF("values", KT_P_ANY, R), P("concurrencyLimit", KT_P_INT),
                                 P("transmitFailed", KT_P_BOOL), PO("outputs", KT_P_OBJ_LIST, 0, o_loop_output), PE("fetchType", e_loop_fetch),
                                 PF("breakWhen", KT_P_STR, KT_PF_RAW), PF("tasks", KT_P_TASKS, R | NE), END};
static const kt_prop t_each_seq[] = {PF("value", KT_P_ANY, R), P("tasks", KT_P_TASKS), END};
static const kt_prop t_each_par[] = {PF("value", KT_P_ANY, R), P("concurrent", KT_P_INT),
                                     PF("tasks", KT_P_TASKS, R | NE), END};
static const kt_prop t_dag[] = {PF("tasks", KT_P_DAG, R | NE), P("concurrent", KT_P_INT),
                                PE("onChildFailure", e_on_child_failure), END};
static const kt_prop t_pause[] = {PF("delay", KT_P_DUR, D), PF("timeout", KT_P_DUR, D), P("onResume", KT_P_INPUTS),
                                  P("tasks", KT_P_TASKS), END};
static const kt_prop t_sleep[] = {PR("duration", KT_P_DUR), END};
static const char *const e_restart_behavior[] = {"NEW_EXECUTION", "RETRY_FAILED", NULL}; /* Kestra 0.21+ */
static const kt_prop t_subflow[] = {
    PF("namespace", KT_P_STR, R | NE), PR("flowId", KT_P_STR), P("revision", KT_P_INT), P("inputs", KT_P_MAP),
    P("labels", KT_P_LABELS), P("wait", KT_P_BOOL), P("transmitFailed", KT_P_BOOL), P("inheritLabels", KT_P_BOOL),
    P("outputs", KT_P_MAP), PF("scheduleDate", KT_P_STR, D), PE("restartBehavior", e_restart_behavior), END,
};
static const kt_prop o_batch[] = {PF("rows", KT_P_INT, D), PF("bytes", KT_P_STR, D), PF("partitions", KT_P_INT, D),
                                  PF("separator", KT_P_STR, D), END};
static const kt_prop t_foreach_item[] = {
    PF("items", KT_P_STR, R | NE), PO("batch", KT_P_OBJ, 0, o_batch), PF("namespace", KT_P_STR, R | NE),
    PR("flowId", KT_P_STR), P("revision", KT_P_INT), P("inputs", KT_P_MAP), P("labels", KT_P_LABELS),
    P("wait", KT_P_BOOL), P("transmitFailed", KT_P_BOOL), P("inheritLabels", KT_P_BOOL),
    PF("scheduleDate", KT_P_STR, D), END,
};
/* ForEachItem's internal tasks: what the executor sends them (ForEachItemSplit's fields; the merge gets the _items
 * run's subflowOutputsBase rendered in, a storage path with or without the kestra:// scheme) */
static const kt_prop t_fei_split[] = {PF("items", KT_P_STR, R | NE), PO("batch", KT_P_OBJ, 0, o_batch), END};
static const kt_prop t_fei_merge[] = {P("subflowOutputsBaseUri", KT_P_STR), END};
static const kt_prop o_cache[] = {PR("patterns", KT_P_STR_LIST), P("ttl", KT_P_DUR), END};
static const kt_prop t_working_dir[] = {
    PF("tasks", KT_P_TASKS, R | NE), PO("cache", KT_P_OBJ, 0, o_cache), PO("namespaceFiles", KT_P_OBJ, 0, o_ns_files),
    P("inputFiles", KT_P_STR_OR_MAP), P("outputFiles", KT_P_STR_LIST), END,
};
static const kt_prop t_template[] = {PR("namespace", KT_P_STR), PR("templateId", KT_P_STR), P("args", KT_P_MAP), END};
static const kt_prop o_check_freq[] = {P("maxIterations", KT_P_INT), P("maxDuration", KT_P_DUR),
                                       P("interval", KT_P_DUR), END};
static const kt_prop t_waitfor[] = {PF("tasks", KT_P_TASKS, R | NE), PF("condition", KT_P_STR, R | NE),
                                    P("failOnMaxReached", KT_P_BOOL), PO("checkFrequency", KT_P_OBJ, 0, o_check_freq),
                                    END};

/* ---------------------------------------------------------------- log, debug, output, execution */

static const kt_prop t_log[] = {PR("message", KT_P_STR_OR_LIST), PE("level", kt_enum_log_levels), END};
static const kt_prop t_fetch[] = {P("namespace", KT_P_STR), P("flowId", KT_P_STR), P("executionId", KT_P_STR),
                                  P("tasksId", KT_P_STR_LIST), PE("level", kt_enum_log_levels), END};
static const kt_prop t_purge_logs[] = {P("namespace", KT_P_STR), P("flowId", KT_P_STR),
                                       PEL("logLevels", kt_enum_log_levels), P("startDate", KT_P_STR),
                                       PR("endDate", KT_P_STR), END};
static const kt_prop t_echo[] = {PF("format", KT_P_STR, R | NE), PE("level", kt_enum_log_levels), END};
static const kt_prop t_return[] = {P("format", KT_P_STR), END};
static const kt_prop t_output_values[] = {P("values", KT_P_MAP), END};
static const kt_prop t_templated[] = {PF("spec", KT_P_STR, R | NE), END};
static const kt_prop t_fail[] = {P("condition", KT_P_STR), P("errorMessage", KT_P_STR), END};
/* Kestra 1.x: Assert renders its conditions itself (each one's failure is logged with its text); Write */
static const kt_prop t_assert[] = {PF("conditions", KT_P_STR_LIST, R | KT_PF_RAW), P("errorMessage", KT_P_STR), END};
static const kt_prop t_write[] = {PF("content", KT_P_STR, R), P("extension", KT_P_STR), END};
static const kt_prop t_labels[] = {PR("labels", KT_P_ANY), END};
static const kt_prop t_exit[] = {P("state", KT_P_STR), END}; /* SUCCESS WARNING KILLED FAILED CANCELLED|CANCELED */
static const kt_prop t_set_vars[] = {PR("variables", KT_P_STR_OR_MAP), P("overwrite", KT_P_BOOL), END};
static const kt_prop t_unset_vars[] = {PR("variables", KT_P_STR_OR_LIST), P("ignoreMissing", KT_P_BOOL), END};
static const kt_prop o_count_flow[] = {PR("namespace", KT_P_STR), PR("flowId", KT_P_STR), END};
static const kt_prop t_count[] = {PO("flows", KT_P_OBJ_LIST, 0, o_count_flow), P("namespaces", KT_P_STR_LIST),
                                  PEL("states", kt_enum_states), PR("startDate", KT_P_STR), P("endDate", KT_P_STR),
                                  PF("expression", KT_P_STR, R | KT_PF_RAW), END};
static const kt_prop t_purge_exec[] = {
    P("namespace", KT_P_STR), P("flowId", KT_P_STR), P("startDate", KT_P_STR), PR("endDate", KT_P_STR),
    PEL("states", kt_enum_states), P("purgeExecution", KT_P_BOOL), P("purgeLog", KT_P_BOOL),
    P("purgeMetric", KT_P_BOOL), P("purgeStorage", KT_P_BOOL), END,
};
static const kt_prop t_resume[] = {P("namespace", KT_P_STR), P("flowId", KT_P_STR), P("executionId", KT_P_STR),
                                   P("inputs", KT_P_MAP), END};
static const kt_prop t_toggle[] = {P("namespace", KT_P_STR), P("flowId", KT_P_STR), PR("trigger", KT_P_STR),
                                   P("enabled", KT_P_BOOL), END};

/* ---------------------------------------------------------------- http */

static const kt_prop o_http_options[] = {
    P("connectTimeout", KT_P_DUR), P("readTimeout", KT_P_DUR), P("readIdleTimeout", KT_P_DUR),
    P("connectionPoolIdleTimeout", KT_P_DUR), P("maxContentLength", KT_P_INT), PE("proxyType", e_proxy),
    P("proxyAddress", KT_P_STR), P("proxyPort", KT_P_INT), P("proxyUsername", KT_P_STR), P("proxyPassword", KT_P_STR),
    P("defaultCharset", KT_P_STR), P("followRedirects", KT_P_BOOL), PE("logLevel", e_http_log),
    P("basicAuthUser", KT_P_STR), P("basicAuthPassword", KT_P_STR),
    /* Kestra 1.x: auth {type: BASIC|BEARER|DIGEST, username, password, token} and ssl {insecureTrustAllCertificates} */
    P("auth", KT_P_MAP), P("ssl", KT_P_MAP), END,
};
static const kt_prop o_ssl[] = {P("insecureTrustAllCertificates", KT_P_BOOL), END};
#define HTTP_COMMON                                                                                          \
    PF("uri", KT_P_STR, R | NE), PE("method", e_http_method), P("body", KT_P_STR), P("formData", KT_P_MAP),     \
        P("contentType", KT_P_STR), P("headers", KT_P_MAP), PO("options", KT_P_OBJ, 0, o_http_options),        \
        PO("sslOptions", KT_P_OBJ, 0, o_ssl)
static const kt_prop t_request[] = {HTTP_COMMON, P("allowFailed", KT_P_BOOL), P("encryptBody", KT_P_BOOL), END};
static const kt_prop t_download[] = {HTTP_COMMON, P("failOnEmptyResponse", KT_P_BOOL), P("allowFailed", KT_P_BOOL), END};
static const kt_prop g_http_trigger[] = {HTTP_COMMON, P("responseCondition", KT_P_STR), P("interval", KT_P_DUR),
                                         P("encryptBody", KT_P_BOOL), END};

/* ---------------------------------------------------------------- kv, storage, namespace files, state */

static const kt_prop t_kv_set[] = {PR("key", KT_P_STR), PF("value", KT_P_ANY, R | KT_PF_TYPED), P("namespace", KT_P_STR),
                                   P("overwrite", KT_P_BOOL), P("ttl", KT_P_DUR), PE("kvType", e_kv_type), END};
static const kt_prop t_kv_get[] = {PR("key", KT_P_STR), P("namespace", KT_P_STR), P("errorOnMissing", KT_P_BOOL), END};
static const kt_prop t_kv_keys[] = {P("prefix", KT_P_STR), P("namespace", KT_P_STR), END};
/* Kestra 1.x: PurgeKV (behavior is KvPurgeBehavior: key {expiredOnly} | version {before, keepAmount}) */
static const char *const e_kv_purge[] = {"key", "version", NULL};
static const kt_prop o_kv_purge_behavior[] = {{"type", KT_P_ENUM, R, e_kv_purge, NULL}, P("expiredOnly", KT_P_BOOL),
                                              P("before", KT_P_STR), P("keepAmount", KT_P_INT), END};
static const kt_prop t_kv_purge[] = {P("keyPattern", KT_P_STR), PF("namespaces", KT_P_STR_LIST, D),
                                     P("namespacePattern", KT_P_STR), PO("behavior", KT_P_OBJ, D, o_kv_purge_behavior),
                                     P("includeChildNamespaces", KT_P_BOOL), P("expiredOnly", KT_P_BOOL), END};
static const kt_prop t_concat[] = {PR("files", KT_P_STR_OR_LIST), P("separator", KT_P_STR), P("extension", KT_P_STR), END};
static const kt_prop t_dedup[] = {PR("from", KT_P_STR), PF("expr", KT_P_STR, R | KT_PF_RAW), END};
static const kt_prop t_st_delete[] = {PR("uri", KT_P_STR), P("errorOnMissing", KT_P_BOOL), END};
static const kt_prop t_filter[] = {PR("from", KT_P_STR), PF("filterCondition", KT_P_STR, R | KT_PF_RAW),
                                   PE("filterType", e_filter_type),
                                   PE("errorOrNullBehavior", e_err_null), END};
static const kt_prop t_local_files[] = {P("inputs", KT_P_STR_OR_MAP), P("outputs", KT_P_STR_LIST), END};
static const kt_prop t_none[] = {END};
static const kt_prop t_reverse[] = {PR("from", KT_P_STR), P("separator", KT_P_STR), P("charset", KT_P_STR), END};
static const kt_prop t_size[] = {PR("uri", KT_P_STR), END};
static const kt_prop t_split[] = {PR("from", KT_P_STR), PF("bytes", KT_P_STR, D), PF("partitions", KT_P_INT, D),
                                  PF("rows", KT_P_INT, D), PF("separator", KT_P_STR, D), END};
static const kt_prop t_ns_upload[] = {PR("namespace", KT_P_STR), P("files", KT_P_STR_LIST), P("filesMap", KT_P_STR_OR_MAP),
                                      P("destination", KT_P_STR), PE("conflict", e_conflict), END};
static const kt_prop t_ns_download[] = {PR("namespace", KT_P_STR), PR("files", KT_P_STR_OR_LIST),
                                        P("destination", KT_P_STR), END};
static const kt_prop t_ns_delete[] = {PR("namespace", KT_P_STR), PR("files", KT_P_STR_OR_LIST), END};
static const kt_prop t_state_set[] = {P("name", KT_P_STR), P("namespace", KT_P_BOOL), P("taskrunValue", KT_P_BOOL),
                                      P("data", KT_P_MAP), END};
static const kt_prop t_state_get[] = {P("name", KT_P_STR), P("namespace", KT_P_BOOL), P("taskrunValue", KT_P_BOOL),
                                      P("errorOnMissing", KT_P_BOOL), END};

/* ---------------------------------------------------------------- scripts and task runners */

#define SCRIPT_COMMON                                                                                        \
    P("taskRunner", KT_P_RUNNER), P("containerImage", KT_P_STR), P("beforeCommands", KT_P_STR_OR_LIST),       \
        P("env", KT_P_MAP), P("interpreter", KT_P_STR_LIST), P("failFast", KT_P_BOOL),                         \
        P("warningOnStdErr", KT_P_BOOL), PO("namespaceFiles", KT_P_OBJ, 0, o_ns_files),                        \
        P("inputFiles", KT_P_STR_OR_MAP), P("outputFiles", KT_P_STR_LIST), PE("targetOS", e_target_os),        \
        PE("runner", e_runner), P("docker", KT_P_MAP), P("outputDirectory", KT_P_BOOL)
static const kt_prop t_commands[] = {SCRIPT_COMMON, PF("commands", KT_P_STR_OR_LIST, R | NE), END};
static const kt_prop t_script[] = {SCRIPT_COMMON, PF("script", KT_P_STR, R | NE), END};
/* Kestra 1.x python tasks: `dependencies` installed into a cached virtual environment (actors/worker/pydeps.h) */
static const char *const e_py_pm[] = {"UV", "PIP", NULL};
#define PY_DEPS                                                                                              \
    PF("dependencies", KT_P_STR_LIST, D), P("dependencyCacheEnabled", KT_P_BOOL), PE("packageManager", e_py_pm), \
        P("pythonVersion", KT_P_STR)
static const kt_prop t_py_commands[] = {SCRIPT_COMMON, PF("commands", KT_P_STR_OR_LIST, R | NE), PY_DEPS, END};
static const kt_prop t_py_script[] = {SCRIPT_COMMON, PF("script", KT_P_STR, R | NE), PY_DEPS, END};
static const kt_prop r_docker[] = {
    P("host", KT_P_STR), P("config", KT_P_ANY), P("credentials", KT_P_MAP), P("image", KT_P_STR), P("user", KT_P_STR),
    P("entryPoint", KT_P_STR_LIST), P("extraHosts", KT_P_STR_LIST), P("networkMode", KT_P_STR),
    P("volumes", KT_P_STR_LIST), P("pullPolicy", KT_P_STR), P("deviceRequests", KT_P_LIST), P("cpu", KT_P_MAP),
    P("memory", KT_P_MAP), P("shmSize", KT_P_STR), P("fileHandlingStrategy", KT_P_STR), P("delete", KT_P_BOOL),
    P("privileged", KT_P_BOOL), P("wait", KT_P_BOOL), END,
};

/* ---------------------------------------------------------------- triggers */

static const kt_prop g_schedule[] = {
    PR("cron", KT_P_CRON), P("withSeconds", KT_P_BOOL), P("timezone", KT_P_STR), P("interval", KT_P_DUR),
    P("inputs", KT_P_MAP), P("lateMaximumDelay", KT_P_DUR), P("scheduleConditions", KT_P_CONDS),
    PE("recoverMissedSchedules", e_recover), P("backfill", KT_P_MAP), END,
};
static const kt_prop g_schedule_dates[] = {PR("dates", KT_P_ANY), P("timezone", KT_P_STR), P("inputs", KT_P_MAP),
                                           PE("recoverMissedSchedules", e_recover), P("interval", KT_P_DUR), END};
static const kt_prop g_flow[] = {P("inputs", KT_P_MAP), PEL("states", kt_enum_states), P("preconditions", KT_P_MAP),
                                 /* 2.0 (checked whole by flow/depends_on.c) */
                                 P("dependsOn", KT_P_LIST), P("window", KT_P_MAP), P("mode", KT_P_STR),
                                 P("minSatisfied", KT_P_INT), P("onMiss", KT_P_MAP), END};
static const kt_prop g_webhook[] = {PF("key", KT_P_STR, R | NE),
                                    /* Kestra 1.x additions: block until the end, answer the flow outputs */
                                    P("wait", KT_P_BOOL), P("returnOutputs", KT_P_BOOL),
                                    P("responseContentType", KT_P_STR), END};

/* ---------------------------------------------------------------- conditions (type is implied) */

static const kt_prop c_exec_flow[] = {PR("namespace", KT_P_STR), PR("flowId", KT_P_STR), END};
static const kt_prop c_exec_ns[] = {PR("namespace", KT_P_STR), PE("comparison", e_comparison), P("prefix", KT_P_BOOL), END};
static const kt_prop c_in_notin[] = {PEL("in", kt_enum_states), PEL("notIn", kt_enum_states), END};
static const kt_prop c_labels[] = {PR("labels", KT_P_LABELS), END};
static const kt_prop c_expression[] = {PF("expression", KT_P_STR, R | NE), END};
static const kt_prop c_flow_cond[] = {PR("namespace", KT_P_STR), PR("flowId", KT_P_STR), END};
static const kt_prop c_flow_ns[] = {PR("namespace", KT_P_STR), P("prefix", KT_P_BOOL), END};
static const kt_prop c_not_or[] = {PF("conditions", KT_P_CONDS, R | NE), END};
static const kt_prop c_between[] = {P("date", KT_P_STR), P("after", KT_P_STR), P("before", KT_P_STR), END};
static const kt_prop c_day_week[] = {P("date", KT_P_STR), PE("dayOfWeek", e_day_of_week), END};
static const kt_prop c_day_week_month[] = {P("date", KT_P_STR), PE("dayOfWeek", e_day_of_week),
                                           PE("dayInMonth", e_day_in_month), END};
static const kt_prop c_date[] = {P("date", KT_P_STR), END};
static const kt_prop c_holiday[] = {P("date", KT_P_STR), P("country", KT_P_STR), P("subDivision", KT_P_STR), END};
static const kt_prop c_multiple[] = {P("id", KT_P_STR), P("window", KT_P_DUR), P("windowAdvance", KT_P_DUR),
                                     P("timeWindow", KT_P_MAP), P("resetOnSuccess", KT_P_BOOL),
                                     PR("conditions", KT_P_COND_MAP), END};

/* ---------------------------------------------------------------- Kestra 1.x / 2.0 core types (WP8) */

/* kv.Put (2.0): value deep-merges into the entry, or patches it by `{key: "a.b", value}` entries */
static const kt_prop t_kv_put[] = {PR("key", KT_P_STR), PF("value", KT_P_ANY, R | KT_PF_TYPED),
                                   P("namespace", KT_P_STR), PF("errorOnMissing", KT_P_BOOL, D), END};
/* execution.Kill (2.0): kills the current execution, its Subflow children too with propagateKill */
static const kt_prop t_kill[] = {PF("propagateKill", KT_P_BOOL, D), END};
/* http.SseRequest (1.x): maxEvents is Kite's (the docs' example writes it; Kestra's class has no such field) */
static const kt_prop t_sse[] = {HTTP_COMMON, P("concatJqExpression", KT_P_STR), PF("failedOnMissingJq", KT_P_BOOL, D),
                                PF("maxEvents", KT_P_INT, D), END};
/* metric.Publish (1.x): AbstractMetric's subtypes by `type` */
static const char *const e_metric_type[] = {"counter", "timer", "gauge", NULL};
static const kt_prop o_metric[] = {{"type", KT_P_ENUM, R, e_metric_type, NULL}, PR("name", KT_P_STR),
                                   PF("value", KT_P_ANY, R), P("tags", KT_P_MAP), P("description", KT_P_STR), END};
static const kt_prop t_metric_publish[] = {PO("metrics", KT_P_OBJ_LIST, 0, o_metric), END};
/* metric.PurgeMetrics: namespace (a prefix without flowId), flowId, startDate, endDate */
static const kt_prop t_purge_metrics[] = {P("namespace", KT_P_STR), P("flowId", KT_P_STR), P("startDate", KT_P_STR),
                                          PR("endDate", KT_P_STR), END};
/* flow.Approval (2.0, OSS core; Approval.java): known, so a flow using it is refused as "not supported yet" (it
 * pauses for a review through /executions/{id}/actions/review, which Kite does not answer yet) */
static const char *const e_approval_behavior[] = {"CONTINUE", "WARN", "FAIL", "SUCCEED", "CANCEL", "KILL", NULL};
static const char *const e_comment_required[] = {"NEVER", "ALWAYS", "ON_DENY", "ON_APPROVE", NULL};
static const kt_prop o_decisions[] = {P("approve", KT_P_STR), P("deny", KT_P_STR), END};
static const kt_prop t_approval[] = {
    P("inputs", KT_P_INPUTS), PO("decisions", KT_P_OBJ, 0, o_decisions),
    {"commentRequired", KT_P_ENUM, D, e_comment_required, NULL}, PF("autoApprove", KT_P_BOOL, D),
    {"approveBehavior", KT_P_ENUM, D, e_approval_behavior, NULL},
    {"denyBehavior", KT_P_ENUM, D, e_approval_behavior, NULL},
    {"expireBehavior", KT_P_ENUM, D, e_approval_behavior, NULL}, P("onWait", KT_P_TASKS), P("onApprove", KT_P_TASKS),
    P("onDeny", KT_P_TASKS), END,
};
/* flow.PurgeFlows (2.0): the plugin page's namespace/flowId and the class's namespaces/namespacePattern/flowPattern */
static const kt_prop o_purge_version[] = {P("type", KT_P_STR), PF("keepAmount", KT_P_INT, D), P("before", KT_P_STR),
                                          END};
static const kt_prop t_purge_flows[] = {
    PO("behavior", KT_P_OBJ, D, o_purge_version), P("namespace", KT_P_STR), P("flowId", KT_P_STR),
    PF("namespaces", KT_P_STR_LIST, D), P("namespacePattern", KT_P_STR), PF("includeChildNamespaces", KT_P_BOOL, D),
    P("flowPattern", KT_P_STR), END,
};

/* ---------------------------------------------------------------- the table */

#define A(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CORE "io.kestra.plugin.core."
#define LEG "io.kestra.core.tasks."
#define LCOND "io.kestra.core.models.conditions.types."
#define YES KT_SUPPORT_RUNS
#define NOT_YET KT_SUPPORT_NOT_YET
/* s: does it run (kt_support)? See tasks.h for where the truth is. */
#define TASK(t, al, k, w, s, p) {t, al, k, w, s, p}
#define RUN(t, al, s, p) {t, al, KT_PLUGIN_RUNNABLE, 1, s, p}
#define FLOWABLE(t, al, s, p) {t, al, KT_PLUGIN_FLOWABLE, 0, s, p}
#define TRIG(t, al, s, p) {t, al, KT_PLUGIN_TRIGGER, 0, s, p}
#define RUNNER(t, s, p) {t, NULL, KT_PLUGIN_TASK_RUNNER, 0, s, p}
/* Conditions are not flagged: each is as live as the trigger that evaluates it. */
#define CONDITION(t, al, p) {t, al, KT_PLUGIN_CONDITION, 0, YES, p}
#define COND(n, p) CONDITION(CORE "condition." n, A(LCOND n "Condition", CORE "condition." n "Condition"), p)

static const kt_task_def catalogue[] = {
    FLOWABLE(CORE "flow.Sequential", A(LEG "flows.Sequential"), YES, t_sequential),
    FLOWABLE(CORE "flow.Parallel", A(LEG "flows.Parallel"), YES, t_parallel),
    FLOWABLE(CORE "flow.AllowFailure", A(LEG "flows.AllowFailure"), YES, t_sequential),
    FLOWABLE(CORE "flow.If", A(LEG "flows.If"), YES, t_if),
    FLOWABLE(CORE "flow.Switch", A(LEG "flows.Switch"), YES, t_switch),
    FLOWABLE(CORE "flow.ForEach", NULL, YES, t_foreach),
    FLOWABLE(CORE "flow.Loop", NULL, YES, t_loop),
    FLOWABLE(CORE "flow.EachSequential", A(LEG "flows.EachSequential"), YES, t_each_seq),
    FLOWABLE(CORE "flow.EachParallel", A(LEG "flows.EachParallel"), YES, t_each_par),
    FLOWABLE(CORE "flow.Dag", A(LEG "flows.Dag"), YES, t_dag),
    FLOWABLE(CORE "flow.Pause", A(LEG "flows.Pause"), YES, t_pause),
    RUN(CORE "flow.Sleep", NULL, YES, t_sleep),
    TASK(CORE "flow.Subflow", A(LEG "flows.Subflow", LEG "flows.Flow"), KT_PLUGIN_EXECUTABLE, 0, YES, t_subflow),
    FLOWABLE(CORE "flow.ForEachItem", A(LEG "flows.ForEachItem"), YES, t_foreach_item),
    /* ForEachItem's generated tasks (flow/foreachitem.h; Kestra's @Plugin(internal = true), made by getTasks()):
     * the executable runs in the executor, the split and the merge on a worker */
    TASK(CORE "flow.ForEachItem$ForEachItemExecutable", NULL, KT_PLUGIN_EXECUTABLE, 0, YES, t_none),
    RUN(CORE "flow.ForEachItem$ForEachItemSplit", NULL, YES, t_fei_split),
    RUN(CORE "flow.ForEachItem$ForEachItemMergeOutputs", NULL, YES, t_fei_merge),
    TASK(CORE "flow.WorkingDirectory", A(LEG "flows.WorkingDirectory", LEG "flows.Worker"), KT_PLUGIN_FLOWABLE, 1,
         YES, t_working_dir),
    FLOWABLE(CORE "flow.Template", A(LEG "flows.Template"), NOT_YET, t_template),
    FLOWABLE(CORE "flow.WaitFor", NULL, YES, t_waitfor),
    FLOWABLE(CORE "flow.LoopUntil", NULL, YES, t_waitfor), /* WaitFor renamed (0.22): flowable_waitfor.c */
    RUN(CORE "log.Log", A(LEG "log.Log"), YES, t_log),
    RUN(CORE "log.Fetch", A(LEG "log.Fetch"), YES, t_fetch),
    RUN(CORE "log.PurgeLogs", NULL, YES, t_purge_logs),
    RUN(CORE "debug.Echo", A(LEG "debugs.Echo"), YES, t_echo),
    RUN(CORE "debug.Return", A(LEG "debugs.Return"), YES, t_return),
    RUN(CORE "output.OutputValues", NULL, YES, t_output_values),
    RUN(CORE "templating.TemplatedTask", A(LEG "templating.TemplatedTask"), YES, t_templated),
    RUN(CORE "execution.Fail", A(LEG "executions.Fail"), YES, t_fail),
    RUN(CORE "execution.Assert", NULL, YES, t_assert),
    TASK(CORE "execution.Labels", A(LEG "executions.Labels"), KT_PLUGIN_EXEC_UPDATE, 0, YES, t_labels),
    TASK(CORE "execution.Exit", NULL, KT_PLUGIN_EXEC_UPDATE, 0, YES, t_exit),
    TASK(CORE "execution.SetVariables", NULL, KT_PLUGIN_EXEC_UPDATE, 0, YES, t_set_vars),
    TASK(CORE "execution.UnsetVariables", NULL, KT_PLUGIN_EXEC_UPDATE, 0, YES, t_unset_vars),
    RUN(CORE "execution.Count", A(LEG "executions.Counts"), YES, t_count),
    RUN(CORE "execution.PurgeExecutions", A(LEG "storages.Purge", CORE "storage.Purge"), YES, t_purge_exec),
    RUN(CORE "execution.Resume", NULL, YES, t_resume),
    RUN(CORE "trigger.Toggle", A(LEG "trigger.Toggle"), YES, t_toggle),
    RUN(CORE "http.Request", A("io.kestra.plugin.fs.http.Request"), YES, t_request),
    RUN(CORE "http.Download", A("io.kestra.plugin.fs.http.Download"), YES, t_download),
    /* Kestra 1.x / 2.0 core types (WP8) */
    RUN(CORE "kv.Put", NULL, YES, t_kv_put),
    TASK(CORE "execution.Kill", NULL, KT_PLUGIN_EXEC_UPDATE, 0, YES, t_kill),
    RUN(CORE "http.SseRequest", NULL, YES, t_sse),
    RUN(CORE "metric.Publish", NULL, YES, t_metric_publish),
    RUN(CORE "flow.PurgeFlows", NULL, YES, t_purge_flows),
    RUN(CORE "metric.PurgeMetrics", NULL, YES, t_purge_metrics),
    FLOWABLE(CORE "flow.Approval", NULL, NOT_YET, t_approval),
    RUN(CORE "kv.Set", NULL, YES, t_kv_set),
    RUN(CORE "kv.Get", NULL, YES, t_kv_get),
    RUN(CORE "kv.GetKeys", NULL, YES, t_kv_keys),
    RUN(CORE "kv.Delete", NULL, YES, t_kv_get),
    RUN(CORE "kv.PurgeKV", NULL, YES, t_kv_purge),
    RUN(CORE "storage.Concat", A(LEG "storages.Concat"), YES, t_concat),
    RUN(CORE "storage.DeduplicateItems", A(LEG "storages.DeduplicateItems"), YES, t_dedup),
    RUN(CORE "storage.Delete", A(LEG "storages.Delete"), YES, t_st_delete),
    RUN(CORE "storage.FilterItems", A(LEG "storages.FilterItems"), YES, t_filter),
    RUN(CORE "storage.LocalFiles", A(LEG "storages.LocalFiles"), YES, t_local_files),
    RUN(CORE "storage.PurgeCurrentExecutionFiles", A(LEG "storages.PurgeExecution", CORE "storage.PurgeExecution"),
        YES, t_none),
    RUN(CORE "storage.Reverse", A(LEG "storages.Reverse"), YES, t_reverse),
    RUN(CORE "storage.Size", A(LEG "storages.Size"), YES, t_size),
    RUN(CORE "storage.Split", A(LEG "storages.Split"), YES, t_split),
    RUN(CORE "storage.Write", NULL, YES, t_write),
    RUN(CORE "namespace.UploadFiles", NULL, YES, t_ns_upload),
    RUN(CORE "namespace.DownloadFiles", NULL, YES, t_ns_download),
    RUN(CORE "namespace.DeleteFiles", NULL, YES, t_ns_delete),
    RUN(CORE "state.Set", A(LEG "states.Set"), NOT_YET, t_state_set),
    RUN(CORE "state.Get", A(LEG "states.Get"), NOT_YET, t_state_get),
    RUN(CORE "state.Delete", A(LEG "states.Delete"), NOT_YET, t_state_get),
    RUN("io.kestra.plugin.scripts.shell.Commands", NULL, YES, t_commands),
    RUN("io.kestra.plugin.scripts.shell.Script", NULL, YES, t_script),
    RUN("io.kestra.plugin.scripts.python.Commands", NULL, YES, t_py_commands),
    RUN("io.kestra.plugin.scripts.python.Script", NULL, YES, t_py_script),
    RUN("io.kestra.plugin.scripts.node.Commands", NULL, YES, t_commands),
    RUN("io.kestra.plugin.scripts.node.Script", NULL, YES, t_script),
    RUNNER(CORE "runner.Process", YES, t_none),
    RUNNER("io.kestra.plugin.scripts.runner.docker.Docker", NOT_YET, r_docker),
    TRIG(CORE "trigger.Schedule", A("io.kestra.core.models.triggers.types.Schedule"), YES, g_schedule),
    TRIG(CORE "trigger.ScheduleOnDates", NULL, YES, g_schedule_dates),
    TRIG(CORE "trigger.Flow", A("io.kestra.core.models.triggers.types.Flow"), YES, g_flow),
    TRIG(CORE "trigger.Webhook", A("io.kestra.core.models.triggers.types.Webhook"), YES, g_webhook),
    TRIG(CORE "http.Trigger", A("io.kestra.plugin.fs.http.Trigger"), YES, g_http_trigger),
    COND("ExecutionFlow", c_exec_flow),
    COND("ExecutionNamespace", c_exec_ns),
    COND("ExecutionStatus", c_in_notin),
    COND("ExecutionLabels", c_labels),
    COND("ExecutionOutputs", c_expression),
    COND("HasRetryAttempt", c_in_notin),
    COND("Not", c_not_or),
    COND("Or", c_not_or),
    COND("DateTimeBetween", c_between),
    COND("TimeBetween", c_between),
    COND("DayWeek", c_day_week),
    COND("DayWeekInMonth", c_day_week_month),
    COND("Weekend", c_date),
    COND("PublicHoliday", c_holiday),
    CONDITION(CORE "condition.Expression", A(LCOND "VariableCondition", CORE "condition.ExpressionCondition"),
              c_expression),
    CONDITION(CORE "condition.FlowCondition", A(LCOND "FlowCondition"), c_flow_cond),
    CONDITION(CORE "condition.FlowNamespaceCondition", A(LCOND "FlowNamespaceCondition"), c_flow_ns),
    CONDITION(CORE "condition.MultipleCondition", A(LCOND "MultipleCondition"), c_multiple),
};

const kt_task_def *kt_task_catalogue(size_t *n)
{
    *n = sizeof(catalogue) / sizeof(catalogue[0]);
    return catalogue;
}

const kt_task_def *kt_task_lookup(const char *type)
{
    if (!type)
        return NULL;
    /* ~80 entries: a linear scan costs less than the YAML parse that precedes it. */
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
        const kt_task_def *d = &catalogue[i];
        if (strcmp(d->type, type) == 0)
            return d;
        for (const char *const *a = d->aliases; a && *a; a++)
            if (strcmp(*a, type) == 0)
                return d;
    }
    return NULL;
}

const char *kt_task_canonical_type(const char *type)
{
    const kt_task_def *d = kt_task_lookup(type);
    return d ? d->type : type;
}

const kt_prop *kt_prop_find(const kt_prop *props, const char *name)
{
    for (; props && props->name; props++)
        if (strcmp(props->name, name) == 0)
            return props;
    return NULL;
}

const char *kt_task_kind_name(const kt_task_def *d)
{
    switch (d ? d->kind : KT_PLUGIN_RUNNABLE) {
    case KT_PLUGIN_TRIGGER:
        return "trigger";
    case KT_PLUGIN_CONDITION:
        return "condition";
    case KT_PLUGIN_TASK_RUNNER:
        return "task runner";
    default:
        return "task";
    }
}

/* ---------------------------------------------------------------- the plugins of a flow */

/* The walk follows the property tables, so it finds plugins exactly where the validator looks for them. The path
 * is one growing kt_buf: a step appends, and cutting back to the saved length undoes it. */
typedef struct kt_walk {
    kt_task_visit_fn fn;
    void *ud;
    kt_buf path;
} kt_walk;

static void walk_pop(kt_walk *w, size_t saved)
{
    w->path.len = saved;
    if (w->path.p)
        w->path.p[saved] = 0;
}

static void walk_plugin(kt_walk *w, const json_t *v, int kind);

/* Appends a key of an object or an item of an array ("key" at the root, "path.key", "path[i]"); returns the length
 * to cut back to. */
static size_t walk_key(kt_walk *w, const char *key)
{
    size_t saved = w->path.len;
    if (saved)
        kt_buf_putc(&w->path, '.');
    kt_buf_puts(&w->path, key);
    return saved;
}

static size_t walk_item(kt_walk *w, size_t i)
{
    size_t saved = w->path.len;
    kt_buf_printf(&w->path, "[%zu]", i);
    return saved;
}

static void walk_list(kt_walk *w, const json_t *v, int kind)
{
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        size_t s = walk_item(w, i);
        walk_plugin(w, x, kind);
        walk_pop(w, s);
    }
}

/* Can a value of this kind hold plugins? */
static int may_hold_plugins(uint8_t kind)
{
    return kind == KT_P_TASKS || kind == KT_P_CASES || kind == KT_P_DAG || kind == KT_P_RUNNER ||
           kind == KT_P_CONDS || kind == KT_P_COND_MAP || kind == KT_P_OBJ || kind == KT_P_OBJ_LIST;
}

/* The values of o that hold plugins, by the kind of each property in the NULL-terminated tables. */
static void walk_props(kt_walk *w, const json_t *o, const kt_prop *const *tables)
{
    for (int t = 0; tables[t]; t++) {
        for (const kt_prop *p = tables[t]; p->name; p++) {
            const json_t *v = json_object_get(o, p->name);
            if (!v || !may_hold_plugins(p->kind))
                continue;
            size_t s = walk_key(w, p->name);
            const char *k;
            json_t *x;
            size_t i;
            const kt_prop *sub[] = {p->sub, NULL};
            switch ((kt_prop_kind)p->kind) {
            case KT_P_TASKS:
                walk_list(w, v, KT_PLUGIN_RUNNABLE);
                break;
            case KT_P_CONDS:
                walk_list(w, v, KT_PLUGIN_CONDITION);
                break;
            case KT_P_RUNNER:
                walk_plugin(w, v, KT_PLUGIN_TASK_RUNNER);
                break;
            case KT_P_CASES:
            case KT_P_COND_MAP:
                json_object_foreach((json_t *)v, k, x) {
                    size_t s2 = walk_key(w, k);
                    if (p->kind == KT_P_CASES)
                        walk_list(w, x, KT_PLUGIN_RUNNABLE);
                    else
                        walk_plugin(w, x, KT_PLUGIN_CONDITION);
                    walk_pop(w, s2);
                }
                break;
            case KT_P_DAG:
                json_array_foreach(v, i, x) {
                    size_t s2 = walk_item(w, i);
                    walk_key(w, "task");
                    walk_plugin(w, json_object_get(x, "task"), KT_PLUGIN_RUNNABLE);
                    walk_pop(w, s2);
                }
                break;
            case KT_P_OBJ:
                if (p->sub && json_is_object(v))
                    walk_props(w, v, sub);
                break;
            case KT_P_OBJ_LIST:
                json_array_foreach(v, i, x) {
                    size_t s2 = walk_item(w, i);
                    if (p->sub && json_is_object(x))
                        walk_props(w, x, sub);
                    walk_pop(w, s2);
                }
                break;
            default:
                break;
            }
            walk_pop(w, s);
        }
    }
}

/* kind: KT_PLUGIN_RUNNABLE stands for any task kind, as a task list accepts all of them. */
static void walk_plugin(kt_walk *w, const json_t *v, int kind)
{
    const char *type = json_string_value(json_object_get(v, "type"));
    const kt_task_def *d = kt_task_lookup(type);
    if (!d)
        return;
    int is_task = d->kind <= KT_PLUGIN_EXEC_UPDATE;
    if (kind == KT_PLUGIN_RUNNABLE ? !is_task : d->kind != kind)
        return; /* a plugin of another kind here: the validator says "Invalid type" */
    w->fn(w->ud, w->path.p ? w->path.p : "", type, d);
    const kt_prop *common = d->kind == KT_PLUGIN_FLOWABLE  ? common_flowable /* errors */
                            : d->kind == KT_PLUGIN_TRIGGER ? common_trigger  /* conditions */
                                                           : NULL;
    const kt_prop *tables[] = {d->props, common, NULL};
    walk_props(w, v, tables);
}

void kt_task_walk_flow(const json_t *flow, kt_task_visit_fn fn, void *ud)
{
    static const kt_prop o_listener[] = {P("conditions", KT_P_CONDS), P("tasks", KT_P_TASKS), END};
    static const kt_prop flow_plugins[] = {P("tasks", KT_P_TASKS), P("errors", KT_P_TASKS),
                                           PO("listeners", KT_P_OBJ_LIST, 0, o_listener), END};
    if (!json_is_object(flow))
        return;
    kt_walk w = {.fn = fn, .ud = ud};
    const kt_prop *tables[] = {flow_plugins, NULL};
    walk_props(&w, flow, tables);
    walk_key(&w, "triggers");
    walk_list(&w, json_object_get(flow, "triggers"), KT_PLUGIN_TRIGGER);
    free(w.path.p);
}

typedef struct kt_unsupported {
    json_t *seen;
    char *buf;
    size_t cap, len;
} kt_unsupported;

static void collect_unsupported(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    (void)path;
    kt_unsupported *u = ud;
    if (d->support != KT_SUPPORT_NOT_YET || json_object_get(u->seen, type))
        return;
    json_object_set_new(u->seen, type, json_true());
    if (u->cap == 0)
        return;
    int n = snprintf(u->buf + u->len, u->cap - u->len, "%s%s", u->len ? ", " : "", type);
    if (n > 0) /* when it did not fit, buf is full and stays so */
        u->len = u->len + (size_t)n < u->cap ? u->len + (size_t)n : u->cap - 1;
}

size_t kt_task_unsupported_in_flow(const json_t *flow, char *buf, size_t cap)
{
    kt_unsupported u = {.seen = json_object(), .buf = buf, .cap = cap};
    if (cap)
        buf[0] = 0;
    if (!u.seen)
        return 0;
    kt_task_walk_flow(flow, collect_unsupported, &u);
    size_t n = json_object_size(u.seen);
    json_decref(u.seen);
    return n;
}
