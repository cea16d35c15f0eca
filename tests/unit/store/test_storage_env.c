/* read(), fileURI(), fileSize(), fileExists() and isFileEmpty() rendering through a real local storage in a
 * temporary folder (store/storage_env.h): the files are written on disk where the local backend keeps them, and
 * the expressions must find their bytes, sizes and absence, refuse another execution's files, accept the
 * triggering execution's, and fail clearly when the render has no storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expr/expr.h"
#include "store/storage_env.h"

typedef struct fx {
    char dir[64];
    uv_loop_t loop;
    kt_storage *s;
    kt_env_files files;
    json_t *ctx;
} fx;

/* Writes base/rel (creating its folders) with content. */
static void put(fx *f, const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    for (char *p = path + strlen(f->dir) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/kite-senv-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    uv_loop_init(&f->loop);
    char err[256];
    assert_int_equal(kt_storage_local_open(&f->loop, f->dir, &f->s, err, sizeof err), KT_OK);
    kt_storage_env_files(f->s, &f->files);
    f->ctx = json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s, s:s, s:s}}", "flow", "namespace", "company.team", "id",
                       "My_Flow", "execution", "id", "exec1", "trigger", "namespace", "company.parent", "flowId",
                       "parent", "executionId", "exec0");
    put(f, "company/team/my-flow/executions/exec1/tasks/t/tr1/out.txt", "hello \xff world");
    put(f, "company/team/my-flow/executions/exec1/tasks/t/tr1/empty.txt", "");
    put(f, "company/team/my-flow/executions/other/tasks/t/tr9/secret.txt", "not yours");
    put(f, "company/parent/parent/executions/exec0/tasks/each/tr0/batch-1.ion", "line1\nline2\n");
    put(f, "company/team/_files/sub/script.sql", "select {{ 1 + 1 }}");
    put(f, "other/ns/_files/shared.txt", "from another namespace");
    *state = f;
    return 0;
}

static void closed(void *data) { *(int *)data = 1; }

static int teardown(void **state)
{
    fx *f = *state;
    int done = 0;
    kt_storage_close(f->s, closed, &done);
    while (!done && uv_run(&f->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    json_decref(f->ctx);
    free(f);
    return 0;
}

/* Renders src with the fixture's context and storage; returns the text (caller frees) or NULL with msg filled. */
static char *render(fx *f, const char *src, int with_files, char *msg, size_t cap)
{
    kt_env env;
    kt_env_init(&env, 0, 1);
    env.files = with_files ? &f->files : NULL;
    char *out = NULL;
    kt_expr_error e = {0};
    if (kt_expr_render_string(src, f->ctx, &env, &out, &e) != KT_OK) {
        snprintf(msg, cap, "%s", e.message);
        return NULL;
    }
    return out;
}

static void expect(fx *f, const char *src, const char *want)
{
    char msg[1024] = "";
    char *got = render(f, src, 1, msg, sizeof msg);
    if (!got)
        fail_msg("%s failed: %s", src, msg);
    assert_string_equal(got, want);
    free(got);
}

static void expect_error(fx *f, const char *src, int with_files, const char *needle)
{
    char msg[1024] = "";
    char *got = render(f, src, with_files, msg, sizeof msg);
    if (got)
        fail_msg("%s rendered '%s', expected an error containing '%s'", src, got, needle);
    if (!strstr(msg, needle))
        fail_msg("%s: error '%s' does not contain '%s'", src, msg, needle);
}

#define OUT "kestra:///company/team/my-flow/executions/exec1/tasks/t/tr1/"

/* The execution's own files: bytes (a malformed UTF-8 byte decoded to U+FFFD as Java does), size, emptiness. */
static void test_own_execution(void **state)
{
    fx *f = *state;
    expect(f, "{{ read('" OUT "out.txt') }}", "hello \xEF\xBF\xBD world");
    expect(f, "{{ fileSize('" OUT "out.txt') }}", "13");
    expect(f, "{{ isFileEmpty('" OUT "out.txt') }}", "false");
    expect(f, "{{ isFileEmpty('" OUT "empty.txt') }}", "true");
    expect(f, "{{ fileExists('" OUT "out.txt') }} {{ fileExists('" OUT "nope.txt') }}", "true false");
    expect(f, "{{ read(path='" OUT "empty.txt') | length }}", "0");
    expect_error(f, "{{ read('" OUT "nope.txt') }}", 1, "not found");
    expect_error(f, "{{ fileSize('" OUT "nope.txt') }}", 1, "not found");
}

/* Another execution's files are refused before any I/O; the triggering execution's are allowed. */
static void test_access_rule(void **state)
{
    fx *f = *state;
    expect_error(f, "{{ read('kestra:///company/team/my-flow/executions/other/tasks/t/tr9/secret.txt') }}", 1,
                 "Unable to read the file 'kestra:///company/team/my-flow/executions/other/tasks/t/tr9/secret.txt' "
                 "as it didn't belong to the current execution");
    expect_error(f, "{{ fileSize('kestra:///company/team/my-flow/executions/other/tasks/t/tr9/secret.txt') }}", 1,
                 "didn't belong to the current execution");
    /* a prefix that only looks like the execution's folder */
    expect_error(f, "{{ read('kestra:///company/team/my-flow/executions/exec10/x.txt') }}", 1,
                 "didn't belong to the current execution");
    expect(f, "{{ read('kestra:///company/parent/parent/executions/exec0/tasks/each/tr0/batch-1.ion') }}",
           "line1\nline2\n");
    /* traversal inside an allowed prefix is the storage's to refuse */
    expect_error(f, "{{ read('" OUT "../../../../other/tasks/t/tr9/secret.txt') }}", 1, "");
    expect_error(f, "{{ fileSize('not/a/uri.txt') }}", 1, "Unable to create the URI from the path not/a/uri.txt");
    /* the identity checked is the render's, not a variable the template sets or loops over */
    expect_error(f, "{% set execution = {'id': 'other'} %}"
                    "{{ read('kestra:///company/team/my-flow/executions/other/tasks/t/tr9/secret.txt') }}",
                 1, "didn't belong to the current execution");
    expect_error(f, "{% for execution in [{'id': 'other'}] %}"
                    "{{ read('kestra:///company/team/my-flow/executions/other/tasks/t/tr9/secret.txt') }}{% endfor %}",
                 1, "didn't belong to the current execution");
}

/* Plain paths are namespace files of the flow's namespace; nsfile:// names one explicitly. read does not render. */
static void test_namespace_files(void **state)
{
    fx *f = *state;
    expect(f, "{{ read('sub/script.sql') }}", "select {{ 1 + 1 }}");
    expect(f, "{{ read('/sub/script.sql') }}", "select {{ 1 + 1 }}");
    expect(f, "{{ render(read('sub/script.sql')) }}", "select 2");
    expect(f, "{{ read('nsfile:///sub/script.sql') }}", "select {{ 1 + 1 }}");
    expect(f, "{{ read('nsfile://other.ns/shared.txt') }}", "from another namespace");
    expect(f, "{{ fileExists('sub/script.sql') }} {{ isFileEmpty('sub/script.sql') }}", "true false");
    expect_error(f, "{{ read('sub/missing.sql') }}", 1, "not found");
    expect_error(f, "{{ read('../team/_files/sub/script.sql') }}", 1, "");
}

/* fileURI builds the namespace file's URI without touching the storage; errors are Kestra's. */
static void test_file_uri(void **state)
{
    fx *f = *state;
    expect(f, "{{ fileURI('test') }}", "kestra:///company/team/_files/test");
    expect(f, "{{ fileURI('/a/b.txt') }}", "kestra:///company/team/_files/a/b.txt");
    expect_error(f, "{{ fileURI('../x') }}", 1, "Path must not contain '../'");
    expect_error(f, "{{ fileURI() }}", 1,
                 "The 'fileURI' function expects an argument 'path' that is a path to a namespace file.");
    expect_error(f, "{{ read() }}", 1, "The 'read' function expects an argument 'path'");
    expect_error(f, "{{ fileSize() }}", 1,
                 "The 'fileSize' function expects an argument 'path' that is a path to the internal storage URI.");
}

/* kv() through the storage: the entry's Ion and its side file's expirationDate (the render's clock is 1970, so an
 * expirationDate in 1960 has passed); kt_storage_read_small_meta gives the metadata with the bytes, NULL without. */
static void test_kv_entries(void **state)
{
    fx *f = *state;
    put(f, "company/team/_kv/k.ion", "{a:1, when:2021-09-01}");
    put(f, "company/team/_kv/k.ion.metadata", "{\"expirationDate\":\"2000-01-01T00:00:00Z\"}");
    put(f, "company/team/_kv/old.ion", "\"x\"");
    put(f, "company/team/_kv/old.ion.metadata", "{\"expirationDate\":\"1960-01-01T00:00:00Z\"}");
    put(f, "company/_kv/plain.ion", "2021-09-01T01:02:03Z");
    expect(f, "{{ kv('k').a }} {{ kv('k').when }}", "1 2021-09-01");
    expect(f, "{{ kv('plain', 'company') }}", "2021-09-01T01:02:03Z");
    expect(f, "{{ kv('none') ?? 'absent' }}", "absent");
    expect_error(f, "{{ kv('old') }}", 1, "The requested value has expired");
    /* and the render deleted it, as Kestra's InternalKVStore does: the entry and its side file */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    char p[512];
    snprintf(p, sizeof p, "%s/company/team/_kv/old.ion", f->dir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/company/team/_kv/old.ion.metadata", f->dir);
    assert_int_equal(access(p, F_OK), -1);
    /* an entry rewritten between the render's read and its deletion stays (kt_storage_delete_if) */
    put(f, "company/team/_kv/old.ion", "\"x\"");
    put(f, "company/team/_kv/old.ion.metadata", "{\"expirationDate\":\"1960-01-01T00:00:00Z\"}");
    char *data = NULL, err[256] = "";
    size_t len = 0;
    json_t *meta = NULL;
    int64_t mtime = 0;
    assert_int_equal(kt_storage_read_small_meta(f->s, "kestra:///company/team/_kv/old.ion", 1024, &data, &len, &meta,
                                                &mtime, err, sizeof err),
                     KT_OK);
    assert_true(mtime > 0);
    free(data);
    kt_env_files files;
    kt_storage_env_files(f->s, &files);
    usleep(5000);
    put(f, "company/team/_kv/old.ion", "\"fresh\"");
    put(f, "company/team/_kv/old.ion.metadata", "{}");
    files.drop(files.ud, "kestra:///company/team/_kv/old.ion", meta, mtime);
    json_decref(meta);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    snprintf(p, sizeof p, "%s/company/team/_kv/old.ion", f->dir);
    assert_int_equal(access(p, F_OK), 0);
    expect(f, "{{ kv('old') }}", "fresh");
    expect_error(f, "{{ kv('k') }}", 0, "The 'kv' function needs the internal storage");
    assert_int_equal(kt_storage_read_small_meta(f->s, "kestra:///company/team/_kv/k.ion", 1024, &data, &len, &meta,
                                                NULL, err, sizeof err),
                     KT_OK);
    assert_string_equal(data, "{a:1, when:2021-09-01}");
    assert_string_equal(json_string_value(json_object_get(meta, "expirationDate")), "2000-01-01T00:00:00Z");
    free(data);
    json_decref(meta);
    assert_int_equal(kt_storage_read_small_meta(f->s, "kestra:///company/_kv/plain.ion", 1024, &data, &len, &meta, NULL,
                                                err, sizeof err),
                     KT_OK);
    assert_null(meta);
    free(data);
    assert_int_equal(kt_storage_read_small_meta(f->s, "kestra:///company/_kv/nope.ion", 1024, &data, &len, &meta, NULL,
                                                err, sizeof err),
                     KT_ENOTFOUND);
    assert_null(data);
    assert_null(meta);
    assert_int_equal(kt_storage_read_small_meta(f->s, "kestra:///company/team/_kv/k.ion", 4, &data, &len, &meta, NULL,
                                                err, sizeof err),
                     KT_EINVAL); /* larger than max */
    assert_null(data);
    assert_null(meta);
}

/* Without storage hooks the functions fail with a clear message instead of reading anything. */
static void test_no_storage(void **state)
{
    fx *f = *state;
    expect_error(f, "{{ read('" OUT "out.txt') }}", 0, "The 'read' function needs the internal storage");
    expect_error(f, "{{ fileSize('" OUT "out.txt') }}", 0, "The 'fileSize' function needs the internal storage");
    char msg[256];
    char *got = render(f, "{{ fileURI('x') }}", 0, msg, sizeof msg); /* pure: no storage needed */
    assert_non_null(got);
    assert_string_equal(got, "kestra:///company/team/_files/x");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_entries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
