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
/* Waits until GET /health answers 200 (max 10 s); 0 on success. */
int kt_it_wait_healthy(int port);
/* Sends sig and waits for exit; returns the exit status (or 128+signal). */
int kt_it_stop(kt_it_proc *p, int sig);
/* HTTP request; returns the status (0 on transport failure). *body_out is malloc'ed (may be NULL). */
long kt_it_http(const char *method, int port, const char *path, const char *ctype, const char *body, char **body_out);
/* Same, parsing the response as JSON (NULL if not JSON). */
long kt_it_http_json(const char *method, int port, const char *path, const char *ctype, const char *body, json_t **out);
/* multipart/form-data POST of name=value pairs (NULL-terminated list of alternating names and values). */
long kt_it_post_form(int port, const char *path, const char *const *fields, json_t **out);
/* Polls GET /api/v1/executions/ID until its state is terminal (max timeout_ms); returns it (or NULL). */
json_t *kt_it_wait_execution(int port, const char *id, int timeout_ms);
/* Polls until the execution's task run for task_id is RUNNING; 0 on success. */
int kt_it_wait_task_running(int port, const char *id, const char *task_id, int timeout_ms);
/* Prints the process log to stderr (for failures). */
void kt_it_dump_log(const kt_it_proc *p);
void kt_it_sleep_ms(int ms);
/* The task run of task_id in an execution (borrowed), or NULL. */
json_t *kt_it_taskrun(json_t *execution, const char *task_id);

#endif
