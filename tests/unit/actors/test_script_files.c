/* Script tasks' files through the internal storage (actors/worker/script_files.c): Java's glob rules for outputFiles
 * (what PathMatcherPredicate makes of `*.csv`, `**` and the `glob:`/`regex:` forms), then real attempts on one
 * node — a worker with a local storage in a temporary folder, real /bin/sh processes, and an executor stand-in
 * collecting the results: outputFiles uploaded and listed, a second task reading one through inputFiles, and the
 * refusals (no storage, traversal, a missing URI). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/executor/executor.h"
#include "actors/worker/script_files.h"
#include "actors/worker/task.h"
#include "actors/worker/worker.h"
#include "base/log.h"
#include "store/storage.h"
#include "store/storage_uri.h"
#include "tests/unit/json_parse.h"
#include "tests/unit/actors/worker_fixture.h"

/* ---- the matcher ---- */

static int matches(const char *patterns, const char *rel)
{
    char err[256] = "";
    json_t *p = parse(patterns);
    kt_sfiles_matcher *m = kt_sfiles_matcher_new(p, "/w/d", err, sizeof err);
    json_decref(p);
    if (!m)
        fail_msg("%s refused: %s", patterns, err);
    int r = kt_sfiles_matcher_test(m, rel);
    kt_sfiles_matcher_free(m);
    return r;
}

static void refused(const char *patterns, const char *why)
{
    char err[256] = "";
    json_t *p = parse(patterns);
    kt_sfiles_matcher *m = kt_sfiles_matcher_new(p, "/w/d", err, sizeof err);
    json_decref(p);
    assert_null(m);
    if (!strstr(err, why))
        fail_msg("%s: '%s' does not say '%s'", patterns, err, why);
}

static void test_glob(void **state)
{
    (void)state;
    /* `*` stays in one segment: only the top folder's files */
    assert_true(matches("[\"*.csv\"]", "out.csv"));
    assert_false(matches("[\"*.csv\"]", "sub/out.csv"));
    assert_false(matches("[\"*.csv\"]", "out.csv.bak"));
    /* `**` crosses segments; `**` + `/` needs one folder at least, as in Java (a top-level a.json is not matched) */
    assert_true(matches("[\"**/*.json\"]", "sub/a.json"));
    assert_true(matches("[\"**/*.json\"]", "a/b/c.json"));
    assert_false(matches("[\"**/*.json\"]", "a.json"));
    assert_true(matches("[\"**.json\"]", "a.json"));
    assert_true(matches("[\"**.json\"]", "x/a.json"));
    /* exact names, a leading '/', backslashes read as '/' */
    assert_true(matches("[\"out.csv\"]", "out.csv"));
    assert_false(matches("[\"out.csv\"]", "sub/out.csv"));
    assert_true(matches("[\"/out.csv\"]", "out.csv"));
    assert_true(matches("[\"sub\\\\a.txt\"]", "sub/a.txt"));
    /* ?, classes, groups; regex characters are literal */
    assert_true(matches("[\"?.txt\"]", "a.txt"));
    assert_false(matches("[\"?.txt\"]", "ab.txt"));
    assert_true(matches("[\"[a-c]*.log\"]", "b1.log"));
    assert_false(matches("[\"[a-c]*.log\"]", "d1.log"));
    assert_true(matches("[\"[!a-c]*.log\"]", "d1.log"));
    assert_false(matches("[\"[!a-c]*.log\"]", "a1.log"));
    assert_false(matches("[\"a[!x]b\"]", "a/b"));
    assert_true(matches("[\"{out,in}.{csv,tsv}\"]", "in.tsv"));
    assert_false(matches("[\"{out,in}.{csv,tsv}\"]", "up.csv"));
    assert_true(matches("[\"a+(b).txt\"]", "a+(b).txt"));
    assert_false(matches("[\"a.txt\"]", "abtxt"));
    /* any of the list; one string is a list of one */
    assert_true(matches("[\"*.csv\", \"**/*.json\"]", "s/t.json"));
    assert_true(matches("\"*.csv\"", "x.csv"));
    /* glob: and regex: take the absolute path */
    assert_true(matches("[\"glob:/w/d/**.csv\"]", "deep/x.csv"));
    assert_false(matches("[\"glob:*.csv\"]", "x.csv"));
    assert_true(matches("[\"regex:.*/d/[0-9]+\\\\.out\"]", "42.out"));
    assert_false(matches("[\"regex:.*/d/[0-9]+\\\\.out\"]", "4a.out"));
    /* Java's own errors */
    refused("[\"{a,{b}}\"]", "Cannot nest groups");
    refused("[\"{a,b\"]", "Missing '}'");
    refused("[\"[ab\"]", "Missing ']'");
    refused("[\"[a/b]\"]", "Explicit 'name separator' in class");
    refused("[\"[z-a]\"]", "Invalid range");
    refused("[\"regex:(\"]", "invalid pattern");
    refused("[1]", "outputFiles[0] must be a string");
    refused("{\"a\":1}", "must be a list of strings");
}

#define SHELL "io.kestra.plugin.scripts.shell.Commands"


static const char *output_file(const probe *p, const char *rel)
{
    return json_string_value(json_object_get(json_object_get(p->outputs, "outputFiles"), rel));
}

static void assert_taskrun_uri(const char *uri, const char *taskrun, const char *name)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "kestra:///a/b/f/executions/x1/tasks/t1/%s/", taskrun);
    assert_non_null(uri);
    if (strncmp(uri, prefix, strlen(prefix)))
        fail_msg("%s is not under %s", uri, prefix);
    /* <id>-<file name>, as Kestra's FilesService names an uploaded output file (a FriendlyId: at most 22 base62
     * characters) */
    const char *last = uri + strlen(prefix);
    size_t idlen = strspn(last, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    assert_true(idlen >= 1 && idlen <= 22);
    assert_int_equal(last[idlen], '-');
    assert_string_equal(last + idlen + 1, name);
}

static void test_output_then_input(void **state)
{
    fixture *f = *state;
    probe p;
    run_task(f, SHELL,
             "{\"commands\":[\"printf 'id,n\\\\n1,2\\\\n' > out.csv\", \"mkdir -p sub/deep\", "
             "\"echo '{\\\"k\\\":1}' > sub/a.json\", \"echo '[]' > sub/deep/b.json\", \"echo top > top.json\", "
             "\"echo no > skip.txt\", \"ln -s out.csv link.csv\"],"
             "\"outputFiles\":[\"*.csv\", \"**/*.json\", \"nothing-*.xyz\"]}",
             "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *files = json_object_get(p.outputs, "outputFiles");
    /* out.csv and the two nested json files; not top.json (`**` + `/`), skip.txt, nor the symlink */
    assert_int_equal(json_object_size(files), 3);
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "exitCode")), 0);
    assert_true(json_is_object(json_object_get(p.outputs, "vars")));
    const char *csv = output_file(&p, "out.csv");
    assert_taskrun_uri(csv, "tr1", "out.csv");
    assert_taskrun_uri(output_file(&p, "sub/a.json"), "tr1", "a.json");
    assert_taskrun_uri(output_file(&p, "sub/deep/b.json"), "tr1", "b.json");
    char *body = stored(f, csv);
    assert_non_null(body);
    assert_string_equal(body, "id,n\n1,2\n");
    free(body);
    body = stored(f, output_file(&p, "sub/a.json"));
    assert_string_equal(body, "{\"k\":1}\n");
    free(body);
    /* the second task gets the file back through inputFiles, beside a text one in a sub-folder */
    char props[1024];
    snprintf(props, sizeof props,
             "{\"commands\":[\"cat in.csv\", \"cat lit/t.txt\", \"wc -c < in.csv\"],"
             "\"inputFiles\":{\"in.csv\":\"%s\", \"lit/t.txt\":\"hello text\", \"gone.txt\":null}}",
             csv);
    probe q;
    run_task(f, SHELL, props, "tr2", 1, &q);
    assert_string_equal(q.state, "SUCCESS");
    assert_true(logged(&q, "INFO", "id,n"));
    assert_true(logged(&q, "INFO", "1,2"));
    assert_true(logged(&q, "INFO", "hello text"));
    assert_true(logged(&q, "INFO", "9"));
    /* no outputFiles asked: the map is there, empty, as ScriptOutput shows it */
    assert_int_equal(json_object_size(json_object_get(q.outputs, "outputFiles")), 0);
    probe_clear(&q);
    /* inputFiles as a string holding a JSON map */
    snprintf(props, sizeof props, "{\"commands\":[\"cat x/in.csv\"],\"inputFiles\":\"{\\\"x/in.csv\\\":\\\"%s\\\"}\"}",
             csv);
    run_task(f, SHELL, props, "tr3", 1, &q);
    assert_string_equal(q.state, "SUCCESS");
    assert_true(logged(&q, "INFO", "1,2"));
    probe_clear(&q);
    probe_clear(&p);
}

static void test_failed_exit_keeps_files(void **state)
{
    fixture *f = *state;
    probe p;
    /* CommandsWrapper collects outputFiles on a failed exit too */
    run_task(f, SHELL, "{\"commands\":[\"echo partial > part.csv\", \"exit 3\"], \"outputFiles\":[\"*.csv\"]}", "tr1", 1,
             &p);
    assert_string_equal(p.state, "FAILED");
    assert_int_equal(json_integer_value(json_object_get(p.outputs, "exitCode")), 3);
    char *body = stored(f, output_file(&p, "part.csv"));
    assert_non_null(body);
    assert_string_equal(body, "partial\n");
    free(body);
    probe_clear(&p);
    /* nothing matched: no error, an empty map */
    run_task(f, SHELL, "{\"commands\":[\"true\"], \"outputFiles\":[\"*.csv\"]}", "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_object_size(json_object_get(p.outputs, "outputFiles")), 0);
    probe_clear(&p);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    probe p;
    /* no storage: refused before the commands run */
    run_task(f, SHELL, "{\"commands\":[\"echo ran\"], \"outputFiles\":[\"*.csv\"]}", "tr1", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "outputFiles needs the internal storage"));
    assert_false(logged(&p, "INFO", "ran"));
    probe_clear(&p);
    run_task(f, SHELL, "{\"commands\":[\"echo ran\"], \"inputFiles\":{\"a\":\"kestra:///a/b/x\"}}", "tr1", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "inputFiles with a kestra:// URI needs the internal storage"));
    probe_clear(&p);
    /* text inputFiles (a kestra:// inside the text is no URI) and an empty outputFiles need no storage */
    run_task(f, SHELL,
             "{\"commands\":[\"cat a\", \"cat b\"], \"outputFiles\":[], "
             "\"inputFiles\":\"{\\\"a\\\":\\\"plain\\\", \\\"b\\\":\\\"see kestra://x\\\"}\"}",
             "tr1", 0, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(logged(&p, "INFO", "plain"));
    assert_true(logged(&p, "INFO", "see kestra://x"));
    assert_int_equal(json_object_size(json_object_get(p.outputs, "outputFiles")), 0);
    probe_clear(&p);
    /* an inputFiles string that is no JSON map */
    run_task(f, SHELL, "{\"commands\":[\"echo ran\"], \"inputFiles\":\"[1]\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "inputFiles: the string is not a JSON object"));
    assert_false(logged(&p, "INFO", "ran"));
    probe_clear(&p);
    /* traversal in a name, a missing file, a URI the storage refuses */
    static const char *const bad[][2] = {
        {"{\"../escape.txt\":\"x\"}", "is not a relative file path inside the working directory"},
        {"{\"a/../../b\":\"x\"}", "is not a relative file path inside the working directory"},
        {"{\"dir/\":\"x\"}", "is not a relative file path inside the working directory"},
        {"{\"in.csv\":\"kestra:///a/b/f/executions/x1/none.csv\"}", "inputFiles: cannot fetch"},
        {"{\"in.csv\":\"kestra:///a/b/%2e%2e/%2e%2e/etc/passwd\"}", "inputFiles: cannot fetch"},
        {"{\"in.csv\":\"kestra://host/a\"}", "inputFiles: cannot fetch"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char props[512];
        snprintf(props, sizeof props, "{\"commands\":[\"echo ran\"], \"inputFiles\":%s}", bad[i][0]);
        run_task(f, SHELL, props, "tr1", 1, &p);
        assert_string_equal(p.state, "FAILED");
        if (!logged(&p, "ERROR", bad[i][1]))
            fail_msg("%s: no ERROR line with '%s'", bad[i][0], bad[i][1]);
        assert_false(logged(&p, "INFO", "ran"));
        probe_clear(&p);
    }
    /* a bad glob fails the attempt with Java's reason */
    run_task(f, SHELL, "{\"commands\":[\"true\"], \"outputFiles\":[\"{a,{b}}\"]}", "tr1", 1, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Cannot nest groups"));
    probe_clear(&p);
}

/* Regular files under root (symlinks not followed), 0 when it does not exist. */
static int files_under_count;
static int count_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path, (void)sb, (void)ftw;
    files_under_count += flag == FTW_F;
    return 0;
}
static int files_under(const char *root)
{
    files_under_count = 0;
    nftw(root, count_file, 16, FTW_PHYS);
    return files_under_count;
}

/* A timeout while a 1 GiB outputFile uploads (a sparse file: instant to make, slow to copy) stops the upload: the
 * attempt ends FAILED well before a whole copy could finish, the aborted writer left nothing in the storage (its
 * temporary file included: the storage is closed, so its abort has run), and the working directory was gone when
 * the result was reported. */
static void test_timeout_cancels_upload(void **state)
{
    fixture *f = *state;
    probe p;
    uint64_t t0 = uv_hrtime();
    run_task(f, SHELL, "{\"commands\":[\"truncate -s 1G big.bin\"], \"outputFiles\":[\"*.bin\"], \"timeout\":\"PT0.3S\"}",
             "tr1", 1, &p);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Timeout after 00:00:00.300"));
    assert_true(ms < 8000);
    assert_int_equal(files_under(f->storage), 0);
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
}

/* The same for an inputFiles download: the process never runs, no partial file stays behind. */
static void test_timeout_cancels_download(void **state)
{
    fixture *f = *state;
    char dir[256], big[300];
    snprintf(dir, sizeof dir, "%s/a", f->storage);
    assert_int_equal(mkdir(f->storage, 0755), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(big, sizeof big, "%s/big.bin", dir);
    FILE *fp = fopen(big, "wb");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(truncate(big, (off_t)4 << 30), 0);
    probe p;
    uint64_t t0 = uv_hrtime();
    run_task(f, SHELL, "{\"commands\":[\"echo ran\"], \"inputFiles\":{\"in.bin\":\"kestra:///a/big.bin\"}, "
                "\"timeout\":\"PT0.3S\"}", "tr1", 1, &p);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "Timeout after"));
    assert_false(logged(&p, "INFO", "ran"));
    /* a whole 4 GiB copy takes far longer; a cancelled one stops within a chunk of the timeout */
    assert_true(ms < 3000);
    assert_int_equal(p.work_entries, 0);
    assert_int_equal(files_under(f->storage), 1); /* the source only */
    probe_clear(&p);
}

/* outputFiles never follow a symlinked folder, even one pointing outside the working directory. */
static void test_symlinked_folder(void **state)
{
    fixture *f = *state;
    char outside[256], props[1024];
    snprintf(outside, sizeof outside, "%s/outside", f->root);
    assert_int_equal(mkdir(outside, 0755), 0);
    snprintf(props, sizeof props,
             "{\"commands\":[\"mkdir real\", \"echo in > real/x.csv\", \"echo out > %s/y.csv\", "
             "\"ln -s %s linked\", \"ln -s real alias\"], \"outputFiles\":[\"**.csv\"]}",
             outside, outside);
    probe p;
    run_task(f, SHELL, props, "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *files = json_object_get(p.outputs, "outputFiles");
    assert_int_equal(json_object_size(files), 1);
    char *body = stored(f, output_file(&p, "real/x.csv"));
    assert_non_null(body);
    assert_string_equal(body, "in\n");
    free(body);
    assert_int_equal(p.work_entries, 0);
    probe_clear(&p);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob),
        cmocka_unit_test_setup_teardown(test_output_then_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_exit_keeps_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_cancels_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_cancels_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_folder, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
