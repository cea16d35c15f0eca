/* `kite server local` and `kite worker`: both run one node (loop, actors, links) with the actors asked for, read
 * their settings (defaults < config file < KITE_* environment < flags), and stop in order on SIGINT/SIGTERM. */
#include "actors/executor/executor.h"
#include "actors/indexer/indexer.h"
#include "actors/scheduler/scheduler.h"
#include "time/tz.h"
#include "actors/worker/worker.h"
#include "base/log.h"
#include "base/secrets.h"
#include "flow/dialect.h"
#include "cmd/cli.h"
#include "conf/conf.h"
#include "runtime/node.h"
#include "store/datadir.h"
#include "store/db_pool.h"
#include "store/storage.h"
#include "store/store.h"
#include "web/api.h"

#include <getopt.h>
#include <nng/nng.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

typedef struct kt_main {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    kt_node *node;
    kt_store *store;
    kt_db_pool *pool; /* the webserver's store reads (store/db_pool.h) */
    kt_executor *executor;
    kt_indexer *indexer;
    kt_scheduler *scheduler;
    kt_worker *worker;
    kt_webserver *web;
    kt_datadir_lock *lock;       /* the data directory's */
    kt_datadir_lock *store_lock; /* an SQLite store's directory when it is not the data directory */
    kt_storage *storage;
    int stopping, storage_closed;
    /* a scheduler without an executor in its process starts once one is reachable (kt_main_sched_wait) */
    uv_timer_t sched_wait;
    int sched_waiting;
    kt_scheduler_options sched_opts;
} kt_main;

typedef struct kt_opts {
    int port;
    const char *host;
    const char *data;
    const char *store; /* --store / store.url: a postgres:// URL or an SQLite directory; NULL = the data directory */
    const char *listen;
    const char *join;
    const char *actors;
    const char *role;  /* the server command: local, standalone, executor, ... (NULL: `kite worker`) */
    int no_worker;     /* standalone --worker-thread 0 */
    int no_indexer;    /* standalone --no-indexer */
    const char *node_id;
    uint32_t slots;
    uint32_t heartbeat_ms;
    uint32_t liveness_ms;
    int sync_full;
    int readers; /* store.readers */
    kt_log_index log_index;        /* conf store.log-index */
    const json_t *plugin_defaults; /* conf plugins.defaults, or NULL */
    const char *sched_zone;        /* conf scheduler.timezone, NULL = UTC */
    kt_sched_recover sched_recover;
    uint32_t sched_reconcile_ms;   /* conf scheduler.reconcile-interval */
    const kt_conf *conf;           /* the storage settings (storage.*) */
} kt_opts;

static void kt_main_stop_sched_wait(kt_main *m)
{
    if (!m->sched_waiting)
        return;
    m->sched_waiting = 0;
    uv_close((uv_handle_t *)&m->sched_wait, NULL);
}

static void kt_main_shutdown(kt_main *m, const char *why)
{
    if (m->stopping)
        return;
    m->stopping = 1;
    KT_INFO("main", "%s: shutting down", why);
    kt_main_stop_sched_wait(m);
    kt_node_stop(m->node);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
}

static void kt_main_on_signal(uv_signal_t *h, int signum)
{
    kt_main_shutdown(h->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void kt_main_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        KT_WARN("main", "handle of type %s still open at exit: closing it", uv_handle_type_name(h->type));
        uv_close(h, NULL);
    }
}

static void kt_main_storage_closed(void *data) { ((kt_main *)data)->storage_closed = 1; }

/* The storage frees itself once its last call, reader and writer is gone: the loop runs until then. */
static void kt_main_close_storage(kt_main *m)
{
    if (!m->storage)
        return;
    kt_storage_close(m->storage, kt_main_storage_closed, m);
    while (!m->storage_closed && uv_run(&m->loop, UV_RUN_ONCE))
        ;
    if (!m->storage_closed)
        KT_ERROR("main", "the storage did not close: a reader or a writer was never released");
    m->storage = NULL;
}

static int kt_has_actor(const char *list, const char *name) { return kt_node_actors_has(list, name, strlen(name)); }

/* A scheduler in a process without an executor (`kite server scheduler`) starts once an executor is reachable: the
 * executions its first ticks make (missed schedules recovered at start) are handed over instead of waiting in the store
 * for the executor's next start. */
static void kt_main_sched_wait(uv_timer_t *t)
{
    kt_main *m = t->data;
    if (m->stopping || !kt_node_reachable(m->node, KT_EXECUTOR_ACTOR))
        return;
    kt_main_stop_sched_wait(m);
    if (kt_scheduler_start(m->node, m->store, &m->sched_opts, &m->scheduler)) {
        KT_ERROR("main", "the scheduler did not start");
        kt_main_shutdown(m, "scheduler");
        return;
    }
    KT_INFO("main", "scheduler started: an executor is reachable");
}

static int kt_check_actors(const char *list)
{
    static const char *const known[] = {"executor", "worker", "webserver", "scheduler", "indexer"};
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            ok |= strlen(known[i]) == l && !strncmp(known[i], p, l);
        if (!ok) {
            fprintf(stderr, "kite: unknown actor '%.*s' in --actors (known: executor, worker, webserver, scheduler, indexer)\n", (int)l, p);
            return -1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* The internal storage the configuration names: local (storage.local.base-path, default <data>/storage) or S3. */
static int kt_open_storage(const kt_opts *o, uv_loop_t *loop, kt_storage **out)
{
    const kt_conf *c = o->conf;
    char err[512] = "";
    kt_status st;
    if (c && !strcmp(c->storage_type, "s3")) {
        kt_storage_s3_config sc = {.endpoint = c->s3_endpoint, .region = c->s3_region, .bucket = c->s3_bucket,
                                   .access_key = c->s3_access_key, .secret_key = c->s3_secret_key,
                                   .prefix = c->s3_prefix, .force_path_style = c->s3_force_path_style,
                                   .part_size = c->s3_part_size};
        st = kt_storage_s3_open(loop, &sc, out, err, sizeof err);
        if (!st)
            KT_INFO("main", "storage: S3 bucket %s%s%s%s%s", c->s3_bucket, c->s3_prefix[0] ? ", prefix " : "",
                    c->s3_prefix, c->s3_endpoint[0] ? " at " : "", c->s3_endpoint);
    } else if (c && strcmp(c->storage_type, "local")) {
        fprintf(stderr, "kite: configuration: storage.type: '%s' is not local or s3\n", c->storage_type);
        return -1;
    } else {
        char dir[4096];
        if (c && c->storage_base_path[0])
            snprintf(dir, sizeof dir, "%s", c->storage_base_path);
        else
            snprintf(dir, sizeof dir, "%s/storage", o->data);
        st = kt_storage_local_open(loop, dir, out, err, sizeof err);
    }
    if (st) {
        fprintf(stderr, "kite: storage: %s\n", err);
        return -1;
    }
    return 0;
}

/* GET /api/v1/configs' "uuid": Kestra keeps one per instance in its settings table; Kite keeps it in the data
 * directory, made on the first start. Empty when neither reading nor writing works (the answer still comes). */
static void kt_instance_uuid(const char *dir, char *out, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/instance-uuid", dir);
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\r\n")] = 0;
        fclose(f);
        if (strlen(out) == 36)
            return;
    }
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    if ((f = fopen(path, "w"))) {
        fprintf(f, "%s\n", out);
        fclose(f);
    }
}

/* KITE_TEST_SHARED_SQLITE=1, for the integration tests only: the component processes (`kite server executor`...)
 * share one SQLite directory (WAL, one machine) instead of PostgreSQL, and nothing locks it. Not for production:
 * nothing else guarantees a single writer there. */
static int kt_test_shared_sqlite(void)
{
    const char *v = getenv("KITE_TEST_SHARED_SQLITE");
    return v && !strcmp(v, "1");
}

/* The repository: PostgreSQL at --store's URL, or SQLite in a directory (--store sqlite://DIR or DIR, by default
 * the data directory). The data directory's lock keeps a second process off the files it holds (SQLite's kite.db,
 * the local storage): it is taken unless the store is PostgreSQL and the storage S3, where it holds nothing shared.
 * An SQLite store elsewhere gets its directory locked as well. Only the redacted URL is ever printed. */
static int kt_open_store(const kt_opts *o, kt_main *m)
{
    char err[512] = "", shown[1024];
    const char *where = o->store && *o->store ? o->store : o->data;
    int pg = kt_store_is_url_postgres(where);
    int local_storage = !o->conf || strcmp(o->conf->storage_type, "s3") != 0;
    kt_store_redact(where, shown, sizeof shown);
    if ((!pg || local_storage) && kt_datadir_lock_take(o->data, &m->lock, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        return -1;
    }
    char plain[2048]; /* without the read pool's ?readers= */
    kt_store_url_take(where, "readers", NULL, 0, plain, sizeof plain);
    const char *dir = !strncmp(plain, "sqlite://", 9) ? plain + 9 : plain;
    if (!pg && strcmp(dir, o->data) && !kt_test_shared_sqlite() &&
        kt_datadir_lock_take(dir, &m->store_lock, err, sizeof err)) {
        fprintf(stderr, "kite: %s\n", err);
        return -1;
    }
    kt_store_options so = {.sync_full = o->sync_full, .log_index = o->log_index};
    if (kt_store_open(where, &so, &m->store, err, sizeof err)) {
        fprintf(stderr, "kite: store %s: %s\n", shown, err);
        return -1;
    }
    if (pg)
        KT_INFO("main", "store: PostgreSQL at %s", shown);
    else
        KT_INFO("main", "store: SQLite in %s/kite.db%s", dir, o->sync_full ? " (synchronous=FULL)" : "");
    return 0;
}

extern char **environ;

/* The secrets (SECRET_*) and envs (variables.env-vars-prefix) of this process, read once here, the layer that owns
 * the environment, and installed for every render (base/secrets.h). */
static kt_secrets *kt_load_secrets(const kt_opts *o)
{
    const kt_conf *c = o->conf;
    char *warn = NULL;
    kt_secrets *s = kt_secrets_new(environ, c ? c->env_vars_prefix : NULL, c ? c->encryption_key : NULL, &warn);
    if (warn) /* Kestra's SecretService logs these and goes on without them */
        KT_ERROR("main", "could not decode secret(s) %s: make sure they are base64-encoded", warn);
    free(warn);
    kt_secrets_install(s);
    return s;
}

static int kt_run_node(const kt_opts *o, const char *actors)
{
    kt_secrets *secrets = kt_load_secrets(o);
    kt_main m;
    memset(&m, 0, sizeof m);
    int rc = 1;
    char err[512] = "";
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&m.loop);
    int want_exec = kt_has_actor(actors, "executor"), want_worker = kt_has_actor(actors, "worker"),
        want_web = kt_has_actor(actors, "webserver"), want_sched = kt_has_actor(actors, "scheduler"),
        want_index = kt_has_actor(actors, "indexer");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t slots = o->slots ? o->slots : (uint32_t)(cores > 0 ? cores * 4 : 4);
    kt_node_config nc = {.node_id = o->node_id, .worker_slots = want_worker ? slots : 0, .heartbeat_ms = o->heartbeat_ms,
                         .liveness_timeout_ms = o->liveness_ms};
    if (kt_node_new(&m.loop, &nc, &m.node))
        goto out;
    kt_log_set_node(kt_node_id(m.node)); /* a cluster's processes write to merged logs: each line names its node */
    if ((want_exec || want_web || want_sched || want_index) && kt_open_store(o, &m))
        goto out;
    if ((want_exec || want_web || want_worker) && kt_open_storage(o, &m.loop, &m.storage))
        goto out;
    if (want_worker) {
        char venvs[1100]; /* python tasks' dependency environments: worker.python.venvs, or in the data folder */
        snprintf(venvs, sizeof venvs, "%s/python-venvs", o->data);
        kt_worker_config wc = {.slots = slots, .storage = m.storage,
                               .python_venvs = o->conf && o->conf->python_venvs[0] ? o->conf->python_venvs : venvs,
                               .python_find_links = o->conf ? o->conf->python_find_links : NULL};
        if (kt_worker_start(m.node, &wc, &m.worker))
            goto out;
        KT_INFO("main", "worker: %u slots", kt_worker_slots(m.worker));
    }
    if (want_exec) {
        kt_executor_options eo = {.plugin_defaults = o->plugin_defaults, .storage = m.storage};
        eo.lease_ttl_ms = o->liveness_ms; /* a dead executor's partitions move within the liveness timeout */
        eo.remote_workers = o->listen || o->join; /* alone, the only worker is this process's */
        if (kt_executor_start(m.node, m.store, &eo, &m.executor))
            goto out;
        if (m.worker) {
            char addr[KT_ADDR_MAX];
            snprintf(addr, sizeof addr, "%s@%s", KT_WORKER_ACTOR, kt_node_id(m.node));
            kt_executor_add_worker(m.executor, addr, kt_node_id(m.node), kt_worker_slots(m.worker));
        }
    }
    /* after the executor, so it stops before it (in reverse order): the executor's last commit then writes its own
     * last lines after the ones the indexer held (kt_executor_flush) */
    if (want_index && kt_indexer_start(m.node, m.store, NULL, &m.indexer))
        goto out;
    m.sched_opts = (kt_scheduler_options){.plugin_defaults = o->plugin_defaults, .default_zone = o->sched_zone,
                                          .recover = o->sched_recover,
                                          .reconcile_interval_us = (int64_t)o->sched_reconcile_ms * 1000};
    if (want_sched && (want_exec || (!o->listen && !o->join))) {
        /* after the executor: it has resumed what was unfinished before the first tick is handed over */
        if (kt_scheduler_start(m.node, m.store, &m.sched_opts, &m.scheduler))
            goto out;
    } else if (want_sched) {
        uv_timer_init(&m.loop, &m.sched_wait);
        m.sched_wait.data = &m;
        m.sched_waiting = 1;
        uv_timer_start(&m.sched_wait, kt_main_sched_wait, 50, 100);
        KT_INFO("main", "scheduler: waits for an executor to be reachable");
    }
    if (want_web) {
        /* the webserver's reads run on the pool's threads, so a slow query never stalls the loop */
        kt_db_pool_options po = {.readers = o->readers, .loop_store = m.store}; /* SQLite's writes: inline */
        const char *where = o->store && *o->store ? o->store : o->data;
        if (kt_db_pool_open(&m.loop, where, &po, &m.pool, err, sizeof err)) {
            kt_store_scrub(where, err, sizeof err);
            fprintf(stderr, "kite: store readers: %s\n", err);
            goto out;
        }
        char uuid[40];
        kt_instance_uuid(o->data, uuid, sizeof uuid);
        const kt_conf *c = o->conf;
        kt_webserver_config wc = {.host = o->host, .port = o->port, .plugin_defaults = o->plugin_defaults,
                                  .default_zone = o->sched_zone, .default_recover = o->sched_recover,
                                  .storage = m.storage, .instance_uuid = uuid, .data_dir = o->data,
                                  .pool = m.pool};
        if (c) {
            wc.max_request_size = c->max_request_size;
            wc.read_idle_timeout_ms = c->read_idle_timeout_ms;
            wc.basic_auth_enabled = c->basic_auth_enabled;
            wc.basic_auth_username = c->basic_auth_username;
            wc.basic_auth_password = c->basic_auth_password;
            wc.basic_auth_realm = c->basic_auth_realm;
            wc.basic_auth_open_urls = c->basic_auth_open_urls;
            wc.management_port = c->management_port;
            wc.environment_name = c->environment_name;
            wc.environment_color = c->environment_color;
        }
        if (kt_webserver_start(m.node, m.store, &wc, &m.web, err, sizeof err)) {
            fprintf(stderr, "kite: %s\n", err);
            goto out;
        }
        KT_INFO("main", "API on http://%s:%d/api/v1%s", o->host, kt_webserver_port(m.web),
                c && c->basic_auth_enabled ? " (basic auth)" : " (no authentication: every route is open)");
        if (c && c->management_port)
            KT_INFO("main", "management endpoints (/health, /version) on http://%s:%d", o->host, c->management_port);
    }
    if (o->listen && kt_node_listen(m.node, o->listen, err, sizeof err)) {
        fprintf(stderr, "kite: --listen: %s\n", err);
        goto out;
    }
    if (o->join && kt_node_join(m.node, o->join, err, sizeof err)) {
        fprintf(stderr, "kite: --join: %s\n", err);
        goto out;
    }
    KT_INFO("main", "node %s ready (actors: %s%s%s%s%s)", kt_node_id(m.node), actors, o->listen ? ", listening on " : "",
            o->listen ? o->listen : "", o->join ? ", joining " : "", o->join ? o->join : "");
    uv_signal_init(&m.loop, &m.sigint);
    uv_signal_init(&m.loop, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start(&m.sigint, kt_main_on_signal, SIGINT);
    uv_signal_start(&m.sigterm, kt_main_on_signal, SIGTERM);
    uv_run(&m.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    kt_main_stop_sched_wait(&m);
    if (!m.stopping && m.node) {
        m.stopping = 1;
        kt_node_stop(m.node);
        uv_run(&m.loop, UV_RUN_DEFAULT);
    }
    kt_db_pool_close(m.pool); /* the stopping loop waited for the reads under way: normally nothing is left */
    kt_webserver_free(m.web); /* may run the loop to finish closing connections */
    uv_run(&m.loop, UV_RUN_DEFAULT);
    kt_main_close_storage(&m); /* after the webserver: its downloads and uploads have let go of their files */
    if (uv_loop_close(&m.loop) != 0) {
        uv_walk(&m.loop, kt_main_close_walk, NULL);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&m.loop) != 0) {
            KT_ERROR("main", "the loop did not close cleanly");
            rc = 1;
        }
    }
    kt_worker_free(m.worker);
    kt_node_free(m.node);
    kt_store_close(m.store);
    kt_datadir_lock_release(m.store_lock);
    kt_datadir_lock_release(m.lock); /* last: nothing writes to the directory after this */
    nng_fini();
    kt_secrets_install(NULL);
    kt_secrets_free(secrets);
    if (rc == 0)
        KT_INFO("main", "stopped");
    return rc;
}

static int kt_parse_opts(int argc, char **argv, kt_opts *o)
{
    static const struct option longs[] = {
        {"port", required_argument, 0, 'p'},       {"host", required_argument, 0, 'H'},
        {"data", required_argument, 0, 'd'},       {"listen", required_argument, 0, 'l'},
        {"join", required_argument, 0, 'j'},       {"actors", required_argument, 0, 'a'},
        {"slots", required_argument, 0, 's'},      {"node-id", required_argument, 0, 'n'},
        {"heartbeat", required_argument, 0, 'b'},  {"liveness-timeout", required_argument, 0, 'V'},
        {"log-level", required_argument, 0, 'L'},  {"sync-full", no_argument, 0, 'F'},
        {"config", required_argument, 0, 'c'},     {"store", required_argument, 0, 'S'},
        {"thread", required_argument, 0, 't'},     {"worker-thread", required_argument, 0, 'W'},
        {"no-indexer", no_argument, 0, 'I'},       {"no-tutorials", no_argument, 0, 'U'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ht:", longs, NULL)) != -1) {
        char *end = NULL;
        long v = 0;
        if (c && strchr("psbVtW", c)) {
            v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 1000000000 || (c == 'p' && v > 65535) || (c == 't' && v == 0) ||
                ((c == 't' || c == 'W') && v > 100000)) {
                const char *name = "?";
                for (const struct option *l = longs; l->name; l++)
                    if (l->val == c)
                        name = l->name;
                fprintf(stderr, "kite: --%s: '%s' is not a valid number\n", name, optarg);
                return -1;
            }
        }
        switch (c) {
        case 'p': o->port = (int)v; break;
        case 'H': o->host = optarg; break;
        case 'd': o->data = optarg; break;
        case 'S': o->store = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'j': o->join = optarg; break;
        case 'a': o->actors = optarg; break;
        case 's': o->slots = (uint32_t)v; break;
        case 'n': o->node_id = optarg; break;
        case 'b': o->heartbeat_ms = (uint32_t)v; break;
        case 'V': o->liveness_ms = (uint32_t)v; break;
        case 't': /* Kestra's `server worker --thread`: the worker's slots */
            if (o->role && strcmp(o->role, "worker")) {
                fprintf(stderr, "kite: --thread is for `kite server worker` (standalone: --worker-thread)\n");
                return -1;
            }
            o->slots = (uint32_t)v;
            break;
        case 'I': /* Kestra's standalone and webserver --no-indexer (Kite's webserver embeds none: nothing to drop) */
            if (!o->role || (strcmp(o->role, "standalone") && strcmp(o->role, "webserver"))) {
                fprintf(stderr, "kite: --no-indexer is for `kite server standalone` and `kite server webserver`\n");
                return -1;
            }
            o->no_indexer = 1;
            break;
        case 'U': /* Kestra's --no-tutorials: Kite loads no tutorial flows, so there is nothing to skip */
            break;
        case 'W': /* Kestra's `server standalone --worker-thread`: 0 runs no worker */
            if (!o->role || strcmp(o->role, "standalone")) {
                fprintf(stderr, "kite: --worker-thread is for `kite server standalone` (worker: --thread)\n");
                return -1;
            }
            o->slots = (uint32_t)v;
            o->no_worker = v == 0;
            break;
        case 'F': o->sync_full = 1; break;
        case 'c': break; /* read before the flags, see kt_load_conf */
        case 'L': {
            int lvl = kt_log_parse_level(optarg);
            if (lvl < 0) {
                fprintf(stderr, "kite: --log-level: unknown level '%s'\n", optarg);
                return -1;
            }
            kt_log_set_level((kt_log_level)lvl);
            break;
        }
        case 'h': kt_cli_usage(stdout); exit(0);
        default: kt_cli_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kite: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Defaults < --config FILE (or KITE_CONFIGURATION) < KITE_* environment; the flags are applied after. */
static int kt_load_conf(int argc, char **argv, kt_conf *c, kt_opts *o)
{
    const char *path = getenv("KITE_CONFIGURATION");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
    }
    char err[1024];
    kt_conf_defaults(c);
    if (kt_conf_load(c, path, err, sizeof err)) {
        fprintf(stderr, "kite: configuration: %s\n", err);
        return -1;
    }
    int lvl = kt_log_parse_level(c->log_level);
    if (lvl < 0) {
        fprintf(stderr, "kite: configuration: log.level: unknown level '%s'\n", c->log_level);
        return -1;
    }
    kt_log_set_level((kt_log_level)lvl);
    kt_dialect dialect;
    if (kt_dialect_parse(c->flows_dialect, &dialect)) {
        fprintf(stderr, "kite: configuration: flows.dialect: '%s' is not 1.x or 2.x\n", c->flows_dialect);
        return -1;
    }
    kt_flow_dialect_set_default(dialect);
    if (kt_sched_recover_of(c->scheduler_recover, &o->sched_recover)) {
        fprintf(stderr, "kite: configuration: scheduler.recover-missed-schedules: '%s' is not ALL, LAST or NONE\n",
                c->scheduler_recover);
        return -1;
    }
    if (kt_store_log_index_of(c->store_log_index, &o->log_index)) {
        fprintf(stderr, "kite: configuration: store.log-index: '%s' is not on or off\n", c->store_log_index);
        return -1;
    }
    kt_tz_zone zone;
    if (c->scheduler_timezone[0] && kt_tz_zone_of(c->scheduler_timezone, &zone)) {
        fprintf(stderr, "kite: configuration: scheduler.timezone: unknown time zone '%s'\n", c->scheduler_timezone);
        return -1;
    }
    o->sched_zone = c->scheduler_timezone[0] ? c->scheduler_timezone : NULL;
    o->sched_reconcile_ms = c->scheduler_reconcile_ms;
    o->host = c->host;
    o->port = c->port;
    o->data = c->data_dir;
    o->store = c->store_url[0] ? c->store_url : NULL;
    o->sync_full = c->sync_full;
    o->readers = c->store_readers;
    o->slots = c->slots;
    o->listen = c->listen[0] ? c->listen : NULL;
    o->join = c->join[0] ? c->join : NULL;
    o->node_id = c->node_id[0] ? c->node_id : NULL;
    o->heartbeat_ms = c->heartbeat_ms;
    o->liveness_ms = c->liveness_ms;
    o->plugin_defaults = c->plugin_defaults;
    o->conf = c;
    if (c->plugin_defaults)
        KT_INFO("main", "%zu server-level plugin default(s) from the configuration", json_array_size(c->plugin_defaults));
    return 0;
}


/* The server commands, as Kestra's `kestra server ROLE`: the actors each process hosts. `local` and `standalone` run
 * them all in one process, on any store (SQLite by default); the others run one component each and join the rest over
 * --listen/--join, so the store they open must be one every process shares. */
typedef struct kt_role {
    const char *name;
    const char *actors;   /* NULL: every actor (local: --actors may choose) */
    int shared_store;     /* refuses a store that only one process can open (SQLite) */
} kt_role;

static const kt_role kt_roles[] = {
    {"local", NULL, 0},
    {"standalone", NULL, 0},
    {"executor", "executor", 1},
    {"scheduler", "scheduler", 1},
    {"webserver", "webserver", 1},
    {"indexer", "indexer", 1},
    {"worker", "worker", 0},
};

/* every actor a node can host */
#define KT_ALL_ACTORS "executor,worker,webserver,scheduler,indexer"

/* list without `name` into out (standalone --worker-thread 0: no worker) */
static const char *kt_actors_without(const char *list, const char *name, char *out, size_t cap)
{
    size_t n = 0, len = strlen(name);
    out[0] = 0;
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if ((l != len || strncmp(p, name, l)) && n + l + 2 < cap) {
            n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "," : "", (int)l, p);
        }
        if (!e)
            break;
        p = e + 1;
    }
    return out;
}

int kt_cli_server(const char *role_name, int argc, char **argv)
{
    const kt_role *role = NULL;
    for (size_t i = 0; i < sizeof kt_roles / sizeof *kt_roles; i++)
        if (!strcmp(kt_roles[i].name, role_name))
            role = &kt_roles[i];
    if (!role) {
        fprintf(stderr, "kite: unknown server command '%s' (local, standalone, executor, scheduler, webserver, "
                        "indexer, worker)\n", role_name);
        kt_cli_usage(stderr);
        return 2;
    }
    static kt_conf conf;
    kt_opts o = {.role = role->name};
    if (kt_load_conf(argc, argv, &conf, &o) || kt_parse_opts(argc, argv, &o))
        return 2;
    if (o.actors && strcmp(role->name, "local")) {
        fprintf(stderr, "kite: --actors is for `kite server local`: `kite server %s` hosts %s\n", role->name,
                role->actors ? role->actors : "every actor");
        return 2;
    }
    const char *actors = role->actors ? role->actors : o.actors ? o.actors : KT_ALL_ACTORS;
    char without[256], without2[256];
    if (o.no_worker)
        actors = kt_actors_without(actors, "worker", without, sizeof without);
    if (o.no_indexer) /* the executor writes the lines itself */
        actors = kt_actors_without(actors, "indexer", without2, sizeof without2);
    if (kt_check_actors(actors))
        return 2;
    if (role->shared_store && !kt_store_is_url_postgres(o.store) && !kt_test_shared_sqlite()) {
        fprintf(stderr, "kite server %s: needs a shared store: --store postgres://USER@HOST/DB (store.url, "
                        "KITE_STORE_URL); an SQLite store belongs to one process (`kite server standalone` runs every "
                        "component in one)\n", role->name);
        return 2;
    }
    if (!strcmp(role->name, "worker") && !o.join) {
        fprintf(stderr, "kite server worker: --join URL is required (the --listen address of another node)\n");
        return 2;
    }
    return kt_run_node(&o, actors);
}

/* `kite worker`: the name the worker had before the server commands (`kite server worker`). */
int kt_cli_worker(int argc, char **argv) { return kt_cli_server("worker", argc, argv); }
