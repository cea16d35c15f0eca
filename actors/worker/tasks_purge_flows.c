/* io.kestra.plugin.core.flow.PurgeFlows (Kestra 2.0's PurgeFlows.java and its plugin page): deletes old revisions of
 * flows, keeping the latest of each. The worker has no store: it checks the properties and asks the executor
 * (flows.purge, actors/executor/flow_purge.c). Output: size, the number of revisions deleted.
 *
 * behavior (default {type: version, keepAmount: 1}): keepAmount keeps that many newest revisions (at least 1), before
 * (an ISO-8601 instant) deletes the ones saved at or before it, neither deletes every revision but the latest; both
 * is refused, as Version's check does. The flows: the page's namespace (+ flowId) or the class's namespaces /
 * namespacePattern (one or the other), includeChildNamespaces (default true) and flowPattern. */
#include "actors/worker/tasks_ask.h"
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kt_pf_fail(kt_task_run *r, const char *msg)
{
    kt_task_logf(r, "ERROR", "%s", msg);
    kt_task_finish(r, KT_S(FAILED), NULL);
}

static void kt_pf_replied(kt_task_run *r, const kt_msg_reply *rep)
{
    if (kt_ask_failed(r, rep)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const json_t *size = json_object_get(rep->data, "size");
    kt_task_logf(r, "INFO", "purged %" JSON_INTEGER_FORMAT " flow revisions", json_integer_value(size));
    kt_task_finish(r, KT_S(SUCCESS), json_pack("{s:I}", "size", json_integer_value(size)));
}

/* behavior into keep / before_us (-1: none); -1 with err. */
static int kt_pf_behavior(const json_t *props, int *keep, int64_t *before_us, char *err, size_t cap)
{
    const json_t *b = json_object_get(props, "behavior");
    json_t *parsed = NULL;
    *keep = 1;
    *before_us = -1;
    if (!b || json_is_null(b))
        return 0;
    if (json_is_string(b)) /* a rendered expression giving the object as JSON text */
        b = parsed = json_loads(json_string_value(b), 0, NULL);
    int rc = -1;
    const json_t *type = json_object_get(b, "type"), *amount = json_object_get(b, "keepAmount");
    const json_t *before = json_object_get(b, "before");
    if (!json_is_object(b)) {
        snprintf(err, cap, "behavior: must be an object {type: version, keepAmount | before}");
    } else if (type && (!json_is_string(type) || strcmp(json_string_value(type), "version"))) {
        snprintf(err, cap, "behavior.type: must be 'version'");
    } else if (amount && !json_is_null(amount) && before && !json_is_null(before)) {
        snprintf(err, cap, "Cannot set both 'before' and 'keepAmount' properties");
    } else if (amount && !json_is_null(amount)) {
        long long n = json_is_integer(amount) ? json_integer_value(amount)
                      : json_is_string(amount) ? strtoll(json_string_value(amount), NULL, 10) : 0;
        if (n < 1 || n > 1000000000) {
            snprintf(err, cap, "behavior.keepAmount: must be greater than or equal to 1");
        } else {
            *keep = (int)n;
            rc = 0;
        }
    } else if (before && !json_is_null(before)) {
        if (!json_is_string(before) || kt_time_parse(json_string_value(before), before_us)) {
            snprintf(err, cap, "behavior.before: must be an ISO-8601 instant, for example 2026-01-01T00:00:00Z");
        } else {
            *keep = 0;
            rc = 0;
        }
    } else {
        *keep = 1; /* neither: every revision but the latest */
        rc = 0;
    }
    json_decref(parsed);
    return rc;
}

static void kt_pf_start(kt_task_run *r)
{
    const json_t *props = kt_task_props(r);
    char err[256] = "";
    int keep;
    int64_t before_us;
    if (kt_pf_behavior(props, &keep, &before_us, err, sizeof err)) {
        kt_pf_fail(r, err);
        return;
    }
    const char *ns = kt_task_prop_string(r, "namespace"), *flow_id = kt_task_prop_string(r, "flowId");
    const json_t *list = json_object_get(props, "namespaces");
    const char *pattern = kt_task_prop_string(r, "namespacePattern");
    if (flow_id && !ns) {
        kt_pf_fail(r, "You need to provide the `namespace` property if you want to purge a flow.");
        return;
    }
    if (list && !json_is_null(list) && !json_is_array(list)) {
        kt_pf_fail(r, "namespaces: must be a list of namespaces");
        return;
    }
    if (json_array_size(list) && pattern) {
        kt_pf_fail(r, "`namespaces` and `namespacePattern` can't be used together: use one or the other");
        return;
    }
    const json_t *children = json_object_get(props, "includeChildNamespaces");
    int with_children = !(json_is_false(children) ||
                          (json_is_string(children) && !strcmp(json_string_value(children), "false")));
    json_t *body = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:b, s:i, s:I}", "op", "flows.purge", "namespace", ns,
                             "flowId", flow_id, "namespacePattern", pattern, "flowPattern",
                             kt_task_prop_string(r, "flowPattern"), "includeChildNamespaces", with_children, "keep",
                             keep, "beforeUs", (json_int_t)before_us);
    if (json_is_array(list))
        json_object_set(body, "namespaces", (json_t *)list);
    int bad = kt_ask_executor(r, body, kt_pf_replied);
    json_decref(body);
    if (bad)
        kt_task_finish(r, KT_S(FAILED), NULL);
}

const kt_task_impl kt_task_purge_flows_impl = {.type = "io.kestra.plugin.core.flow.PurgeFlows", .start = kt_pf_start};
