#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void kt_it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void kt_it_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/kite-it-XXXXXX");
    if (!mkdtemp(out))
        abort();
}

static int kt_it_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

void kt_it_rmdir(const char *dir)
{
    nftw(dir, kt_it_rm, 16, FTW_DEPTH | FTW_PHYS);
    kt_it_store_drop(dir);
}

int kt_it_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l))
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

kt_it_proc kt_it_spawn(const char *dir, const char *name, const char *const *args)
{
    kt_it_proc p;
    snprintf(p.log_path, sizeof p.log_path, "%s/%s.log", dir, name);
    p.pid = fork();
    if (p.pid == 0) {
        /* a test that dies (or is interrupted) must not leave servers and workers behind */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127);
        int fd = open(p.log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        const char *argv[32];
        size_t n = 0;
        argv[n++] = KITE_BIN;
        for (; args[n - 1] && n < 31; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        setenv("NO_COLOR", "1", 1);
        kt_it_storage_env(dir); /* the S3 variants' storage settings */
        kt_it_store_env(dir);   /* the PostgreSQL variants' store */
        execv(KITE_BIN, (char *const *)argv);
        _exit(127);
    }
    return p;
}

kt_it_proc kt_it_spawn_server(const char *dir, const char *name, int port, const char *const *extra)
{
    char p[16], data[300];
    snprintf(p, sizeof p, "%d", port);
    snprintf(data, sizeof data, "%s/data", dir);
    const char *args[32] = {"server", "local", "--host", "127.0.0.1", "--port", p, "--data", data};
    size_t n = 8;
    for (; extra && extra[n - 8]; n++) {
        if (n + 1 >= sizeof args / sizeof *args)
            fail_msg("too many server arguments");
        args[n] = extra[n - 8];
    }
    args[n] = NULL;
    return kt_it_spawn(dir, name, args);
}

kt_it_proc kt_it_start_server(const char *dir, const char *name, int port, const char *const *extra)
{
    kt_it_proc p = kt_it_spawn_server(dir, name, port, extra);
    if (kt_it_wait_healthy(port)) {
        kt_it_dump_log(&p);
        fail_msg("%s (port %d) did not become healthy", name, port);
    }
    return p;
}

int kt_it_wait_healthy(int port)
{
    for (int i = 0; i < 200; i++) {
        char *b = NULL;
        long st = kt_it_http("GET", port, "/health", NULL, NULL, &b);
        free(b);
        if (st == 200)
            return 0;
        kt_it_sleep_ms(50);
    }
    return -1;
}

int kt_it_stop(kt_it_proc *p, int sig)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = 0;
    /* bounded: a process that hangs in its shutdown fails the test with its log, instead of holding it until ctest's
     * timeout with nothing said (60 s: the sanitizer builds stop slowly on a loaded machine) */
    for (int i = 0; i < 1200; i++) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid || r < 0) {
            p->pid = 0;
            return r < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        kt_it_sleep_ms(50);
    }
    fprintf(stderr, "harness: %s (pid %d) had not exited 60 s after signal %d: its log, then SIGKILL\n", p->log_path,
            (int)p->pid, sig);
    kt_it_dump_log(p);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return 124;
}

void kt_it_stop_clean(kt_it_proc *p)
{
    if (!p->pid)
        return;
    int rc = kt_it_stop(p, SIGTERM);
    if (rc != 0)
        kt_it_dump_log(p); /* the pid is cleared, the log path stays */
    assert_int_equal(rc, 0); /* orderly shutdown: uv_loop_close() == 0 */
}

void kt_it_fixture_init(kt_it_fixture *f, int start)
{
    kt_it_tmpdir(f->dir, sizeof f->dir);
    f->port = kt_it_free_port();
    f->server.pid = 0;
    if (start)
        f->server = kt_it_start_server(f->dir, "server", f->port, NULL);
}

void kt_it_fixture_fini(kt_it_fixture *f)
{
    kt_it_stop_clean(&f->server);
    kt_it_rmdir(f->dir);
}

static int kt_it_setup_start(void **state, int start)
{
    kt_it_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    kt_it_fixture_init(f, start);
    return 0;
}

int kt_it_setup(void **state) { return kt_it_setup_start(state, 1); }
int kt_it_setup_dir(void **state) { return kt_it_setup_start(state, 0); }

int kt_it_teardown(void **state)
{
    kt_it_fixture *f = *state;
    kt_it_fixture_fini(f);
    free(f);
    return 0;
}

void kt_it_dump_log(const kt_it_proc *p)
{
    FILE *f = fopen(p->log_path, "r");
    if (!f)
        return;
    char line[2048];
    fprintf(stderr, "---- %s ----\n", p->log_path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

typedef struct kt_it_buf {
    char *data;
    size_t len;
} kt_it_buf;

static size_t kt_it_write(char *ptr, size_t size, size_t n, void *ud)
{
    kt_it_buf *b = ud;
    char *nd = realloc(b->data, b->len + size * n + 1);
    if (!nd)
        return 0;
    b->data = nd;
    memcpy(b->data + b->len, ptr, size * n);
    b->len += size * n;
    b->data[b->len] = 0;
    return size * n;
}

static long kt_it_perform(CURL *c, struct curl_slist *hdrs, char **body_out)
{
    kt_it_buf b = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (body_out)
        *body_out = b.data;
    else
        free(b.data);
    return status;
}

long kt_it_http(const char *method, int port, const char *path, const char *ctype, const char *body, char **body_out)
{
    CURL *c = curl_easy_init();
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *h = NULL;
    if (ctype) {
        char hdr[256];
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
        h = curl_slist_append(h, hdr);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    return kt_it_perform(c, h, body_out);
}

long kt_it_http_json(const char *method, int port, const char *path, const char *ctype, const char *body, json_t **out)
{
    char *b = NULL;
    long st = kt_it_http(method, port, path, ctype, body, &b);
    *out = b ? json_loads(b, 0, NULL) : NULL;
    free(b);
    return st;
}

long kt_it_post_form(int port, const char *path, const char *const *fields, json_t **out)
{
    CURL *c = curl_easy_init();
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_mime *mime = curl_mime_init(c);
    for (size_t i = 0; fields && fields[i]; i += 2) {
        curl_mimepart *part = curl_mime_addpart(mime);
        if (!strncmp(fields[i], "file:", 5)) { /* Kestra's clients: field `files`, filename = the input id */
            curl_mime_name(part, "files");
            curl_mime_filename(part, fields[i] + 5);
        } else {
            curl_mime_name(part, fields[i]);
        }
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    if (fields && fields[0])
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    else
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    char *b = NULL;
    long st = kt_it_perform(c, NULL, &b);
    curl_mime_free(mime);
    *out = b ? json_loads(b, 0, NULL) : NULL;
    free(b);
    return st;
}

void kt_it_create_flow(int port, const char *yaml, json_t **res_out)
{
    json_t *res = NULL;
    long st = kt_it_http_json("POST", port, "/api/v1/flows", "application/x-yaml", yaml, &res);
    if (st != 200) {
        char *d = res ? json_dumps(res, 0) : NULL;
        fail_msg("flow create: %ld %s", st, d ? d : "");
    }
    if (res_out)
        *res_out = res;
    else
        json_decref(res);
}

json_t *kt_it_get_execution(int port, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/executions/%s", id);
    json_t *ex = NULL;
    if (kt_it_http_json("GET", port, path, NULL, NULL, &ex) != 200) {
        json_decref(ex);
        return NULL;
    }
    return ex;
}

const char *kt_it_state(const json_t *holder)
{
    return json_string_value(json_object_get(json_object_get(holder, "state"), "current"));
}

json_t *kt_it_wait_state(const kt_it_proc *server, int port, const char *id, const char *want, int timeout_ms)
{
    json_t *ex = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 25) {
        json_decref(ex);
        ex = kt_it_get_execution(port, id);
        if (kt_it_state(ex) && !strcmp(kt_it_state(ex), want))
            return ex;
        kt_it_sleep_ms(25);
    }
    if (server)
        kt_it_dump_log(server);
    fail_msg("execution %s: state %s, expected %s", id, kt_it_state(ex) ? kt_it_state(ex) : "(none)", want);
    return NULL;
}

static int kt_it_terminal(const char *s)
{
    static const char *const t[] = {"FAILED", "WARNING", "SUCCESS", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"};
    for (size_t i = 0; s && i < 7; i++)
        if (!strcmp(s, t[i]))
            return 1;
    return 0;
}

json_t *kt_it_wait_execution(int port, const char *id, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        json_t *ex = kt_it_get_execution(port, id);
        if (kt_it_terminal(kt_it_state(ex)))
            return ex;
        json_decref(ex);
        kt_it_sleep_ms(50);
    }
    return NULL;
}

json_t *kt_it_taskrun(json_t *execution, const char *task_id)
{
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(execution, "taskRunList"), i, tr) {
        if (!strcmp(json_string_value(json_object_get(tr, "taskId")), task_id))
            return tr;
    }
    return NULL;
}

int kt_it_wait_task_running(int port, const char *id, const char *task_id, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        json_t *ex = kt_it_get_execution(port, id);
        const char *st = kt_it_state(kt_it_taskrun(ex, task_id));
        int ok = st && !strcmp(st, "RUNNING");
        json_decref(ex);
        if (ok)
            return 0;
        kt_it_sleep_ms(50);
    }
    return -1;
}

size_t kt_it_resp_body(char *p, size_t sz, size_t n, void *ud)
{
    kt_it_resp *r = ud;
    char *b = realloc(r->body, r->len + sz * n + 1);
    assert_non_null(b);
    memcpy(b + r->len, p, sz * n);
    r->body = b;
    r->len += sz * n;
    b[r->len] = 0;
    return sz * n;
}

size_t kt_it_resp_header(char *p, size_t sz, size_t n, void *ud)
{
    kt_it_resp *r = ud;
    size_t have = strlen(r->headers);
    if (have + sz * n < sizeof r->headers) {
        memcpy(r->headers + have, p, sz * n);
        r->headers[have + sz * n] = 0;
    }
    return sz * n;
}

long kt_it_post_file(int port, const char *path, const char *input_id, const void *data, size_t len,
                     const char *const *fields, json_t **out)
{
    CURL *c = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "files");
    curl_mime_filename(part, input_id);
    curl_mime_data(part, data, len);
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        part = curl_mime_addpart(mime);
        if (!strncmp(fields[i], "file:", 5)) {
            curl_mime_name(part, "files");
            curl_mime_filename(part, fields[i] + 5);
        } else {
            curl_mime_name(part, fields[i]);
        }
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    kt_it_resp r = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    *out = r.body ? json_loads(r.body, 0, NULL) : NULL;
    free(r.body);
    return st;
}

long kt_it_request(const char *method, int port, const char *path_query, const void *data, size_t len,
                   const char *field, const char *filename, kt_it_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[8192];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path_query);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kt_it_resp_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, kt_it_resp_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* traversal tests send `..` as they wrote it */
    curl_mime *mime = NULL;
    if (data) {
        mime = curl_mime_init(c);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, field ? field : "fileContent");
        curl_mime_filename(part, filename);
        curl_mime_data(part, data, len);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    }
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    return st;
}
