/* inputFiles and outputFiles of script tasks through the internal storage (script_files.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "actors/worker/script_files.h"
#include "base/alloc.h"
#include "base/id.h"
#include "base/json.h"
#include "base/limits.h"
#include "store/storage.h"
#include "store/storage_uri.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KT_SFILES_PATH 4096

/* ---- the matcher: Java's PathMatcher ------------------------------------------------------------------ */

typedef struct kt_sfiles_pattern {
    pcre2_code *code;
    int absolute; /* `glob:`/`regex:`: matched against workdir/rel, as written */
} kt_sfiles_pattern;

struct kt_sfiles_matcher {
    kt_sfiles_pattern *p;
    size_t n;
    char workdir[KT_SFILES_PATH];
};

static int kt_sfiles_regex_meta(char c) { return c && strchr(".^$+{[]|()", c) != NULL; }
static int kt_sfiles_glob_meta(char c) { return c && strchr("\\*?[{", c) != NULL; }

/* One `[...]` class starting after the '['; *ip moves past its ']'. Java writes it `[[^/]&&[...]]` (never the name
 * separator); PCRE has no class intersection, so a look-ahead says the same. */
static int kt_sfiles_glob_class(const char *g, size_t *ip, kt_buf *re, char *err, size_t errcap)
{
    size_t i = *ip;
    kt_buf_puts(re, "(?!/)[");
    if (g[i] == '^') { /* a literal '^', not a negation */
        kt_buf_puts(re, "\\^");
        i++;
    } else {
        if (g[i] == '!') {
            kt_buf_putc(re, '^');
            i++;
        }
        if (g[i] == '-') {
            kt_buf_putc(re, '-');
            i++;
        }
    }
    int has_start = 0, closed = 0;
    unsigned char last = 0;
    while (g[i]) {
        char c = g[i++];
        if (c == ']') {
            closed = 1;
            break;
        }
        if (c == '/') {
            snprintf(err, errcap, "Explicit 'name separator' in class near index %zu", i - 1);
            return -1;
        }
        if (c == '\\' || c == '[')
            kt_buf_putc(re, '\\');
        kt_buf_putc(re, c);
        if (c != '-') {
            has_start = 1;
            last = (unsigned char)c;
            continue;
        }
        if (!has_start) {
            snprintf(err, errcap, "Invalid range near index %zu", i - 1);
            return -1;
        }
        c = g[i];
        if (!c)
            break;
        i++;
        if (c == ']') {
            closed = 1;
            break;
        }
        if ((unsigned char)c < last) {
            snprintf(err, errcap, "Invalid range near index %zu", i - 3);
            return -1;
        }
        if (c == '\\' || c == '[')
            kt_buf_putc(re, '\\');
        kt_buf_putc(re, c);
        has_start = 0;
    }
    if (!closed) {
        snprintf(err, errcap, "Missing ']' near index %zu", i ? i - 1 : 0);
        return -1;
    }
    kt_buf_putc(re, ']');
    *ip = i;
    return 0;
}

/* sun.nio.fs.Globs.toRegexPattern (Unix), written as a PCRE2 pattern (anchored at both ends by the match). */
static char *kt_sfiles_glob_regex(const char *g, char *err, size_t errcap)
{
    kt_buf re = {0};
    int in_group = 0;
    size_t i = 0;
    while (g[i]) {
        char c = g[i++];
        switch (c) {
        case '\\':
            if (!g[i]) {
                snprintf(err, errcap, "No character to escape near index %zu", i - 1);
                goto fail;
            }
            c = g[i++];
            if (kt_sfiles_glob_meta(c) || kt_sfiles_regex_meta(c))
                kt_buf_putc(&re, '\\');
            kt_buf_putc(&re, c);
            break;
        case '[':
            if (kt_sfiles_glob_class(g, &i, &re, err, errcap))
                goto fail;
            break;
        case '{':
            if (in_group) {
                snprintf(err, errcap, "Cannot nest groups near index %zu", i - 1);
                goto fail;
            }
            kt_buf_puts(&re, "(?:(?:");
            in_group = 1;
            break;
        case '}':
            kt_buf_puts(&re, in_group ? "))" : "\\}");
            in_group = 0;
            break;
        case ',':
            kt_buf_puts(&re, in_group ? ")|(?:" : ",");
            break;
        case '*':
            if (g[i] == '*') {
                kt_buf_puts(&re, ".*");
                i++;
            } else {
                kt_buf_puts(&re, "[^/]*");
            }
            break;
        case '?':
            kt_buf_puts(&re, "[^/]");
            break;
        default:
            if (kt_sfiles_regex_meta(c))
                kt_buf_putc(&re, '\\');
            kt_buf_putc(&re, c);
        }
    }
    if (in_group) {
        snprintf(err, errcap, "Missing '}' near index %zu", i ? i - 1 : 0);
        goto fail;
    }
    return kt_buf_take(&re);
fail:
    free(kt_buf_take(&re));
    return NULL;
}

static pcre2_code *kt_sfiles_compile(const char *re, const char *pattern, char *err, size_t errcap)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                                  PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
                                  &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errcap, "outputFiles: invalid pattern '%s': %s", pattern, (const char *)msg);
    }
    return c;
}

/* rooted: PathMatcherPredicate.matches(patterns) without a base path (namespace files): a plain pattern starting with
 * a word character gets `**' + '/` in front, and every pattern is matched against "/" + rel (workdir ""). */
static kt_sfiles_matcher *kt_sfiles_matcher_build(const json_t *patterns, const char *workdir, int rooted, char *err,
                                                  size_t errcap)
{
    json_t *list = json_is_string(patterns) ? json_pack("[O]", patterns) : json_incref((json_t *)patterns);
    if (!json_is_array(list)) {
        snprintf(err, errcap, "outputFiles must be a list of strings");
        json_decref(list);
        return NULL;
    }
    kt_sfiles_matcher *m = kt_xcalloc(1, sizeof *m);
    snprintf(m->workdir, sizeof m->workdir, "%s", workdir);
    m->p = kt_xcalloc(json_array_size(list) + 1, sizeof *m->p);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(v);
        if (!s) {
            snprintf(err, errcap, "outputFiles[%zu] must be a string", i);
            goto fail;
        }
        kt_sfiles_pattern *p = &m->p[m->n];
        char *re = NULL;
        if (!strncmp(s, "regex:", 6)) {
            p->absolute = 1;
            re = strdup(s + 6);
        } else if (!strncmp(s, "glob:", 5)) {
            p->absolute = 1;
            re = kt_sfiles_glob_regex(s + 5, err, errcap);
        } else {
            /* Kestra's PathMatcherPredicate: workdir + '/' + the glob, its backslashes turned to '/'; matching
             * the glob alone against the relative path is the same test. */
            char *g = NULL;
            if (rooted) { /* mayAddRecursiveMatch: `\\w+[\\s\\S]*` */
                p->absolute = 1;
                int word = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9') ||
                           s[0] == '_';
                if (asprintf(&g, "%s%s", word ? "**/" : "", s) < 0)
                    g = NULL;
            } else {
                g = strdup(s[0] == '/' ? s + 1 : s);
            }
            for (char *c = g; c && *c; c++)
                if (*c == '\\')
                    *c = '/';
            re = g ? kt_sfiles_glob_regex(g, err, errcap) : NULL;
            free(g);
        }
        if (!re) {
            if (!strncmp(err, "outputFiles", 11))
                goto fail;
            char why[256];
            snprintf(why, sizeof why, "%s", err);
            snprintf(err, errcap, "outputFiles: invalid glob '%s': %s", s, why);
            goto fail;
        }
        p->code = kt_sfiles_compile(re, s, err, errcap);
        free(re);
        if (!p->code)
            goto fail;
        m->n++;
    }
    json_decref(list);
    return m;
fail:
    json_decref(list);
    kt_sfiles_matcher_free(m);
    return NULL;
}

kt_sfiles_matcher *kt_sfiles_matcher_new(const json_t *patterns, const char *workdir, char *err, size_t errcap)
{
    return kt_sfiles_matcher_build(patterns, workdir, 0, err, errcap);
}

kt_sfiles_matcher *kt_sfiles_matcher_new_rooted(const json_t *patterns, char *err, size_t errcap)
{
    return kt_sfiles_matcher_build(patterns, "", 1, err, errcap);
}

int kt_sfiles_matcher_test(const kt_sfiles_matcher *m, const char *rel)
{
    char abs[2 * KT_SFILES_PATH + 2];
    snprintf(abs, sizeof abs, "%s/%s", m->workdir, rel);
    for (size_t i = 0; i < m->n; i++) {
        const char *s = m->p[i].absolute ? abs : rel;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->p[i].code, NULL);
        if (!md)
            return 0;
        int rc = pcre2_match(m->p[i].code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc >= 0)
            return 1;
    }
    return 0;
}

void kt_sfiles_matcher_free(kt_sfiles_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        pcre2_code_free(m->p[i].code);
    free(m->p);
    free(m);
}

/* ---- one transfer phase ----------------------------------------------------------------------------- */

/* inputs: src[i] is a kestra:// URI, dst[i] the local path. outputs: src[i] the relative path, dst[i] the URI. */
struct kt_sfiles_op {
    kt_task_run *r;
    kt_storage_copy *copy; /* the transfer under way, NULL between two */
    atomic_int cancelled;  /* read by the walk on the pool */
    kt_storage *storage;
    kt_sfiles_done_fn done;
    void *data;
    char **src, **dst;
    size_t n, cap, next;
    json_t *files;
    kt_sfiles_matcher *m;
    uv_work_t work;
    char walk_err[512];
    char workdir[KT_SFILES_PATH];
    char dir[KT_SURI_PATH_MAX + 1]; /* outputs: the task run folder, a checked path */
};

static void kt_sfiles_add(kt_sfiles_op *op, const char *src, const char *dst)
{
    if (op->n == op->cap) {
        op->cap = op->cap ? op->cap * 2 : 8;
        op->src = kt_xrealloc(op->src, op->cap * sizeof *op->src);
        op->dst = kt_xrealloc(op->dst, op->cap * sizeof *op->dst);
    }
    op->src[op->n] = kt_xstrdup(src);
    op->dst[op->n] = dst ? kt_xstrdup(dst) : NULL;
    op->n++;
}

static void kt_sfiles_op_free(kt_sfiles_op *op)
{
    for (size_t i = 0; i < op->n; i++) {
        free(op->src[i]);
        free(op->dst[i]);
    }
    free(op->src);
    free(op->dst);
    json_decref(op->files);
    kt_sfiles_matcher_free(op->m);
    free(op);
}

static kt_sfiles_op *kt_sfiles_op_new(kt_task_run *r, const char *workdir, kt_sfiles_done_fn done, void *data)
{
    kt_sfiles_op *op = kt_xcalloc(1, sizeof *op);
    atomic_init(&op->cancelled, 0);
    op->r = r;
    op->storage = kt_task_storage(r);
    op->done = done;
    op->data = data;
    snprintf(op->workdir, sizeof op->workdir, "%s", workdir);
    return op;
}

void kt_sfiles_cancel(kt_sfiles_op *op)
{
    if (!op || atomic_exchange(&op->cancelled, 1))
        return;
    kt_storage_copy_cancel(op->copy); /* its callback ends the phase; a walk ends it from its after-work */
}

/* Ends the phase: done once, then the op is gone. */
static void kt_sfiles_finish(kt_sfiles_op *op, int ok)
{
    if (atomic_load(&op->cancelled))
        ok = 0;
    json_t *files = ok ? op->files : NULL;
    if (ok)
        op->files = NULL;
    kt_sfiles_done_fn done = op->done;
    void *data = op->data;
    kt_sfiles_op_free(op);
    done(data, ok, files);
}

int kt_sfiles_wants_outputs(kt_task_run *r)
{
    json_t *out = json_object_get(kt_task_props(r), "outputFiles");
    return out && !json_is_null(out) && !(json_is_array(out) && json_array_size(out) == 0);
}

int kt_sfiles_needs_storage(kt_task_run *r)
{
    if (kt_sfiles_wants_outputs(r))
        return 1;
    const json_t *in = json_object_get(kt_task_props(r), "inputFiles");
    json_t *parsed = json_is_string(in) ? json_loads(json_string_value(in), 0, NULL) : NULL;
    if (parsed) /* a JSON map in a string (a bad one is refused with its reason later) */
        in = parsed;
    int needs = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v) if (json_is_string(v) && !strncmp(json_string_value(v), "kestra://", 9))
        needs = 1;
    json_decref(parsed);
    return needs;
}

/* ---- inputFiles ------------------------------------------------------------------------------------- */

static int kt_sfiles_input_next(kt_sfiles_op *op);

static void kt_sfiles_on_get(kt_status st, const char *err, void *data)
{
    kt_sfiles_op *op = data;
    op->copy = NULL;
    if (atomic_load(&op->cancelled)) {
        kt_sfiles_finish(op, 0);
        return;
    }
    if (st) {
        kt_task_logf(op->r, "ERROR", "inputFiles: cannot fetch '%s': %s", op->src[op->next - 1], err);
        kt_sfiles_finish(op, 0);
        return;
    }
    if (op->next == op->n) {
        kt_sfiles_finish(op, 1);
        return;
    }
    if (kt_sfiles_input_next(op))
        kt_sfiles_finish(op, 0);
}

/* Starts the next download; -1 when it could not start (logged). */
static int kt_sfiles_input_next(kt_sfiles_op *op)
{
    char err[512];
    size_t i = op->next++;
    if (kt_storage_get_file_c(op->storage, op->src[i], op->dst[i], kt_sfiles_on_get, op, &op->copy, err,
                              sizeof err)) {
        kt_task_logf(op->r, "ERROR", "inputFiles: cannot fetch '%s': %s", op->src[i], err);
        return -1;
    }
    return 0;
}

/* Makes the parent folders of workdir/rel. */
static int kt_sfiles_mkdirs(const char *workdir, const char *rel, char *path, size_t cap)
{
    if ((size_t)snprintf(path, cap, "%s/%s", workdir, rel) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = path + strlen(workdir) + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = 0;
        int rc = mkdir(path, 0755);
        *c = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int kt_sfiles_write_text(const char *path, const json_t *content)
{
    char *text = json_is_string(content) ? NULL : json_dumps(content, JSON_ENCODE_ANY);
    const char *data = text ? text : json_string_value(content);
    size_t len = text ? strlen(text) : json_string_length(content);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f))
        rc = -1;
    free(text);
    return rc;
}

int kt_sfiles_inputs(kt_task_run *r, const char *workdir, kt_sfiles_done_fn done, void *data, kt_sfiles_op **out)
{
    return kt_sfiles_inputs_of(r, json_object_get(kt_task_props(r), "inputFiles"), workdir, done, data, out);
}

int kt_sfiles_inputs_of(kt_task_run *r, const json_t *files, const char *workdir, kt_sfiles_done_fn done, void *data,
                        kt_sfiles_op **out)
{
    json_t *parsed = NULL;
    if (!files || json_is_null(files))
        return 1;
    if (json_is_string(files)) { /* a string rendering to a JSON map (PluginUtilsService.transformInputFiles) */
        json_error_t je;
        parsed = json_loads(json_string_value(files), 0, &je);
        if (!json_is_object(parsed)) {
            kt_task_logf(r, "ERROR", "inputFiles: the string is not a JSON object: %s",
                         parsed ? "another JSON value" : je.text);
            json_decref(parsed);
            return -1;
        }
        files = parsed;
    }
    if (!json_is_object(files)) {
        kt_task_logf(r, "ERROR", "Invalid `files` properties with type '%s'", json_is_array(files) ? "list" : "value");
        return -1;
    }
    kt_sfiles_op *op = kt_sfiles_op_new(r, workdir, done, data);
    const char *name;
    json_t *content;
    char rel[KT_SURI_PATH_MAX + 1], path[2 * KT_SFILES_PATH], err[512];
    json_object_foreach((json_t *)files, name, content) {
        if (json_is_null(content))
            continue;
        err[0] = 0;
        if (kt_suri_relative(name, rel, sizeof rel, err, sizeof err) || !rel[0] || rel[strlen(rel) - 1] == '/') {
            kt_task_logf(r, "ERROR", "inputFiles: '%s' is not a relative file path inside the working directory%s%s",
                         name, err[0] ? ": " : "", err[0] ? err : "");
            goto fail;
        }
        if (kt_sfiles_mkdirs(workdir, rel, path, sizeof path)) {
            kt_task_logf(r, "ERROR", "inputFiles: cannot create the folders of %s: %s", name, strerror(errno));
            goto fail;
        }
        const char *s = json_string_value(content);
        if (s && !strncmp(s, "kestra://", 9)) {
            if (!op->storage) {
                kt_task_logf(r, "ERROR", "inputFiles: '%s' is a kestra:// URI but this worker has no internal storage",
                             name);
                goto fail;
            }
            kt_sfiles_add(op, s, path);
            continue;
        }
        if (kt_sfiles_write_text(path, content)) {
            kt_task_logf(r, "ERROR", "inputFiles: cannot write %s: %s", name, strerror(errno));
            goto fail;
        }
    }
    json_decref(parsed);
    if (!op->n) {
        kt_sfiles_op_free(op);
        return 1;
    }
    if (kt_sfiles_input_next(op)) {
        kt_sfiles_op_free(op);
        return -1;
    }
    *out = op;
    return 0;
fail:
    json_decref(parsed);
    kt_sfiles_op_free(op);
    return -1;
}

/* ---- outputFiles ------------------------------------------------------------------------------------ */

/* The regular files under the open folder dfd (taken over: closed here), whose path is workdir/<rel> in path (base:
 * the length of workdir + '/'). Each sub-folder is opened relative to its parent with O_NOFOLLOW, never by its full
 * path: a folder the script (or a child it left running) swaps for a symlink mid-walk is refused by the kernel
 * (ELOOP/ENOTDIR) and skipped, so the walk never leaves workdir. Runs on the pool. -1 with walk_err set. */
static int kt_sfiles_walk(kt_sfiles_op *op, int dfd, char *path, size_t base)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        snprintf(op->walk_err, sizeof op->walk_err, "cannot read %s: %s", path, strerror(errno));
        close(dfd);
        return -1;
    }
    size_t len = strlen(path);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && !atomic_load(&op->cancelled) && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (len + 1 + strlen(e->d_name) >= KT_SFILES_PATH) {
            snprintf(op->walk_err, sizeof op->walk_err, "path too long under %s", path);
            rc = -1;
            break;
        }
        path[len] = '/';
        strcpy(path + len + 1, e->d_name);
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
            if (errno != ENOENT) { /* ENOENT: removed since readdir, nothing to upload */
                snprintf(op->walk_err, sizeof op->walk_err, "cannot read %s: %s", path, strerror(errno));
                rc = -1;
            }
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                rc = kt_sfiles_walk(op, sub, path, base);
            } else if (errno != ELOOP && errno != ENOTDIR && errno != ENOENT) { /* else swapped or gone: skipped */
                snprintf(op->walk_err, sizeof op->walk_err, "cannot read %s: %s", path, strerror(errno));
                rc = -1;
            }
        } else if (S_ISREG(st.st_mode) && kt_sfiles_matcher_test(op->m, path + base)) {
            if (op->n >= KT_SCRIPT_MAX_OUTPUT_FILES) {
                snprintf(op->walk_err, sizeof op->walk_err, "more than %d files match", KT_SCRIPT_MAX_OUTPUT_FILES);
                rc = -1;
            } else {
                kt_sfiles_add(op, path + base, NULL);
            }
        }
        path[len] = 0;
    }
    closedir(d);
    return rc;
}

static void kt_sfiles_walk_work(uv_work_t *w)
{
    kt_sfiles_op *op = w->data;
    int dfd = open(op->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(op->walk_err, sizeof op->walk_err, "cannot read %.300s: %s", op->workdir, strerror(errno));
        return;
    }
    char *path = kt_xmalloc(KT_SFILES_PATH);
    snprintf(path, KT_SFILES_PATH, "%s", op->workdir);
    kt_sfiles_walk(op, dfd, path, strlen(op->workdir) + 1);
    free(path);
}

static int kt_sfiles_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int kt_sfiles_output_next(kt_sfiles_op *op);

static void kt_sfiles_on_put(kt_status st, const char *err, void *data)
{
    kt_sfiles_op *op = data;
    size_t i = op->next - 1;
    op->copy = NULL;
    if (atomic_load(&op->cancelled)) {
        kt_sfiles_finish(op, 0);
        return;
    }
    if (st) {
        kt_task_logf(op->r, "ERROR", "outputFiles: cannot upload '%s': %s", op->src[i], err);
        kt_sfiles_finish(op, 0);
        return;
    }
    json_object_set_new(op->files, op->src[i], json_string(op->dst[i]));
    if (op->next == op->n) {
        kt_sfiles_finish(op, 1);
        return;
    }
    if (kt_sfiles_output_next(op))
        kt_sfiles_finish(op, 0);
}

/* Uploads the next match to <task run folder>/<id>-<file name>; -1 when it could not start (logged). */
static int kt_sfiles_output_next(kt_sfiles_op *op)
{
    size_t i = op->next++;
    const char *rel = op->src[i];
    const char *slash = strrchr(rel, '/');
    char id[KT_ID_LEN + 1], name[KT_SURI_NAME_MAX + 64], checked[KT_SURI_PATH_MAX + 1];
    char path[sizeof op->dir + sizeof name + 1];
    char uri[3 * KT_SURI_PATH_MAX + 16], local[2 * KT_SFILES_PATH], err[512] = "";
    kt_id_new(id);
    snprintf(name, sizeof name, "%s-%s", id, slash ? slash + 1 : rel);
    snprintf(path, sizeof path, "%s/%s", op->dir, name);
    json_t *key = json_string(rel); /* NULL when the name is not UTF-8: no key of the outputs map */
    int bad = !key || strlen(name) > KT_SURI_NAME_MAX ||
              kt_suri_relative(path, checked, sizeof checked, err, sizeof err) ||
              kt_suri_from_path(checked, uri, sizeof uri);
    json_decref(key);
    if (bad) {
        kt_task_logf(op->r, "ERROR", "outputFiles: '%s' cannot be stored under that name%s%s", rel,
                     err[0] ? ": " : "", err);
        return -1;
    }
    op->dst[i] = kt_xstrdup(uri);
    snprintf(local, sizeof local, "%s/%s", op->workdir, rel);
    if (kt_storage_put_file_c(op->storage, uri, local, NULL, kt_sfiles_on_put, op, &op->copy, err, sizeof err)) {
        kt_task_logf(op->r, "ERROR", "outputFiles: cannot upload '%s': %s", rel, err);
        return -1;
    }
    return 0;
}

static void kt_sfiles_walk_done(uv_work_t *w, int status)
{
    kt_sfiles_op *op = w->data;
    if (atomic_load(&op->cancelled)) {
        kt_sfiles_finish(op, 0);
        return;
    }
    if (status || op->walk_err[0]) {
        kt_task_logf(op->r, "ERROR", "outputFiles: %s", status ? uv_strerror(status) : op->walk_err);
        kt_sfiles_finish(op, 0);
        return;
    }
    op->files = json_object();
    if (!op->n) { /* a glob matching nothing is no error (FilesService.outputFiles) */
        kt_sfiles_finish(op, 1);
        return;
    }
    /* the walk filled src only; sort both columns together (dst is all NULL yet) for a stable order */
    qsort(op->src, op->n, sizeof *op->src, kt_sfiles_cmp);
    if (kt_sfiles_output_next(op))
        kt_sfiles_finish(op, 0);
}

int kt_sfiles_outputs(kt_task_run *r, const char *workdir, kt_sfiles_done_fn done, void *data, kt_sfiles_op **out)
{
    return kt_sfiles_outputs_of(r, json_object_get(kt_task_props(r), "outputFiles"), workdir, done, data, out);
}

int kt_sfiles_outputs_of(kt_task_run *r, const json_t *patterns, const char *workdir, kt_sfiles_done_fn done,
                         void *data, kt_sfiles_op **out)
{
    const json_t *info = kt_task_run_info(r);
    char err[512] = "", dir[3 * KT_SURI_PATH_MAX + 16];
    if (!kt_task_storage(r)) {
        kt_task_logf(r, "ERROR", "outputFiles: this worker has no internal storage to upload to");
        return -1;
    }
    kt_sfiles_op *op = kt_sfiles_op_new(r, workdir, done, data);
    op->m = kt_sfiles_matcher_new(patterns, workdir, err, sizeof err);
    if (!op->m) {
        kt_task_logf(r, "ERROR", "%s", err);
        goto fail;
    }
#define KT_INFO(k) json_string_value(json_object_get(info, k))
    if (kt_suri_taskrun_dir(KT_INFO("namespace"), KT_INFO("flowId"), KT_INFO("executionId"), KT_INFO("taskId"),
                            KT_INFO("taskRunId"), dir, sizeof dir) ||
        kt_suri_path(dir, op->dir, sizeof op->dir, err, sizeof err)) {
#undef KT_INFO
        kt_task_logf(r, "ERROR", "outputFiles: no storage folder for this task run%s%s", err[0] ? ": " : "", err);
        goto fail;
    }
    op->work.data = op;
    int rc = uv_queue_work(kt_task_loop(r), &op->work, kt_sfiles_walk_work, kt_sfiles_walk_done);
    if (rc) {
        kt_task_logf(r, "ERROR", "outputFiles: %s", uv_strerror(rc));
        goto fail;
    }
    *out = op;
    return 0;
fail:
    kt_sfiles_op_free(op);
    return -1;
}
