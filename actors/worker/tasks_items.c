/* FilterItems and DeduplicateItems (KESTRA-model.md §6.6, FilterItems.java, DeduplicateItems.java): a file of one
 * Ion value per line (FileSerde's format) read line by line, a template rendered per item with the item's fields as
 * its variables, and the kept lines written unchanged (each followed by "\n", BufferedWriter.newLine) to a new
 * `<random>.ion` file in the task run's folder.
 *
 * The template (`filterCondition`, `expr`) reaches the worker unrendered: the catalogue flags it KT_PF_RAW, so the
 * executor's render leaves it alone (Kestra's @PluginProperty(dynamic = false)). Kite renders it with the item's
 * fields only, where Kestra adds them to the run's variables (outputs, inputs... are not there), in the environment
 * every worker render gets (the clock, secret(), `envs`, read() on the same storage); what secret() returns is masked
 * in the run's logs, as anywhere else. As Kestra, the file
 * is brought to a local working folder, processed there (on the thread pool: a blocking loop over the lines) and the
 * result put back; only one line at a time is in memory, and for DeduplicateItems the keys seen (its index). */
#include "actors/worker/task.h"
#include "actors/worker/tasks_storage.h"
#include "base/alloc.h"
#include "base/json.h"
#include "base/map.h"
#include "base/secrets.h"
#include "expr/expr.h"
#include "store/storage.h"
#include "store/storage_env.h"
#include "base/dialect.h"
#include "store/storage_uri.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum kt_items_kind { KT_ITEMS_FILTER, KT_ITEMS_DEDUP } kt_items_kind;
typedef enum kt_items_action { KT_ITEMS_INCLUDE, KT_ITEMS_EXCLUDE, KT_ITEMS_FAIL } kt_items_action;

typedef struct kt_items_op {
    kt_task_run *r;
    kt_storage *s;
    kt_items_kind kind;
    kt_tmpl *tmpl;
    kt_items_action filter_type, on_error;
    kt_storage_copy *copy;
    atomic_int killed;
    uv_work_t work;
    int64_t processed, dropped, keys;
    char dir[4096], in[4200], out[4200];
    char uri[KT_ST_URI];
    char werr[1024];
    /* the renders' environment; they run on the pool, so the values secret() returns go to a list of the op's own,
     * joined to the run's (which the loop thread masks with) once the work is done */
    kt_env env;
    kt_env_files files;
    json_t *used;
} kt_items_op;

/* ---- reading lines as BufferedReader.readLine: \n, \r or \r\n; a last line without terminator counts ---- */

static int kt_items_readline(FILE *fp, kt_buf *line)
{
    line->len = 0;
    int c, any = 0;
    while ((c = getc_unlocked(fp)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (c == '\r') {
            int d = getc_unlocked(fp);
            if (d != '\n' && d != EOF)
                ungetc(d, fp);
            break;
        }
        kt_buf_putc(line, (char)c);
    }
    kt_buf_putc(line, 0); /* terminated, not counted */
    line->len--;
    return any;
}

/* The template rendered with the item's fields (an Ion struct) as variables. 0 with *out, -1 with err: a bad item
 * (not Ion, not a struct: Kestra's mapper fails whatever errorOrNullBehavior says) is -2. */
static int kt_items_render(kt_items_op *op, const char *item, size_t len, char **out, char *err, size_t errcap)
{
    char perr[256];
    json_t *rec = kt_expr_ion_parse(item, len, perr, sizeof perr);
    if (!json_is_object(rec)) {
        snprintf(err, errcap, "cannot read the item `%s` as an Ion struct%s%s", item, rec ? "" : ": ",
                 rec ? "" : perr);
        json_decref(rec);
        return -2;
    }
    kt_expr_error e = {0};
    size_t n;
    kt_status st = kt_tmpl_render(op->tmpl, rec, &op->env, out, &n, &e);
    json_decref(rec);
    if (st != KT_OK) {
        snprintf(err, errcap, "%s", e.message[0] ? e.message : "rendering failed");
        return -1;
    }
    return 0;
}

/* TruthUtils.isTruthy of the rendered text, trimmed as String.trim (every char <= ' ' at both ends). */
static int kt_items_truthy(const char *s)
{
    while (*s && (unsigned char)*s <= ' ')
        s++;
    size_t n = strlen(s);
    while (n && (unsigned char)s[n - 1] <= ' ')
        n--;
    return !(n == 0 || (n == 5 && !strncmp(s, "false", 5)) || (n == 1 && s[0] == '0') ||
             (n == 2 && !strncmp(s, "-0", 2)));
}

static int kt_items_write(FILE *out, const char *item, size_t len)
{
    return fwrite(item, 1, len, out) == len && putc_unlocked('\n', out) != EOF ? 0 : -1;
}

static int kt_items_filter(kt_items_op *op, FILE *in, FILE *out, kt_buf *line)
{
    while (kt_items_readline(in, line)) {
        if (atomic_load(&op->killed))
            return -1;
        char *text = NULL, err[768];
        int rc = kt_items_render(op, line->p, line->len, &text, err, sizeof err);
        if (rc == -2) {
            snprintf(op->werr, sizeof op->werr, "%s", err);
            return -1;
        }
        kt_items_action action = op->filter_type;
        if (rc) { /* a rendering error: Kestra's `match == null` */
            if (op->on_error == KT_ITEMS_FAIL) {
                snprintf(op->werr, sizeof op->werr, "%s", err);
                return -1;
            }
            action = op->on_error;
        } else if (!kt_items_truthy(text)) {
            action = action == KT_ITEMS_INCLUDE ? KT_ITEMS_EXCLUDE : KT_ITEMS_INCLUDE;
        }
        free(text);
        if (action == KT_ITEMS_INCLUDE) {
            if (kt_items_write(out, line->p, line->len)) {
                snprintf(op->werr, sizeof op->werr, "cannot write the result: %s", strerror(errno));
                return -1;
            }
        } else {
            op->dropped++;
        }
        op->processed++;
    }
    return 0;
}

/* One pass of DeduplicateItems: the key of every line, in order; index maps each key to 1 + its last offset. */
static int kt_items_dedup_pass(kt_items_op *op, FILE *in, FILE *out, kt_buf *line, kt_map *index)
{
    int64_t offset = 0;
    while (kt_items_readline(in, line)) {
        if (atomic_load(&op->killed))
            return -1;
        char *key = NULL, err[768];
        if (kt_items_render(op, line->p, line->len, &key, err, sizeof err)) {
            snprintf(op->werr, sizeof op->werr, "%s", err);
            return -1;
        }
        if (!out) {
            kt_map_put(index, key, (void *)(uintptr_t)(offset + 1), NULL);
        } else {
            if ((uintptr_t)kt_map_get(index, key) == (uintptr_t)(offset + 1)) {
                if (kt_items_write(out, line->p, line->len)) {
                    free(key);
                    snprintf(op->werr, sizeof op->werr, "cannot write the result: %s", strerror(errno));
                    return -1;
                }
            } else {
                op->dropped++;
            }
            op->processed++;
        }
        free(key);
        offset++;
    }
    return 0;
}

static void kt_items_work(uv_work_t *w)
{
    kt_items_op *op = w->data;
    kt_buf line = {0};
    FILE *in = fopen(op->in, "rb"), *out = fopen(op->out, "wb");
    int rc = -1;
    if (!in || !out) {
        snprintf(op->werr, sizeof op->werr, "cannot open a working file: %s", strerror(errno));
    } else if (op->kind == KT_ITEMS_FILTER) {
        rc = kt_items_filter(op, in, out, &line);
    } else {
        kt_map *index = kt_map_new();
        rc = kt_items_dedup_pass(op, in, NULL, &line, index);
        op->keys = (int64_t)kt_map_size(index);
        if (rc == 0) {
            rewind(in);
            rc = kt_items_dedup_pass(op, in, out, &line, index);
        }
        kt_map_free(index); /* the values are offsets, not pointers */
    }
    if (in)
        fclose(in);
    if (out && fclose(out) && rc == 0) {
        snprintf(op->werr, sizeof op->werr, "cannot write the result: %s", strerror(errno));
        rc = -1;
    }
    if (rc && !op->werr[0])
        snprintf(op->werr, sizeof op->werr, "cancelled");
    free(kt_buf_take(&line));
}

static void kt_items_end(kt_items_op *op, const char *state, json_t *out)
{
    kt_task_run *r = op->r;
    kt_st_workdir_remove(op->dir);
    kt_tmpl_free(op->tmpl);
    json_decref(op->used);
    kt_task_set_data(r, NULL);
    int killed = atomic_load(&op->killed);
    free(op);
    if (killed) {
        json_decref(out);
        state = KT_S(KILLED);
        out = NULL;
    }
    kt_task_finish(r, state, out);
}

static void kt_items_fail(kt_items_op *op, const char *err)
{
    if (!atomic_load(&op->killed))
        kt_task_logf(op->r, "ERROR", "%s", err);
    kt_items_end(op, KT_S(FAILED), NULL);
}

static void kt_items_on_put(kt_status st, const char *err, void *data)
{
    kt_items_op *op = data;
    op->copy = NULL;
    if (st != KT_OK) {
        kt_items_fail(op, err);
        return;
    }
    json_t *out = json_pack("{s:s, s:I, s:I}", "uri", op->uri, "processedItemsTotal", (json_int_t)op->processed,
                            "droppedItemsTotal", (json_int_t)op->dropped);
    if (op->kind == KT_ITEMS_DEDUP)
        json_object_set_new(out, "numKeys", json_integer(op->keys));
    kt_items_end(op, KT_S(SUCCESS), out);
}

static void kt_items_work_done(uv_work_t *w, int status)
{
    kt_items_op *op = w->data;
    char err[512] = "", name[64];
    size_t i;
    json_t *v;
    json_array_foreach(op->used, i, v) kt_mask_add(kt_task_secrets(op->r), json_string_value(v));
    if (status || op->werr[0]) {
        kt_items_fail(op, status ? uv_strerror(status) : op->werr);
        return;
    }
    kt_st_temp_name(".ion", name, sizeof name);
    if (kt_st_taskrun_file(op->r, name, op->uri, sizeof op->uri)) {
        kt_items_end(op, KT_S(FAILED), NULL);
        return;
    }
    if (kt_storage_put_file_c(op->s, op->uri, op->out, NULL, kt_items_on_put, op, &op->copy, err, sizeof err))
        kt_items_fail(op, err);
}

static void kt_items_on_get(kt_status st, const char *err, void *data)
{
    kt_items_op *op = data;
    op->copy = NULL;
    if (st != KT_OK || atomic_load(&op->killed)) {
        kt_items_fail(op, err);
        return;
    }
    op->work.data = op;
    int rc = uv_queue_work(kt_task_loop(op->r), &op->work, kt_items_work, kt_items_work_done);
    if (rc)
        kt_items_fail(op, uv_strerror(rc));
}

/* An enum property: its index in names (NULL-terminated), def when absent, -1 logged when not one of them. */
static int kt_items_enum(kt_task_run *r, const char *prop, const char *const *names, int def)
{
    const json_t *v = json_object_get(kt_task_props(r), prop);
    if (!v || json_is_null(v))
        return def;
    for (int i = 0; json_is_string(v) && names[i]; i++)
        if (!strcmp(json_string_value(v), names[i]))
            return i;
    kt_task_logf(r, "ERROR", "%s: '%s' is not one of %s%s%s%s%s", prop, json_is_string(v) ? json_string_value(v) : "?",
                 names[0], names[1] ? ", " : "", names[1] ? names[1] : "", names[2] ? ", " : "", names[2] ? names[2] : "");
    return -1;
}

static void kt_items_start(kt_task_run *r, kt_items_kind kind)
{
    static const char *const filter_types[] = {"INCLUDE", "EXCLUDE", NULL};
    static const char *const behaviors[] = {"INCLUDE", "EXCLUDE", "FAIL", NULL};
    char path[KT_SURI_PATH_MAX + 1], err[512] = "";
    const char *from = kt_task_prop_string(r, "from");
    const char *prop = kind == KT_ITEMS_FILTER ? "filterCondition" : "expr";
    const char *src = kt_task_prop_string(r, prop);
    kt_storage *s = kt_st_storage(r);
    if (!s || kt_st_uri(r, "from", from, path, sizeof path)) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    if (!src) {
        kt_task_logf(r, "ERROR", "%s: must not be null", prop);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    int ft = kind == KT_ITEMS_FILTER ? kt_items_enum(r, "filterType", filter_types, KT_ITEMS_INCLUDE) : 0;
    int eb = kind == KT_ITEMS_FILTER ? kt_items_enum(r, "errorOrNullBehavior", behaviors, KT_ITEMS_FAIL) : 0;
    if (ft < 0 || eb < 0) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_items_op *op = kt_xcalloc(1, sizeof *op);
    *op = (kt_items_op){.r = r, .s = s, .kind = kind,
                        .filter_type = (kt_items_action)ft, .on_error = (kt_items_action)eb};
    kt_task_set_data(r, op);
    kt_env_init_real(&op->env);
    kt_dialect dialect; /* the flow's (the job's run info names it; an older executor's job: 1.x) */
    if (!kt_dialect_parse(json_string_value(json_object_get(kt_task_run_info(r), "dialect")), &dialect))
        op->env.dialect = dialect;
    op->used = json_array();
    op->env.secrets_used = op->used;
    kt_storage_env_files(s, &op->files);
    op->env.files = &op->files;
    kt_expr_error e = {0};
    if (kt_tmpl_compile(src, strlen(src), &op->tmpl, &e) != KT_OK) {
        op->tmpl = NULL;
        kt_items_fail(op, e.message[0] ? e.message : "the template does not compile");
        return;
    }
    if (kt_st_workdir_new(r, "items", op->dir, sizeof op->dir)) {
        kt_items_end(op, KT_S(FAILED), NULL);
        return;
    }
    snprintf(op->in, sizeof op->in, "%s/in", op->dir);
    snprintf(op->out, sizeof op->out, "%s/out.ion", op->dir);
    if (kt_storage_get_file_c(s, from, op->in, kt_items_on_get, op, &op->copy, err, sizeof err))
        kt_items_fail(op, err);
}

static void kt_filter_start(kt_task_run *r) { kt_items_start(r, KT_ITEMS_FILTER); }
static void kt_dedup_start(kt_task_run *r) { kt_items_start(r, KT_ITEMS_DEDUP); }

/* A storage copy is cancelled at once; the pool's loop stops at its next line; then the run ends KILLED. */
static void kt_items_kill(kt_task_run *r)
{
    kt_items_op *op = kt_task_data(r);
    if (!op || atomic_exchange(&op->killed, 1))
        return;
    kt_storage_copy_cancel(op->copy);
}

const kt_task_impl kt_task_storage_filter_items_impl = {.type = "io.kestra.plugin.core.storage.FilterItems",
                                                        .start = kt_filter_start, .kill = kt_items_kill};
const kt_task_impl kt_task_storage_dedup_items_impl = {.type = "io.kestra.plugin.core.storage.DeduplicateItems",
                                                       .start = kt_dedup_start, .kill = kt_items_kill};
