/* Script tasks with the Process runner (KESTRA-model.md §7): io.kestra.plugin.scripts.shell, .python and .node
 * Commands and Script. The commands run through the interpreter (default /bin/sh -c) in a private working directory;
 * stdout lines become INFO logs, stderr lines ERROR logs, `::{"outputs":…}::` lines fill outputs.vars
 * (`metrics` in them become task metrics).
 * An attempt goes through phases: inputFiles fetched from the storage (script_files.c), the process, then its
 * outputFiles uploaded; the attempt's result waits for the uploads. */
#include "actors/worker/ns_files.h"
#include "actors/worker/pydeps.h"
#include "actors/worker/script_files.h"
#include "actors/worker/task.h"
#include "base/alloc.h"
#include "base/limits.h"
#include "base/secrets.h"
#include "time/duration.h"

#include <errno.h>
#include <stddef.h>
#include <ftw.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

typedef struct kt_stream {
    uv_pipe_t pipe;
    char *buf;
    size_t len, cap;
    int is_err;
} kt_stream;

typedef enum kt_proc_phase { KT_PROC_FETCHING, KT_PROC_RUNNING, KT_PROC_UPLOADING } kt_proc_phase;

typedef struct kt_proc {
    kt_task_run *r;
    kt_proc_phase phase;
    uv_process_t proc;
    kt_stream out, err;
    int open_handles;
    int exited;
    int64_t exit_status;
    int term_signal;
    int killed;
    size_t stderr_lines;
    json_t *vars;
    char *before; /* python.Script, node.Script: set -e and beforeCommands, run before the script file */
    char *script; /* the joined commands (or the python / node script), until the process starts */
    const char *script_lang; /* "python" or "node" for their Script tasks, NULL for commands */
    kt_sfiles_op *files; /* the inputFiles or outputFiles transfer under way, NULL otherwise */
    kt_nsfiles_op *ns;   /* the namespaceFiles fetch under way, NULL otherwise */
    int shared;          /* workdir is a WorkingDirectory's: used, never made nor removed here */
    const char *state; /* the end state the process gave, while its outputFiles upload */
    json_t *outputs;
    char workdir[1100];
} kt_proc;

/* ---- output lines -------------------------------------------------------------------------------- */

/* `::{"metrics":[{name, type: counter|timer, value, tags}]}::` (Kestra's AbstractLogConsumer): each one a task metric
 * of the run (a counter's value a number, a timer's a duration: ISO-8601 text or a number of seconds); a malformed
 * one says why at WARN. */
static void kt_proc_metrics(kt_proc *p, const json_t *metrics)
{
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *type = json_string_value(json_object_get(m, "type"));
        const json_t *value = json_object_get(m, "value"), *tags = json_object_get(m, "tags");
        int64_t us = 0;
        int counter = type && !strcmp(type, "counter"), timer = type && !strcmp(type, "timer");
        if (!name || !(counter || timer) || (counter && !json_is_number(value)) ||
            (timer && kt_duration_from_json(value, &us))) {
            kt_task_logf(p->r, "WARN", "Invalid metric #%zu: needs a name, a type (counter or timer) and a value (a "
                         "number, a duration for a timer)", i);
            continue;
        }
        if (counter)
            kt_task_counter(p->r, name, json_number_value(value), json_is_object(tags) ? tags : NULL);
        else
            kt_task_timer(p->r, name, us, json_is_object(tags) ? tags : NULL);
    }
    if (metrics && !json_is_array(metrics))
        kt_task_logf(p->r, "WARN", "Invalid metrics: not a list");
}

static void kt_proc_protocol(kt_proc *p, const char *json, size_t len)
{
    json_error_t e;
    json_t *doc = json_loadb(json, len, 0, &e);
    if (!doc || !json_is_object(doc)) {
        kt_task_logf(p->r, "WARN", "Invalid outputs '%s'", doc ? "not an object" : e.text);
        json_decref(doc);
        return;
    }
    json_t *outputs = json_object_get(doc, "outputs");
    if (json_is_object(outputs))
        json_object_update(p->vars, outputs);
    kt_proc_metrics(p, json_object_get(doc, "metrics"));
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(doc, "logs"), i, l) {
        const char *level = json_string_value(json_object_get(l, "level"));
        const char *msg = json_string_value(json_object_get(l, "message"));
        if (msg)
            kt_task_log(p->r, level ? level : "INFO", msg, strlen(msg));
    }
    json_decref(doc);
}

static void kt_proc_line(kt_proc *p, kt_stream *s, const char *line, size_t len)
{
    if (s->is_err)
        p->stderr_lines++;
    /* The whole line must be ::{...}::, nothing around it (PluginUtilsService.parseOut). */
    if (len >= 6 && !memcmp(line, "::{", 3) && !memcmp(line + len - 3, "}::", 3)) {
        kt_proc_protocol(p, line + 2, len - 4);
        return;
    }
    kt_task_log(p->r, s->is_err ? "ERROR" : "INFO", line, len);
}

/* A line longer than KT_LINE_MAX is logged in pieces, each masked on its own (kt_task_log). So that no secret is cut
 * in two (each half would show, matching nothing), the buffer holds the longest secret's length - 1 bytes past the
 * limit before it splits, and the split moves back to the start of any secret crossing it (kt_mask_split): that
 * secret begins the next piece whole. */
static void kt_proc_feed(kt_proc *p, kt_stream *s, const char *data, size_t n)
{
    const json_t *secrets = kt_task_secrets(p->r);
    size_t longest = kt_mask_longest(secrets), keep = longest ? longest - 1 : 0;
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            size_t l = s->len;
            if (l && s->buf[l - 1] == '\r')
                l--;
            kt_proc_line(p, s, s->buf ? s->buf : "", l);
            s->len = 0;
            continue;
        }
        if (s->len >= KT_LINE_MAX + keep) {
            size_t cut = keep ? kt_mask_split(s->buf, s->len, KT_LINE_MAX, secrets) : s->len;
            kt_proc_line(p, s, s->buf, cut);
            memmove(s->buf, s->buf + cut, s->len - cut);
            s->len -= cut;
        }
        if (s->len == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 256;
            s->buf = kt_xrealloc(s->buf, s->cap);
        }
        s->buf[s->len++] = c;
    }
}

/* ---- completion ---------------------------------------------------------------------------------- */

static int kt_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* The end of an attempt while its working directory is removed on the pool: a script may leave a deep tree or
 * gigabytes there, and the loop serves every other run meanwhile. */
typedef struct kt_proc_rm {
    uv_work_t work;
    kt_task_run *r;
    const char *state;
    json_t *outputs;
    char workdir[1100];
} kt_proc_rm;

static void kt_proc_rm_work(uv_work_t *w)
{
    kt_proc_rm *rm = w->data;
    nftw(rm->workdir, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The result goes out only once the directory is gone: the run keeps its slot (and its place in the worker's map)
 * until its disk is freed, so a busy worker never piles up removals behind new attempts, and whoever sees the
 * result may count on the folder being gone. The worker's stop waits too: the queued work keeps the loop alive,
 * and the run finishes from here (a kill meanwhile finds no process state and does nothing). */
static void kt_proc_rm_done(uv_work_t *w, int status)
{
    (void)status; /* never cancelled */
    kt_proc_rm *rm = w->data;
    kt_task_finish(rm->r, rm->state, rm->outputs);
    free(rm);
}

/* Frees the attempt's process state and ends it, once its working directory is removed. */
static void kt_proc_end(kt_proc *p, const char *state, json_t *outputs)
{
    kt_task_run *r = p->r;
    kt_proc_rm *rm = NULL;
    if (p->workdir[0] && !p->shared) {
        rm = kt_xcalloc(1, sizeof *rm);
        rm->r = r;
        rm->state = state;
        rm->outputs = outputs;
        rm->work.data = rm;
        snprintf(rm->workdir, sizeof rm->workdir, "%s", p->workdir);
    }
    json_decref(p->vars);
    json_decref(p->outputs);
    free(p->before);
    free(p->script);
    free(p->out.buf);
    free(p->err.buf);
    free(p);
    kt_task_set_data(r, NULL);
    if (rm && uv_queue_work(kt_task_loop(r), &rm->work, kt_proc_rm_work, kt_proc_rm_done) == 0)
        return;
    if (rm) { /* cannot fail with valid arguments; remove it here rather than leave it */
        kt_proc_rm_work(&rm->work);
        free(rm);
    }
    kt_task_finish(r, state, outputs);
}

/* The uploads are over: outputs.outputFiles is their map (ScriptOutput shows it on a failed exit too). */
static void kt_proc_uploaded(void *data, int ok, json_t *files)
{
    kt_proc *p = data;
    p->files = NULL;
    json_t *outputs = p->outputs;
    p->outputs = NULL;
    const char *state = p->killed ? KT_S(KILLED) : ok ? p->state : KT_S(FAILED);
    if (files)
        json_object_set_new(outputs, "outputFiles", files);
    kt_proc_end(p, state, outputs);
}

static void kt_proc_done(kt_proc *p)
{
    kt_task_run *r = p->r;
    /* ScriptOutput: outputFiles is never null, so Kestra always shows it ({} without outputFiles) */
    json_t *outputs = json_pack("{s:O, s:I, s:{}}", "vars", p->vars, "exitCode", (json_int_t)p->exit_status,
                                "outputFiles");
    const char *state = KT_S(SUCCESS);
    if (p->killed) {
        state = KT_S(KILLED);
    } else if (p->exit_status != 0 || p->term_signal) {
        if (p->term_signal)
            kt_task_logf(r, "ERROR", "Command failed with signal %d", p->term_signal);
        else
            kt_task_logf(r, "ERROR", "Command failed with exit code %lld", (long long)p->exit_status);
        state = KT_S(FAILED);
    } else if (p->stderr_lines > 0) {
        json_t *w = json_object_get(kt_task_props(r), "warningOnStdErr");
        if (!json_is_false(w))
            state = KT_S(WARNING);
    }
    /* CommandsWrapper collects outputFiles after a failed exit too; a killed process gives none */
    if (!p->killed && kt_sfiles_wants_outputs(r)) {
        p->phase = KT_PROC_UPLOADING;
        p->state = state;
        p->outputs = outputs;
        if (kt_sfiles_outputs(r, p->workdir, kt_proc_uploaded, p, &p->files) == 0)
            return;
        p->outputs = NULL;
        state = KT_S(FAILED);
    }
    kt_proc_end(p, state, outputs);
}

static void kt_proc_on_close(uv_handle_t *h)
{
    kt_proc *p = h->data;
    if (--p->open_handles == 0)
        kt_proc_done(p);
}

static void kt_proc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    static char scratch[65536]; /* one loop thread: reads are consumed before the next alloc */
    (void)suggested;
    buf->base = scratch;
    buf->len = sizeof scratch;
}

static void kt_proc_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    kt_stream *s = st->data;
    kt_proc *p = (kt_proc *)((char *)s - (s->is_err ? offsetof(kt_proc, err) : offsetof(kt_proc, out)));
    if (n > 0) {
        kt_proc_feed(p, s, buf->base, (size_t)n);
        return;
    }
    if (n == 0)
        return;
    /* EOF or error: the last line may lack its newline. */
    if (s->len) {
        kt_proc_line(p, s, s->buf, s->len);
        s->len = 0;
    }
    uv_read_stop(st);
    st->data = p;
    uv_close((uv_handle_t *)st, kt_proc_on_close);
}

static void kt_proc_on_exit(uv_process_t *proc, int64_t status, int sig)
{
    kt_proc *p = proc->data;
    p->exited = 1;
    p->exit_status = status;
    p->term_signal = sig;
    uv_close((uv_handle_t *)proc, kt_proc_on_close);
}

/* ---- start --------------------------------------------------------------------------------------- */

static int kt_append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 2 > *cap) {
        *cap = (*len + n + 2) * 2;
        *buf = kt_xrealloc(*buf, *cap);
    }
    if (*len)
        (*buf)[(*len)++] = '\n';
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

/* set -e (failFast), beforeCommands, then commands (or script), joined with newlines. */
static char *kt_proc_script(kt_task_run *r, const char *main_prop, char *err, size_t errcap)
{
    const json_t *props = kt_task_props(r);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!json_is_false(json_object_get(props, "failFast")))
        kt_append(&buf, &len, &cap, "set -e");
    const char *lists[2] = {"beforeCommands", main_prop};
    for (int k = 0; k < 2 && lists[k]; k++) {
        json_t *v = json_object_get(props, lists[k]);
        if (json_is_string(v)) {
            kt_append(&buf, &len, &cap, json_string_value(v));
            continue;
        }
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            if (!json_is_string(c)) {
                snprintf(err, errcap, "%s[%zu] must be a string", lists[k], i);
                free(buf);
                return NULL;
            }
            kt_append(&buf, &len, &cap, json_string_value(c));
        }
    }
    if (!buf)
        buf = strdup("");
    return buf;
}

static char **kt_proc_env(kt_task_run *r, const char *workdir)
{
    size_t n = 0;
    while (environ[n])
        n++;
    json_t *env = json_object_get(kt_task_props(r), "env");
    char **out = calloc(n + json_object_size(env) + 6, sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        out[k++] = strdup(environ[i]);
    const char *key;
    json_t *v;
    json_object_foreach(env, key, v) {
        char *s = NULL;
        if (json_is_string(v)) {
            if (asprintf(&s, "%s=%s", key, json_string_value(v)) < 0)
                s = NULL;
        } else {
            char *d = json_dumps(v, JSON_ENCODE_ANY);
            if (d && asprintf(&s, "%s=%s", key, d) < 0)
                s = NULL;
            free(d);
        }
        if (s)
            out[k++] = s;
    }
    if (asprintf(&out[k], "WORKING_DIR=%s", workdir) >= 0)
        k++;
    const char *type = kt_task_prop_string(r, "type");
    if (type && strstr(type, ".python.")) { /* what Kestra's python tasks add */
        static const char *const py[] = {"PYTHONUNBUFFERED=true", "PIP_ROOT_USER_ACTION=ignore",
                                         "PIP_DISABLE_PIP_VERSION_CHECK=1"};
        for (size_t i = 0; i < 3; i++)
            out[k++] = strdup(py[i]);
    }
    out[k] = NULL;
    return out;
}

static void kt_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* `python` as Kestra runs it, or python3 where only that exists (Debian). */
static const char *kt_python_binary(void)
{
    static const char *found;
    if (found)
        return found;
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        char cand[4200];
        snprintf(cand, sizeof cand, "%s/python", dir);
        if (access(cand, X_OK) == 0)
            return found = "python";
    }
    return found = "python3";
}

int kt_task_runner_available(const char *runner_type)
{
    return !strcmp(runner_type, "io.kestra.plugin.core.runner.Process");
}

/* Writes python.Script's or node.Script's file and starts the process (the inputs are in place); a failure ends the
 * attempt. */
static void kt_proc_spawn(kt_proc *p)
{
    kt_task_run *r = p->r;
    const json_t *props = kt_task_props(r);
    p->phase = KT_PROC_RUNNING;
    char *script = p->script;
    p->script = NULL;
    if (p->script_lang) {
        /* python.Script, node.Script: the script goes to a file the commands run (CommandsWrapper) */
        int node = !strcmp(p->script_lang, "node");
        char path[1200];
        snprintf(path, sizeof path, "%s/script.%s", p->workdir, node ? "js" : "py");
        FILE *f = fopen(path, "wb");
        if (!f || fputs(script, f) < 0) {
            kt_task_logf(r, "ERROR", "cannot write %s: %s", path, strerror(errno));
            if (f)
                fclose(f);
            goto fail;
        }
        fclose(f);
        free(script);
        if (asprintf(&script, "%s%s %s", p->before ? p->before : "", node ? "node" : kt_python_binary(), path) < 0)
            script = NULL;
        if (!script)
            goto fail;
    }
    /* interpreter + the joined script as its last argument */
    json_t *interp = json_object_get(props, "interpreter");
    size_t ni = json_is_array(interp) && json_array_size(interp) ? json_array_size(interp) : 2;
    char **argv = calloc(ni + 2, sizeof *argv);
    if (!argv)
        goto fail;
    if (json_is_array(interp) && json_array_size(interp)) {
        for (size_t i = 0; i < ni; i++) {
            const char *a = json_string_value(json_array_get(interp, i));
            argv[i] = strdup(a ? a : "");
        }
    } else {
        argv[0] = strdup("/bin/sh");
        argv[1] = strdup("-c");
    }
    argv[ni] = script;
    script = NULL;
    char **env = kt_proc_env(r, p->workdir);
    uv_loop_t *loop = kt_task_loop(r);
    uv_pipe_init(loop, &p->out.pipe, 0);
    uv_pipe_init(loop, &p->err.pipe, 0);
    p->out.pipe.data = &p->out;
    p->err.pipe.data = &p->err;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out.pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err.pipe},
    };
    uv_process_options_t opt = {.exit_cb = kt_proc_on_exit, .file = argv[0], .args = argv, .env = env,
                                .cwd = p->workdir, .stdio_count = 3, .stdio = stdio,
                                /* its own process group, so a kill reaches the commands' children too */
                                .flags = UV_PROCESS_DETACHED};
    p->proc.data = p;
    int rc = uv_spawn(loop, &p->proc, &opt);
    kt_strv_free(argv);
    kt_strv_free(env);
    p->open_handles = 3;
    if (rc) {
        kt_task_logf(r, "ERROR", "cannot start '%s': %s", opt.file ? opt.file : "?", uv_strerror(rc));
        p->exit_status = 127;
        p->exited = 1;
        uv_close((uv_handle_t *)&p->proc, kt_proc_on_close); /* uv_spawn initialised it even on failure */
        p->out.pipe.data = p;
        p->err.pipe.data = p;
        uv_close((uv_handle_t *)&p->out.pipe, kt_proc_on_close);
        uv_close((uv_handle_t *)&p->err.pipe, kt_proc_on_close);
        return;
    }
    uv_read_start((uv_stream_t *)&p->out.pipe, kt_proc_alloc, kt_proc_on_read);
    uv_read_start((uv_stream_t *)&p->err.pipe, kt_proc_alloc, kt_proc_on_read);
    return;
fail:
    free(script);
    kt_proc_end(p, KT_S(FAILED), NULL);
}

/* The kestra:// inputFiles are fetched (or could not be). */
static void kt_proc_fetched(void *data, int ok, json_t *files)
{
    kt_proc *p = data;
    p->files = NULL;
    json_decref(files);
    if (!ok || p->killed)
        kt_proc_end(p, p->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_proc_spawn(p);
}

/* inputFiles, once the namespace files are in place. */
static void kt_proc_inputs(kt_proc *p)
{
    int rc = kt_sfiles_inputs(p->r, p->workdir, kt_proc_fetched, p, &p->files);
    if (rc < 0)
        kt_proc_end(p, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_proc_spawn(p);
}

static void kt_proc_ns_fetched(void *data, int ok, json_t *files)
{
    kt_proc *p = data;
    p->ns = NULL;
    json_decref(files);
    if (!ok || p->killed)
        kt_proc_end(p, p->killed ? KT_S(KILLED) : KT_S(FAILED), NULL);
    else
        kt_proc_inputs(p);
}

/* A python task's `dependencies` (Kestra 1.x): the shell text that readies their cached environment (pydeps.h),
 * put before everything else the task runs; NULL when there are none, or (with *failed) when they are malformed. A
 * rendered expression may have given the list as JSON text, or one requirement. */
static char *kt_proc_pydeps(kt_task_run *r, int *failed)
{
    const char *type = kt_task_prop_string(r, "type");
    const json_t *deps = json_object_get(kt_task_props(r), "dependencies");
    *failed = 0;
    if (!type || !strstr(type, ".python.") || !deps || json_is_null(deps))
        return NULL;
    json_t *list = NULL;
    if (json_is_string(deps)) {
        list = json_loads(json_string_value(deps), JSON_DECODE_ANY, NULL);
        if (!json_is_array(list)) {
            json_decref(list);
            list = json_pack("[O]", deps);
        }
        deps = list;
    }
    /* PythonBasedPlugin: dependencyCacheEnabled (default true), packageManager (UV, the default, or PIP),
     * pythonVersion */
    const json_t *props = kt_task_props(r), *cache = json_object_get(props, "dependencyCacheEnabled");
    const char *pm = kt_task_prop_string(r, "packageManager"), *pv = kt_task_prop_string(r, "pythonVersion");
    int cached = !(json_is_false(cache) || (json_is_string(cache) && !strcmp(json_string_value(cache), "false")));
    kt_pydeps_opts o = {.venvs = cached ? kt_task_python_venvs(r) : NULL, .find_links = kt_task_python_find_links(r),
                        .pip_only = pm && !strcmp(pm, "PIP"), .python = pv && *pv ? pv : NULL};
    char err[256];
    char *pre = kt_pydeps_preamble(deps, &o, err, sizeof err);
    json_decref(list);
    if (!pre && err[0]) {
        kt_task_logf(r, "ERROR", "%s", err);
        *failed = 1;
    }
    return pre;
}

static void kt_proc_start(kt_task_run *r, const char *main_prop)
{
    char err[512] = "";
    const json_t *props = kt_task_props(r);
    json_t *runner = json_object_get(props, "taskRunner");
    const char *rtype = json_string_value(json_object_get(runner, "type"));
    if (rtype && !kt_task_runner_available(rtype)) {
        kt_task_logf(r, "ERROR", "Task runner '%s' is not available on this worker: use io.kestra.plugin.core.runner.Process",
                     rtype);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    /* Kestra's default task runner is Docker, and containerImage names its image: Kite has no Docker runner yet, so
     * such a task runs with the Process runner, on this host's interpreters, and says so once. */
    const char *image = kt_task_prop_string(r, "containerImage");
    if (image && !runner)
        kt_task_logf(r, "WARN",
                     "containerImage '%s' ignored: Kite has no Docker runner yet; running with the Process runner",
                     image);
    /* refused before anything runs: the files could not travel anyway */
    if (!kt_task_storage(r) && kt_sfiles_needs_storage(r)) {
        kt_task_logf(r, "ERROR", "%s needs the internal storage, which this worker was not given",
                     kt_sfiles_wants_outputs(r) ? "outputFiles" : "inputFiles with a kestra:// URI");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_proc *p = calloc(1, sizeof *p);
    const char *lang = !strcmp(main_prop, "python-script") ? "python" : !strcmp(main_prop, "node-script") ? "node" : NULL;
    char *script = lang ? strdup(kt_task_prop_string(r, "script") ? kt_task_prop_string(r, "script") : "")
                        : kt_proc_script(r, main_prop, err, sizeof err);
    if (p && lang) {
        char *before = kt_proc_script(r, NULL, err, sizeof err); /* set -e + beforeCommands */
        if (before && asprintf(&p->before, "%s\n", before) < 0)
            p->before = NULL;
        free(before);
    }
    int deps_failed = 0;
    char *deps = p && script ? kt_proc_pydeps(r, &deps_failed) : NULL;
    if (deps) { /* first of all: the environment is ready, and first on PATH, before beforeCommands */
        char **first = lang ? &p->before : &script, *joined = NULL;
        if (asprintf(&joined, "%s%s", deps, *first ? *first : "") < 0)
            joined = NULL;
        free(*first);
        *first = joined;
        free(deps);
        if (!joined) {
            free(script);
            script = NULL;
        }
    }
    if (deps_failed) {
        free(p->before);
        free(p);
        free(script);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!p || !script) {
        kt_task_logf(r, "ERROR", "%s", err[0] ? err : "out of memory");
        free(p);
        free(script);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    p->r = r;
    p->script = script;
    p->script_lang = lang;
    p->vars = json_object();
    p->err.is_err = 1;
    p->phase = KT_PROC_FETCHING;
    kt_task_set_data(r, p);
    if (kt_task_workdir(r)) { /* inside a WorkingDirectory: its directory, with what the tasks before left there */
        snprintf(p->workdir, sizeof p->workdir, "%s", kt_task_workdir(r));
        p->shared = 1;
    } else {
        snprintf(p->workdir, sizeof p->workdir, "%s/kite-task-XXXXXX", kt_task_tmp_dir(r));
        if (!mkdtemp(p->workdir)) {
            kt_task_logf(r, "ERROR", "cannot create a working directory in %s: %s", kt_task_tmp_dir(r),
                         strerror(errno));
            p->workdir[0] = 0;
            kt_proc_end(p, KT_S(FAILED), NULL);
            return;
        }
    }
    /* CommandsWrapper.run: the namespace files first, then inputFiles */
    int rc = kt_nsfiles_fetch(r, json_object_get(props, "namespaceFiles"), p->workdir, kt_proc_ns_fetched, p, &p->ns);
    if (rc < 0)
        kt_proc_end(p, KT_S(FAILED), NULL);
    else if (rc > 0)
        kt_proc_inputs(p);
}

/* A kill (or a timeout, or the worker's stop) ends the attempt KILLED whatever phase it is in: while files travel
 * the transfer is cancelled (its done callback then ends the attempt at once), a running process group gets
 * SIGKILL, and a process that exited but whose pipes are still closing gets no outputFiles upload. */
static void kt_proc_kill(kt_task_run *r)
{
    kt_proc *p = kt_task_data(r);
    if (!p)
        return; /* nothing runs any more: the working directory is being removed */
    p->killed = 1;
    if (p->phase != KT_PROC_RUNNING) {
        kt_sfiles_cancel(p->files);
        kt_nsfiles_cancel(p->ns);
        return;
    }
    if (!p->exited)
        kill(-p->proc.pid, SIGKILL); /* the whole group: the shell and what it started */
}

static void kt_shell_commands_start(kt_task_run *r) { kt_proc_start(r, "commands"); }
static void kt_shell_script_start(kt_task_run *r) { kt_proc_start(r, "script"); }
static void kt_python_script_start(kt_task_run *r) { kt_proc_start(r, "python-script"); }
static void kt_node_script_start(kt_task_run *r) { kt_proc_start(r, "node-script"); }

const kt_task_impl kt_task_shell_commands_impl = {
    .type = "io.kestra.plugin.scripts.shell.Commands", .start = kt_shell_commands_start, .kill = kt_proc_kill};
const kt_task_impl kt_task_shell_script_impl = {
    .type = "io.kestra.plugin.scripts.shell.Script", .start = kt_shell_script_start, .kill = kt_proc_kill};
const kt_task_impl kt_task_python_commands_impl = {
    .type = "io.kestra.plugin.scripts.python.Commands", .start = kt_shell_commands_start, .kill = kt_proc_kill};
const kt_task_impl kt_task_python_script_impl = {
    .type = "io.kestra.plugin.scripts.python.Script", .start = kt_python_script_start, .kill = kt_proc_kill};
const kt_task_impl kt_task_node_commands_impl = {
    .type = "io.kestra.plugin.scripts.node.Commands", .start = kt_shell_commands_start, .kill = kt_proc_kill};
const kt_task_impl kt_task_node_script_impl = {
    .type = "io.kestra.plugin.scripts.node.Script", .start = kt_node_script_start, .kill = kt_proc_kill};
