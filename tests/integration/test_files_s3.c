/* A Kite server on the S3 backend (storage.type s3 in its configuration file, pointed at the S3 server
 * tests/s3/start.sh started): a FILE input uploaded with the execution's creation is stored in the bucket (nothing
 * under the data directory), the flow's task sees its kestra:// URI, and /file streams it back byte for byte with
 * its size in /file/metas; a 12 MiB upload goes through a multipart upload (part size 8 MiB) and comes back whole.
 * And a worker in another process (`kite worker --join`, no data folder of the server's) whose script's outputFiles
 * reach the next task and the server's download route through the bucket alone.
 * Skipped (exit 77) only with KITE_TEST_NO_S3=1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "../s3/s3_endpoint.h"

#ifndef KITE_S3_ENDPOINT_FILE
#define KITE_S3_ENDPOINT_FILE ""
#endif

static char endpoint[256];

static const char *FLOW = "id: upload\n"
                          "namespace: io.kite.s3\n"
                          "inputs:\n"
                          "  - id: f\n"
                          "    type: FILE\n"
                          "tasks:\n"
                          "  - id: show\n"
                          "    type: io.kestra.plugin.core.debug.Return\n"
                          "    format: \"{{ inputs.f }}\"\n";

static long post_file(int port, const void *data, size_t len, json_t **out)
{
    return kt_it_post_file(port, "/api/v1/executions/io.kite.s3/upload", "f", data, len, NULL, out);
}

static long get_bytes(int port, const char *path, kt_it_resp *r)
{
    return kt_it_request("GET", port, path, NULL, 0, NULL, NULL, r);
}

static int nfiles;
static int count_file(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p, (void)sb, (void)f;
    nfiles += flag == FTW_F;
    return 0;
}

/* Uploads len bytes, runs the flow, downloads the file and its metas: the same bytes come back. */
static void round_trip(kt_it_fixture *f, size_t len)
{
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 13);
    json_t *ex = NULL;
    assert_int_equal(post_file(f->port, data, len, &ex), 200);
    char id[64], uri[512], path[4096];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(ex, "id")));
    snprintf(uri, sizeof uri, "%s", json_string_value(json_object_get(json_object_get(ex, "inputs"), "f")));
    json_decref(ex);
    assert_true(!strncmp(uri, "kestra:///io/kite/s3/upload/executions/", 39));
    json_t *done = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 30000);
    json_t *tr = kt_it_taskrun(done, "show");
    assert_string_equal(json_string_value(json_object_get(json_object_get(tr, "outputs"), "value")), uri);
    json_decref(done);

    CURL *c = curl_easy_init();
    char *enc = curl_easy_escape(c, uri, 0);
    snprintf(path, sizeof path, "/api/v1/executions/%s/file?path=%s", id, enc);
    kt_it_resp r;
    assert_int_equal(get_bytes(f->port, path, &r), 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, data, len);
    free(r.body);
    snprintf(path, sizeof path, "/api/v1/executions/%s/file/metas?path=%s", id, enc);
    json_t *m = NULL;
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &m), 200);
    assert_int_equal(json_integer_value(json_object_get(m, "size")), (json_int_t)len);
    json_decref(m);
    curl_free(enc);
    curl_easy_cleanup(c);
    free(data);
}

/* DIR/kite.yml: the storage on S3 under the test folder's own prefix; its path into conf. */
static void write_conf(const kt_it_fixture *f, char *conf, size_t cap)
{
    char prefix[64];
    snprintf(conf, cap, "%s/kite.yml", f->dir);
    const char *base = strrchr(f->dir, '/');
    snprintf(prefix, sizeof prefix, "it-%s", base ? base + 1 : "x");
    FILE *fp = fopen(conf, "w");
    assert_non_null(fp);
    /* Kestra's spelling (camelCase) for the credentials */
    fprintf(fp, "storage:\n  type: s3\n  s3:\n    endpoint: %s\n    bucket: kite\n    accessKey: S3RVER\n"
                "    secretKey: S3RVER\n    prefix: %s\n", endpoint, prefix);
    fclose(fp);
}

static void test_files_on_s3(void **state)
{
    kt_it_fixture *f = *state;
    char conf[512];
    write_conf(f, conf, sizeof conf);
    const char *extra[] = {"--config", conf, NULL};
    f->server = kt_it_start_server(f->dir, "server", f->port, extra);
    kt_it_create_flow(f->port, FLOW, NULL);

    round_trip(f, 200 * 1024 + 17);
    round_trip(f, 12u << 20);

    char local[512];
    snprintf(local, sizeof local, "%s/data/storage", f->dir);
    nfiles = 0;
    nftw(local, count_file, 8, FTW_PHYS);
    assert_int_equal(nfiles, 0); /* every byte went to the bucket */
}

static const char *FLOW_SCRIPT = "id: script\n"
                                 "namespace: io.kite.s3\n"
                                 "tasks:\n"
                                 "  - id: first\n"
                                 "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                 "    taskRunner:\n"
                                 "      type: io.kestra.plugin.core.runner.Process\n"
                                 "    outputFiles: [\"out.csv\"]\n"
                                 "    commands:\n"
                                 "      - printf 'id,n\\n7,8\\n' > out.csv\n"
                                 "  - id: second\n"
                                 "    type: io.kestra.plugin.scripts.shell.Commands\n"
                                 "    taskRunner:\n"
                                 "      type: io.kestra.plugin.core.runner.Process\n"
                                 "    inputFiles:\n"
                                 "      in.csv: \"{{ outputs.first.outputFiles['out.csv'] }}\"\n"
                                 "    commands:\n"
                                 "      - tail -n 1 in.csv | sed 's/^/got /'\n";

/* The server runs the executor and the API only; the tasks run in a worker process that shares nothing with it
 * but the bucket (and the nng link). */
static void test_remote_worker_on_s3(void **state)
{
    kt_it_fixture *f = *state;
    char conf[512], join[64];
    write_conf(f, conf, sizeof conf);
    snprintf(join, sizeof join, "tcp://127.0.0.1:%d", kt_it_free_port());
    const char *extra[] = {"--config", conf, "--listen", join, "--actors", "executor,webserver", NULL};
    f->server = kt_it_start_server(f->dir, "server", f->port, extra);
    const char *wargs[] = {"worker", "--join", join, "--config", conf, "--node-id", "remote", NULL};
    kt_it_proc worker = kt_it_spawn(f->dir, "worker", wargs);
    kt_it_create_flow(f->port, FLOW_SCRIPT, NULL);
    json_t *res = NULL;
    const char *none[] = {NULL};
    assert_int_equal(kt_it_post_form(f->port, "/api/v1/executions/io.kite.s3/script", none, &res), 200);
    char id[64], path[4096];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(res, "id")));
    json_decref(res);
    json_t *ex = kt_it_wait_state(&f->server, f->port, id, "SUCCESS", 30000);
    const char *uri = json_string_value(json_object_get(
        json_object_get(json_object_get(kt_it_taskrun(ex, "first"), "outputs"), "outputFiles"), "out.csv"));
    assert_non_null(uri);

    /* the second task (in the worker) read it */
    json_t *logs = NULL;
    snprintf(path, sizeof path, "/api/v1/logs/%s", id);
    assert_int_equal(kt_it_http_json("GET", f->port, path, NULL, NULL, &logs), 200);
    int got = 0;
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) got |= json_string_value(json_object_get(l, "message")) &&
                                         strstr(json_string_value(json_object_get(l, "message")), "got 7,8");
    json_decref(logs);
    assert_true(got);

    /* the server (which never ran a task) serves what the worker stored */
    CURL *c = curl_easy_init();
    char *enc = curl_easy_escape(c, uri, 0);
    snprintf(path, sizeof path, "/api/v1/executions/%s/file?path=%s", id, enc);
    kt_it_resp r;
    assert_int_equal(get_bytes(f->port, path, &r), 200);
    assert_int_equal(r.len, 9);
    assert_memory_equal(r.body, "id,n\n7,8\n", 9);
    free(r.body);
    curl_free(enc);
    curl_easy_cleanup(c);
    json_decref(ex);
    kt_it_stop_clean(&worker);
}

int main(void)
{
    int found = kt_test_s3_endpoint(endpoint, sizeof endpoint);
    if (found)
        return found;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_files_on_s3, kt_it_setup_dir, kt_it_teardown),
        cmocka_unit_test_setup_teardown(test_remote_worker_on_s3, kt_it_setup_dir, kt_it_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
