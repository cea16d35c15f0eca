/* Acceptance: Kestra's own test flows (core/src/test/resources/flows/valids at 58c1ca2, copied unchanged into
 * ../shared/kestra-acceptance/flows) run through a real `kite server local` over HTTP; the end state of each
 * execution is checked against what Kestra's tests assert for it (acceptance_cases.h, one row per Kestra test).
 *
 * One server for the whole run; every flow file is POSTed first (some reference others), then each case runs
 * sequentially: POST /api/v1/executions/{ns}/{id} with the case's inputs, wait for a terminal state, compare. A
 * row whose flow uses a type that does not run yet (the catalogue, flow/tasks.h) is skipped with that reason; its
 * flow must have been refused with 422.
 * Every mismatch is printed (expected vs actual, with the task runs) before the test fails; the last line is
 * "acceptance: N run, P passed, F failed, S skipped".
 *
 * Environment:
 *   KITE_ACCEPTANCE_FLOWS=DIR   the flows folder (default KITE_SOURCE_DIR/../shared/kestra-acceptance/flows)
 *   KITE_ACCEPTANCE_ONLY=TEXT   only the cases whose file or Kestra test contains TEXT
 *   KITE_ACCEPTANCE_ALL=1       also run the skipped cases and say which would pass now (never fails on them)
 *   KITE_ACCEPTANCE_TIMEOUT_MS  per-case wait for a terminal state (default 20000)
 *   KITE_ACCEPTANCE_LOG=1       print the server log when a case fails
 *   KITE_ACCEPTANCE_API=http://127.0.0.1:PORT
 *                               run the table against Kite already running there (any topology; the harness speaks
 *                               to 127.0.0.1 only) instead of starting `kite server local`; its flows stay behind
 *   KITE_ACCEPTANCE_TOPOLOGY=roles | roles-pg
 *                               start Kite as separate component processes (harness_topology.c: executor, webserver,
 *                               scheduler, two workers) on a shared SQLite directory or a schema of the test PostgreSQL
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/tasks.h"
#include "flow/yaml.h"
#include "harness.h"

#include "acceptance_cases.h"
#include "acceptance_check.h"

#define ACC_MAX_FLOWS 256

typedef struct acc_flow {
    char file[128];  /* relative to the flows folder, e.g. "dag.yaml" or "derived/timeout-sleep.yaml" */
    char ns[128];
    char id[128];
    long status;     /* HTTP status of the last POST */
    char error[512]; /* its body when not 200 */
    /* "" or "not supported yet: T1, T2": the types it uses that do not run yet, from the catalogue
     * (kt_task_unsupported_in_flow); its rows are skipped for that reason until they all run */
    char unsupported[400];
    char dialect[8]; /* the saved flow's "dialect": every acceptance flow is Kestra 0.21, so 1.x (flow/dialect.h) */
} acc_flow;

typedef struct fixture {
    kt_it_fixture it; /* the server's directory, port and process (pid 0: not ours) */
    kt_it_topology topo; /* KITE_ACCEPTANCE_TOPOLOGY: the component processes; nprocs 0 otherwise */
    int skipped;         /* the topology cannot run here (77) */
    char flows_dir[512];
    acc_flow flows[ACC_MAX_FLOWS];
    size_t nflows;
} fixture;

/* ------------------------------------------------------------------------------------------------ small helpers */

static char *acc_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

/* `key: value` at column 0 (id / namespace), quotes stripped: the fallback when the server rejected the flow. */
static void acc_top_key(const char *src, const char *key, char *out, size_t cap)
{
    out[0] = 0;
    size_t kl = strlen(key);
    for (const char *l = src; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) || l[kl] != ':')
            continue;
        const char *v = l + kl + 1;
        while (*v == ' ' || *v == '"' || *v == '\'')
            v++;
        size_t n = 0;
        while (v[n] && v[n] != '\n' && v[n] != '"' && v[n] != '\'' && v[n] != ' ' && v[n] != '\r' && n + 1 < cap)
            n++;
        memcpy(out, v, n);
        out[n] = 0;
        return;
    }
}

static int acc_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Percent-encodes a query value. */
static void acc_urlenc(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 4 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~:", c))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
    }
    out[o] = 0;
}

/* ------------------------------------------------------------------------------------------------ server */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *fd = getenv("KITE_ACCEPTANCE_FLOWS");
    if (fd && *fd)
        snprintf(f->flows_dir, sizeof f->flows_dir, "%s", fd);
    else
        snprintf(f->flows_dir, sizeof f->flows_dir, "%s/../shared/kestra-acceptance/flows", KITE_SOURCE_DIR);
    *state = f;
    const char *api = getenv("KITE_ACCEPTANCE_API"), *topo = getenv("KITE_ACCEPTANCE_TOPOLOGY");
    if (api && *api) {
        int port = 0;
        char tail[8] = "";
        if ((sscanf(api, "http://127.0.0.1:%d%7s", &port, tail) < 1 &&
             sscanf(api, "http://localhost:%d%7s", &port, tail) < 1) ||
            port <= 0 || port > 65535 || (tail[0] && strcmp(tail, "/"))) {
            fprintf(stderr, "acceptance: KITE_ACCEPTANCE_API=%s: expected http://127.0.0.1:PORT\n", api);
            return -1;
        }
        kt_it_fixture_init(&f->it, 0);
        f->it.port = port;
        fprintf(stderr, "acceptance: against the API at %s\n", api);
    } else if (topo && *topo) {
        if (strcmp(topo, "roles") && strcmp(topo, "roles-pg")) {
            fprintf(stderr, "acceptance: KITE_ACCEPTANCE_TOPOLOGY=%s: expected roles or roles-pg\n", topo);
            return -1;
        }
        kt_it_fixture_init(&f->it, 0);
        int rc = kt_it_topology_start(&f->topo, !strcmp(topo, "roles-pg"));
        if (rc == 77)
            f->skipped = 1;
        else if (rc)
            return -1;
        f->it.port = f->topo.port;
        fprintf(stderr, "acceptance: through %zu component processes (%s)\n", f->topo.nprocs, topo);
    } else {
        kt_it_fixture_init(&f->it, 1);
    }
    return 0;
}

static int skipped_all; /* the process exits 77 for CTest */

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->topo.nprocs)
        assert_int_equal(kt_it_topology_stop(&f->topo), 0); /* every component exits 0 on SIGTERM */
    skipped_all = f->skipped;
    kt_it_fixture_fini(&f->it);
    free(f);
    return 0;
}

/* The *.yaml / *.yml files of dir (and of dir/derived), sorted. */
static void acc_list_flows(fixture *f)
{
    const char *subs[] = {"", "derived/"};
    for (size_t s = 0; s < 2; s++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", f->flows_dir, subs[s]);
        DIR *d = opendir(path);
        if (!d) {
            if (s == 0)
                fail_msg("cannot open the flows folder %s (set KITE_ACCEPTANCE_FLOWS)", path);
            continue;
        }
        char *names[ACC_MAX_FLOWS];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < ACC_MAX_FLOWS) {
            size_t l = strlen(e->d_name);
            if ((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml")))
                names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, acc_cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (f->nflows < ACC_MAX_FLOWS)
                snprintf(f->flows[f->nflows++].file, sizeof f->flows[0].file, "%s%s", subs[s], names[i]);
            free(names[i]);
        }
    }
}

/* What the catalogue says about the types the flow uses (fl->unsupported). */
static void acc_unsupported(acc_flow *fl, const char *src)
{
    static const char prefix[] = "not supported yet: ";
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_diags dg;
    kt_diags_init(&dg);
    fl->unsupported[0] = 0;
    if (kt_yaml_load(src, strlen(src), fl->file, &docs, &n, &dg) == KT_OK && n == 1) {
        char list[sizeof fl->unsupported - sizeof prefix];
        if (kt_task_unsupported_in_flow(kt_yaml_doc_root(docs[0]), list, sizeof list))
            snprintf(fl->unsupported, sizeof fl->unsupported, "%s%s", prefix, list);
    }
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&dg);
}

static void acc_post_flow(fixture *f, acc_flow *fl)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", f->flows_dir, fl->file);
    char *src = acc_read_file(path);
    if (!src) {
        fl->status = 0;
        snprintf(fl->error, sizeof fl->error, "cannot read %.480s", path);
        return;
    }
    acc_top_key(src, "namespace", fl->ns, sizeof fl->ns);
    acc_top_key(src, "id", fl->id, sizeof fl->id);
    acc_unsupported(fl, src);
    char *body = NULL;
    fl->status = kt_it_http("POST", f->it.port, "/api/v1/flows", "application/x-yaml", src, &body);
    fl->error[0] = 0;
    if (fl->status == 200) {
        json_t *j = json_loads(body ? body : "", 0, NULL);
        if (json_string_value(json_object_get(j, "namespace")))
            snprintf(fl->ns, sizeof fl->ns, "%s", json_string_value(json_object_get(j, "namespace")));
        if (json_string_value(json_object_get(j, "id")))
            snprintf(fl->id, sizeof fl->id, "%s", json_string_value(json_object_get(j, "id")));
        const char *d = json_string_value(json_object_get(j, "dialect"));
        snprintf(fl->dialect, sizeof fl->dialect, "%s", d ? d : "none");
        json_decref(j);
    } else
        snprintf(fl->error, sizeof fl->error, "%s", body ? body : "");
    free(body);
    free(src);
}

static acc_flow *acc_flow_of(fixture *f, const char *file)
{
    for (size_t i = 0; i < f->nflows; i++)
        if (!strcmp(f->flows[i].file, file))
            return &f->flows[i];
    return NULL;
}

/* Why a row does not run, NULL when it does: the catalogue's reason when its flow uses a type that does not run
 * yet (so the row runs as soon as the type does), else the table's. */
static const char *acc_skip_of(fixture *f, const acc_case *c)
{
    acc_flow *fl = acc_flow_of(f, c->file);
    return fl && fl->unsupported[0] ? fl->unsupported : c->skip;
}

/* Runs one case; returns 1 when everything Kestra asserts holds, else appends why to r. */
static int acc_check_execution(fixture *f, const acc_case *c, json_t *ex, const char *id, acc_report *r);
static int acc_run_triggered(fixture *f, const acc_case *c, acc_flow *fl, int timeout_ms, acc_report *r);

/* An input value "@paused:FILE": that flow is started first and waited for until PAUSED; its id is the value. */
static int acc_start_paused(fixture *f, const char *file, int timeout_ms, char *id, size_t cap, acc_report *r)
{
    acc_flow *fl = acc_flow_of(f, file);
    if (!fl || fl->status != 200) {
        acc_say(r, "    %s: not an accepted flow of the folder\n", file);
        return -1;
    }
    char path[600];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s", fl->ns, fl->id);
    json_t *created = NULL;
    const char *none[] = {NULL};
    long st = kt_it_post_form(f->it.port, path, none, &created);
    const char *exid = json_string_value(json_object_get(created, "id"));
    if (st != 200 || !exid) {
        acc_say(r, "    POST %s -> %ld\n", path, st);
        json_decref(created);
        return -1;
    }
    snprintf(id, cap, "%s", exid);
    json_decref(created);
    json_t *ex = kt_it_wait_state(&f->it.server, f->it.port, id, "PAUSED", timeout_ms);
    if (!ex) {
        acc_say(r, "    %s (%s) never PAUSED\n", file, id);
        return -1;
    }
    json_decref(ex);
    return 0;
}

/* "@then next": the execution whose parentId is id (a retry's new execution), waited for until it has ended and
 * checked with the step's final fields; id becomes it. */
static int acc_then_next(fixture *f, const acc_case *c, const char *const *step, char *id, size_t idcap,
                         int timeout_ms, acc_report *r)
{
    json_t *found = NULL;
    for (int waited = 0; !found && waited <= timeout_ms; waited += 200) {
        json_t *page = NULL;
        char path[400];
        snprintf(path, sizeof path, "/api/v1/executions/search?size=100&flowId=%s", c->file);
        char *dot = strrchr(path, '.'); /* the flow id is the file's name without its extension */
        if (dot)
            *dot = 0;
        kt_it_http_json("GET", f->it.port, path, NULL, NULL, &page);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(page, "results"), i, e) {
            const char *pid = json_string_value(json_object_get(e, "parentId"));
            if (pid && !strcmp(pid, id))
                found = json_incref(e);
        }
        json_decref(page);
        if (!found)
            usleep(200 * 1000);
    }
    if (!found) {
        acc_say(r, "    @then next: no execution made from %s after %d ms\n", id, timeout_ms);
        return 0;
    }
    snprintf(id, idcap, "%s", json_string_value(json_object_get(found, "id")));
    json_decref(found);
    json_t *ex = kt_it_wait_execution(f->it.port, id, timeout_ms);
    if (!ex) {
        acc_say(r, "    @then next: execution %s not terminal after %d ms\n", id, timeout_ms);
        return 0;
    }
    acc_case want = *c;
    want.state = step[4];
    want.taskruns = atoi(step[5]);
    want.checks = *step[6] ? step[6] : NULL;
    int ok = acc_check_execution(f, &want, ex, id, r);
    json_decref(ex);
    if (!ok)
        acc_say(r, "    (the next execution)\n");
    return ok;
}

/* A "@then" step (acceptance_cases.h): step = {ACTION, STATE, N, CHECKS, FINAL_STATE, FINAL_N, FINAL_CHECKS} on
 * execution id, which becomes the one the API answered. 1 when everything matched. */
static int acc_then(fixture *f, const acc_case *c, const char *const *step, char *id, size_t idcap, int timeout_ms,
                    acc_report *r)
{
    char path[600], q[200] = "";
    const char *action = step[0];
    if (!strcmp(action, "next")) /* the execution a CREATE_NEW_EXECUTION retry made of this one */
        return acc_then_next(f, c, step, id, idcap, timeout_ms, r);
    if (!strncmp(action, "replay:", 7)) {
        char p[200];
        snprintf(p, sizeof p, "/api/v1/executions/%s", id);
        json_t *cur = NULL;
        kt_it_http_json("GET", f->it.port, p, NULL, NULL, &cur);
        json_t *tr = cur ? acc_select_run(cur, action + 7) : NULL;
        if (!tr) {
            acc_say(r, "    @then %s: no such task run in %s\n", action, id);
            json_decref(cur);
            return 0;
        }
        snprintf(q, sizeof q, "?taskRunId=%s", json_string_value(json_object_get(tr, "id")));
        json_decref(cur);
        snprintf(path, sizeof path, "/api/v1/executions/%s/replay%s", id, q);
    } else {
        snprintf(path, sizeof path, "/api/v1/executions/%s/%s", id, action);
    }
    json_t *ans = NULL;
    long st = kt_it_http_json("POST", f->it.port, path, NULL, NULL, &ans);
    const char *nid = json_string_value(json_object_get(ans, "id"));
    if (st != 200 || !nid) {
        char *t = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
        acc_say(r, "    @then POST %s -> %ld %.300s\n", path, st, t ? t : "");
        free(t);
        json_decref(ans);
        return 0;
    }
    snprintf(id, idcap, "%s", nid);
    acc_case want = *c;
    want.state = *step[1] ? step[1] : NULL;
    want.taskruns = atoi(step[2]);
    want.checks = *step[3] ? step[3] : NULL;
    int ok = acc_check_execution(f, &want, ans, id, r);
    json_decref(ans);
    if (!ok) {
        acc_say(r, "    (the answer of %s)\n", action);
        return 0;
    }
    if (!*step[4])
        return 1;
    json_t *ex = kt_it_wait_execution(f->it.port, id, timeout_ms);
    if (!ex) {
        acc_say(r, "    @then %s: execution %s not terminal after %d ms\n", action, id, timeout_ms);
        return 0;
    }
    want.state = step[4];
    want.taskruns = atoi(step[5]);
    want.checks = *step[6] ? step[6] : NULL;
    ok = acc_check_execution(f, &want, ex, id, r);
    json_decref(ex);
    if (!ok)
        acc_say(r, "    (after %s)\n", action);
    return ok;
}

static int acc_run_case(fixture *f, const acc_case *c, int timeout_ms, acc_report *r)
{
    acc_flow *fl = acc_flow_of(f, c->file);
    if (!fl) {
        acc_say(r, "    no such flow file in %s\n", f->flows_dir);
        return 0;
    }
    if (fl->status != 200) {
        acc_say(r, "    flow not accepted: POST /api/v1/flows -> %ld %.300s\n", fl->status, fl->error);
        return 0;
    }
    if (strcmp(fl->dialect, "1.x")) {
        acc_say(r, "    flow read as dialect %s, not 1.x (an acceptance flow is Kestra 0.21)\n", fl->dialect);
        return 0;
    }
    if (c->inputs[0] && !strcmp(c->inputs[0], "@after"))
        return acc_run_triggered(f, c, fl, timeout_ms, r);
    /* {"@api", "METHOD /path", body}: API calls made first, in order (a KV entry the flow reads), each must answer
     * 2xx; the inputs follow them. */
    size_t first = 0;
    while (c->inputs[first] && !strcmp(c->inputs[first], "@api") && c->inputs[first + 1] && c->inputs[first + 2]) {
        char method[16], api[600];
        if (sscanf(c->inputs[first + 1], "%15s %599s", method, api) != 2) {
            acc_say(r, "    malformed @api step '%s'\n", c->inputs[first + 1]);
            return 0;
        }
        char *out = NULL;
        long st = kt_it_http(method, f->it.port, api, "application/json", c->inputs[first + 2], &out);
        if (st < 200 || st > 299) {
            acc_say(r, "    %s %s -> %ld %.300s\n", method, api, st, out ? out : "");
            free(out);
            return 0;
        }
        free(out);
        first += 3;
    }
    /* inputs: name,value pairs; a name starting with '?' is a query parameter (e.g. "?labels", "k:v"). */
    const char *fields[ACC_MAX_INPUTS + 2];
    size_t nf = 0;
    char query[1024] = "", paused[128] = "";
    size_t then_at = ACC_MAX_INPUTS; /* none */
    for (size_t i = first; c->inputs[i] && i + 1 < ACC_MAX_INPUTS; i += 2) {
        if (!strcmp(c->inputs[i], "@then")) {
            then_at = i;
            break;
        }
        if (!strncmp(c->inputs[i + 1], "@paused:", 8)) {
            if (acc_start_paused(f, c->inputs[i + 1] + 8, timeout_ms, paused, sizeof paused, r))
                return 0;
            fields[nf++] = c->inputs[i];
            fields[nf++] = paused;
        } else if (c->inputs[i][0] == '?') {
            char enc[400];
            acc_urlenc(c->inputs[i + 1], enc, sizeof enc);
            size_t ql = strlen(query);
            snprintf(query + ql, sizeof query - ql, "%s%s=%s", ql ? "&" : "?", c->inputs[i] + 1, enc);
        } else {
            fields[nf++] = c->inputs[i];
            fields[nf++] = c->inputs[i + 1];
        }
    }
    fields[nf] = NULL;
    char path[1500];
    snprintf(path, sizeof path, "/api/v1/executions/%s/%s%s", fl->ns, fl->id, query);
    json_t *created = NULL;
    long st = kt_it_post_form(f->it.port, path, fields, &created);
    const char *exid = json_string_value(json_object_get(created, "id"));
    if (st != 200 || !exid) {
        char *t = created ? json_dumps(created, JSON_COMPACT) : NULL;
        acc_say(r, "    POST %s -> %ld %.300s\n", path, st, t ? t : "");
        free(t);
        json_decref(created);
        return 0;
    }
    char id[128];
    snprintf(id, sizeof id, "%s", exid);
    json_decref(created);
    json_t *ex = kt_it_wait_execution(f->it.port, id, timeout_ms);
    if (!ex) {
        char p[200];
        snprintf(p, sizeof p, "/api/v1/executions/%s", id);
        json_t *cur = NULL;
        kt_it_http_json("GET", f->it.port, p, NULL, NULL, &cur);
        acc_say(r, "    execution %s not terminal after %d ms (state %s); expected %s\n", id, timeout_ms,
                acc_or(kt_it_state(cur), "?"), c->state ? c->state : "-");
        if (cur)
            acc_dump_taskruns(cur, r);
        json_decref(cur);
        return 0;
    }
    int ok = acc_check_execution(f, c, ex, id, r);
    json_decref(ex);
    for (size_t k = then_at; ok && k < ACC_MAX_INPUTS && c->inputs[k]; k += 8) {
        int whole = !strcmp(c->inputs[k], "@then") && k + 7 < ACC_MAX_INPUTS;
        for (size_t m = 1; whole && m <= 7; m++)
            whole = c->inputs[k + m] != NULL;
        if (!whole) {
            acc_say(r, "    malformed @then step at input %zu (ACTION and 6 values expected)\n", k);
            ok = 0;
            break;
        }
        ok = acc_then(f, c, c->inputs + k + 1, id, sizeof id, timeout_ms, r);
    }
    if (ok && paused[0]) { /* the row resumed it: it runs to its end */
        json_t *other = kt_it_wait_execution(f->it.port, paused, timeout_ms);
        if (!other || strcmp(kt_it_state(other), "SUCCESS")) {
            acc_say(r, "    the paused execution %s did not end SUCCESS after the resume (state %s)\n", paused,
                    acc_or(other ? kt_it_state(other) : NULL, "not terminal"));
            ok = 0;
        }
        json_decref(other);
    }
    return ok;
}

/* The row's state, task runs and checks against one execution. */
static int acc_check_execution(fixture *f, const acc_case *c, json_t *ex, const char *id, acc_report *r)
{
    int bad = 0;
    const char *state = kt_it_state(ex);
    if (c->state && strcmp(acc_or(state, ""), c->state)) {
        acc_say(r, "    state: expected %s, got %s\n", c->state, acc_or(state, "?"));
        bad++;
    }
    size_t ntr = json_array_size(json_object_get(ex, "taskRunList"));
    if (c->taskruns >= 0 && ntr != (size_t)c->taskruns) {
        acc_say(r, "    taskRunList size: expected %d, got %zu\n", c->taskruns, ntr);
        bad++;
    }
    if (c->checks) {
        char *all = strdup(c->checks), *save = NULL;
        for (char *chk = strtok_r(all, ";", &save); chk; chk = strtok_r(NULL, ";", &save)) {
            while (*chk == ' ')
                chk++;
            if (*chk)
                bad += acc_check_one(ex, chk, f->it.port, r);
        }
        free(all);
    }
    if (bad) {
        acc_say(r, "    execution %s\n", id);
        acc_dump_taskruns(ex, r);
    }
    return !bad;
}

/* Executions of fl started by a Flow trigger from one of the upstream executions ids[0..n): a JSON array, oldest
 * first; *terminal says whether all of them have ended. */
static json_t *acc_triggered_by(fixture *f, const acc_flow *fl, char ids[][64], size_t n, int *terminal)
{
    char path[700];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=%s&flowId=%s&size=1000&sort=state.startDate:asc",
             fl->ns, fl->id);
    json_t *res = NULL, *out = json_array();
    kt_it_http_json("GET", f->it.port, path, NULL, NULL, &res);
    *terminal = 1;
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(res, "results"), i, ex) {
        const char *up = json_string_value(
            json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "executionId"));
        for (size_t k = 0; up && k < n; k++) {
            if (strcmp(up, ids[k]))
                continue;
            json_array_append(out, ex);
            const char *st = kt_it_state(ex);
            if (!st || !(strcmp(st, "SUCCESS") == 0 || strcmp(st, "WARNING") == 0 || strcmp(st, "FAILED") == 0 ||
                         strcmp(st, "KILLED") == 0 || strcmp(st, "CANCELLED") == 0))
                *terminal = 0;
        }
    }
    json_decref(res);
    return out;
}

/* A flow started by Flow triggers (or as a ForEachItem's batches): inputs {"@after", FILE, name, value...} run the
 * upstream flows (each to its end, with the name/value pairs after it as its inputs), then the row waits for the executions of its flow they triggered ({"@count", "N"}: N of them, default 1; exactly N) and
 * checks the one the last upstream's final state triggered. */
static int acc_run_triggered(fixture *f, const acc_case *c, acc_flow *fl, int timeout_ms, acc_report *r)
{
    char ids[8][64], final[32] = "";
    size_t n = 0;
    int want = 1;
    for (size_t i = 0; c->inputs[i] && c->inputs[i + 1] && i + 1 < ACC_MAX_INPUTS; i += 2) {
        if (!strcmp(c->inputs[i], "@count")) {
            want = atoi(c->inputs[i + 1]);
            continue;
        }
        if (c->inputs[i][0] != '@')
            continue; /* an input of the upstream before it, sent with it below */
        acc_flow *up = acc_flow_of(f, c->inputs[i + 1]);
        if (!up || up->status != 200 || n == 8) {
            acc_say(r, "    upstream flow %s not available\n", c->inputs[i + 1]);
            return 0;
        }
        char path[700];
        snprintf(path, sizeof path, "/api/v1/executions/%s/%s", up->ns, up->id);
        /* the pairs after {"@after", FILE} up to the next '@' name are that upstream's inputs */
        const char *fields[ACC_MAX_INPUTS + 2];
        size_t nf = 0;
        for (size_t k = i + 2; c->inputs[k] && c->inputs[k + 1] && c->inputs[k][0] != '@' && k + 1 < ACC_MAX_INPUTS;
             k += 2) {
            fields[nf++] = c->inputs[k];
            fields[nf++] = c->inputs[k + 1];
        }
        fields[nf] = NULL;
        json_t *created = NULL;
        long st = kt_it_post_form(f->it.port, path, fields, &created);
        const char *exid = json_string_value(json_object_get(created, "id"));
        if (st != 200 || !exid) {
            acc_say(r, "    POST %s -> %ld\n", path, st);
            json_decref(created);
            return 0;
        }
        snprintf(ids[n++], sizeof ids[0], "%s", exid);
        json_decref(created);
        json_t *done = kt_it_wait_execution(f->it.port, ids[n - 1], timeout_ms);
        snprintf(final, sizeof final, "%s", acc_or(kt_it_state(done), ""));
        json_decref(done);
    }
    json_t *list = NULL;
    int terminal = 0;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        json_decref(list);
        list = acc_triggered_by(f, fl, ids, n, &terminal);
        if ((int)json_array_size(list) >= want && terminal)
            break;
        kt_it_sleep_ms(100);
    }
    kt_it_sleep_ms(300); /* nothing more comes */
    json_decref(list);
    list = acc_triggered_by(f, fl, ids, n, &terminal);
    if ((int)json_array_size(list) != want || !terminal) {
        acc_say(r, "    %zu execution(s) triggered (%s), expected %d\n", json_array_size(list),
                terminal ? "ended" : "not all ended", want);
        json_decref(list);
        return 0;
    }
    /* the one the last upstream's final state triggered (start dates may tie), else the latest */
    json_t *last = json_array_get(list, json_array_size(list) - 1);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const json_t *tv = json_object_get(json_object_get(e, "trigger"), "variables");
        if (!strcmp(acc_or(json_string_value(json_object_get(tv, "executionId")), ""), ids[n - 1]) &&
            !strcmp(acc_or(json_string_value(json_object_get(tv, "state")), ""), final))
            last = e;
    }
    char id[128];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(last, "id")));
    json_t *ex = kt_it_get_execution(f->it.port, id);
    int ok = ex && acc_check_execution(f, c, ex, id, r);
    json_decref(ex);
    json_decref(list);
    return ok;
}

/* ------------------------------------------------------------------------------------------------ the test */

static void test_acceptance(void **state)
{
    /* The flows live beside the project (../shared), not in it. Without an explicit KITE_ACCEPTANCE_FLOWS, a
     * checkout that has no such folder skips the suite (and says so) instead of failing. */
    {
        fixture *fx = *state;
        struct stat sb;
        const char *fd = getenv("KITE_ACCEPTANCE_FLOWS");
        if ((!fd || !*fd) && stat(fx->flows_dir, &sb) != 0) {
            fprintf(stderr, "acceptance: %s not found: suite skipped (set KITE_ACCEPTANCE_FLOWS)\n", fx->flows_dir);
            skip();
        }
    }
    fixture *f = *state;
    if (f->skipped)
        skip();
    acc_list_flows(f);
    assert_true(f->nflows > 0);

    /* Every flow first; the rejected ones once more at the end (a flow may reference one posted later). */
    for (size_t i = 0; i < f->nflows; i++)
        acc_post_flow(f, &f->flows[i]);
    for (size_t i = 0; i < f->nflows; i++)
        if (f->flows[i].status != 200)
            acc_post_flow(f, &f->flows[i]);

    /* A flow using a type that does not run yet is refused when saved, naming the type. */
    int accepted_unsupported = 0;
    for (size_t i = 0; i < f->nflows; i++) {
        const acc_flow *fl = &f->flows[i];
        if (fl->unsupported[0] && (fl->status != 422 || !strstr(fl->error, "is not supported yet by Kite"))) {
            fprintf(stderr, "acceptance: %s uses types that do not run yet (%s) but POST answered %ld %.300s\n",
                    fl->file, fl->unsupported, fl->status, fl->error);
            accepted_unsupported++;
        }
    }

    /* Every flow file has at least one row: the table is the to-do list. */
    int missing = 0;
    for (size_t i = 0; i < f->nflows; i++) {
        int found = 0;
        for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases && !found; k++)
            found = !strcmp(acc_cases[k].file, f->flows[i].file);
        if (!found) {
            fprintf(stderr, "acceptance: %s has no row in acceptance_cases.h\n", f->flows[i].file);
            missing++;
        }
    }

    const char *only = getenv("KITE_ACCEPTANCE_ONLY");
    const char *all_env = getenv("KITE_ACCEPTANCE_ALL");
    int all = all_env && *all_env && strcmp(all_env, "0");
    const char *to = getenv("KITE_ACCEPTANCE_TIMEOUT_MS");
    int timeout_ms = to && atoi(to) > 0 ? atoi(to) : 20000;

    int run = 0, passed = 0, failed = 0, skipped = 0, xpass = 0;
    for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases; k++) {
        const acc_case *c = &acc_cases[k];
        const char *skip = acc_skip_of(f, c);
        if (only && *only && !strstr(c->file, only) && !(c->kestra_test && strstr(c->kestra_test, only)))
            continue;
        if (skip && !all) {
            skipped++;
            continue;
        }
        acc_report r = {0};
        int ok = acc_run_case(f, c, timeout_ms, &r);
        if (skip) {
            skipped++;
            if (ok) {
                xpass++;
                fprintf(stderr, "acceptance: SKIPPED CASE NOW PASSES %s [%s] (skip: %s)\n", c->file,
                        acc_or(c->kestra_test, ""), skip);
            } else
                fprintf(stderr, "acceptance: skipped case still fails %s [%s] (skip: %s)\n%s", c->file,
                        acc_or(c->kestra_test, ""), skip, r.buf ? r.buf : "");
        } else {
            run++;
            if (ok)
                passed++;
            else {
                failed++;
                fprintf(stderr, "acceptance: FAIL %s [%s]\n%s", c->file, acc_or(c->kestra_test, ""),
                        acc_or(r.buf, ""));
            }
        }
        free(r.buf);
    }
    /* the skipped rows by reason ("KNOWN FAIL: ..." counted as one reason) */
    const char *reasons[64];
    int counts[64], nr = 0;
    for (size_t k = 0; k < sizeof acc_cases / sizeof *acc_cases; k++) {
        const char *sk = acc_skip_of(f, &acc_cases[k]);
        if (!sk || (only && *only && !strstr(acc_cases[k].file, only) &&
                    !(acc_cases[k].kestra_test && strstr(acc_cases[k].kestra_test, only))))
            continue;
        if (!strncmp(sk, "KNOWN FAIL", 10))
            sk = "KNOWN FAIL";
        else if (!strncmp(sk, "not reachable over the API", 26))
            sk = "not reachable over the API";
        int j = 0;
        while (j < nr && strcmp(reasons[j], sk))
            j++;
        if (j == nr && nr < 64) {
            reasons[nr] = sk;
            counts[nr++] = 0;
        }
        if (j < nr)
            counts[j]++;
    }
    for (int j = 0; j < nr; j++)
        fprintf(stderr, "acceptance: skipped %2d  %s\n", counts[j], reasons[j]);
    fprintf(stderr, "acceptance: %d run, %d passed, %d failed, %d skipped%s\n", run, passed, failed, skipped,
            all ? "" : " (KITE_ACCEPTANCE_ALL=1 tries the skipped ones)");
    if (all)
        fprintf(stderr, "acceptance: %d skipped case(s) would pass now\n", xpass);
    const char *lg = getenv("KITE_ACCEPTANCE_LOG");
    if (failed && lg && *lg && strcmp(lg, "0")) {
        kt_it_dump_log(&f->it.server);
        if (f->topo.nprocs)
            kt_it_topology_dump(&f->topo);
    }
    assert_int_equal(missing, 0);
    assert_int_equal(accepted_unsupported, 0);
    assert_int_equal(failed, 0);
}

int main(void)
{
    int backend = kt_it_pg_check(); /* integration/test_acceptance_pg without PostgreSQL: 77 (skip) or 1 */
    if (backend)
        return backend;
    /* Kestra's test configuration has an encryption key (SECRET inputs are refused without one): so does the server */
    setenv("KITE_ENCRYPTION_SECRET_KEY", "I6EGNzRESu3X3pKZidrqCGOHQFUFC0yK", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acceptance, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc == 0 && skipped_all ? 77 : rc;
}
