/* Integration-test harness: real kite processes on 127.0.0.1, real HTTP with libcurl. */
#ifndef KT_IT_HARNESS_H
#define KT_IT_HARNESS_H

#include <jansson.h>
#include <sys/types.h>

typedef struct kt_it_proc {
    pid_t pid;
    char log_path[512];
} kt_it_proc;

/* A fresh temporary directory (removed by kt_it_rmdir). */
void kt_it_tmpdir(char *out, size_t cap);
void kt_it_rmdir(const char *dir);
/* A TCP port that was free a moment ago. */
int kt_it_free_port(void);
/* Starts KITE_BIN with the NULL-terminated args; stderr goes to DIR/<name>.log. */
kt_it_proc kt_it_spawn(const char *dir, const char *name, const char *const *args);
/* Starts `kite server local --host 127.0.0.1 --port PORT --data DIR/data` followed by the NULL-terminated extra args
 * (extra may be NULL), logging to DIR/<name>.log; does not wait for it (a test that expects it to refuse to start
 * waits for its exit instead). */
kt_it_proc kt_it_spawn_server(const char *dir, const char *name, int port, const char *const *extra);
/* The same, then waits until it is healthy: if it never is, dumps its log and fails the test (cmocka). */
kt_it_proc kt_it_start_server(const char *dir, const char *name, int port, const char *const *extra);
/* Waits until GET /health answers 200 (max 10 s); 0 on success. */
int kt_it_wait_healthy(int port);
/* Sends sig and waits for exit; returns the exit status (or 128+signal). */
int kt_it_stop(kt_it_proc *p, int sig);
/* An orderly stop: SIGTERM, and the test fails unless the exit status is 0 (the log is dumped first). Does nothing
 * when p->pid is 0 (never started, or already stopped). */
void kt_it_stop_clean(kt_it_proc *p);
/* The usual state of a test: a scratch directory, a port that was free, and the server on them. */
typedef struct kt_it_fixture {
    char dir[256];
    int port;
    kt_it_proc server; /* pid 0 until started */
} kt_it_fixture;

/* Fills f with a fresh directory and port, and starts the server on them (no extra arguments) unless start is 0:
 * the test then starts it itself, with its own arguments. */
void kt_it_fixture_init(kt_it_fixture *f, int start);
/* Stops the server cleanly when it runs (the test fails unless it exits 0) and removes the directory. */
void kt_it_fixture_fini(kt_it_fixture *f);
/* cmocka fixtures with a malloc'ed kt_it_fixture as the state: kt_it_setup starts the server, kt_it_setup_dir does
 * not; kt_it_teardown ends either. */
int kt_it_setup(void **state);
int kt_it_setup_dir(void **state);
int kt_it_teardown(void **state);
/* POST /api/v1/flows with the YAML; the test fails with the status and the response body unless it is 200. The
 * response goes to *res_out when res_out is not NULL (the caller decrefs it). */
void kt_it_create_flow(int port, const char *yaml, json_t **res_out);
/* HTTP request; returns the status (0 on transport failure). *body_out is malloc'ed (may be NULL). */
long kt_it_http(const char *method, int port, const char *path, const char *ctype, const char *body, char **body_out);
/* Same, parsing the response as JSON (NULL if not JSON). */
long kt_it_http_json(const char *method, int port, const char *path, const char *ctype, const char *body, json_t **out);
/* multipart/form-data POST of name=value pairs (NULL-terminated list of alternating names and values). A name
 * "file:ID" sends the value as a file part for the input ID (field `files`, filename ID, as Kestra's clients do). */
long kt_it_post_form(int port, const char *path, const char *const *fields, json_t **out);
/* GET /api/v1/executions/ID: the execution, or NULL unless the answer is 200. */
json_t *kt_it_get_execution(int port, const char *id);
/* state.current of an execution or a task run (borrowed; NULL when there is none). */
const char *kt_it_state(const json_t *holder);
/* Polls the execution until its state is want (max timeout_ms) and returns it; otherwise dumps server's log (when
 * server is not NULL) and fails the test, naming the last state seen. */
json_t *kt_it_wait_state(const kt_it_proc *server, int port, const char *id, const char *want, int timeout_ms);
/* Polls GET /api/v1/executions/ID until its state is terminal (max timeout_ms); returns it (or NULL). */
json_t *kt_it_wait_execution(int port, const char *id, int timeout_ms);
/* Polls until the execution's task run for task_id is RUNNING; 0 on success. */
int kt_it_wait_task_running(int port, const char *id, const char *task_id, int timeout_ms);
/* A response kept whole, bytes and headers (binary bodies, header checks): libcurl's write and header callbacks
 * collecting into it (the caller frees body). */
typedef struct kt_it_resp {
    char *body;
    size_t len;
    char headers[4096];
} kt_it_resp;
size_t kt_it_resp_body(char *p, size_t sz, size_t n, void *ud);
size_t kt_it_resp_header(char *p, size_t sz, size_t n, void *ud);
/* POST path as a multipart form: one binary file part for input input_id (field `files`, filename input_id, as
 * Kestra's clients send files) holding data[0..len), then the text fields (name, value pairs, NULL-terminated; a name
 * "file:ID" sends its value as the file of input ID). The answer's JSON into *out (NULL when none). */
long kt_it_post_file(int port, const char *path, const char *input_id, const void *data, size_t len,
                     const char *const *fields, json_t **out);
/* One request on 127.0.0.1:port, the whole answer into r (status returned, 0 when none came). With data, the body is
 * a multipart form of one file part named field (NULL: "fileContent", Kestra's namespace-file field) holding
 * data[0..len) under filename. The path is sent as written (no `..` folding). */
long kt_it_request(const char *method, int port, const char *path_query, const void *data, size_t len,
                   const char *field, const char *filename, kt_it_resp *r);
/* Prints the process log to stderr (for failures). */
void kt_it_dump_log(const kt_it_proc *p);
void kt_it_sleep_ms(int ms);
/* The task run of task_id in an execution (borrowed), or NULL. */
json_t *kt_it_taskrun(json_t *execution, const char *task_id);

/* ---- Kite as separate component processes (harness_topology.c) ---- */
/* `kite server executor` listening on 127.0.0.1, then `server webserver`, `server scheduler`, `server indexer` and two
 * `server worker` joining it, every component on one store: a fresh schema of the test PostgreSQL (on_pg: tests/pg/pg_url.h) or an
 * SQLite directory shared through KITE_TEST_SHARED_SQLITE=1 (tests only), and one local storage. */
typedef struct kt_it_topology {
    char dir[256];     /* the logs, each component's data directory, the shared storage (and SQLite store) */
    int port;          /* the webserver's API */
    char join[64];     /* the executor's --listen address, which the others join */
    char store[1200];  /* the --store every component got */
    char pg_base[1024], pg_schema[64]; /* on PostgreSQL: the test server, and the schema made for the topology */
    kt_it_proc procs[8];
    char names[8][16]; /* executor, webserver, scheduler, indexer, worker-1, worker-2 */
    char *args[8][32]; /* each process's arguments (malloc'd, NULL-terminated), for kt_it_topology_restart */
    size_t nprocs;
} kt_it_topology;
/* Starts the processes and waits until the webserver is healthy and sees every member (the scheduler's actor
 * included). 0 when running; 77 to skip (no PostgreSQL server, as tests/pg/start.sh said); 1 when PostgreSQL could
 * not be prepared. Fails the test (cmocka) when a process does not come up. */
int kt_it_topology_start(kt_it_topology *t, int on_pg);
/* SIGTERM to each process, the executor last; returns how many did not exit 0 (their logs dumped); drops the schema
 * and removes dir. */
int kt_it_topology_stop(kt_it_topology *t);
void kt_it_topology_dump(const kt_it_topology *t);
/* Stops the component called name with sig (SIGKILL: a crash), waits for its exit and starts it again with the same
 * arguments and node id, its log continuing in the same file. Returns the old process's status (128 + sig when the
 * signal killed it), -1 when there is no such component. Does not wait for it to rejoin. */
int kt_it_topology_restart(kt_it_topology *t, const char *name, int sig);

/* ---- the storage under the servers (harness_storage.c) ---- */
/* 1 when this test runs its servers on S3 (KITE_IT_STORAGE=s3, set by CMake for the *_on_s3 registrations). */
int kt_it_on_s3(void);
/* The S3 server's endpoint (KITE_TEST_S3_ENDPOINT, else the file tests/s3/start.sh writes), or NULL. */
const char *kt_it_s3_endpoint(void);
/* For main: 0 to run; on S3 without a server, 77 (skip) with KITE_TEST_NO_S3=1, else 1 (fail). */
int kt_it_s3_check(void);
/* In a spawned server's process: the KITE_STORAGE_* settings of S3 with the test folder's own key prefix. */
void kt_it_storage_env(const char *dir);
/* What the storage of the servers of dir holds at rel (a storage path, "" = the root): 'f', 'd' or 0. */
int kt_it_stored_kind(const char *dir, const char *rel);
/* The bytes of the file at rel (malloc'd, NUL-terminated; *len when len), or NULL when there is none. */
char *kt_it_stored_read(const char *dir, const char *rel, size_t *len);
/* Files (not folders) under the folder rel, at any depth (at most 1000 on S3). */
int kt_it_stored_files(const char *dir, const char *rel);
/* On S3, the keys under the test folder's prefix (at most 1000); 0 for the local backend (its files are under
 * dir: count them there). */
int kt_it_stored_count(const char *dir);

/* ---- the store under the servers (harness_store.c) ---- */
/* 1 when this test runs its servers on PostgreSQL (KITE_TEST_STORE=pg, set by CMake for the *_pg registrations, or
 * KITE_TEST_STORE_URL=postgresql://...): each test folder's servers share a schema of its own. */
int kt_it_on_pg(void);
/* For main: 0 to run; when PostgreSQL is asked for and there is none, 77 (skip: tests/pg/start.sh said why) or 1. */
int kt_it_pg_check(void);
/* In a spawned process: KITE_STORE_URL naming dir's schema (made if needed) on PostgreSQL; unset on SQLite. */
void kt_it_store_env(const char *dir);
/* Drops dir's schema and its tables (kt_it_rmdir does; nothing on SQLite). */
void kt_it_store_drop(const char *dir);

#endif
