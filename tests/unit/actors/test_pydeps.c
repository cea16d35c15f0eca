/* Python `dependencies` (Kestra 1.x, actors/worker/pydeps.c) on a real worker: from a local package directory the
 * test makes itself (two tiny pure-python wheels, zipped by hand: no index is reachable here), a dependency set is
 * installed once into a cached virtual environment even when two tasks with it start at the same time (the second
 * waits on the lock and reuses it), reused by a later task whatever the order the set is written in, another set gets
 * another environment, and a package that is not there fails the task with pip's message (and leaves no environment
 * behind). Also the key: sorted, de-duplicated. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/executor/executor.h"
#include "actors/names.h"
#include "actors/worker/pydeps.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "tests/unit/json_parse.h"

#include <ftw.h>
#include <unistd.h>

typedef struct fixture {
    char root[64]; /* pkgs/, venvs/ and work/ below it */
    char work[128];
} fixture;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->root, sizeof f->root, "/tmp/kite-pydeps-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->work, sizeof f->work, "%s/work", f->root);
    if (mkdir(f->work, 0755))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void on_timeout(uv_timer_t *t) { uv_stop(t->loop); }

/* Results of several jobs on one node: the loop stops once `want` results came. */
typedef struct multi {
    uv_loop_t *loop;
    int want, got;
    char states[4][32];
    json_t *logs;
} multi;

static void multi_receive(kt_actor *a, const kt_msg *m)
{
    multi *p = kt_actor_state(a);
    if (m->type == KT_MSG_LOG_BATCH) {
        kt_msg_log_batch b;
        assert_int_equal(kt_msg_decode_log_batch(m->body, &b), KT_OK);
        json_array_extend(p->logs, b.entries);
        kt_msg_log_batch_clear(&b);
    } else if (m->type == KT_MSG_WORKER_RESULT) {
        kt_msg_worker_result r;
        assert_int_equal(kt_msg_decode_worker_result(m->body, &r), KT_OK);
        if (!r.taskrun) {
            int i = r.taskrun_id[2] - '0'; /* "tr<i>" */
            assert_true(i >= 0 && i < 4);
            snprintf(p->states[i], sizeof p->states[i], "%s", r.state);
            if (++p->got == p->want)
                uv_stop(p->loop);
        }
        kt_msg_worker_result_clear(&r);
    }
}

static const kt_actor_ops multi_ops = {.receive = multi_receive};

/* Runs n python.Commands jobs tr0..tr<n-1> at once, each with deps_json[i] as `dependencies`, printing the values of
 * the modules it imports; the worker caches environments in <root>/venvs and installs from <root>/pkgs. */
static void run_py(fixture *f, int n, const char *const *deps_json, const char *const *imports, multi *p)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    kt_node *node;
    kt_node_config cfg = {.node_id = "solo"};
    assert_int_equal(kt_node_new(&loop, &cfg, &node), KT_OK);
    *p = (multi){.loop = &loop, .want = n, .logs = json_array()};
    assert_int_equal(kt_node_spawn(node, KT_EXECUTOR_ACTOR, &multi_ops, p, NULL), KT_OK);
    char venvs[256], pkgs[256];
    snprintf(venvs, sizeof venvs, "%s/venvs", f->root);
    snprintf(pkgs, sizeof pkgs, "%s/pkgs", f->root);
    kt_worker *w;
    kt_worker_config wc = {.slots = 4, .tmp_dir = f->work, .python_venvs = venvs, .python_find_links = pkgs};
    assert_int_equal(kt_worker_start(node, &wc, &w), KT_OK);
    for (int i = 0; i < n; i++) {
        char props[512], trid[16]; /* room for any int: -Wformat-truncation in the sanitizer build */
        snprintf(props, sizeof props,
                 "{\"dependencies\":%s,\"commands\":[\"python -c 'import %s as m; print(\\\"value=\\\" + m.VALUE)'\"]}",
                 deps_json[i], imports[i]);
        snprintf(trid, sizeof trid, "tr%d", i);
        json_t *task = parse(props);
        json_object_set_new(task, "id", json_string("t1"));
        json_object_set_new(task, "type", json_string("io.kestra.plugin.scripts.python.Commands"));
        json_t *run = json_pack("{s:s, s:s, s:s, s:s, s:s}", "namespace", "a.b", "flowId", "f", "taskId", "t1",
                                "executionId", "x1", "taskRunId", trid);
        kt_outmsg o;
        kt_outmsg_begin(&o, KT_MSG_WORKER_JOB, KT_WORKER_ACTOR, "executor@solo", 0);
        kt_msg_worker_job job = {.execution_id = "x1", .taskrun_id = trid, .attempt = 0, .task = task, .run = run};
        kt_msg_encode_worker_job(&o, &job);
        json_decref(task);
        json_decref(run);
        assert_int_equal(kt_node_send(node, KT_WORKER_ACTOR, &o), KT_OK);
    }
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timeout, 240000, 0); /* building an environment takes seconds (pip, ensurepip) */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    kt_node_stop(node);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    kt_node_free(node);
    kt_worker_free(w);
    assert_int_equal(p->got, n);
}

static int count_lines(const multi *p, const char *level, const char *text)
{
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(p->logs, i, e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        n += m && strstr(m, text) && !strcmp(json_string_value(json_object_get(e, "level")), level);
    }
    return n;
}

/* The environments in <root>/venvs (folders; the .lock files are not counted). */
static int venvs(const fixture *f)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/venvs", f->root);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[600];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        n += e->d_name[0] != '.' && !stat(p, &st) && S_ISDIR(st.st_mode);
    }
    closedir(d);
    return n;
}

/* <root>/pkgs/<name>-1.0-py3-none-any.whl holding <name>/__init__.py with VALUE = value, made by python's zipfile. */
static void wheels(const fixture *f)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "python3 - '%s/pkgs' <<'EOF'\n"
             "import os, sys, zipfile\n"
             "d = sys.argv[1]\n"
             "os.makedirs(d, exist_ok=True)\n"
             "for name, value in (('kitea', 'a'), ('kiteb', 'b')):\n"
             "    di = name + '-1.0.dist-info'\n"
             "    with zipfile.ZipFile(os.path.join(d, name + '-1.0-py3-none-any.whl'), 'w') as z:\n"
             "        z.writestr(name + '/__init__.py', 'VALUE = %%r\\n' %% value)\n"
             "        z.writestr(di + '/METADATA', 'Metadata-Version: 2.1\\nName: %%s\\nVersion: 1.0\\n' %% name)\n"
             "        z.writestr(di + '/WHEEL', 'Wheel-Version: 1.0\\nGenerator: kite-test\\nRoot-Is-Purelib: true\\n"
             "Tag: py3-none-any\\n')\n"
             "        z.writestr(di + '/RECORD', '')\n"
             "EOF\n",
             f->root);
    assert_int_equal(system(cmd), 0);
}

static void test_key(void **state)
{
    (void)state;
    char a[65], b[65], c[65], err[128];
    json_t *x = parse("[\"pandas\", \"kestra\", \"pandas\"]"), *y = parse("[\"kestra\", \"pandas\"]");
    json_t *z = parse("[\"kestra\"]"), *bad = parse("[\"kestra\", 3]");
    assert_int_equal(kt_pydeps_key(x, a, err, sizeof err), 0);
    assert_int_equal(kt_pydeps_key(y, b, err, sizeof err), 0);
    assert_int_equal(kt_pydeps_key(z, c, err, sizeof err), 0);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 64);
    assert_int_equal(kt_pydeps_key(bad, a, err, sizeof err), -1);
    assert_non_null(strstr(err, "dependencies[1]"));
    /* no dependencies: nothing to run before the task */
    json_t *none = parse("[]");
    kt_pydeps_opts o = {.venvs = "/v"};
    assert_null(kt_pydeps_preamble(none, &o, err, sizeof err));
    assert_string_equal(err, "");
    /* a local directory: no index; a requirement with a quote stays one word */
    json_t *q = parse("[\"it's\"]");
    o.find_links = "/pkgs";
    char *pre = kt_pydeps_preamble(q, &o, err, sizeof err);
    assert_non_null(pre);
    assert_non_null(strstr(pre, "--no-index --find-links '/pkgs'"));
    assert_non_null(strstr(pre, "'it'\\''s'"));
    free(pre);
    o.find_links = "";
    pre = kt_pydeps_preamble(z, &o, err, sizeof err);
    assert_null(strstr(pre, "--no-index"));
    assert_non_null(strstr(pre, "kite_venvs='/v'"));
    assert_null(strstr(pre, "false && command -v uv"));
    free(pre);
    /* packageManager PIP: uv is never tried; dependencyCacheEnabled false: in the task's own folder; pythonVersion */
    o = (kt_pydeps_opts){.venvs = NULL, .pip_only = 1, .python = "3.11"};
    pre = kt_pydeps_preamble(z, &o, err, sizeof err);
    assert_non_null(strstr(pre, "false && command -v uv"));
    assert_non_null(strstr(pre, "kite_venvs=\"$PWD/.kite-venvs\""));
    assert_non_null(strstr(pre, "command -v python3.11"));
    free(pre);
    o.python = "3; rm -rf /";
    assert_null(kt_pydeps_preamble(z, &o, err, sizeof err));
    assert_non_null(strstr(err, "pythonVersion"));
    json_decref(x), json_decref(y), json_decref(z), json_decref(bad), json_decref(none), json_decref(q);
}

static void test_cached_environments(void **state)
{
    fixture *f = *state;
    wheels(f);
    multi p;
    /* two tasks with the same set at once: one builds, the other waits for it and reuses it */
    const char *same[] = {"[\"kitea\", \"kiteb\"]", "[\"kitea\", \"kiteb\"]"}, *imp2[] = {"kitea", "kiteb"};
    run_py(f, 2, same, imp2, &p);
    assert_string_equal(p.states[0], "SUCCESS");
    assert_string_equal(p.states[1], "SUCCESS");
    assert_int_equal(count_lines(&p, "INFO", "Installing the python dependencies"), 1);
    assert_int_equal(count_lines(&p, "INFO", "value=a"), 1);
    assert_int_equal(count_lines(&p, "INFO", "value=b"), 1);
    assert_int_equal(venvs(f), 1);
    json_decref(p.logs);
    /* the same set later, written in another order: reused, nothing installed */
    const char *again[] = {"[\"kiteb\", \"kitea\"]"}, *impb[] = {"kiteb"};
    run_py(f, 1, again, impb, &p);
    assert_string_equal(p.states[0], "SUCCESS");
    assert_int_equal(count_lines(&p, "INFO", "Installing"), 0);
    assert_int_equal(count_lines(&p, "INFO", "value=b"), 1);
    assert_int_equal(venvs(f), 1);
    json_decref(p.logs);
    /* another set: another environment, which has only its own packages */
    const char *other[] = {"[\"kitea\"]"}, *impa[] = {"kitea"};
    run_py(f, 1, other, impa, &p);
    assert_string_equal(p.states[0], "SUCCESS");
    assert_int_equal(count_lines(&p, "INFO", "Installing the python dependencies"), 1);
    assert_int_equal(venvs(f), 2);
    json_decref(p.logs);
    const char *other2[] = {"[\"kitea\"]"}, *impb2[] = {"kiteb"};
    run_py(f, 1, other2, impb2, &p);
    assert_string_equal(p.states[0], "FAILED"); /* kiteb is not in that one */
    assert_int_equal(count_lines(&p, "ERROR", "No module named 'kiteb'"), 1);
    json_decref(p.logs);
    /* a package the directory does not have: pip's message, the task fails, no environment left */
    const char *missing[] = {"[\"kitea\", \"nothere\"]"};
    run_py(f, 1, missing, impa, &p);
    assert_string_equal(p.states[0], "FAILED");
    assert_int_equal(count_lines(&p, "ERROR", "No matching distribution found for nothere"), 1);
    assert_int_equal(count_lines(&p, "INFO", "value=a"), 0);
    assert_int_equal(venvs(f), 2);
    json_decref(p.logs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test_setup_teardown(test_cached_environments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
