/* io.kestra.plugin.core.http.SseRequest (Kestra's SseRequest.java): reads a text/event-stream over HTTP on the
 * worker's curl multi (http_loop.h) until the server closes it, and outputs what came:
 *   uri     the endpoint;
 *   size    the number of events (also the `size` counter metric);
 *   events  every event as Kestra's HttpSseEvent serializes it (data, id, name, comment, retry; the absent ones left
 *           out), `data` parsed as JSON when it is JSON, else the text — only when no concatJqExpression gave values;
 *   result  with concatJqExpression: the values it extracted from each event (text, number or boolean), joined.
 * An event whose jq gives no such value fails the task (failedOnMissingJq, default true) or is skipped.
 *
 * The stream is parsed as the SSE format says: lines `field: value` (one optional space after the colon), `data`
 * lines joined with "\n", `event` names it, `id`, `retry` in milliseconds, a line starting with ':' a comment, and a
 * blank line dispatches the event. A line may end with \n, \r\n or \r, and may span chunks.
 * Kite also honours `maxEvents` (the docs' first example writes it, Kestra's class has no such field): the stream
 * is closed once that many events came. A status >= 400 fails unless options.allowFailed; a kill stops at once. */
#include "actors/worker/http_loop.h"
#include "actors/worker/http_req.h"
#include "actors/worker/task.h"
#include "base/json.h"
#include "expr/jq/jq.h"
#include "time/duration.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KT_SSE_MAX_BYTES 10485760 /* what the events may hold in memory (options.maxContentLength's default) */

typedef struct kt_sse {
    kt_task_run *r;
    kt_hr hr;
    kt_hl_xfer *x;
    kt_buf line;    /* the line being read (may span chunks) */
    int last_cr;    /* the previous chunk ended with \r: a \n opening this one ends nothing */
    /* the event being read */
    kt_buf data, comment;
    char *id, *name;
    int has_data, has_comment, has_retry;
    int64_t retry_ms;
    json_t *events; /* the dispatched events */
    int64_t max_events, max_bytes, bytes;
    int enough, too_big;
} kt_sse;

static void kt_sse_free(kt_sse *h)
{
    kt_hl_cancel(h->x);
    kt_hr_clear(&h->hr);
    free(kt_buf_take(&h->line));
    free(kt_buf_take(&h->data));
    free(kt_buf_take(&h->comment));
    free(h->id);
    free(h->name);
    json_decref(h->events);
    free(h);
}

static void kt_sse_end(kt_sse *h, const char *state, json_t *outputs)
{
    kt_task_run *r = h->r;
    kt_task_set_data(r, NULL);
    kt_sse_free(h);
    kt_task_finish(r, state, outputs);
}

static void kt_sse_fail(kt_sse *h, const char *msg)
{
    kt_task_logf(h->r, "ERROR", "%s", msg);
    kt_sse_end(h, KT_S(FAILED), NULL);
}

/* ---- the SSE format ------------------------------------------------------------------------------------------ */

static void kt_sse_reset_event(kt_sse *h)
{
    h->data.len = h->comment.len = 0;
    free(h->id);
    free(h->name);
    h->id = h->name = NULL;
    h->has_data = h->has_comment = h->has_retry = 0;
}

/* A blank line: the event read so far, if any field came, joins the list. */
static void kt_sse_dispatch(kt_sse *h)
{
    if (!h->has_data && !h->has_comment && !h->id && !h->name && !h->has_retry)
        return;
    json_t *ev = json_object();
    if (h->has_data) {
        /* SseRequest keeps the data as JSON when it reads as JSON (JacksonMapper.toObject), else as the text */
        json_t *parsed = json_loadb(h->data.p ? h->data.p : "", h->data.len, JSON_DECODE_ANY, NULL);
        json_object_set_new(ev, "data", parsed ? parsed : json_stringn(h->data.p ? h->data.p : "", h->data.len));
    }
    if (h->id)
        json_object_set_new(ev, "id", json_string(h->id));
    if (h->name)
        json_object_set_new(ev, "name", json_string(h->name));
    if (h->has_comment)
        json_object_set_new(ev, "comment", json_stringn(h->comment.p ? h->comment.p : "", h->comment.len));
    if (h->has_retry) { /* a java.time.Duration, written as its ISO text */
        char iso[KT_DURATION_BUFSZ];
        kt_duration_format(h->retry_ms * 1000, iso, sizeof iso);
        json_object_set_new(ev, "retry", json_string(iso));
    }
    json_array_append_new(h->events, ev);
    kt_sse_reset_event(h);
    if (h->max_events > 0 && (int64_t)json_array_size(h->events) >= h->max_events)
        h->enough = 1;
}

static void kt_sse_field(kt_sse *h, const char *line, size_t len)
{
    if (len == 0) {
        kt_sse_dispatch(h);
        return;
    }
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len;
    const char *val = colon ? colon + 1 : line + len;
    size_t vlen = colon ? len - nlen - 1 : 0;
    if (vlen && *val == ' ') {
        val++;
        vlen--;
    }
    if (nlen == 0) { /* ":comment" */
        if (h->has_comment)
            kt_buf_putc(&h->comment, '\n');
        kt_buf_put(&h->comment, val, vlen);
        h->has_comment = 1;
    } else if (nlen == 4 && !memcmp(line, "data", 4)) {
        if (h->has_data)
            kt_buf_putc(&h->data, '\n');
        kt_buf_put(&h->data, val, vlen);
        h->has_data = 1;
    } else if (nlen == 5 && !memcmp(line, "event", 5)) {
        free(h->name);
        h->name = strndup(val, vlen);
    } else if (nlen == 2 && !memcmp(line, "id", 2)) {
        free(h->id);
        h->id = strndup(val, vlen);
    } else if (nlen == 5 && !memcmp(line, "retry", 5)) {
        char num[32];
        snprintf(num, sizeof num, "%.*s", (int)(vlen < 31 ? vlen : 31), val);
        char *end = NULL;
        long long ms = strtoll(num, &end, 10);
        /* the format ignores a retry that is not digits */
        if (*num && end && !*end && ms >= 0 && ms < INT64_MAX / 1000) {
            h->retry_ms = ms;
            h->has_retry = 1;
        }
    } /* other fields are ignored, as the format says */
}

/* Splits a chunk into lines; the last, unfinished one waits in h->line. */
static void kt_sse_feed(kt_sse *h, const char *p, size_t n)
{
    size_t i = 0;
    if (h->last_cr && n && p[0] == '\n')
        i = 1;
    h->last_cr = 0;
    size_t start = i;
    for (; i < n && !h->enough; i++) {
        if (p[i] != '\n' && p[i] != '\r')
            continue;
        kt_buf_put(&h->line, p + start, i - start);
        kt_sse_field(h, h->line.p ? h->line.p : "", h->line.len);
        h->line.len = 0;
        if (p[i] == '\r') {
            if (i + 1 < n && p[i + 1] == '\n')
                i++;
            else if (i + 1 == n)
                h->last_cr = 1;
        }
        start = i + 1;
    }
    if (!h->enough && start < n)
        kt_buf_put(&h->line, p + start, n - start);
}

static size_t kt_sse_on_body(char *p, size_t size, size_t n, void *data)
{
    kt_sse *h = data;
    size_t len = size * n;
    h->bytes += (int64_t)len;
    if (h->max_bytes >= 0 && h->bytes > h->max_bytes) {
        h->too_big = 1;
        return 0;
    }
    kt_sse_feed(h, p, len);
    return h->enough ? 0 : len; /* 0 aborts the transfer: maxEvents reached */
}

/* ---- the outputs --------------------------------------------------------------------------------------------- */

/* The jq values of every event joined into out; -1 when one gave none and failedOnMissingJq is on (logged). */
static int kt_sse_jq(kt_sse *h, const char *expr, int fail_on_missing, kt_buf *out, int *any)
{
    size_t i;
    json_t *ev;
    json_array_foreach(h->events, i, ev) {
        char err[512] = "";
        json_t *res = kq_run(ev, expr, err, sizeof err);
        const json_t *v = json_array_size(res) ? json_array_get(res, json_array_size(res) - 1) : NULL;
        char num[64];
        const char *text = NULL;
        if (json_is_string(v)) {
            text = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            text = num;
        } else if (json_is_real(v)) {
            snprintf(num, sizeof num, "%.17g", json_real_value(v));
            text = num;
        } else if (json_is_boolean(v)) {
            text = json_is_true(v) ? "true" : "false";
        }
        if (!text) {
            char *in = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
            kt_task_logf(h->r, fail_on_missing ? "ERROR" : "DEBUG",
                         "Failed to resolve JQ expression '%s' and value '%s'%s%s", expr, in ? in : "?",
                         err[0] ? ": " : (fail_on_missing ? "" : ". Skipping this event."), err);
            free(in);
            json_decref(res);
            if (fail_on_missing)
                return -1;
            continue;
        }
        kt_buf_puts(out, text);
        *any = 1;
        json_decref(res);
    }
    return 0;
}

static int kt_sse_flag(const json_t *v, int dflt)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true");
    return dflt;
}

static void kt_sse_done(kt_sse *h)
{
    const json_t *props = kt_task_props(h->r);
    if (h->line.len && !h->enough) /* the stream ended without a newline: that last line counts */
        kt_sse_field(h, h->line.p, h->line.len);
    if (!h->enough) /* and so does an event the stream ended inside */
        kt_sse_dispatch(h);
    size_t count = json_array_size(h->events);
    kt_task_counter(h->r, "size", (double)count, NULL);
    json_t *out = json_pack("{s:s, s:I}", "uri", kt_task_prop_string(h->r, "uri"), "size", (json_int_t)count);
    const char *expr = json_string_value(json_object_get(props, "concatJqExpression"));
    kt_buf joined = {0};
    int any = 0;
    if (expr && kt_sse_jq(h, expr, kt_sse_flag(json_object_get(props, "failedOnMissingJq"), 1), &joined, &any)) {
        free(kt_buf_take(&joined));
        json_decref(out);
        kt_sse_end(h, KT_S(FAILED), NULL);
        return;
    }
    if (any)
        json_object_set_new(out, "result", json_stringn(joined.p, joined.len));
    else
        json_object_set(out, "events", h->events);
    free(kt_buf_take(&joined));
    kt_task_logf(h->r, "DEBUG", "Received %zu event(s) from '%s'", count, kt_task_prop_string(h->r, "uri"));
    kt_sse_end(h, KT_S(SUCCESS), out);
}

static void kt_sse_on_done(kt_hl_xfer *x, CURLcode rc, void *data)
{
    (void)x;
    kt_sse *h = data;
    h->x = NULL;
    long code = 0;
    curl_easy_getinfo(h->hr.easy, CURLINFO_RESPONSE_CODE, &code);
    const json_t *opts = json_object_get(kt_task_props(h->r), "options");
    if (code >= 400 && !kt_sse_flag(json_object_get(opts, "allowFailed"), 0)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Failed http request with response code '%ld'", code);
        kt_sse_fail(h, msg);
        return;
    }
    if (rc != CURLE_OK && !h->enough) {
        char msg[CURL_ERROR_SIZE + 128];
        if (h->too_big)
            snprintf(msg, sizeof msg, "The received length exceeds the maximum allowed content length [%" PRId64 "]",
                     h->max_bytes);
        else
            kt_hr_error(&h->hr, rc, msg, sizeof msg);
        kt_sse_fail(h, msg);
        return;
    }
    kt_sse_done(h);
}

static void kt_sse_start(kt_task_run *r)
{
    kt_sse *h = calloc(1, sizeof *h);
    if (!h) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    h->r = r;
    h->events = json_array();
    kt_task_set_data(r, h);
    const json_t *props = kt_task_props(r);
    const json_t *me = json_object_get(props, "maxEvents");
    h->max_events = json_is_integer(me)  ? json_integer_value(me)
                    : json_is_string(me) ? atoll(json_string_value(me))
                                         : 0;
    const json_t *max = json_object_get(json_object_get(props, "options"), "maxContentLength");
    h->max_bytes = json_is_integer(max) ? json_integer_value(max) : KT_SSE_MAX_BYTES;
    char err[512] = "";
    if (kt_hr_build(&h->hr, props, NULL, 0, err, sizeof err)) {
        kt_sse_fail(h, err);
        return;
    }
    /* the stream is text/event-stream whatever the request's own content type (unless the flow says otherwise) */
    int has_accept = 0;
    const char *hk;
    const json_t *hv;
    json_object_foreach(json_object_get(props, "headers"), hk, hv) has_accept |= !strcasecmp(hk, "Accept");
    if (!has_accept) {
        h->hr.headers = curl_slist_append(h->hr.headers, "Accept: text/event-stream");
        curl_easy_setopt(h->hr.easy, CURLOPT_HTTPHEADER, h->hr.headers);
    }
    curl_easy_setopt(h->hr.easy, CURLOPT_WRITEFUNCTION, kt_sse_on_body);
    curl_easy_setopt(h->hr.easy, CURLOPT_WRITEDATA, h);
    kt_hl *hl = kt_task_http(r);
    if (!hl || kt_hl_add(hl, h->hr.easy, kt_sse_on_done, h, &h->x))
        kt_sse_fail(h, "cannot start the HTTP transfer");
}

static void kt_sse_kill(kt_task_run *r)
{
    kt_sse *h = kt_task_data(r);
    if (h)
        kt_sse_end(h, KT_S(KILLED), NULL);
}

const kt_task_impl kt_task_http_sse_impl = {.type = "io.kestra.plugin.core.http.SseRequest", .start = kt_sse_start,
                                            .kill = kt_sse_kill};
