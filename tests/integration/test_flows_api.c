/* The flows routes beyond create/get/update (issue 11) against a real server: revisions and allowDeleted, one task,
 * JSON bodies (create, update, namespace update: source generated as YAML and kept) and PATCH of a task, the bulk
 * disable/enable/delete by ids and by query (the source rewritten, new revisions, nothing done when one id is
 * missing), the zip export (entries and bytes read back with base/zip) and the import (zip, multi-document YAML,
 * failures listed, wrong types refused), task/trigger validation, distinct namespaces, the source search, bulk
 * update, and the router's 405 for a known path with another method. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/zip.h"
#include "harness.h"

#define NS "io.kite.fapi"
#define NS2 "io.kite.fapi.sub"

static const char *FLOW_A = "id: alpha\nnamespace: " NS "\nlabels:\n  team: blue\ntasks:\n"
                            "  - id: seq\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n"
                            "      - id: inner\n        type: io.kestra.plugin.core.log.Log\n        message: v1\n";
static const char *FLOW_B = "id: beta\nnamespace: " NS "\nlabels:\n  team: red\n# a comment kept\ntasks:\n"
                            "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: b\n";
static const char *FLOW_C = "id: gamma\nnamespace: " NS2 "\ntasks:\n"
                            "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: c\n";

/* One request with a raw body and content type; the answer (bytes, length, headers) in r. */
static long raw(const char *method, int port, const char *path, const char *ctype, const char *body, kt_it_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[1024], hdr[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *h = NULL;
    if (ctype) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
        h = curl_slist_append(h, hdr);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, kt_it_resp_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* method path with a JSON (or YAML/text) body; the JSON answer in *out; asserts the status. */
static json_t *call(int port, const char *method, const char *path, const char *ctype, const char *body, long want)
{
    json_t *out = NULL;
    long st = kt_it_http_json(method, port, path, ctype, body, &out);
    if (st != want) {
        char *s = out ? json_dumps(out, 0) : NULL;
        fail_msg("%s %s: status %ld, want %ld: %s", method, path, st, want, s ? s : "");
    }
    return out;
}

static const char *msg(const json_t *j) { return json_string_value(json_object_get(j, "message")); }

static json_t *get_flow(int port, const char *ns, const char *id, const char *extra, long want)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/flows/%s/%s?source=true%s", ns, id, extra ? extra : "");
    return call(port, "GET", path, NULL, NULL, want);
}

static void test_revisions_and_tasks(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    kt_it_create_flow(port, FLOW_A, NULL);
    char *v2 = strdup(FLOW_A);
    strstr(v2, "message: v1")[10] = '2';
    json_decref(call(port, "PUT", "/api/v1/flows/" NS "/alpha", "application/x-yaml", v2, 200));
    json_decref(call(port, "DELETE", "/api/v1/flows/" NS "/alpha", NULL, NULL, 204));

    json_t *revs = call(port, "GET", "/api/v1/flows/" NS "/alpha/revisions", NULL, NULL, 200);
    assert_int_equal(json_array_size(revs), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(revs, (size_t)i), "revision")), i + 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(revs, 0), "source")), FLOW_A);
    assert_string_equal(json_string_value(json_object_get(json_array_get(revs, 1), "source")), v2);
    assert_true(json_is_true(json_object_get(json_array_get(revs, 2), "deleted")));
    json_decref(revs);
    revs = call(port, "GET", "/api/v1/flows/" NS "/nothing/revisions", NULL, NULL, 200);
    assert_int_equal(json_array_size(revs), 0);
    json_decref(revs);

    /* deleted: 404 unless allowDeleted */
    json_t *e = get_flow(port, NS, "alpha", NULL, 404);
    assert_string_equal(msg(e), "Not Found");
    json_decref(e);
    json_t *d = get_flow(port, NS, "alpha", "&allowDeleted=true", 200);
    assert_true(json_is_true(json_object_get(d, "deleted")));
    assert_int_equal(json_integer_value(json_object_get(d, "revision")), 3);
    json_decref(d);
    json_t *r1 = get_flow(port, NS, "alpha", "&revision=1", 200);
    assert_string_equal(json_string_value(json_object_get(r1, "source")), FLOW_A);
    json_decref(r1);
    json_decref(get_flow(port, NS, "alpha", "&revision=3", 404));

    /* one task, at any depth; not a trigger, not a missing one */
    kt_it_create_flow(port, FLOW_B, NULL);
    json_decref(call(port, "POST", "/api/v1/flows", "application/x-yaml", FLOW_A, 200)); /* re-created: revision 4 */
    json_t *t = call(port, "GET", "/api/v1/flows/" NS "/alpha/tasks/inner", NULL, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(t, "id")), "inner");
    assert_string_equal(json_string_value(json_object_get(t, "message")), "v1");
    json_decref(t);
    t = call(port, "GET", "/api/v1/flows/" NS "/alpha/tasks/inner?revision=2", NULL, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(t, "message")), "v2");
    json_decref(t);
    json_decref(call(port, "GET", "/api/v1/flows/" NS "/alpha/tasks/nope", NULL, NULL, 404));
    json_decref(call(port, "GET", "/api/v1/flows/" NS "/missing/tasks/inner", NULL, NULL, 404));
    json_decref(call(port, "GET", "/api/v1/flows/" NS "/alpha/tasks/inner?revision=x", NULL, NULL, 422));
    free(v2);
}

static void test_json_bodies_and_patch(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    const char *body = "{\"id\":\"jflow\",\"namespace\":\"" NS "\",\"revision\":7,\"description\":null,"
                       "\"deleted\":false,\"disabled\":false,"
                       "\"tasks\":[{\"id\":\"say\",\"type\":"
                       "\"io.kestra.plugin.core.log.Log\",\"message\":\"{{ flow.id }}: yes\"}]}";
    json_t *c = call(port, "POST", "/api/v1/flows", "application/json", body, 200);
    assert_int_equal(json_integer_value(json_object_get(c, "revision")), 1);
    assert_null(json_object_get(c, "source")); /* the JSON route answers a Flow */
    json_decref(c);
    json_t *g = get_flow(port, NS, "jflow", NULL, 200);
    const char *src = json_string_value(json_object_get(g, "source"));
    assert_non_null(strstr(src, "id: jflow\nnamespace: " NS "\n"));
    assert_non_null(strstr(src, "tasks:\n- id: say\n  type: io.kestra.plugin.core.log.Log\n  message: \"{{ flow.id }}: yes\"\n"));
    assert_null(strstr(src, "revision"));
    assert_null(strstr(src, "description"));
    assert_null(strstr(src, "deleted"));
    assert_null(strstr(src, "disabled"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(g, "tasks"), 0), "message")),
                        "{{ flow.id }}: yes");
    json_decref(g);
    /* an invalid JSON flow: 422 with the path */
    json_t *bad = call(port, "POST", "/api/v1/flows", "application/json",
                       "{\"id\":\"jbad\",\"namespace\":\"" NS "\",\"tasks\":[{\"id\":\"x\"}]}", 422);
    assert_non_null(strstr(msg(bad), "Invalid entity: "));
    assert_non_null(strstr(msg(bad), "tasks[0]"));
    json_decref(bad);
    json_decref(call(port, "POST", "/api/v1/flows", "application/json", "{not json", 422));
    /* PUT with JSON: a new revision */
    json_t *u = call(port, "PUT", "/api/v1/flows/" NS "/jflow", "application/json",
                     "{\"id\":\"jflow\",\"namespace\":\"" NS "\",\"tasks\":[{\"id\":\"say\",\"type\":"
                     "\"io.kestra.plugin.core.log.Log\",\"message\":\"two\"}]}",
                     200);
    assert_int_equal(json_integer_value(json_object_get(u, "revision")), 2);
    json_decref(u);

    /* PATCH one task: the source regenerated, a new revision */
    json_t *p = call(port, "PATCH", "/api/v1/flows/" NS "/jflow/say", "application/json",
                     "{\"id\":\"say\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"patched\"}", 200);
    assert_int_equal(json_integer_value(json_object_get(p, "revision")), 3);
    json_decref(p);
    g = get_flow(port, NS, "jflow", NULL, 200);
    assert_non_null(strstr(json_string_value(json_object_get(g, "source")), "message: patched"));
    json_decref(g);
    json_t *mm = call(port, "PATCH", "/api/v1/flows/" NS "/jflow/say", "application/json",
                      "{\"id\":\"other\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"x\"}", 422);
    assert_string_equal(msg(mm), "Illegal argument: Invalid taskId, previous 'say' & current 'other'");
    json_decref(mm);
    json_decref(call(port, "PATCH", "/api/v1/flows/" NS "/jflow/ghost", "application/json",
                     "{\"id\":\"ghost\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"x\"}", 404));
    json_decref(call(port, "PATCH", "/api/v1/flows/" NS "/nope/say", "application/json",
                     "{\"id\":\"say\",\"type\":\"io.kestra.plugin.core.log.Log\",\"message\":\"x\"}", 404));

    /* namespace update with a JSON list: Flows without source, the missing one deleted */
    json_t *nu = call(port, "POST", "/api/v1/flows/" NS, "application/json",
                      "[{\"id\":\"j2\",\"namespace\":\"" NS "\",\"tasks\":[{\"id\":\"a\",\"type\":"
                      "\"io.kestra.plugin.core.log.Log\",\"message\":\"m\"}]}]",
                      200);
    assert_int_equal(json_array_size(nu), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(nu, 0), "id")), "jflow");
    assert_true(json_is_true(json_object_get(json_array_get(nu, 0), "deleted")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(nu, 1), "id")), "j2");
    assert_null(json_object_get(json_array_get(nu, 1), "source"));
    json_decref(nu);
    json_decref(get_flow(port, NS, "jflow", NULL, 404));
    json_decref(get_flow(port, NS, "j2", NULL, 200));
}

/* The latest source of a flow (asserts 200). */
static char *source_of(int port, const char *ns, const char *id, int *revision, int *disabled)
{
    json_t *g = get_flow(port, ns, id, NULL, 200);
    char *s = strdup(json_string_value(json_object_get(g, "source")));
    if (revision)
        *revision = (int)json_integer_value(json_object_get(g, "revision"));
    if (disabled)
        *disabled = json_is_true(json_object_get(g, "disabled"));
    json_decref(g);
    return s;
}

static long count_of(json_t *j)
{
    long n = (long)json_integer_value(json_object_get(j, "count"));
    json_decref(j);
    return n;
}

static void test_bulk_state(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    kt_it_create_flow(port, FLOW_A, NULL);
    kt_it_create_flow(port, FLOW_B, NULL);
    kt_it_create_flow(port, FLOW_C, NULL);
    const char *ids = "[{\"namespace\":\"" NS "\",\"id\":\"beta\"}]";
    assert_int_equal(count_of(call(port, "POST", "/api/v1/flows/disable/by-ids", "application/json", ids, 200)), 1);
    int rev, dis;
    char *s = source_of(port, NS, "beta", &rev, &dis);
    assert_int_equal(rev, 2);
    assert_true(dis);
    /* Kestra's injectDisabled: appended after the source, comments kept */
    char *want = malloc(strlen(FLOW_B) + 32);
    sprintf(want, "%s\ndisabled: true", FLOW_B);
    assert_string_equal(s, want);
    free(s);
    /* already disabled: not counted, no revision */
    assert_int_equal(count_of(call(port, "POST", "/api/v1/flows/disable/by-ids", "application/json", ids, 200)), 0);
    s = source_of(port, NS, "beta", &rev, NULL);
    assert_int_equal(rev, 2);
    free(s);
    /* enable by query: the namespace and below, only the disabled one changes */
    assert_int_equal(count_of(call(port, "POST", "/api/v1/flows/enable/by-query?namespace=" NS, NULL, NULL, 200)), 1);
    s = source_of(port, NS, "beta", &rev, &dis);
    assert_int_equal(rev, 3);
    assert_false(dis);
    sprintf(want, "%s\ndisabled: false\n", FLOW_B);
    assert_string_equal(s, want);
    free(s);
    free(want);
    /* disable by query with a label filter */
    assert_int_equal(count_of(call(port, "POST", "/api/v1/flows/disable/by-query?labels=team:blue", NULL, NULL, 200)), 1);
    free(source_of(port, NS, "alpha", &rev, &dis));
    assert_true(dis);
    assert_int_equal(rev, 2);

    /* one id missing: 404, nothing deleted */
    json_t *e = call(port, "DELETE", "/api/v1/flows/delete/by-ids", "application/json",
                     "[{\"namespace\":\"" NS "\",\"id\":\"alpha\"},{\"namespace\":\"" NS "\",\"id\":\"ghost\"}]", 404);
    assert_string_equal(msg(e), "Not Found: No value present");
    json_decref(e);
    json_decref(get_flow(port, NS, "alpha", NULL, 200));
    json_decref(call(port, "DELETE", "/api/v1/flows/delete/by-ids", "application/json", "{\"x\":1}", 422));
    assert_int_equal(count_of(call(port, "DELETE", "/api/v1/flows/delete/by-ids", "application/json",
                                   "[{\"namespace\":\"" NS "\",\"id\":\"alpha\"}]", 200)),
                     1);
    json_decref(get_flow(port, NS, "alpha", NULL, 404));
    /* by query: q on the id */
    assert_int_equal(count_of(call(port, "DELETE", "/api/v1/flows/delete/by-query?q=gamm", NULL, NULL, 200)), 1);
    json_decref(get_flow(port, NS2, "gamma", NULL, 404));
    json_decref(get_flow(port, NS, "beta", NULL, 200));
    json_t *bad = call(port, "POST", "/api/v1/flows/disable/by-query?scope=NOPE", NULL, NULL, 422);
    json_decref(bad);
}

/* The entries of a zip answer: {name: content}. */
static json_t *unzip(const kt_it_resp *r)
{
    kt_zip_reader *z = NULL;
    char err[256];
    const kt_zip_limits lim = {.max_entries = 100, .max_total = 1 << 20};
    assert_int_equal(kt_zip_open(r->body, r->len, &lim, &z, err, sizeof err), KT_OK);
    json_t *out = json_object();
    for (size_t i = 0; i < kt_zip_count(z); i++) {
        char *data;
        size_t len;
        assert_int_equal(kt_zip_read_all(z, i, 1 << 20, &data, &len, err, sizeof err), KT_OK);
        json_object_set_new(out, kt_zip_get(z, i)->name, json_stringn(data, len));
        free(data);
    }
    kt_zip_close(z);
    return out;
}

static void test_export_import(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    kt_it_create_flow(port, FLOW_A, NULL);
    kt_it_create_flow(port, FLOW_B, NULL);
    kt_it_create_flow(port, FLOW_C, NULL);
    kt_it_resp r;
    assert_int_equal(raw("POST", port, "/api/v1/flows/export/by-ids", "application/json",
                         "[{\"namespace\":\"" NS "\",\"id\":\"alpha\"},{\"namespace\":\"" NS2 "\",\"id\":\"gamma\"}]", &r),
                     200);
    assert_non_null(strcasestr(r.headers, "Content-Disposition: attachment; filename=\"flows.zip\""));
    assert_non_null(strcasestr(r.headers, "Content-Type: application/octet-stream"));
    json_t *entries = unzip(&r);
    free(r.body);
    assert_int_equal(json_object_size(entries), 2);
    assert_string_equal(json_string_value(json_object_get(entries, NS ".alpha.yml")), FLOW_A);
    assert_string_equal(json_string_value(json_object_get(entries, NS2 ".gamma.yml")), FLOW_C);
    json_decref(entries);
    assert_int_equal(raw("GET", port, "/api/v1/flows/export/by-query?namespace=" NS "&labels=team:red", NULL, NULL, &r),
                     200);
    entries = unzip(&r);
    assert_int_equal(json_object_size(entries), 1);
    assert_string_equal(json_string_value(json_object_get(entries, NS ".beta.yml")), FLOW_B);
    json_decref(entries);

    /* the by-query archive imported after the flows are gone: created again with the same source */
    assert_int_equal(count_of(call(port, "DELETE", "/api/v1/flows/delete/by-query?namespace=" NS, NULL, NULL, 200)), 3);
    json_decref(get_flow(port, NS, "beta", NULL, 404));
    kt_it_resp ir;
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", r.body, r.len, "fileUpload", "flows.ZIP", &ir),
                     200);
    assert_string_equal(ir.body, "[]");
    free(ir.body);
    free(r.body);
    char *s = source_of(port, NS, "beta", NULL, NULL);
    assert_string_equal(s, FLOW_B);
    free(s);

    /* a zip holding a bad flow: its name listed, the good one imported */
    kt_buf zb = {0};
    kt_zip_writer *z = kt_zip_writer_new(1);
    const char *good = "id: zgood\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                       "    message: z\n";
    assert_int_equal(kt_zip_entry_begin(z, "dir/good.yaml", 0, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_write(z, good, strlen(good), &zb), KT_OK);
    assert_int_equal(kt_zip_entry_end(z, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_begin(z, "bad.yml", 0, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_write(z, "id: x\n", 6, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_end(z, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_begin(z, "notes.txt", 0, &zb), KT_OK);
    assert_int_equal(kt_zip_entry_write(z, "ignored", 7, &zb), KT_OK);
    assert_int_equal(kt_zip_finish(z, &zb), KT_OK);
    kt_zip_writer_free(z);
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", zb.p, zb.len, "fileUpload", "x.zip", &ir), 200);
    assert_string_equal(ir.body, "[\"bad.yml\"]");
    free(ir.body);
    free(zb.p);
    json_decref(get_flow(port, NS, "zgood", NULL, 200));

    /* multi-document YAML: every flow created or updated */
    const char *multi = "id: y1\nnamespace: " NS "\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                        "    message: a\n---\nid: y2\nnamespace: " NS2 "\ntasks:\n  - id: t\n"
                        "    type: io.kestra.plugin.core.log.Log\n    message: b\n";
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", multi, strlen(multi), "fileUpload", "f.yml", &ir),
                     200);
    assert_string_equal(ir.body, "[]");
    free(ir.body);
    json_decref(get_flow(port, NS, "y1", NULL, 200));
    json_decref(get_flow(port, NS2, "y2", NULL, 200));
    /* an invalid document fails the whole YAML request (Kestra's second, unguarded import) */
    const char *bad = "id: y3\nnamespace: " NS "\ntasks: []\n";
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", bad, strlen(bad), "fileUpload", "f.yaml", &ir),
                     422);
    assert_non_null(strstr(ir.body, "Invalid entity"));
    free(ir.body);
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", "x", 1, "fileUpload", "f.TXT", &ir), 422);
    assert_non_null(strstr(ir.body, "Illegal argument: Cannot import file of type .txt"));
    free(ir.body);
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", "x", 1, "other", "f.yml", &ir), 400);
    free(ir.body);
    assert_int_equal(kt_it_request("POST", port, "/api/v1/flows/import", "not a zip", 9, "fileUpload", "f.zip", &ir),
                     422);
    free(ir.body);
}

static void test_validate_and_misc(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    /* validate/task: YAML with a section, JSON without */
    json_t *v = call(port, "POST", "/api/v1/flows/validate/task?section=TASKS", "application/x-yaml",
                     "id: t\ntype: io.kestra.plugin.core.log.Log\nmessage: hi\n", 200);
    assert_null(json_object_get(v, "constraints"));
    json_decref(v);
    v = call(port, "POST", "/api/v1/flows/validate/task?section=TASKS", "application/x-yaml",
             "id: t\ntype: io.kestra.plugin.core.log.Log\n", 200);
    assert_non_null(strstr(json_string_value(json_object_get(v, "constraints")), "message"));
    assert_null(strstr(json_string_value(json_object_get(v, "constraints")), "tasks[0]"));
    json_decref(v);
    v = call(port, "POST", "/api/v1/flows/validate/task", "application/json",
             "{\"id\":\"t\",\"type\":\"io.kestra.plugin.core.nope.Nope\"}", 200);
    assert_non_null(json_string_value(json_object_get(v, "constraints")));
    json_decref(v);
    v = call(port, "POST", "/api/v1/flows/validate/task?section=TRIGGERS", "application/x-yaml",
             "id: s\ntype: io.kestra.plugin.core.trigger.Schedule\ncron: \"not a cron\"\n", 200);
    assert_non_null(json_string_value(json_object_get(v, "constraints")));
    json_decref(v);
    v = call(port, "POST", "/api/v1/flows/validate/trigger", "application/json",
             "{\"id\":\"s\",\"type\":\"io.kestra.plugin.core.trigger.Schedule\",\"cron\":\"0 * * * *\"}", 200);
    assert_null(json_object_get(v, "constraints"));
    json_decref(v);
    json_decref(call(port, "POST", "/api/v1/flows/validate/task", "application/x-yaml", "id: t\n", 400));
    json_decref(call(port, "POST", "/api/v1/flows/validate/task?section=X", "application/x-yaml", "id: t\n", 422));
    json_decref(call(port, "POST", "/api/v1/flows/validate/trigger", "application/x-yaml", "id: t\n", 415));

    /* distinct namespaces with a prefix, the source search, bulk */
    kt_it_create_flow(port, FLOW_A, NULL);
    kt_it_create_flow(port, FLOW_C, NULL);
    json_t *ns = call(port, "GET", "/api/v1/flows/distinct-namespaces?q=io.kite.fapi.", NULL, NULL, 200);
    assert_int_equal(json_array_size(ns), 1);
    assert_string_equal(json_string_value(json_array_get(ns, 0)), NS2);
    json_decref(ns);
    json_t *src = call(port, "GET", "/api/v1/flows/source?q=GAMMA", NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(src, "total")), 1);
    json_t *hit = json_array_get(json_object_get(src, "results"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(hit, "model"), "id")), "gamma");
    /* Kestra's fragment: from the line before the first hit, four lines at most, the hit marked as written */
    assert_string_equal(json_string_value(json_array_get(json_object_get(hit, "fragments"), 0)),
                        "id: [mark]gamma[/mark]\nnamespace: " NS2 "\ntasks:\n  - id: t");
    json_decref(src);
    /* q: every word (split on punctuation and spaces) somewhere in the source, ignoring case */
    src = call(port, "GET", "/api/v1/flows/source?q=MESSAGE:%20C", NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(src, "total")), 2);
    json_decref(src);
    /* flows/search: q on id + namespace, words ANDed; sort by a column */
    json_t *fs = call(port, "GET", "/api/v1/flows/search?q=FAPI.sub", NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(fs, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fs, "results"), 0), "id")),
                        "gamma");
    json_decref(fs);
    fs = call(port, "GET", "/api/v1/flows/search?sort=id:desc", NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(fs, "total")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fs, "results"), 0), "id")),
                        "gamma");
    json_decref(fs);
    fs = call(port, "GET", "/api/v1/flows/search?sort=namespace:asc", NULL, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(fs, "results"), 0), "id")),
                        "alpha");
    json_decref(fs);
    json_decref(call(port, "GET", "/api/v1/flows/search?sort=id", NULL, NULL, 422));
    json_decref(call(port, "GET", "/api/v1/flows/search?q=.", NULL, NULL, 200));
    json_t *b = call(port, "POST", "/api/v1/flows/bulk?delete=true", "application/x-yaml", FLOW_B, 200);
    assert_int_equal(json_array_size(b), 3); /* alpha and gamma deleted, then beta */
    json_decref(b);
    json_decref(get_flow(port, NS2, "gamma", NULL, 404));
    json_decref(get_flow(port, NS, "beta", NULL, 200));

    /* a known path with another method: 405 naming the allowed ones */
    kt_it_resp r;
    assert_int_equal(raw("PATCH", port, "/api/v1/flows/" NS "/beta", NULL, NULL, &r), 405);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(msg(j), "Method Not Allowed");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(json_object_get(j, "_embedded"), "errors"), 0), "message")),
                        "Method [PATCH] not allowed for URI [/api/v1/flows/" NS "/beta]. Allowed methods: [DELETE, GET, PUT]");
    assert_non_null(strcasestr(r.headers, "Allow: DELETE, GET, PUT"));
    json_decref(j);
    free(r.body);
    /* an unknown path stays a 404 */
    assert_int_equal(raw("PATCH", port, "/api/v1/nothing/here", NULL, NULL, &r), 404);
    free(r.body);
}

static void test_graph(void **state)
{
    kt_it_fixture *f = *state;
    int port = f->port;
    kt_it_create_flow(port, FLOW_A, NULL);
    json_t *g = call(port, "GET", "/api/v1/flows/" NS "/alpha/graph", NULL, NULL, 200);
    /* start, end, the Sequential's cluster (its start, end, task node) and the inner task */
    json_t *nodes = json_object_get(g, "nodes");
    assert_int_equal(json_array_size(nodes), 6);
    int inner = 0, task_node = 0;
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n) {
        const char *uid = json_string_value(json_object_get(n, "uid"));
        const char *type = json_string_value(json_object_get(n, "type"));
        if (!strcmp(uid, "root.seq.inner")) {
            inner = 1;
            assert_string_equal(type, "io.kestra.core.models.hierarchies.GraphTask");
            assert_string_equal(json_string_value(json_object_get(json_object_get(n, "task"), "message")), "v1");
        }
        task_node |= !strcmp(uid, "root.seq");
    }
    assert_true(inner && task_node);
    json_t *cl = json_array_get(json_object_get(g, "clusters"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cl, "cluster"), "uid")), "cluster_root.seq");
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 5);
    json_decref(g);
    json_t *e = call(port, "GET", "/api/v1/flows/" NS "/ghost/graph", NULL, NULL, 404);
    assert_string_equal(msg(e), "Not Found: Unable to find flow " NS "_ghost");
    json_decref(e);
    json_decref(call(port, "GET", "/api/v1/flows/" NS "/alpha/graph?revision=9", NULL, NULL, 404));
    /* a posted source, its triggers as a cluster linked to the start */
    g = call(port, "POST", "/api/v1/flows/graph", "application/x-yaml",
             "id: g\nnamespace: " NS "\ntriggers:\n  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n"
             "    key: k\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n",
             200);
    int trigger = 0;
    json_array_foreach(json_object_get(g, "nodes"), i, n)
        trigger |= !strcmp(json_string_value(json_object_get(n, "uid")), "root.Triggers.hook") &&
                   !strcmp(json_string_value(json_object_get(n, "type")), "io.kestra.core.models.hierarchies.GraphTrigger");
    assert_true(trigger);
    json_decref(g);
    json_decref(call(port, "POST", "/api/v1/flows/graph", "application/x-yaml", "id: g\nnamespace: x\n", 422));

    /* dependencies: a parent calling alpha as a subflow */
    kt_it_create_flow(port, "id: caller\nnamespace: " NS2 "\ntasks:\n  - id: call\n"
                            "    type: io.kestra.plugin.core.flow.Subflow\n    namespace: " NS "\n    flowId: alpha\n", NULL);
    json_t *dep = call(port, "GET", "/api/v1/flows/" NS "/alpha/dependencies?destinationOnly=true", NULL, NULL, 200);
    json_t *e0 = json_array_get(json_object_get(dep, "edges"), 0);
    assert_int_equal(json_array_size(json_object_get(dep, "edges")), 1);
    assert_string_equal(json_string_value(json_object_get(e0, "source")), NS2 "_caller");
    assert_string_equal(json_string_value(json_object_get(e0, "target")), NS "_alpha");
    assert_string_equal(json_string_value(json_object_get(e0, "relation")), "FLOW_TASK");
    assert_int_equal(json_array_size(json_object_get(dep, "nodes")), 2);
    json_decref(dep);
    dep = call(port, "GET", "/api/v1/flows/" NS2 "/caller/dependencies?destinationOnly=true", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(dep, "edges")), 0);
    json_decref(dep);
    /* the namespace's graph: the same link seen from either end's namespace, none from elsewhere */
    dep = call(port, "GET", "/api/v1/namespaces/" NS2 "/dependencies", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(dep, "edges")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(dep, "edges"), 0), "source")),
                        NS2 "_caller");
    json_decref(dep);
    dep = call(port, "GET", "/api/v1/namespaces/" NS "/dependencies", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(dep, "edges")), 1);
    json_decref(dep);
    dep = call(port, "GET", "/api/v1/namespaces/io.kite.elsewhere/dependencies", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(dep, "edges")), 0);
    json_decref(dep);

    /* ?subflows=: the Subflow node drawn as alpha's graph, its tasks under the node's uid */
    g = call(port, "GET", "/api/v1/flows/" NS2 "/caller/graph?subflows=root.call", NULL, NULL, 200);
    int expanded = 0;
    json_array_foreach(json_object_get(g, "nodes"), i, n) expanded |=
        !strcmp(json_string_value(json_object_get(n, "uid")), "root.call.seq.inner");
    assert_true(expanded);
    json_decref(g);
    kt_it_create_flow(port, "id: lost\nnamespace: " NS2 "\ntasks:\n  - id: call\n"
                            "    type: io.kestra.plugin.core.flow.Subflow\n    namespace: " NS "\n    flowId: nowhere\n", NULL);
    e = call(port, "GET", "/api/v1/flows/" NS2 "/lost/graph?subflows=root.call", NULL, NULL, 404);
    assert_string_equal(msg(e), "Not Found: Unable to find subflow " NS "_nowhere for task call");
    json_decref(e);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revisions_and_tasks, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_json_bodies_and_patch, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_state, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_export_import, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_validate_and_misc, kt_it_setup, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_graph, kt_it_setup, kt_it_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
