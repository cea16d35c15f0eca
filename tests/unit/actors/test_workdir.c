/* The worker's side of WorkingDirectory and LocalFiles, and namespaceFiles (actors/worker/tasks_workdir.c,
 * ns_files.c): real jobs on a fresh node with a local storage. */
#include "worker_fixture.h"

#include "actors/worker/ns_files.h"
#include "actors/worker/wd_cache.h"

#include <sys/time.h>

#define WD "io.kestra.plugin.core.flow.WorkingDirectory"
#define LF "io.kestra.plugin.core.storage.LocalFiles"
#define SHELL "io.kestra.plugin.scripts.shell.Commands"
#define RET "io.kestra.plugin.core.debug.Return"

/* The render context the executor sends with a WorkingDirectory job: its run wd1 (loop value v1) in execution x1. */
static json_t *context(void)
{
    return parse("{\"flow\":{\"id\":\"f\",\"namespace\":\"a.b\",\"variables\":{\"greet\":\"hi\"}},"
                 "\"execution\":{\"id\":\"x1\",\"originalId\":\"x1\",\"namespace\":\"a.b\",\"flowId\":\"f\",\"flowRevision\":1,"
                 "\"state\":{\"current\":\"RUNNING\",\"histories\":[{\"state\":\"RUNNING\","
                 "\"date\":\"2024-01-01T00:00:00Z\"}]},"
                 "\"taskRunList\":[{\"id\":\"wd1\",\"taskId\":\"t1\",\"value\":\"v1\",\"state\":{\"current\":"
                 "\"RUNNING\",\"histories\":[{\"state\":\"RUNNING\",\"date\":\"2024-01-01T00:00:00Z\"}]}}]}}");
}

/* The last report of the child with task id `task_id`, or NULL. */
static const json_t *child_of(const probe *p, const char *task_id)
{
    const json_t *found = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(p->children, i, c) if (!strcmp(json_string_value(json_object_get(c, "taskId")), task_id))
        found = c;
    return found;
}

static const char *cur(const json_t *tr) { return json_string_value(json_object_get(json_object_get(tr, "state"), "current")); }

/* Each child runs in the one directory (the second reads what the first wrote), rendered when its turn comes (the
 * third sees the second's outputs, under the parent's loop value as Kestra nests them, that value, workerTaskrun
 * and workingDir); a disabled child never
 * runs; inputFiles are there before the first; outputFiles are uploaded from the directory, which is gone when the
 * job ends. Every child is reported RUNNING, then ended, with its own id, the parent's id and no value. */
static void test_wd_shared_directory(void **state)
{
    fixture *f = *state;
    json_t *ctx = context();
    probe p;
    run_job(f, WD,
            "{\"inputFiles\":{\"in.txt\":\"hello\"},\"outputFiles\":[\"out/*.txt\"],\"tasks\":["
            "{\"id\":\"first\",\"type\":\"" LF "\",\"inputs\":{\"out/stay.txt\":\"{{ taskrun.id }}\"},"
            "\"outputs\":[\"out/*\"]},"
            "{\"id\":\"off\",\"type\":\"" RET "\",\"format\":\"x\",\"disabled\":true},"
            "{\"id\":\"second\",\"type\":\"" SHELL "\",\"commands\":[\"echo \\\"::{\\\\\\\"outputs\\\\\\\":"
            "{\\\\\\\"v\\\\\\\":\\\\\\\"$(cat out/stay.txt)-$(cat in.txt)\\\\\\\"}}::\\\"\"]},"
            "{\"id\":\"third\",\"type\":\"" RET "\",\"format\":\"{{ outputs.second.v1.vars.v }}|{{ taskrun.value }}|"
            "{{ workerTaskrun.id }}|{{ vars.greet }}|{{ workingDir is defined }}|"
            "{{ read(outputs.first.v1.uris['out/stay.txt']) }}\"}]}",
            "wd1", 1, ctx, NULL, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(p.work_entries, 0); /* the directory was removed before the result */
    assert_int_equal(json_array_size(p.children), 6); /* three children, each RUNNING then ended */
    assert_null(child_of(&p, "off"));
    const json_t *first = child_of(&p, "first"), *second = child_of(&p, "second"), *third = child_of(&p, "third");
    assert_string_equal(cur(json_array_get(p.children, 0)), "RUNNING");
    assert_string_equal(cur(first), "SUCCESS");
    assert_string_equal(cur(second), "SUCCESS");
    assert_string_equal(cur(third), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(first, "parentTaskRunId")), "wd1");
    assert_null(json_object_get(first, "value"));
    assert_int_equal(json_array_size(json_object_get(first, "attempts")), 1);
    const char *first_id = json_string_value(json_object_get(first, "id"));
    /* the first child's uploads, under its own task run folder */
    const char *uri = json_string_value(json_object_get(json_object_get(json_object_get(first, "outputs"), "uris"),
                                                        "out/stay.txt"));
    assert_non_null(uri);
    char *body = stored(f, uri);
    assert_string_equal(body, first_id);
    free(body);
    char want[256];
    snprintf(want, sizeof want, "%s-hello|v1|wd1|hi|true|%s", first_id, first_id); /* read() reaches the storage */
    assert_string_equal(json_string_value(json_object_get(json_object_get(third, "outputs"), "value")), want);
    /* the job's outputFiles, under the WorkingDirectory's task run */
    uri = json_string_value(json_object_get(json_object_get(p.outputs, "outputFiles"), "out/stay.txt"));
    assert_non_null(uri);
    assert_non_null(strstr(uri, "/wd1/"));
    body = stored(f, uri);
    assert_string_equal(body, first_id);
    free(body);
    probe_clear(&p);
    json_decref(ctx);
}

/* The first failed child stops the rest (the job itself is fine: the executor resolves the failure); allowFailure
 * makes it WARNING and the next runs; a child that does not render fails with the reason in its own logs. */
static void test_wd_failure_stops(void **state)
{
    fixture *f = *state;
    json_t *ctx = context();
    probe p;
    run_job(f, WD,
            "{\"tasks\":[{\"id\":\"a\",\"type\":\"" RET "\",\"format\":\"{{ nope.x }}\"},"
            "{\"id\":\"b\",\"type\":\"" RET "\",\"format\":\"b\"}]}",
            "wd1", 1, ctx, NULL, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_string_equal(cur(child_of(&p, "a")), "FAILED");
    assert_null(child_of(&p, "b"));
    size_t i;
    json_t *l;
    int found = 0;
    json_array_foreach(p.logs, i, l) {
        found |= !strcmp(json_string_value(json_object_get(l, "level")), "ERROR") &&
                 !strcmp(json_string_value(json_object_get(l, "taskRunId")),
                         json_string_value(json_object_get(child_of(&p, "a"), "id")));
    }
    assert_true(found);
    probe_clear(&p);

    run_job(f, WD,
            "{\"tasks\":[{\"id\":\"a\",\"type\":\"io.kestra.plugin.core.execution.Fail\",\"allowFailure\":true},"
            "{\"id\":\"b\",\"type\":\"" RET "\",\"format\":\"{{ tasks.a.state }}\"}]}",
            "wd1", 1, ctx, NULL, &p);
    assert_string_equal(cur(child_of(&p, "a")), "WARNING");
    assert_string_equal(cur(child_of(&p, "b")), "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(json_object_get(child_of(&p, "b"), "outputs"), "value")),
                        "WARNING");
    probe_clear(&p);
    json_decref(ctx);
}

/* A kill stops the running child: it ends KILLED, the rest never runs, the job ends KILLED, the directory is gone. */
static void test_wd_kill(void **state)
{
    fixture *f = *state;
    json_t *ctx = context();
    probe p;
    run_job(f, WD,
            "{\"tasks\":[{\"id\":\"a\",\"type\":\"" SHELL "\",\"commands\":[\"sleep 30\"]},"
            "{\"id\":\"b\",\"type\":\"" RET "\",\"format\":\"b\"}]}",
            "wd1", 1, ctx, "wd1", &p);
    assert_string_equal(p.state, "KILLED");
    assert_string_equal(cur(child_of(&p, "a")), "KILLED");
    assert_null(child_of(&p, "b"));
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
    json_decref(ctx);
}

/* Without the render context (an executor that does not send it) the job fails, saying why. */
static void test_wd_no_context(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, WD, "{\"tasks\":[{\"id\":\"b\",\"type\":\"" RET "\",\"format\":\"b\"}]}", "wd1", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "does not carry its execution"));
    assert_int_equal(json_array_size(p.children), 0);
    probe_clear(&p);
}

static void put_ns_file(const fixture *f, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/_files/%s", f->storage, rel);
    for (char *c = path + strlen(f->storage) + 1; *c; c++) {
        if (*c == '/') {
            *c = 0;
            mkdir(path, 0755);
            *c = '/';
        }
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* namespaceFiles: the namespace's files copied under their paths, include and exclude as Kestra's
 * PathMatcherPredicate; for a WorkingDirectory and for a script task on its own; a namespace without files is fine. */
static void test_namespace_files(void **state)
{
    fixture *f = *state;
    probe p;
    /* no _files folder yet: nothing to copy, no error */
    run_task(f, SHELL, "{\"namespaceFiles\":{\"enabled\":true},\"commands\":[\"ls | wc -l\"]}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    probe_clear(&p);
    mkdir(f->storage, 0755);
    put_ns_file(f, "test/a/b/c/1.txt", "first");
    put_ns_file(f, "a/b/c/2.txt", "second");
    put_ns_file(f, "a/b/3.txt", "third");
    put_ns_file(f, "ignore/4.txt", "4th");
    const char *list = "\"commands\":[\"echo \\\"::{\\\\\\\"outputs\\\\\\\":{\\\\\\\"files\\\\\\\":"
                       "\\\\\\\"$(find . -type f | sort | xargs echo)\\\\\\\"}}::\\\"\"]";
    char props[1024];
    json_t *ctx = context();
    snprintf(props, sizeof props,
             "{\"namespaceFiles\":{\"exclude\":[\"/ignore/**\"]},\"tasks\":[{\"id\":\"ls\",\"type\":\"" SHELL "\",%s}]}",
             list);
    run_job(f, WD, props, "wd1", 1, ctx, NULL, &p);
    assert_string_equal(p.state, "SUCCESS");
    const json_t *vars = json_object_get(json_object_get(child_of(&p, "ls"), "outputs"), "vars");
    assert_string_equal(json_string_value(json_object_get(vars, "files")),
                        "./a/b/3.txt ./a/b/c/2.txt ./test/a/b/c/1.txt");
    probe_clear(&p);
    json_decref(ctx);
    /* a script on its own: include a/(anything) is tried with a leading (any folders)/ (a word first), so it matches test/a/b/c/1.txt too */
    snprintf(props, sizeof props, "{\"namespaceFiles\":{\"include\":[\"a/**\"],\"exclude\":[\"**/2.txt\"]},%s}", list);
    run_task(f, SHELL, props, "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p.outputs, "vars"), "files")),
                        "./a/b/3.txt ./test/a/b/c/1.txt");
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
    /* enabled: false copies nothing; a bad glob is the task's error */
    snprintf(props, sizeof props, "{\"namespaceFiles\":{\"enabled\":false},%s}", list);
    run_task(f, SHELL, props, "tr3", 1, &p);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p.outputs, "vars"), "files")), "");
    probe_clear(&p);
    run_task(f, SHELL, "{\"namespaceFiles\":{\"include\":[\"a/{b\"]},\"commands\":[\"true\"]}", "tr4", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "namespaceFiles.include"));
    probe_clear(&p);
}

/* The filter alone: Kestra's quirks kept (a pattern starting with '*' is tried against the path with its leading
 * '/', so `*.txt` matches no file). */
static void test_namespace_filter(void **state)
{
    (void)state;
    char err[256];
    json_t *in = parse("[\"a/**\", \"*.md\", \"/top.txt\"]"), *ex = parse("[\"**/skip/**\"]");
    kt_nsfiles_filter *flt = kt_nsfiles_filter_new(in, ex, err, sizeof err);
    assert_non_null(flt);
    assert_true(kt_nsfiles_filter_test(flt, "a/x.txt"));
    assert_true(kt_nsfiles_filter_test(flt, "deep/a/x.txt"));
    assert_false(kt_nsfiles_filter_test(flt, "a/skip/x.txt"));
    assert_false(kt_nsfiles_filter_test(flt, "readme.md"));
    assert_true(kt_nsfiles_filter_test(flt, "top.txt"));
    assert_false(kt_nsfiles_filter_test(flt, "b/top.txt"));
    kt_nsfiles_filter_free(flt);
    flt = kt_nsfiles_filter_new(NULL, NULL, err, sizeof err); /* neither: every file */
    assert_true(kt_nsfiles_filter_test(flt, "any/where.bin"));
    kt_nsfiles_filter_free(flt);
    json_decref(in);
    json_decref(ex);
    in = parse("[3]");
    assert_null(kt_nsfiles_filter_new(in, NULL, err, sizeof err));
    assert_non_null(strstr(err, "namespaceFiles.include[0]"));
    json_decref(in);
    json_t *off = parse("{\"enabled\":false}"), *on = parse("{\"include\":[\"x\"]}");
    assert_false(kt_nsfiles_wanted(off));
    assert_true(kt_nsfiles_wanted(on));
    assert_false(kt_nsfiles_wanted(NULL));
    json_decref(off);
    json_decref(on);
}

/* LocalFiles on its own: inputs written (text), outputs uploaded as uris, its own directory removed; no outputs
 * gives {uris: {}}. */
static void test_local_files(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, "io.kestra.core.tasks.storages.LocalFiles",
             "{\"inputs\":{\"d/x.txt\":\"X\",\"y.csv\":\"Y\"},\"outputs\":[\"**.txt\"]}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *uris = json_object_get(p.outputs, "uris");
    assert_int_equal(json_object_size(uris), 1);
    const char *uri = json_string_value(json_object_get(uris, "d/x.txt"));
    assert_non_null(uri);
    assert_non_null(strstr(uri, "x.txt"));
    char *body = stored(f, uri);
    assert_string_equal(body, "X");
    free(body);
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
    run_task(f, LF, "{\"inputs\":\"{\\\"a.txt\\\":\\\"A\\\"}\"}", "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_object_size(json_object_get(p.outputs, "uris")), 0);
    probe_clear(&p);
    run_task(f, LF, "{\"inputs\":{\"../x\":\"A\"}}", "tr3", 1, &p);
    assert_string_equal(p.state, "FAILED");
    probe_clear(&p);
}

/* The cache's place: Guava's murmur3_128 of the loop value (its published vectors, as HashCode.toString writes them). */
static void test_cache_hash(void **state)
{
    (void)state;
    char h[33];
    kt_wdcache_hash("", h);
    assert_string_equal(h, "00000000000000000000000000000000");
    kt_wdcache_hash("hell", h);
    assert_string_equal(h, "67f8103e694299624753ebba820bdb92");
    kt_wdcache_hash("The quick brown fox jumps over the lazy dog", h);
    assert_string_equal(h, "6c1b07bc7bbc4be347939ac4a93c437a");
    kt_wdcache_hash("The quick brown fox jumps over the lazy cog", h);
    assert_string_equal(h, "9a2685ff70a98c653e5c8ea6eae3fe43");
}

/* cache {patterns, ttl}: the first run builds the files and the cache is stored; the second finds them (extracted
 * before the child) and, nothing having changed, stores nothing; an expired cache is deleted and built again. */
static void test_wd_cache(void **state)
{
    fixture *f = *state;
    json_t *ctx = context();
    const char *props =
        "{\"cache\":{\"patterns\":[\"deps/**\"],\"ttl\":\"PT1H\"},\"tasks\":[{\"id\":\"s\",\"type\":\"" SHELL "\","
        "\"commands\":[\"if [ -e deps/lib.txt ]; then v=hit-$(cat deps/sub/lib.txt); else mkdir -p deps/sub && "
        "echo built > deps/lib.txt && echo deep > deps/sub/lib.txt && v=miss; fi\","
        "\"echo \\\"::{\\\\\\\"outputs\\\\\\\":{\\\\\\\"v\\\\\\\":\\\\\\\"$v\\\\\\\"}}::\\\"\"]}]}";
    char hash[33], zip[512];
    kt_wdcache_hash("v1", hash);
    snprintf(zip, sizeof zip, "%s/a/b/f/t1/cache/%s/cache.zip", f->storage, hash);
    const char *want[] = {"miss", "hit-deep", "miss"};
    for (int run = 0; run < 3; run++) {
        probe p;
        run_job(f, WD, props, "wd1", 1, ctx, NULL, &p);
        assert_string_equal(p.state, "SUCCESS");
        const json_t *vars = json_object_get(json_object_get(child_of(&p, "s"), "outputs"), "vars");
        assert_string_equal(json_string_value(json_object_get(vars, "v")), want[run]);
        struct stat st;
        assert_int_equal(stat(zip, &st), 0);
        if (run == 1)
            assert_true(logged(&p, "DEBUG", "Cache files didn't change"));
        else
            assert_true(logged(&p, "DEBUG", "Caching in kestra:///a/b/f/t1/cache/"));
        assert_int_equal(p.work_entries, 0); /* neither the directory nor the local zip is left */
        probe_clear(&p);
        if (run == 1) { /* two hours old: past its ttl */
            struct timeval tv[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
            assert_int_equal(utimes(zip, tv), 0);
        }
    }
    json_decref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wd_shared_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wd_failure_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wd_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wd_no_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_files, setup, teardown),
        cmocka_unit_test(test_namespace_filter),
        cmocka_unit_test_setup_teardown(test_local_files, setup, teardown),
        cmocka_unit_test(test_cache_hash),
        cmocka_unit_test_setup_teardown(test_wd_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
