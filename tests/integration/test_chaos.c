/* Issue 12's chaos loop: the cluster of harness_topology.c on PostgreSQL (one webserver, two executors, two schedulers,
 * one indexer, two workers, each its own process on 127.0.0.1) runs N executions of a 5-task flow and an every-second
 * Schedule while a seeded random executor, scheduler or worker is SIGKILLed and restarted (same arguments, same node id)
 * every few seconds. At the end: every acknowledged execution (the API answered 200 with an id) has ended; each task's
 * trace (each attempt appends "<execution> <taskrun> <attempt> start|end" to a file from a worker's shell) shows no
 * attempt that ran twice, no attempt the task run does not record, its last, SUCCESS attempt run to its end
 * exactly once, and no attempt still running when the next one of its task run started (an executor that takes a
 * partition over adopts the attempts its workers still run: actors/executor/attempts.c); no Schedule tick date is in
 * two executions. It prints the kills per component, the executions, the
 * ticks, each kill's recovery (the process ready again, then the first execution ending after it) and the total time.
 *
 * An execution whose creation the API did not acknowledge (its answer lost with a killed executor: the request waits
 * until the client gives up, 30 s here) is not checked; its attempts in the trace are counted apart.
 *
 * KITE_CHAOS_EXECUTIONS (default 1000), KITE_CHAOS_TASK_MS (each task's nap, default 50), KITE_CHAOS_EVERY_MS (the pause between one kill's recovery and the next kill,
 * default 1500), KITE_CHAOS_SEED (default: the time; printed, a failing run is replayed with it),
 * KITE_CHAOS_KEEP_LOGS (a folder: the components' logs and the trace are copied there before the cleanup). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define CHAOS_MAX_KILLS 512
#define CHAOS_RECOVERY_CAP_MS 30000

static int skipped;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

typedef struct chaos_kill {
    char victim[16];
    int64_t at_ms;      /* since the start of the run */
    int status;         /* the old process's exit status (128 + 9 when the SIGKILL took it) */
    int64_t ready_ms;   /* from the kill until the new process logged "ready", -1 when it did not within the cap */
    int64_t progress_ms; /* from the kill until an execution ended after the new process was ready, -1: none */
} chaos_kill;

typedef struct chaos {
    kt_it_topology *t;
    atomic_int stop;
    unsigned seed;
    long every_ms;
    int64_t t0;
    chaos_kill kills[CHAOS_MAX_KILLS];
    size_t nkills;
} chaos;

static const char *const VICTIMS[] = {"executor", "executor-2", "scheduler", "scheduler-2", "worker-1", "worker-2"};
#define NVICTIMS (sizeof VICTIMS / sizeof *VICTIMS)

/* How many times the component's log says its node was ready (each start appends to the same log). */
static int ready_count(const kt_it_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nprocs; i++) {
        if (strcmp(t->names[i], name))
            continue;
        FILE *f = fopen(t->procs[i].log_path, "r");
        if (!f)
            return 0;
        char line[4096];
        int n = 0;
        while (fgets(line, sizeof line, f))
            n += strstr(line, " ready (actors") != NULL;
        fclose(f);
        return n;
    }
    return 0;
}

/* The executions of flow in state (NULL: any) as executions/search counts them (-1 when it did not answer). */
static long count_of(int port, const char *flow, const char *state)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/search?namespace=chaos&flowId=%s%s%s&size=1", flow,
             state ? "&state=" : "", state ? state : "");
    json_t *page = NULL;
    long n = -1;
    if (kt_it_http_json("GET", port, path, NULL, NULL, &page) == 200 && json_is_integer(json_object_get(page, "total")))
        n = (long)json_integer_value(json_object_get(page, "total"));
    json_decref(page);
    return n;
}

static void chaos_sleep(chaos *c, int64_t ms)
{
    for (int64_t end = now_ms() + ms; !atomic_load(&c->stop) && now_ms() < end;)
        kt_it_sleep_ms(50);
}

/* The killer: until c->stop, a random victim every every_ms after the last one recovered; kills, restarts, measures. */
static void chaos_main(chaos *c)
{
    chaos_sleep(c, c->every_ms);
    while (!atomic_load(&c->stop) && c->nkills < CHAOS_MAX_KILLS) {
        chaos_kill *k = &c->kills[c->nkills];
        const char *victim = VICTIMS[rand_r(&c->seed) % NVICTIMS];
        snprintf(k->victim, sizeof k->victim, "%s", victim);
        int ready_before = ready_count(c->t, victim);
        int64_t kill_at = now_ms();
        k->at_ms = kill_at - c->t0;
        k->status = kt_it_topology_restart(c->t, victim, SIGKILL);
        k->ready_ms = k->progress_ms = -1;
        c->nkills++;
        fprintf(stderr, "chaos: %6.1f s  SIGKILL %s (status %d), restarted\n", (double)k->at_ms / 1000, victim,
                k->status);
        long base = -1;
        while (now_ms() - kill_at < CHAOS_RECOVERY_CAP_MS && !atomic_load(&c->stop)) {
            if (k->ready_ms < 0 && ready_count(c->t, victim) > ready_before) {
                k->ready_ms = now_ms() - kill_at;
                base = count_of(c->t->port, "five", "SUCCESS");
            } else if (k->ready_ms >= 0) {
                long n = count_of(c->t->port, "five", "SUCCESS");
                if (base >= 0 && n > base) {
                    k->progress_ms = now_ms() - kill_at;
                    break;
                }
                if (base < 0)
                    base = n;
            }
            kt_it_sleep_ms(100);
        }
        if (k->ready_ms < 0 && atomic_load(&c->stop))
            k->ready_ms = -2; /* the run ended first: not counted */
        fprintf(stderr, "chaos: %s ready after %lld ms, executions ending again after %lld ms\n", victim,
                (long long)k->ready_ms, (long long)k->progress_ms);
        chaos_sleep(c, c->every_ms);
    }
}

/* ---- the flows ---- */

/* Each task: a start line, a nap (KITE_CHAOS_TASK_MS, default 50: kills land in running scripts), an end line. */
static char *five_yaml(const char *trace)
{
    char nap[32];
    snprintf(nap, sizeof nap, "%.3f", (double)env_long("KITE_CHAOS_TASK_MS", 50) / 1000);
    static const char head[] = "id: five\nnamespace: chaos\ntasks:\n";
    char *y = malloc(8192);
    size_t n = (size_t)snprintf(y, 8192, "%s", head);
    for (int i = 1; i <= 5; i++)
        n += (size_t)snprintf(y + n, 8192 - n,
                              "  - id: t%d\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands:\n"
                              "      - echo \"{{ execution.id }} {{ taskrun.id }} {{ taskrun.attemptsCount }} start\" >> %s\n"
                              "      - sleep %s\n"
                              "      - echo \"{{ execution.id }} {{ taskrun.id }} {{ taskrun.attemptsCount }} end\" >> %s\n",
                              i, trace, nap, trace);
    return y;
}

static const char TICKER[] = "id: ticker\nnamespace: chaos\ntasks:\n"
                             "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: tick {{ trigger.date }}\n"
                             "triggers:\n  - id: every\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                             "    cron: \"* * * * * *\"\n    withSeconds: true\n";

/* ---- the trace ---- */

typedef struct trace_ent {
    char key[160]; /* "<execution> <taskrun> <attempt>" */
    int starts, ends, seen;
    size_t first_start, last_end; /* line numbers (from 1; 0: none): the file's order is the order of the appends */
} trace_ent;

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const trace_ent *)a)->key, ((const trace_ent *)b)->key);
}

/* The trace file's lines, one entry per attempt (sorted by key), their starts and ends counted. */
static trace_ent *trace_load(const char *path, size_t *out_n)
{
    FILE *f = fopen(path, "r");
    size_t cap = 1024, n = 0;
    trace_ent *all = calloc(cap, sizeof *all);
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char ex[64], tr[64], what[16];
        int att;
        if (sscanf(line, "%63s %63s %d %15s", ex, tr, &att, what) != 4)
            fail_msg("trace: unreadable line [%s]", line);
        if (n == cap)
            all = realloc(all, (cap *= 2) * sizeof *all);
        memset(&all[n], 0, sizeof all[n]);
        snprintf(all[n].key, sizeof all[n].key, "%s %s %d", ex, tr, att);
        all[n].starts = !strcmp(what, "start");
        all[n].ends = !strcmp(what, "end");
        all[n].first_start = all[n].starts ? n + 1 : 0;
        all[n].last_end = all[n].ends ? n + 1 : 0;
        n++;
    }
    if (f)
        fclose(f);
    qsort(all, n, sizeof *all, ent_cmp);
    size_t m = 0; /* merge the lines of one attempt */
    for (size_t i = 0; i < n; i++) {
        if (m && !strcmp(all[m - 1].key, all[i].key)) {
            all[m - 1].starts += all[i].starts;
            all[m - 1].ends += all[i].ends;
            if (all[i].first_start && (!all[m - 1].first_start || all[i].first_start < all[m - 1].first_start))
                all[m - 1].first_start = all[i].first_start;
            if (all[i].last_end > all[m - 1].last_end)
                all[m - 1].last_end = all[i].last_end;
        } else {
            all[m++] = all[i];
        }
    }
    *out_n = m;
    return all;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static trace_ent *trace_find(trace_ent *all, size_t n, const char *ex, const char *tr, size_t att)
{
    trace_ent k;
    snprintf(k.key, sizeof k.key, "%s %s %zu", ex, tr, att);
    return bsearch(&k, all, n, sizeof *all, ent_cmp);
}

typedef struct verdict {
    size_t success, other, taskruns, attempts, lost_attempts, lost_ended, overlaps, bad;
} verdict;

/* One execution against the trace: each task run's attempts, the last one SUCCESS and run to its end once. */
static void check_execution(const json_t *ex, trace_ent *tr, size_t ntr, verdict *v)
{
    const char *id = json_string_value(json_object_get(ex, "id"));
    const char *st = kt_it_state(ex);
    if (strcmp(st, "SUCCESS")) {
        v->other++;
        fprintf(stderr, "chaos: execution %s ended %s\n", id, st);
    } else {
        v->success++;
    }
    json_t *runs = json_object_get(ex, "taskRunList"), *run;
    size_t i;
    if (!strcmp(st, "SUCCESS") && json_array_size(runs) != 5) {
        fprintf(stderr, "chaos: execution %s: %zu task runs, want 5\n", id, json_array_size(runs));
        v->bad++;
    }
    json_array_foreach(runs, i, run) {
        const char *trid = json_string_value(json_object_get(run, "id"));
        json_t *atts = json_object_get(run, "attempts");
        size_t n = json_array_size(atts);
        v->taskruns++;
        v->attempts += n;
        for (size_t a = 0; a < n; a++) {
            const char *ast = kt_it_state(json_array_get(atts, a));
            trace_ent *e = trace_find(tr, ntr, id, trid, a);
            int starts = e ? e->starts : 0, ends = e ? e->ends : 0;
            if (e)
                e->seen = 1;
            int last = a + 1 == n;
            if (!last)
                v->lost_attempts++;
            if (!last && ends)
                v->lost_ended++; /* ran to its end, but its result did not count (a worker or executor killed) */
            /* still running when the next attempt started: two live attempts of one task run at once */
            trace_ent *next = last ? NULL : trace_find(tr, ntr, id, trid, a + 1);
            if (e && next && next->first_start && e->first_start && e->first_start < next->first_start &&
                (!e->last_end || e->last_end > next->first_start))
                v->overlaps += e->last_end != 0; /* an attempt with no end may have been killed any time: not counted */
            int ok = starts <= 1 && ends <= 1 && ends <= starts;
            if (last && !strcmp(kt_it_state(run), "SUCCESS"))
                ok = ok && ends == 1 && !strcmp(ast ? ast : "", "SUCCESS");
            if (!last)
                ok = ok && ast && strcmp(ast, "SUCCESS") && strcmp(ast, "RUNNING");
            if (!ok) {
                v->bad++;
                fprintf(stderr, "chaos: %s task run %s (%s) attempt %zu/%zu %s: %d start(s), %d end(s) in the trace\n",
                        id, trid, json_string_value(json_object_get(run, "taskId")), a, n, ast ? ast : "?", starts,
                        ends);
            }
        }
    }
}

/* Every tick of the ticker: no date twice. Returns how many executions it made. */
static size_t check_ticks(int port, size_t *dups)
{
    size_t n = 0, cap = 256;
    char(*dates)[64] = calloc(cap, sizeof *dates);
    for (int page = 1; page < 100; page++) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/executions/search?namespace=chaos&flowId=ticker&size=100&page=%d", page);
        json_t *res = NULL;
        assert_int_equal(kt_it_http_json("GET", port, path, NULL, NULL, &res), 200);
        json_t *list = json_object_get(res, "results"), *ex;
        size_t i;
        json_array_foreach(list, i, ex) {
            const char *date = json_string_value(
                json_object_get(json_object_get(json_object_get(ex, "trigger"), "variables"), "date"));
            assert_non_null(date);
            if (n == cap)
                dates = realloc(dates, (cap *= 2) * sizeof *dates);
            snprintf(dates[n++], sizeof dates[0], "%s", date);
        }
        size_t got = json_array_size(list);
        json_decref(res);
        if (got < 100)
            break;
    }
    *dups = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (!strcmp(dates[i], dates[k])) {
                fprintf(stderr, "chaos: tick %s fired twice\n", dates[i]);
                (*dups)++;
            }
    free(dates);
    return n;
}

/* Waits (bounded) until each execution is terminal; returns how many are not. The ids are polled in order, the
 * ended ones dropped: the executions end roughly in the order they were made. */
static size_t wait_all_ended(int port, char (*ids)[64], size_t n, int64_t cap_ms)
{
    char(*left)[64] = malloc(n * sizeof *left);
    memcpy(left, ids, n * sizeof *left);
    size_t nleft = n;
    int64_t end = now_ms() + cap_ms;
    while (nleft && now_ms() < end) {
        size_t keep = 0, polled = 0;
        for (size_t i = 0; i < nleft; i++) {
            int ended = 0;
            if (polled < 50) {
                json_t *ex = kt_it_get_execution(port, left[i]);
                const char *st = ex ? kt_it_state(ex) : NULL;
                ended = st && (!strcmp(st, "SUCCESS") || !strcmp(st, "FAILED") || !strcmp(st, "KILLED") ||
                               !strcmp(st, "WARNING") || !strcmp(st, "CANCELLED"));
                json_decref(ex);
                polled += !ended;
            }
            if (!ended)
                memmove(left[keep++], left[i], sizeof left[0]);
        }
        nleft = keep;
        if (nleft)
            kt_it_sleep_ms(500);
    }
    for (size_t i = 0; i < nleft && i < 20; i++)
        fprintf(stderr, "chaos: execution %s has not ended\n", left[i]);
    free(left);
    return nleft;
}

/* The submitting side: N executions through the API, then the wait for their ends; it sets c->stop. No cmocka
 * assertion here (another thread). */
typedef struct submitter {
    chaos *c;
    long want;
    char (*ids)[64];
    size_t acked, refused, left;
    int64_t submitted_ms;
} submitter;

static void *submit_main(void *arg)
{
    submitter *s = arg;
    for (long i = 0; i < s->want; i++) {
        json_t *res = NULL;
        const char *none[] = {NULL};
        long st = kt_it_post_form(s->c->t->port, "/api/v1/executions/chaos/five", none, &res);
        const char *id = json_string_value(json_object_get(res, "id"));
        if (st == 200 && id)
            snprintf(s->ids[s->acked++], sizeof s->ids[0], "%s", id);
        else if (s->refused++ < 10)
            fprintf(stderr, "chaos: %6.1f s  submission %ld answered %ld\n", (double)(now_ms() - s->c->t0) / 1000, i,
                    st);
        json_decref(res);
    }
    s->submitted_ms = now_ms() - s->c->t0;
    fprintf(stderr, "chaos: %zu acknowledged, %zu refused in %.1f s\n", s->acked, s->refused,
            (double)s->submitted_ms / 1000);
    /* the kills go on while executions run; once they all ended (or 10 minutes passed) they stop */
    s->left = wait_all_ended(s->c->t->port, s->ids, s->acked, 600000);
    atomic_store(&s->c->stop, 1);
    return NULL;
}

static void test_chaos(void **state)
{
    (void)state;
    long want = env_long("KITE_CHAOS_EXECUTIONS", 1000);
    if (want < 1)
        want = 1;
    chaos *c = calloc(1, sizeof *c);
    c->every_ms = env_long("KITE_CHAOS_EVERY_MS", 1500);
    c->seed = (unsigned)env_long("KITE_CHAOS_SEED", (long)time(NULL));
    unsigned seed = c->seed;
    kt_it_topology t;
    setenv("KITE_IT_TOPO_EXECUTORS", "2", 1);
    setenv("KITE_IT_TOPO_SCHEDULERS", "2", 1);
    int rc = kt_it_topology_start(&t, 1);
    if (rc == 77) {
        skipped = 1;
        free(c);
        skip();
    }
    assert_int_equal(rc, 0);
    char trace[512];
    snprintf(trace, sizeof trace, "%s/trace", t.dir);
    char *five = five_yaml(trace);
    kt_it_create_flow(t.port, five, NULL);
    free(five);
    kt_it_create_flow(t.port, TICKER, NULL);
    fprintf(stderr, "chaos: seed %u, %ld executions, a kill every %ld ms after the last recovered\n", seed, want,
            c->every_ms);

    /* the submissions and the wait for their ends in a thread, the kills here: a child's PR_SET_PDEATHSIG (harness.c)
     * fires when the thread that forked it ends, so every process is started by the thread that outlives them */
    c->t = &t;
    c->t0 = now_ms();
    submitter sub = {.c = c, .want = want, .ids = calloc((size_t)want, sizeof *sub.ids)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, submit_main, &sub), 0);
    chaos_main(c);
    pthread_join(th, NULL);
    int64_t chaos_ms = now_ms() - c->t0;
    char(*ids)[64] = sub.ids;
    size_t acked = sub.acked, refused = sub.refused, left = sub.left;
    int64_t submitted_ms = sub.submitted_ms;
    if (left) /* what the kills left behind: the cluster, now quiet, gets another two minutes */
        left = wait_all_ended(t.port, ids, acked, 120000);
    int64_t total_ms = now_ms() - c->t0;
    const char *keep = getenv("KITE_CHAOS_KEEP_LOGS"); /* a folder to copy the components' logs into */
    if (keep && *keep) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp %s/*.log %s '%s'/", keep, t.dir, trace, keep);
        if (system(cmd) != 0)
            fprintf(stderr, "chaos: could not copy the logs to %s\n", keep);
    }

    /* the verdict */
    size_t ntr = 0;
    trace_ent *tr = trace_load(trace, &ntr);
    verdict v = {0};
    for (size_t i = 0; i < acked; i++) {
        json_t *ex = kt_it_get_execution(t.port, ids[i]);
        if (!ex) {
            fprintf(stderr, "chaos: execution %s not found\n", ids[i]);
            v.bad++;
            continue;
        }
        check_execution(ex, tr, ntr, &v);
        json_decref(ex);
    }
    /* a trace no acknowledged execution records: an attempt it does not know (a failure), or an execution whose
     * creation the API never acknowledged (its answer lost with a killed executor: counted, not a failure) */
    char(*sorted)[64] = malloc((acked ? acked : 1) * sizeof *sorted);
    memcpy(sorted, ids, acked * sizeof *sorted);
    qsort(sorted, acked, sizeof *sorted, id_cmp);
    size_t unrecorded = 0, unacked_runs = 0;
    for (size_t i = 0; i < ntr; i++) {
        if (tr[i].seen)
            continue;
        char exid[64];
        sscanf(tr[i].key, "%63s", exid);
        if (!bsearch(exid, sorted, acked, sizeof *sorted, id_cmp)) {
            unacked_runs++;
        } else if (unrecorded++ < 20) {
            fprintf(stderr, "chaos: trace of an attempt its execution does not record: %s (%d start, %d end)\n",
                    tr[i].key, tr[i].starts, tr[i].ends);
        }
    }
    free(sorted);
    free(tr);
    size_t dups = 0, ticks = check_ticks(t.port, &dups);

    /* the numbers */
    size_t per[NVICTIMS] = {0};
    int64_t ready_max = 0, ready_sum = 0, prog_max = 0, prog_sum = 0;
    size_t nready = 0, nprog = 0, unrecovered = 0;
    for (size_t i = 0; i < c->nkills; i++) {
        chaos_kill *k = &c->kills[i];
        for (size_t j = 0; j < NVICTIMS; j++)
            per[j] += !strcmp(k->victim, VICTIMS[j]);
        if (k->ready_ms >= 0) {
            nready++;
            ready_sum += k->ready_ms;
            ready_max = k->ready_ms > ready_max ? k->ready_ms : ready_max;
        } else if (k->ready_ms == -1) {
            unrecovered++;
        }
        if (k->progress_ms >= 0) {
            nprog++;
            prog_sum += k->progress_ms;
            prog_max = k->progress_ms > prog_max ? k->progress_ms : prog_max;
        }
    }
    fprintf(stderr, "chaos: kills %zu (", c->nkills);
    for (size_t j = 0; j < NVICTIMS; j++)
        fprintf(stderr, "%s%s %zu", j ? ", " : "", VICTIMS[j], per[j]);
    fprintf(stderr, "), seed %u\n", seed);
    fprintf(stderr,
            "chaos: executions %zu acknowledged (%zu refused), %zu SUCCESS, %zu other, %zu not ended; task runs %zu, "
            "attempts %zu (%zu lost to a kill, %zu of them ran to their end anyway); trace problems %zu, attempts traced "
            "but not recorded %zu, attempts of unacknowledged executions %zu; an attempt that ended after the next one "
            "started %zu\n",
            acked, refused, v.success, v.other, left, v.taskruns, v.attempts, v.lost_attempts, v.lost_ended, v.bad,
            unrecorded, unacked_runs, v.overlaps);
    fprintf(stderr, "chaos: ticks %zu, fired twice %zu\n", ticks, dups);
    fprintf(stderr,
            "chaos: recovery: ready again avg %lld ms max %lld ms (%zu never within %d ms); executions ending again "
            "avg %lld ms max %lld ms (%zu measured)\n",
            (long long)(nready ? ready_sum / (int64_t)nready : 0), (long long)ready_max, unrecovered,
            CHAOS_RECOVERY_CAP_MS, (long long)(nprog ? prog_sum / (int64_t)nprog : 0), (long long)prog_max, nprog);
    fprintf(stderr, "chaos: submitted in %.1f s, kills for %.1f s, all ended at %.1f s\n", (double)submitted_ms / 1000,
            (double)chaos_ms / 1000, (double)total_ms / 1000);
    size_t nkills = c->nkills;
    free(c);
    free(ids);
    if (left || v.bad || v.other || unrecorded || dups || v.overlaps)
        kt_it_topology_dump(&t);
    assert_true(acked > 0);
    assert_true(nkills > 0);
    assert_int_equal(left, 0);
    assert_int_equal(v.bad, 0);
    assert_int_equal(v.other, 0);
    assert_int_equal(unrecorded, 0);
    assert_int_equal(v.overlaps, 0); /* no task run had two live attempts */
    assert_int_equal(dups, 0);
    assert_true(ticks > 0);
    assert_int_equal(kt_it_topology_stop(&t), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL); /* before the killer thread: curl_easy_init would do it in either thread */
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_chaos)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return skipped ? 77 : failed;
}
