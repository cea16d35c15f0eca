/* store/storage_uri: the kestra:/// check in every spelling of a traversal, relative paths, Kestra's Slugify (the
 * expected slugs are what Slugify.of answers on a JVM), the layout and the segment-wise prefix test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/storage_uri.h"

/* One row: the input, whether it is accepted, and then the checked path (accepted) or a word the reason must hold
 * (refused). */
typedef struct row {
    const char *in;
    int ok;
    const char *want;
} row;

static const row uri_rows[] = {
    /* accepted */
    {"kestra:///a/b.txt", 1, "a/b.txt"},
    {"kestra:///company/team/my-flow/executions/4Xn2sEq/tasks/t1/7aBcD/out.csv", 1,
     "company/team/my-flow/executions/4Xn2sEq/tasks/t1/7aBcD/out.csv"},
    {"KESTRA:///a/b", 1, "a/b"}, /* the scheme is case-insensitive, as NamespaceFile.of compares it */
    {"Kestra:///a", 1, "a"},
    {"kestra:///a/b%20c.txt", 1, "a/b c.txt"},
    {"kestra:///a/b c.txt", 1, "a/b c.txt"},
    {"kestra:///a/%252e%252e/x", 1, "a/%2e%2e/x"}, /* decoded once: the literal name "%2e%2e", as URI.getPath() */
    {"kestra:///a/%25", 1, "a/%"},
    {"kestra:///a/%2525", 1, "a/%25"},
    {"kestra:///a/..b", 1, "a/..b"}, /* dots inside a name are no traversal */
    {"kestra:///a/b../c", 1, "a/b../c"},
    {"kestra:///a/.../c", 1, "a/.../c"},
    {"kestra:///a/.hidden", 1, "a/.hidden"},
    {"kestra:///ns/_files/dir/", 1, "ns/_files/dir/"}, /* a directory keeps its '/' */
    {"kestra:///a/%C3%A9t%C3%A9.txt", 1, "a/\xc3\xa9t\xc3\xa9.txt"},
    {"kestra:///a/\xc3\xa9t\xc3\xa9.txt", 1, "a/\xc3\xa9t\xc3\xa9.txt"},
    {"kestra:///a%2fb", 1, "a/b"}, /* an encoded '/' separates, as URI.getPath() decodes it */
    {"kestra:///a/%3F%23.txt", 1, "a/?#.txt"},
    {"kestra:///a/b%2Ec", 1, "a/b.c"},
    {"kestra:///a/%e2%80%a5", 1, "a/\xe2\x80\xa5"},                       /* U+2025 TWO DOT LEADER: a name */
    {"kestra:///a/%ef%bc%8e%ef%bc%8e", 1, "a/\xef\xbc\x8e\xef\xbc\x8e"}, /* fullwidth dots: a name on Linux */
    /* parent traversal, every spelling */
    {"kestra:///a/../b", 0, "'..'"},
    {"kestra:///../etc/passwd", 0, "'..'"},
    {"kestra:///a/..", 0, "'..'"},
    {"kestra:///a/../", 0, "'..'"},
    {"kestra:///a/%2e%2e/b", 0, "'..'"},
    {"kestra:///a/%2E%2e/b", 0, "'..'"},
    {"kestra:///a/%2E%2E", 0, "'..'"},
    {"kestra:///a/.%2e/b", 0, "'..'"},
    {"kestra:///a/%2e./b", 0, "'..'"},
    {"kestra:///a/..%2fb", 0, "'..'"},
    {"kestra:///a/..%2Fb", 0, "'..'"},
    {"kestra:///a%2f../b", 0, "'..'"},
    {"kestra:///a/%2e%2e%2fb", 0, "'..'"},
    {"kestra:///a/..\\b", 0, "backslash"},
    {"kestra:///a/..%5cb", 0, "backslash"},
    {"kestra:///a/..%5Cb", 0, "backslash"},
    {"kestra:///a/%5c..%5cb", 0, "backslash"},
    {"kestra:///a/%c0%ae%c0%ae/b", 0, "UTF-8"}, /* overlong '.' */
    {"kestra:///a/%c0%afb", 0, "UTF-8"},        /* overlong '/' */
    /* '.' and empty segments */
    {"kestra:///a/./b", 0, "'.'"},
    {"kestra:///a/%2e/b", 0, "'.'"},
    {"kestra:///.", 0, "'.'"},
    {"kestra:///a//b", 0, "empty"},
    {"kestra:////a", 0, "empty"},
    {"kestra:///a/b//", 0, "empty"},
    {"kestra:///a%2f%2fb", 0, "empty"},
    {"kestra:///%2fa", 0, "empty"},
    /* NUL, controls, bad UTF-8 */
    {"kestra:///a/b%00.txt", 0, "NUL"},
    {"kestra:///a/b%0a", 0, "control"},
    {"kestra:///a/b\n", 0, "control"},
    {"kestra:///a/b\t", 0, "control"},
    {"kestra:///a/b%7f", 0, "control"},
    {"kestra:///a/%c2%85", 0, "control"}, /* U+0085, a C1 control */
    {"kestra:///a/%ff", 0, "UTF-8"},
    {"kestra:///a/%c3", 0, "UTF-8"},
    {"kestra:///a/%ed%a0%80", 0, "UTF-8"}, /* a surrogate */
    /* scheme and authority */
    {"file:///etc/passwd", 0, "kestra:///"},
    {"/etc/passwd", 0, "kestra:///"},
    {"http://example.com/a", 0, "kestra:///"},
    {"kestrax:///a", 0, "kestra:///"},
    {"", 0, "kestra:///"},
    {"kestra:/a/b", 0, "kestra:///"},
    {"kestra:a/b", 0, "kestra:///"},
    {"kestra://host/x", 0, "authority"},
    {"kestra://@/x", 0, "authority"},
    {"kestra://:80/x", 0, "authority"},
    {"kestra:///", 0, "no file"},
    {"kestra://", 0, "no file"},
    /* query, fragment, escapes */
    {"kestra:///a/b?x=1", 0, "query"},
    {"kestra:///a/b#f", 0, "fragment"},
    {"kestra:///a/%", 0, "percent"},
    {"kestra:///a/%2", 0, "percent"},
    {"kestra:///a/%zz", 0, "percent"},
    {"kestra:///a/%g0", 0, "percent"},
    {"kestra:///a/%%32%65", 0, "percent"},
};

static void check_row(const char *what, const row *r, kt_status st, const char *path, const char *err)
{
    char label[160];
    snprintf(label, sizeof label, "%s '%.100s'", what, r->in);
    if (r->ok) {
        if (st != KT_OK)
            fail_msg("%s refused: %s", label, err);
        if (strcmp(path, r->want) != 0)
            fail_msg("%s gave '%s', want '%s'", label, path, r->want);
        return;
    }
    if (st != KT_EINVAL)
        fail_msg("%s accepted as '%s'", label, path);
    if (path[0])
        fail_msg("%s left '%s' in the output", label, path);
    if (!strstr(err, r->want))
        fail_msg("%s: reason '%s' lacks '%s'", label, err, r->want);
}

/* The message quotes the input (printable ones verbatim: a user must see which URI was refused). */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static void test_uri_table(void **s)
{
    (void)s;
    size_t n = sizeof uri_rows / sizeof uri_rows[0];
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const row *r = &uri_rows[i];
        char path[KT_SURI_PATH_MAX + 1] = "junk", err[512] = "";
        kt_status st = kt_suri_path(r->in, path, sizeof path, err, sizeof err);
        check_row("uri", r, st, path, err);
        if (!r->ok && printable(r->in)) {
            char quoted[300];
            snprintf(quoted, sizeof quoted, "'%s'", r->in);
            if (!strstr(err, quoted))
                fail_msg("reason '%s' does not name %s", err, quoted);
        }
    }
}

static void test_uri_lengths(void **s)
{
    (void)s;
    /* 1024 decoded bytes: 4 segments of 255 + 4 bytes; 1025 refused; one segment of 256 refused */
    char uri[4 * KT_SURI_PATH_MAX], want[KT_SURI_PATH_MAX + 2], path[KT_SURI_PATH_MAX + 1], err[512];
    memset(want, 'x', KT_SURI_PATH_MAX);
    for (int i = 255; i < KT_SURI_PATH_MAX; i += 256)
        want[i] = '/';
    want[KT_SURI_PATH_MAX] = '\0';
    snprintf(uri, sizeof uri, "kestra:///%s", want);
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_OK);
    assert_string_equal(path, want);
    assert_int_equal(kt_suri_path(uri, path, strlen(want), err, sizeof err), KT_EINVAL); /* the caller's buffer */
    assert_non_null(strstr(err, "buffer"));
    strcat(uri, "y");
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "longer than 1024"));
    assert_non_null(strstr(err, "...")); /* the quoted URI is cut */
    assert_true(strlen(err) < 300);
    /* the length is the decoded one: 1024 bytes spelt %78 (3 kB of URI) are fine */
    char *p = uri + snprintf(uri, sizeof uri, "kestra:///");
    for (int i = 0; i < 1000; i++)
        p += sprintf(p, "%%78");
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_EINVAL); /* one 1000-byte segment */
    assert_non_null(strstr(err, "255"));
    char seg[300];
    memset(seg, 'z', 256);
    seg[256] = '\0';
    snprintf(uri, sizeof uri, "kestra:///a/%s", seg);
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_EINVAL);
    seg[255] = '\0';
    snprintf(uri, sizeof uri, "kestra:///a/%s", seg);
    assert_int_equal(kt_suri_path(uri, path, sizeof path, err, sizeof err), KT_OK);
    assert_int_equal(kt_suri_path(NULL, path, sizeof path, err, sizeof err), KT_EINVAL);
}

static const row rel_rows[] = {
    {"a/b.txt", 1, "a/b.txt"},
    {"/a/b.txt", 1, "a/b.txt"},
    {"///a", 1, "a"},
    {"dir/", 1, "dir/"},
    {"scripts/etl.py", 1, "scripts/etl.py"},
    {"a/%2e%2e", 1, "a/%2e%2e"},        /* not decoded: a file name */
    {"a?b#c%20.txt", 1, "a?b#c%20.txt"}, /* ordinary characters here */
    {"..a", 1, "..a"},
    {".env", 1, ".env"},
    {"r\xc3\xa9sum\xc3\xa9.pdf", 1, "r\xc3\xa9sum\xc3\xa9.pdf"},
    {"", 0, "no file"},
    {"/", 0, "no file"},
    {"../a", 0, "'..'"},
    {"a/..", 0, "'..'"},
    {"/../etc/passwd", 0, "'..'"},
    {"a/./b", 0, "'.'"},
    {"./a", 0, "'.'"},
    {"a//b", 0, "empty"},
    {"a\\b", 0, "backslash"},
    {"..\\a", 0, "backslash"},
    {"a/\x01", 0, "control"},
    {"a\n", 0, "control"},
    {"a/\xff", 0, "UTF-8"},
    {"a/\xc0\xae\xc0\xae", 0, "UTF-8"},
};

static void test_relative_table(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof rel_rows / sizeof rel_rows[0]; i++) {
        char path[KT_SURI_PATH_MAX + 1] = "junk", err[512] = "";
        kt_status st = kt_suri_relative(rel_rows[i].in, path, sizeof path, err, sizeof err);
        check_row("relative", &rel_rows[i], st, path, err);
    }
    char big[KT_SURI_PATH_MAX + 2], path[KT_SURI_PATH_MAX + 1], err[256];
    memset(big, 'a', sizeof big - 1);
    for (size_t i = 200; i < sizeof big - 1; i += 201)
        big[i] = '/';
    big[sizeof big - 1] = '\0';
    assert_int_equal(kt_suri_relative(big, path, sizeof path, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "longer than 1024"));
    assert_int_equal(kt_suri_relative(big + 1, path, sizeof path, err, sizeof err), KT_OK);
    assert_int_equal(kt_suri_relative(NULL, path, sizeof path, err, sizeof err), KT_EINVAL);
}

/* Expected values: Slugify.of on OpenJDK (the same four steps), see the header for what the NFD table covers. */
static const struct {
    const char *in, *want;
} slug_rows[] = {
    {"test test ", "test-test"}, /* Kestra's own SlugifyTest */
    {"Test\t\t\ntest*", "test-test"},
    {"--Test\t\t\ntest9*", "test-test9"},
    {"\xc3\x89lan vital_2", "elan-vital-2"}, /* Élan */
    {"my_flow", "my-flow"},
    {"Hello World", "hello-world"},
    {"___", ""},
    {"-", ""},
    {"", ""},
    {"a - b", "a-b"},
    {"A1_b2-C3", "a1-b2-c3"},
    {"\xc3\x87" "a va? Tr\xc3\xa8s bien!", "ca-va-tres-bien"},        /* Ça va? Très bien! */
    {"Z\xc3\xbcrich-Stra\xc3\x9f" "e", "zurich-strae"},                /* Zürich-Straße: ß has no decomposition */
    {"\xc5\x92uvre \xc3\x86on \xc3\x98re", "uvre-on-re"},               /* Œuvre Æon Øre */
    {"\xc5\x81\xc3\xb3" "d\xc5\xba", "odz"},                            /* Łódź */
    {"\xc3\x85ngstr\xc3\xb6m\xe2\x84\xab\xe2\x84\xaa", "angstromak"},  /* Ångström + Angstrom and Kelvin signs */
    {"e\xcc\x81te\xcc\x81", "ete"},                                     /* already decomposed */
    {"Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t", "tieng-viet"},                /* Tiếng Việt: Latin Extended Additional */
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" "flow", "flow"},           /* 日本語flow */
    {"a\xc2\xa0" "b", "ab"},                                            /* NBSP is not Java's \s */
    {"a\xe2\x80\x83" "b", "ab"},                                        /* EM SPACE neither */
    {"x\x0bx\x1fy", "x-xy"},                                            /* \x0B is, \x1F is not */
    {"\xc4\x80\xc4\x81\xc4\x82\xc4\x83\xc4\x84\xc4\x85 \xc4\x88\xc4\x89\xc4\x8a\xc4\x8b\xc4\x8c\xc4\x8d",
     "aaaaaa-cccccc"},                                                  /* ĀāĂăĄą ĈĉĊċČč */
    {"\xc7\x85\xc7\x86 \xc7\x8d\xc7\x8e\xc7\x8f", "aai"},               /* ǅǆ (compatibility only) ǍǎǏ */
    {"\xc4\xb1 \xc4\xb0", "i"},                                         /* ı İ */
    {"\xc5\xbf \xef\xac\x81", ""},                                      /* ſ ﬁ: compatibility only */
    {"caf\xc3\xa9\xc3\xa9__--__d\xc3\xa9j\xc3\xa0", "cafee-deja"},
    {"\xf0\x9f\x98\x80 smile", "smile"},                                /* an emoji */
    {"bad\xff\xfe utf8\xc3", "bad-utf8"},                               /* not UTF-8: dropped */
};

static void test_slug_table(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof slug_rows / sizeof slug_rows[0]; i++) {
        char out[128];
        kt_suri_slug(slug_rows[i].in, out, sizeof out);
        if (strcmp(out, slug_rows[i].want) != 0)
            fail_msg("slug row %zu gave '%s', want '%s'", i, out, slug_rows[i].want);
    }
    /* cut: never half a separator, never a trailing '-' */
    char out[6];
    kt_suri_slug("ab cd ef", out, sizeof out);
    assert_string_equal(out, "ab-cd");
    kt_suri_slug("abcd ef", out, sizeof out);
    assert_string_equal(out, "abcd");
    kt_suri_slug(NULL, out, sizeof out);
    assert_string_equal(out, "");
    /* every Latin-1 letter with an accent keeps its base letter, the rest of U+0080-U+00FF goes */
    const char *l1 = "\xc3\x80\xc3\x81\xc3\x82\xc3\x83\xc3\x84\xc3\x85\xc3\x86\xc3\x87\xc3\x88\xc3\x89\xc3\x8a\xc3\x8b"
                     "\xc3\x8c\xc3\x8d\xc3\x8e\xc3\x8f\xc3\x90\xc3\x91\xc3\x92\xc3\x93\xc3\x94\xc3\x95\xc3\x96\xc3\x97"
                     "\xc3\x98\xc3\x99\xc3\x9a\xc3\x9b\xc3\x9c\xc3\x9d\xc3\x9e\xc3\x9f\xc3\xbf\xc2\xa9\xc2\xb5";
    char big[128];
    kt_suri_slug(l1, big, sizeof big);
    assert_string_equal(big, "aaaaaaceeeeiiiinooooouuuuyy");
}

static void test_namespace_path(void **s)
{
    (void)s;
    char out[64];
    kt_suri_namespace_path("company.team.sub", out, sizeof out);
    assert_string_equal(out, "company/team/sub");
    kt_suri_namespace_path("solo", out, sizeof out);
    assert_string_equal(out, "solo");
    kt_suri_namespace_path("company.team", out, 8);
    assert_string_equal(out, "company");
}

static void test_layout(void **s)
{
    (void)s;
    char out[512];
    assert_int_equal(kt_suri_flow_root("company.team", "My_Flow", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/my-flow");
    assert_int_equal(kt_suri_execution_root("company.team", "My_Flow", "4Xn2sEq", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/my-flow/executions/4Xn2sEq");
    assert_int_equal(kt_suri_taskrun_dir("company.team", "hello", "e1", "Write_File", "tr1", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/hello/executions/e1/tasks/write-file/tr1");
    assert_int_equal(kt_suri_trigger_dir("company.team", "hello", "e1", "on_Schedule", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/hello/executions/e1/trigger/on-schedule");
    assert_int_equal(kt_suri_input_file("dev", "f", "e1", "my_file", "my_file_123.upl", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///dev/f/executions/e1/inputs/my_file/my_file_123.upl"); /* input id not slugged */
    assert_int_equal(kt_suri_namespace_files("company.team", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/_files/");
    assert_int_equal(kt_suri_kv("company.team", "my_key", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/_kv/my_key.ion");
    assert_int_equal(kt_suri_states("company.team", "My_Flow", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/my-flow/states");
    assert_int_equal(kt_suri_states("company.team", NULL, out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///company/team/states");

    /* names that need escaping come back through kt_suri_path unchanged */
    assert_int_equal(kt_suri_input_file("dev", "f", "e1", "in", "r\xc3\xa9sum\xc3\xa9 50%?#.csv", out, sizeof out),
                     KT_OK);
    assert_string_equal(out, "kestra:///dev/f/executions/e1/inputs/in/r\xc3\xa9sum\xc3\xa9%2050%25%3F%23.csv");
    char path[KT_SURI_PATH_MAX + 1], err[256];
    assert_int_equal(kt_suri_path(out, path, sizeof path, err, sizeof err), KT_OK);
    assert_string_equal(path, "dev/f/executions/e1/inputs/in/r\xc3\xa9sum\xc3\xa9 50%?#.csv");

    /* refusals: empty ids, empty slugs, ids that are not one segment, bad namespaces, a small buffer */
    assert_int_equal(kt_suri_flow_root("dev", "", out, sizeof out), KT_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(kt_suri_flow_root("dev", "___", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root("dev", NULL, out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root("", "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root(NULL, "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root("a..b", "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root(".a", "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root("a.", "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_flow_root("a/b", "f", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_execution_root("dev", "f", NULL, out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_execution_root("dev", "f", "", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_execution_root("dev", "f", "..", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_execution_root("dev", "f", "a/b", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_taskrun_dir("dev", "f", "e", "t", "", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_taskrun_dir("dev", "f", "e", "***", "tr", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_input_file("dev", "f", "e", "in", "../../x", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_input_file("dev", "f", "e", "in", "a\\b", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_input_file("dev", "f", "e", "..", "x", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_kv("dev", "", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_kv("dev", NULL, out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_kv("dev", "a/b", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_namespace_files("", out, sizeof out), KT_EINVAL);
    const char *full = "kestra:///company/team/my-flow/executions/4Xn2sEq";
    assert_int_equal(kt_suri_execution_root("company.team", "My_Flow", "4Xn2sEq", out, strlen(full)), KT_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(kt_suri_execution_root("company.team", "My_Flow", "4Xn2sEq", out, strlen(full) + 1), KT_OK);
    assert_string_equal(out, full);
}

static void test_from_path(void **s)
{
    (void)s;
    char out[128];
    assert_int_equal(kt_suri_from_path("a/b c/{x}.txt", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///a/b%20c/%7Bx%7D.txt");
    assert_int_equal(kt_suri_from_path("ns/_files/dir/", out, sizeof out), KT_OK);
    assert_string_equal(out, "kestra:///ns/_files/dir/");
    assert_int_equal(kt_suri_from_path("a/../b", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_from_path("/a", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_from_path("", out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_from_path(NULL, out, sizeof out), KT_EINVAL);
    assert_int_equal(kt_suri_from_path("abc", out, 13), KT_EINVAL); /* "kestra:///abc" needs 14 */
    assert_int_equal(kt_suri_from_path("abc", out, 14), KT_OK);
    /* every accepted URI row survives path -> URI -> path */
    for (size_t i = 0; i < sizeof uri_rows / sizeof uri_rows[0]; i++) {
        if (!uri_rows[i].ok)
            continue;
        char uri[512], back[KT_SURI_PATH_MAX + 1], err[256];
        assert_int_equal(kt_suri_from_path(uri_rows[i].want, uri, sizeof uri), KT_OK);
        assert_int_equal(kt_suri_path(uri, back, sizeof back, err, sizeof err), KT_OK);
        assert_string_equal(back, uri_rows[i].want);
    }
}

static void test_under(void **s)
{
    (void)s;
    static const struct {
        const char *path, *prefix;
        int want;
    } rows[] = {
        {"ns/f/executions/e1/tasks/t/tr/out.csv", "ns/f/executions/e1", 1},
        {"ns/f/executions/e1", "ns/f/executions/e1", 1},
        {"ns/f/executions/e1/", "ns/f/executions/e1", 1},
        {"ns/f/executions/e1/x", "ns/f/executions/e1/", 1},
        {"ns/f/executions/e10/x", "ns/f/executions/e1", 0}, /* segment-wise, unlike Kestra's startsWith */
        {"ns/f/executions/e", "ns/f/executions/e1", 0},
        {"ns/f/executions", "ns/f/executions/e1", 0},
        {"ns/g/executions/e1/x", "ns/f/executions/e1", 0},
        {"a/bc", "a/b", 0},
        {"a/b/c", "a/b", 1},
        {"ns/_files/a.py", "ns/_files/", 1},
        {"ns/_filesx/a.py", "ns/_files/", 0},
        {"anything", "", 1},
        {NULL, "a", 0},
        {"a", NULL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (kt_suri_under(rows[i].path, rows[i].prefix) != rows[i].want)
            fail_msg("under('%s', '%s') != %d", rows[i].path ? rows[i].path : "(null)",
                     rows[i].prefix ? rows[i].prefix : "(null)", rows[i].want);
}

/* Expected ids: the regex on a JVM. */
static void test_execution_id(void **s)
{
    (void)s;
    char id[32];
    assert_int_equal(kt_suri_execution_id("ns/f/executions/e1/tasks/t/tr/out.csv", id, sizeof id), 1);
    assert_string_equal(id, "e1");
    assert_int_equal(kt_suri_execution_id("ns/f/EXECUTIONS/E2/x", id, sizeof id), 1); /* case-insensitive */
    assert_string_equal(id, "E2");
    /* greedy: the last "/executions/<id>/" wins */
    assert_int_equal(kt_suri_execution_id("ns/f/executions/e1/executions/e2/x", id, sizeof id), 1);
    assert_string_equal(id, "e2");
    assert_int_equal(kt_suri_execution_id("ns/f/executions/e1/executions/e2", id, sizeof id), 1);
    assert_string_equal(id, "e1");
    assert_int_equal(kt_suri_execution_id("a/executions/executions/x/y", id, sizeof id), 1);
    assert_string_equal(id, "x");
    assert_int_equal(kt_suri_execution_id("ns/f/executions/e1", id, sizeof id), 0); /* no '/' after the id */
    assert_string_equal(id, "");
    assert_int_equal(kt_suri_execution_id("executions/e1/x", id, sizeof id), 0);  /* nothing before */
    assert_int_equal(kt_suri_execution_id("ns/_files/a.py", id, sizeof id), 0);
    assert_int_equal(kt_suri_execution_id("ns/f/executions/0123456789abcdef/x", id, 8), 0); /* does not fit */
    assert_int_equal(kt_suri_execution_id(NULL, id, sizeof id), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_table),     cmocka_unit_test(test_uri_lengths),
        cmocka_unit_test(test_relative_table), cmocka_unit_test(test_slug_table),
        cmocka_unit_test(test_namespace_path), cmocka_unit_test(test_layout),
        cmocka_unit_test(test_from_path),     cmocka_unit_test(test_under),
        cmocka_unit_test(test_execution_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
