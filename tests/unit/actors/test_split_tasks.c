/* The split engine (actors/worker/split.c) on real local files, and the tasks built on it and on the storage walk
 * (actors/worker/tasks_split.c) on a real worker with a real local storage: storage.Split, ForEachItem's internal
 * _split and _merge tasks, PurgeCurrentExecutionFiles; their outputs, file names and refusals. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actors/worker/split.h"
#include "base/log.h"
#include "tests/unit/actors/worker_fixture.h"

#define ST "io.kestra.plugin.core.storage."
#define FEI "io.kestra.plugin.core.flow.ForEachItem$"
#define TR_PREFIX "kestra:///a/b/f/executions/x1/tasks/t1/"

/* The whole local file (NUL-terminated; *len its size), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    buf[got] = 0;
    if (len)
        *len = got;
    return buf;
}

/* The stored file behind a kestra:// URI, whole. */
static char *stored_all(const fixture *f, const char *uri, size_t *len)
{
    char path[1100], err[256], file[1400];
    if (kt_suri_path(uri, path, sizeof path, err, sizeof err))
        fail_msg("bad URI %s: %s", uri, err);
    snprintf(file, sizeof file, "%s/%s", f->storage, path);
    return slurp(file, len);
}

static void write_file(const char *path, const char *body, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(body, 1, len, fp), len);
    fclose(fp);
}

/* Splits body with the options in JSON and returns the pieces' contents joined by '|' (names checked: digits then
 * ext). */
static char *split_local(fixture *f, const char *body, size_t len, const char *opts_json, int64_t default_rows)
{
    char in[300], err[256];
    snprintf(in, sizeof in, "%s/in.txt", f->work);
    write_file(in, body, len);
    json_t *props = parse(opts_json);
    kt_split_opts o;
    assert_int_equal(kt_split_opts_read(props, default_rows, &o, err, sizeof err), 0);
    json_decref(props);
    json_t *names = NULL;
    if (kt_split_local(in, f->work, ".csv", &o, NULL, &names, err, sizeof err))
        fail_msg("split failed: %s", err);
    kt_split_opts_clear(&o);
    size_t cap = len * 2 + 64, used = 0;
    char *out = calloc(1, cap);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        const char *name = json_string_value(v);
        size_t digits = strspn(name, "0123456789");
        assert_true(digits >= 1 && digits <= 20);
        assert_string_equal(name + digits, ".csv");
        char path[600];
        snprintf(path, sizeof path, "%s/%s", f->work, name);
        size_t n;
        char *piece = slurp(path, &n);
        assert_non_null(piece);
        assert_true(used + n + 2 < cap);
        if (i)
            out[used++] = '|';
        memcpy(out + used, piece, n);
        used += n;
        free(piece);
        unlink(path);
    }
    json_decref(names);
    unlink(in);
    return out;
}

static void test_readable_bytes(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(kt_split_parse_bytes("10MB", &v), 0);
    assert_int_equal(v, 10 * 1024 * 1024);
    assert_int_equal(kt_split_parse_bytes("200kb", &v), 0);
    assert_int_equal(v, 200 * 1024);
    assert_int_equal(kt_split_parse_bytes("2Gb", &v), 0);
    assert_int_equal(v, INT64_C(2) * 1024 * 1024 * 1024);
    assert_int_equal(kt_split_parse_bytes("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(kt_split_parse_bytes("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(kt_split_parse_bytes("-5", &v), 0);
    assert_int_equal(v, -5);
    const char *bad[] = {"10 MB", "MB", "", "1.5MB", "10B", "ten", " 10", "10TB", "99999999999999999999",
                         "9999999999999GB"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (kt_split_parse_bytes(bad[i], &v) == 0)
            fail_msg("'%s' was read as %lld", bad[i], (long long)v);
}

static void test_options(void **state)
{
    (void)state;
    char err[256];
    kt_split_opts o;
    json_t *j = parse("{\"rows\":3, \"partitions\":\"4\", \"bytes\":\"1KB\"}"); /* bytes first */
    assert_int_equal(kt_split_opts_read(j, 0, &o, err, sizeof err), 0);
    assert_int_equal(o.mode, KT_SPLIT_BYTES);
    assert_int_equal(o.n, 1024);
    assert_string_equal(o.separator, "\n");
    kt_split_opts_clear(&o);
    json_decref(j);
    j = parse("{\"rows\":3, \"partitions\":\"4\", \"separator\":\";\"}"); /* then partitions */
    assert_int_equal(kt_split_opts_read(j, 0, &o, err, sizeof err), 0);
    assert_int_equal(o.mode, KT_SPLIT_PARTITIONS);
    assert_int_equal(o.n, 4);
    assert_string_equal(o.separator, ";");
    kt_split_opts_clear(&o);
    json_decref(j);
    j = parse("{}"); /* ForEachItem.Batch: rows 1 by default; Split: nothing */
    assert_int_equal(kt_split_opts_read(j, 1, &o, err, sizeof err), 0);
    assert_int_equal(o.mode, KT_SPLIT_ROWS);
    assert_int_equal(o.n, 1);
    kt_split_opts_clear(&o);
    assert_int_equal(kt_split_opts_read(j, 0, &o, err, sizeof err), -1);
    assert_string_equal(err, "Invalid configuration with no size, count, nor rows");
    json_decref(j);
    j = parse("{\"bytes\":\"10 MB\"}");
    assert_int_equal(kt_split_opts_read(j, 1, &o, err, sizeof err), -1);
    assert_string_equal(err, "Invalid size with value '10 MB'");
    json_decref(j);
    j = parse("{\"bytes\":2048}"); /* a number is its digits */
    assert_int_equal(kt_split_opts_read(j, 1, &o, err, sizeof err), 0);
    assert_int_equal(o.n, 2048);
    kt_split_opts_clear(&o);
    json_decref(j);
    j = parse("{\"rows\":\"many\"}");
    assert_int_equal(kt_split_opts_read(j, 1, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "rows"));
    json_decref(j);
    char ext[64];
    kt_split_extension("kestra:///a/b.c/file.csv", ext, sizeof ext);
    assert_string_equal(ext, ".csv");
    kt_split_extension("kestra:///a/b.c/file", ext, sizeof ext);
    assert_string_equal(ext, ".tmp");
}

static void test_engine_rules(void **state)
{
    fixture *f = *state;
    char *s;
    /* lines as readLine cuts them (\n, \r\n, \r; the last one without terminator), the separator after each */
    const char *mixed = "a\nb\r\nc\rd";
    s = split_local(f, mixed, strlen(mixed), "{\"rows\":2}", 0);
    assert_string_equal(s, "a\nb\n|c\nd\n");
    free(s);
    s = split_local(f, mixed, strlen(mixed), "{\"rows\":3, \"separator\":\";\"}", 0);
    assert_string_equal(s, "a;b;c;|d;");
    free(s);
    /* empty lines count, a trailing terminator makes no extra line, rows <= 0 is one line per piece */
    s = split_local(f, "x\n\ny\n", 5, "{\"rows\":0}", 0);
    assert_string_equal(s, "x\n|\n|y\n");
    free(s);
    /* bytes: a new piece once the current one holds the limit or more (so a piece may pass it by a line) */
    const char *five = "aaaa\nbbbb\ncccc\ndddd\neeee\n";
    s = split_local(f, five, strlen(five), "{\"bytes\":\"10\"}", 0);
    assert_string_equal(s, "aaaa\nbbbb\n|cccc\ndddd\n|eeee\n");
    free(s);
    s = split_local(f, five, strlen(five), "{\"bytes\":\"7\"}", 0);
    assert_string_equal(s, "aaaa\nbbbb\n|cccc\ndddd\n|eeee\n");
    free(s);
    /* partitions: round robin, empty pieces dropped */
    s = split_local(f, five, strlen(five), "{\"partitions\":3}", 0);
    assert_string_equal(s, "aaaa\ndddd\n|bbbb\neeee\n|cccc\n");
    free(s);
    s = split_local(f, "p\nq\n", 4, "{\"partitions\":5}", 0);
    assert_string_equal(s, "p\n|q\n");
    free(s);
    /* many partitions: each line reopens its piece */
    s = split_local(f, five, strlen(five), "{\"partitions\":300}", 0);
    assert_string_equal(s, "aaaa\n|bbbb\n|cccc\n|dddd\n|eeee\n");
    free(s);
    /* an empty file: no piece at all */
    s = split_local(f, "", 0, "{\"rows\":2}", 0);
    assert_string_equal(s, "");
    free(s);
    s = split_local(f, "", 0, "{\"partitions\":0}", 0);
    assert_string_equal(s, "");
    free(s);
    /* Kestra fails on partitions 0 when there is a line (writers.get(0)) */
    char in[300], err[256];
    snprintf(in, sizeof in, "%s/in.txt", f->work);
    write_file(in, "z\n", 2);
    kt_split_opts o = {.mode = KT_SPLIT_PARTITIONS, .n = 0, .separator = "\n"};
    json_t *names = NULL;
    assert_int_equal(kt_split_local(in, f->work, ".csv", &o, NULL, &names, err, sizeof err), -1);
    assert_string_equal(err, "Index 0 out of bounds for length 0");
    unlink(in);
    assert_int_equal(entries(f->work), 0);
}

/* A \r\n cut by the 64 KiB read block is one terminator; a line longer than a block streams through. */
static void test_engine_blocks(void **state)
{
    fixture *f = *state;
    size_t len = 65536 + 200000 + 8;
    char *body = malloc(len + 1);
    memset(body, 'x', len);
    body[65535] = '\r';
    body[65536] = '\n';
    body[65537 + 200000] = '\n';
    memcpy(body + len - 6, "tail\r\n", 6);
    char *s = split_local(f, body, len, "{\"rows\":1}", 0);
    /* three lines: 65535 x, 200000 x, then "x" + "tail" */
    size_t n = strlen(s);
    assert_int_equal(n, 65535 + 1 + 1 + 200000 + 1 + 1 + (len - 65537 - 200001 - 2) + 1);
    assert_int_equal(s[65535], '\n');
    assert_int_equal(s[65536], '|');
    assert_int_equal(s[65537 + 200000], '\n');
    assert_int_equal(s[65537 + 200001], '|');
    assert_string_equal(s + n - 5, "tail\n");
    free(s);
    free(body);
}

/* Tens of MB through the task: real storage in, pieces out, nothing lost, the working files gone. */
static void test_split_task_large(void **state)
{
    fixture *f = *state;
    char dir[600], file[700];
    snprintf(dir, sizeof dir, "%s/a/b/f/executions/x1", f->storage);
    put(f, "a/b/f/executions/x1/big.jsonl", "");
    snprintf(file, sizeof file, "%s/big.jsonl", dir);
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    size_t total = 0, lines = 0;
    char line[128];
    while (total < 24 * 1024 * 1024) {
        int n = snprintf(line, sizeof line, "{\"id\":%zu,\"name\":\"item-%zu\",\"pad\":\"................\"}\n",
                         lines, lines * 7);
        fwrite(line, 1, (size_t)n, fp);
        total += (size_t)n;
        lines++;
    }
    fclose(fp);
    probe p;
    run_task(f, ST "Split", "{\"from\":\"kestra:///a/b/f/executions/x1/big.jsonl\", \"bytes\":\"1MB\"}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *uris = json_object_get(p.outputs, "uris");
    assert_true(json_array_size(uris) >= total / (1024 * 1024 + 128) && json_array_size(uris) <= 25);
    size_t sum = 0, i;
    json_t *u;
    size_t whole_len;
    char *whole = slurp(file, &whole_len);
    json_array_foreach(uris, i, u) {
        const char *uri = json_string_value(u);
        assert_int_equal(strncmp(uri, TR_PREFIX "tr1/", strlen(TR_PREFIX "tr1/")), 0);
        assert_string_equal(uri + strlen(uri) - 6, ".jsonl");
        size_t n;
        char *piece = stored_all(f, uri, &n);
        assert_non_null(piece);
        assert_true(n >= 1024 * 1024 || i == json_array_size(uris) - 1);
        assert_true(n < 1024 * 1024 + sizeof line);
        assert_memory_equal(piece, whole + sum, n);
        sum += n;
        free(piece);
    }
    assert_int_equal(sum, total);
    free(whole);
    assert_int_equal(p.work_entries, 0); /* the working folder is gone */
    probe_clear(&p);
}

static void test_split_task(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/in.csv", "1\n2\n3\n4\n5\n");
    run_task(f, "io.kestra.core.tasks.storages.Split", "{\"from\":\"kestra:///a/b/f/executions/x1/in.csv\", \"rows\":2}",
             "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *uris = json_object_get(p.outputs, "uris");
    assert_int_equal(json_array_size(uris), 3);
    const char *want[] = {"1\n2\n", "3\n4\n", "5\n"};
    for (size_t i = 0; i < 3; i++) {
        char *body = stored(f, json_string_value(json_array_get(uris, i)));
        assert_non_null(body);
        assert_string_equal(body, want[i]);
        free(body);
    }
    probe_clear(&p);
    assert_failed(f, ST "Split", "{\"from\":\"kestra:///a/b/f/executions/x1/in.csv\"}",
                  "Invalid configuration with no size, count, nor rows");
    assert_failed(f, ST "Split", "{\"from\":\"kestra:///a/b/f/executions/x1/in.csv\", \"bytes\":\"10 MB\"}",
                  "Invalid size with value '10 MB'");
    assert_failed(f, ST "Split", "{\"from\":\"kestra:///a/b/f/executions/x1/none.csv\", \"rows\":1}", "none.csv");
    assert_failed(f, ST "Split", "{\"from\":\"file:///etc/passwd\", \"rows\":1}",
                  "Invalid internal storage scheme, got uri 'file:///etc/passwd'");
    assert_failed(f, ST "Split", "{\"from\":\"kestra:///a/%2e%2e/x\", \"rows\":1}", "kestra:///a/%2e%2e/x");
    assert_failed(f, ST "Split", "{\"rows\":1}", "from: must not be null");
    assert_int_equal(entries(f->work), 0);
}

static void test_foreach_item_split(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/inputs/file/items.ion", "{a:1}\n{a:2}\n{a:3}\n{a:4}\n{a:5}\n");
    run_task(f, FEI "ForEachItemSplit",
             "{\"items\":\"kestra:///a/b/f/executions/x1/inputs/file/items.ion\", \"batch\":{\"rows\":2}}", "tr2", 1,
             &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *splits = json_string_value(json_object_get(p.outputs, "splits"));
    assert_non_null(splits);
    assert_string_equal(splits, TR_PREFIX "tr2/splits.txt");
    char *list = stored(f, splits);
    assert_non_null(list);
    /* one URI per line, no newline after the last */
    char *save = NULL, *line = strtok_r(list, "\n", &save);
    const char *want[] = {"{a:1}\n{a:2}\n", "{a:3}\n{a:4}\n", "{a:5}\n"};
    size_t n = 0;
    for (; line; line = strtok_r(NULL, "\n", &save), n++) {
        assert_true(n < 3);
        assert_int_equal(strncmp(line, TR_PREFIX "tr2/", strlen(TR_PREFIX "tr2/")), 0);
        assert_string_equal(line + strlen(line) - 4, ".ion");
        char *piece = stored(f, line);
        assert_string_equal(piece, want[n]);
        free(piece);
    }
    assert_int_equal(n, 3);
    free(list);
    list = stored(f, splits);
    assert_int_not_equal(list[strlen(list) - 1], '\n');
    free(list);
    probe_clear(&p);
    /* no batch: rows 1, one split per item */
    run_task(f, FEI "ForEachItemSplit", "{\"items\":\"kestra:///a/b/f/executions/x1/inputs/file/items.ion\"}", "tr3", 1,
             &p);
    assert_string_equal(p.state, "SUCCESS");
    list = stored(f, json_string_value(json_object_get(p.outputs, "splits")));
    n = 1;
    for (char *c = list; *c; c++)
        n += *c == '\n';
    assert_int_equal(n, 5);
    free(list);
    probe_clear(&p);
    /* an empty file: an empty splits.txt */
    put(f, "a/b/f/executions/x1/empty.ion", "");
    run_task(f, FEI "ForEachItemSplit", "{\"items\":\"kestra:///a/b/f/executions/x1/empty.ion\", \"batch\":{\"partitions\":4}}",
             "tr4", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    list = stored(f, json_string_value(json_object_get(p.outputs, "splits")));
    assert_string_equal(list, "");
    free(list);
    probe_clear(&p);
    assert_failed(f, FEI "ForEachItemSplit", "{\"items\":\"/tmp/items.ion\"}",
                  "Unable to split the items from /tmp/items.ion, this is not an internal storage URI!");
    assert_failed(f, FEI "ForEachItemSplit", "{\"items\":\"kestra:///a/b/f/executions/x1/x.ion\", \"batch\":{\"bytes\":\"1TB\"}}",
                  "Invalid size with value '1TB'");
    assert_failed(f, FEI "ForEachItemSplit", "{\"items\":\"kestra:///a/b/f/executions/x1/missing.ion\"}",
                  "missing.ion");
}

/* ForEachItem's shape of the issue: 1 000 000 items in batches of 10 000 rows, 100 splits in order. */
static void test_foreach_item_split_million(void **state)
{
    fixture *f = *state;
    char file[700];
    put(f, "a/b/f/executions/x1/m.ion", "");
    snprintf(file, sizeof file, "%s/a/b/f/executions/x1/m.ion", f->storage);
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 1000000; i++)
        fprintf(fp, "{i:%d}\n", i);
    fclose(fp);
    probe p;
    run_task(f, FEI "ForEachItemSplit", "{\"items\":\"kestra:///a/b/f/executions/x1/m.ion\", \"batch\":{\"rows\":\"10000\"}}",
             "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    size_t n;
    char *list = stored_all(f, json_string_value(json_object_get(p.outputs, "splits")), &n);
    assert_non_null(list);
    size_t count = 0;
    char *save = NULL;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save), count++) {
        if (count % 33 && count != 99)
            continue;
        size_t len;
        char *piece = stored_all(f, line, &len);
        char first[32];
        snprintf(first, sizeof first, "{i:%zu}\n", count * 10000);
        assert_int_equal(strncmp(piece, first, strlen(first)), 0);
        size_t lines = 0;
        for (size_t k = 0; k < len; k++)
            lines += piece[k] == '\n';
        assert_int_equal(lines, 10000);
        free(piece);
    }
    assert_int_equal(count, 100);
    free(list);
    probe_clear(&p);
}

static void test_foreach_item_merge(void **state)
{
    fixture *f = *state;
    probe p;
    const char *base = "a/b/f/executions/x1/tasks/loop-items/tr7";
    char path[300];
    const char *iters[] = {"1", "2", "10", "3"};
    for (size_t i = 0; i < 4; i++) {
        char body[64];
        snprintf(path, sizeof path, "%s/%s/outputs.ion", base, iters[i]);
        snprintf(body, sizeof body, "{iteration:%s}\n", iters[i]);
        put(f, path, body);
    }
    snprintf(path, sizeof path, "%s/4/other.txt", base); /* an iteration without outputs: passed over */
    put(f, path, "x");
    /* the path without the scheme, as Kestra's subflowOutputsBase */
    run_task(f, FEI "ForEachItemMergeOutputs",
             "{\"subflowOutputsBaseUri\":\"/a/b/f/executions/x1/tasks/loop-items/tr7\"}", "tr8", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    const char *uri = json_string_value(json_object_get(p.outputs, "subflowOutputs"));
    assert_non_null(uri);
    assert_string_equal(uri, TR_PREFIX "tr8/outputs.ion");
    char *body = stored(f, uri);
    assert_string_equal(body, "{iteration:1}\n{iteration:2}\n{iteration:3}\n{iteration:10}\n");
    free(body);
    probe_clear(&p);
    /* the same with the scheme */
    run_task(f, FEI "ForEachItemMergeOutputs",
             "{\"subflowOutputsBaseUri\":\"kestra:///a/b/f/executions/x1/tasks/loop-items/tr7/\"}", "tr9", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    body = stored(f, json_string_value(json_object_get(p.outputs, "subflowOutputs")));
    assert_string_equal(body, "{iteration:1}\n{iteration:2}\n{iteration:3}\n{iteration:10}\n");
    free(body);
    probe_clear(&p);
    /* no folder, no property: no outputs (Kestra's null) */
    run_task(f, FEI "ForEachItemMergeOutputs", "{\"subflowOutputsBaseUri\":\"/a/b/f/executions/x1/tasks/none/tr1\"}",
             "tr5", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(!p.outputs || !json_object_size(p.outputs));
    probe_clear(&p);
    run_task(f, FEI "ForEachItemMergeOutputs", "{}", "tr5", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_true(!p.outputs || !json_object_size(p.outputs));
    probe_clear(&p);
    assert_failed(f, FEI "ForEachItemMergeOutputs", "{\"subflowOutputsBaseUri\":\"/a/../../etc\"}", "..");
}

static void test_purge(void **state)
{
    fixture *f = *state;
    probe p;
    put(f, "a/b/f/executions/x1/inputs/file/in.txt", "1");
    put(f, "a/b/f/executions/x1/tasks/t1/tr0/out.csv", "2");
    put(f, "a/b/f/executions/x2/keep.txt", "3");
    run_task(f, "io.kestra.core.tasks.storages.PurgeExecution", "{}", "tr1", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    json_t *uris = json_object_get(p.outputs, "uris");
    /* every path walked, folders and the execution's root too, in reverse order (deleteByPrefix) */
    const char *want[] = {
        "kestra:///a/b/f/executions/x1/tasks/t1/tr0/out.csv", "kestra:///a/b/f/executions/x1/tasks/t1/tr0",
        "kestra:///a/b/f/executions/x1/tasks/t1",             "kestra:///a/b/f/executions/x1/tasks",
        "kestra:///a/b/f/executions/x1/inputs/file/in.txt",   "kestra:///a/b/f/executions/x1/inputs/file",
        "kestra:///a/b/f/executions/x1/inputs",               "kestra:///a/b/f/executions/x1",
    };
    assert_int_equal(json_array_size(uris), 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(json_string_value(json_array_get(uris, i)), want[i]);
    probe_clear(&p);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/a/b/f/executions/x1", f->storage);
    assert_int_equal(entries(dir), -1);
    char *keep = stored(f, "kestra:///a/b/f/executions/x2/keep.txt");
    assert_string_equal(keep, "3");
    free(keep);
    /* nothing left: an empty list */
    run_task(f, ST "PurgeCurrentExecutionFiles", "{}", "tr2", 1, &p);
    assert_string_equal(p.state, "SUCCESS");
    assert_int_equal(json_array_size(json_object_get(p.outputs, "uris")), 0);
    probe_clear(&p);
    run_task(f, ST "PurgeExecution", "{}", "tr2", 0, &p);
    assert_string_equal(p.state, "FAILED");
    assert_true(logged(&p, "ERROR", "no internal storage"));
    probe_clear(&p);
}

int main(void)
{
    kt_log_set_level(KT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readable_bytes),
        cmocka_unit_test(test_options),
        cmocka_unit_test_setup_teardown(test_engine_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_task_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_item_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_item_split_million, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_item_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
