/* Kestra's AbstractHttp.request()/configuration() on a curl easy handle (see http_req.h). */
#include "actors/worker/http_req.h"
#include "actors/worker/tasks_storage.h"
#include "base/json.h"
#include "time/duration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define KT_HR_MULTIPART "multipart/form-data"

static int kt_hr_multipart(const json_t *props)
{
    const char *ct = json_string_value(json_object_get(props, "contentType"));
    return json_is_object(json_object_get(props, "formData")) && ct && !strcmp(ct, KT_HR_MULTIPART);
}

/* A formData value that names a file: a "kestra://..." string (sent under a temporary name, as Kestra's
 * createTempFile) or {name, content} (sent under name). */
static int kt_hr_file_part(const json_t *v, const char **uri, const char **name)
{
    const char *s = json_string_value(v);
    if (s && !strncmp(s, "kestra://", 9)) {
        *uri = s;
        *name = NULL;
        return 1;
    }
    const char *n = json_string_value(json_object_get(v, "name"));
    const char *c = json_string_value(json_object_get(v, "content"));
    if (json_is_object(v) && n && c) {
        *uri = c;
        *name = n;
        return 1;
    }
    return 0;
}

int kt_hr_files(const json_t *props, const char *workdir, kt_hr_file **files, size_t *n, char *err, size_t errcap)
{
    *files = NULL;
    *n = 0;
    if (!kt_hr_multipart(props))
        return 0;
    const json_t *form = json_object_get(props, "formData");
    *files = calloc(json_object_size(form) + 1, sizeof **files);
    if (!*files)
        return snprintf(err, errcap, "out of memory"), -1;
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)form, key, v) {
        const char *uri, *name;
        i++;
        if (!kt_hr_file_part(v, &uri, &name))
            continue;
        char tmp[64], dir[1200], path[1500];
        if (!name) {
            kt_st_temp_name(".tmp", tmp, sizeof tmp);
            name = tmp;
        }
        /* a part's file name never walks out of its folder */
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
            snprintf(err, errcap, "formData '%s': invalid file name '%s'", key, name);
            return -1;
        }
        snprintf(dir, sizeof dir, "%s/%zu", workdir, i);
        if (mkdir(dir, 0700) && errno != EEXIST) {
            snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        snprintf(path, sizeof path, "%s/%s", dir, base);
        (*files)[*n].uri = strdup(uri);
        (*files)[*n].local = strdup(path);
        (*n)++;
    }
    return 0;
}

void kt_hr_files_free(kt_hr_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(files[i].uri);
        free(files[i].local);
    }
    free(files);
}

/* A header or form value as text: strings as they are, anything else as JSON. malloc'd. */
static char *kt_hr_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    size_t len;
    return kt_json_dump_jackson(v, &len);
}

static int kt_hr_form(kt_hr *hr, const json_t *props, const kt_hr_file *files, size_t nfiles, char *err,
                      size_t errcap)
{
    const json_t *form = json_object_get(props, "formData");
    const char *key;
    json_t *v;
    if (!kt_hr_multipart(props)) {
        kt_buf b = {0};
        json_object_foreach((json_t *)form, key, v) {
            char *t = kt_hr_text(v);
            char *ek = curl_easy_escape(hr->easy, key, 0), *ev = curl_easy_escape(hr->easy, t ? t : "", 0);
            kt_buf_printf(&b, "%s%s=%s", b.len ? "&" : "", ek ? ek : "", ev ? ev : "");
            curl_free(ek);
            curl_free(ev);
            free(t);
        }
        hr->body = kt_buf_take(&b);
        curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(hr->body));
        curl_easy_setopt(hr->easy, CURLOPT_POSTFIELDS, hr->body);
        hr->headers = curl_slist_append(hr->headers, "Content-Type: application/x-www-form-urlencoded");
        return 0;
    }
    hr->mime = curl_mime_init(hr->easy);
    size_t f = 0;
    json_object_foreach((json_t *)form, key, v) {
        curl_mimepart *part = curl_mime_addpart(hr->mime);
        curl_mime_name(part, key);
        const char *uri, *name;
        if (kt_hr_file_part(v, &uri, &name)) {
            if (f >= nfiles)
                return snprintf(err, errcap, "formData '%s': file not fetched", key), -1;
            const kt_hr_file *file = &files[f++];
            if (curl_mime_filedata(part, file->local) != CURLE_OK)
                return snprintf(err, errcap, "formData '%s': cannot read %s", key, file->uri), -1;
            curl_mime_filename(part, strrchr(file->local, '/') + 1);
            continue;
        }
        char *t = kt_hr_text(v);
        curl_mime_data(part, t ? t : "", CURL_ZERO_TERMINATED);
        free(t);
    }
    curl_easy_setopt(hr->easy, CURLOPT_MIMEPOST, hr->mime);
    return 0;
}

static int kt_hr_dur_ms(const json_t *o, const char *name, int64_t *ms, char *err, size_t errcap)
{
    const json_t *v = json_object_get(o, name);
    int64_t us;
    if (!v || json_is_null(v))
        return 0;
    if (kt_duration_from_json(v, &us) || us < 0)
        return snprintf(err, errcap, "options.%s: invalid duration", name), -1;
    *ms = (us + 999) / 1000;
    return 0;
}

/* options: timeouts, redirects, auth, proxy. */
static int kt_hr_options(kt_hr *hr, const json_t *o, char *err, size_t errcap)
{
    CURL *e = hr->easy;
    int64_t connect_ms = 0, read_ms = 10000, idle_ms = 300000;
    if (kt_hr_dur_ms(o, "connectTimeout", &connect_ms, err, errcap) ||
        kt_hr_dur_ms(o, "readTimeout", &read_ms, err, errcap) ||
        kt_hr_dur_ms(o, "readIdleTimeout", &idle_ms, err, errcap))
        return -1;
    if (connect_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    /* Micronaut's read timeout is an idle one (no byte read for that long), so is its read-idle timeout */
    hr->read_idle_ms = read_ms > 0 && (idle_ms <= 0 || read_ms < idle_ms) ? read_ms : idle_ms;
    if (hr->read_idle_ms > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)((hr->read_idle_ms + 999) / 1000));
    }
    const json_t *follow = json_object_get(o, "followRedirects");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, json_is_false(follow) ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 20L);
    const char *user = json_string_value(json_object_get(o, "basicAuthUser"));
    const char *pass = json_string_value(json_object_get(o, "basicAuthPassword"));
    const json_t *auth = json_object_get(o, "auth");
    long how = CURLAUTH_BASIC;
    if (json_is_object(auth)) {
        const char *type = json_string_value(json_object_get(auth, "type"));
        if (type && !strcasecmp(type, "BEARER")) {
            const char *token = json_string_value(json_object_get(auth, "token"));
            if (!token)
                return snprintf(err, errcap, "options.auth: a BEARER auth needs a token"), -1;
            curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, token);
            curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        } else if (type && (!strcasecmp(type, "BASIC") || !strcasecmp(type, "DIGEST"))) {
            user = json_string_value(json_object_get(auth, "username"));
            pass = json_string_value(json_object_get(auth, "password"));
            how = !strcasecmp(type, "DIGEST") ? CURLAUTH_DIGEST : CURLAUTH_BASIC;
            if (!user || !pass)
                return snprintf(err, errcap, "options.auth: a %s auth needs a username and a password", type), -1;
        } else {
            return snprintf(err, errcap, "options.auth.type: expected BASIC, BEARER or DIGEST, got '%s'",
                            type ? type : "null"), -1;
        }
    }
    if (user && pass) {
        curl_easy_setopt(e, CURLOPT_USERNAME, user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, pass);
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, how);
    }
    const char *ptype = json_string_value(json_object_get(o, "proxyType"));
    const char *paddr = json_string_value(json_object_get(o, "proxyAddress"));
    const json_t *pport = json_object_get(o, "proxyPort");
    if (ptype && strcmp(ptype, "DIRECT") && paddr && json_is_integer(pport)) {
        curl_easy_setopt(e, CURLOPT_PROXY, paddr);
        curl_easy_setopt(e, CURLOPT_PROXYPORT, (long)json_integer_value(pport));
        curl_easy_setopt(e, CURLOPT_PROXYTYPE, !strcmp(ptype, "SOCKS") ? (long)CURLPROXY_SOCKS5 : (long)CURLPROXY_HTTP);
        const char *pu = json_string_value(json_object_get(o, "proxyUsername"));
        const char *pp = json_string_value(json_object_get(o, "proxyPassword"));
        if (pu)
            curl_easy_setopt(e, CURLOPT_PROXYUSERNAME, pu);
        if (pp)
            curl_easy_setopt(e, CURLOPT_PROXYPASSWORD, pp);
    } else {
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* DIRECT: no proxy from the environment either */
    }
    return 0;
}

/* Response headers: a status line starts a new response (redirects, 100 Continue): only the last one's are kept. */
static size_t kt_hr_on_header(char *buf, size_t size, size_t n, void *data)
{
    kt_hr *hr = data;
    size_t len = size * n, end = len;
    while (end && (buf[end - 1] == '\r' || buf[end - 1] == '\n'))
        end--;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        json_object_clear(hr->resp_headers);
        return len;
    }
    const char *colon = memchr(buf, ':', end);
    if (!colon || colon == buf)
        return len;
    char name[256];
    size_t nl = (size_t)(colon - buf) < sizeof name - 1 ? (size_t)(colon - buf) : sizeof name - 1;
    memcpy(name, buf, nl);
    name[nl] = 0;
    const char *v = colon + 1;
    while (v < buf + end && (*v == ' ' || *v == '\t'))
        v++;
    json_t *val = json_stringn(v, (size_t)(buf + end - v));
    if (!val) /* not UTF-8: kept as Latin-1 would need a conversion; an empty value says it was there */
        val = json_string("");
    json_t *list = json_object_get(hr->resp_headers, name);
    if (!list) {
        list = json_array();
        json_object_set_new(hr->resp_headers, name, list);
    }
    json_array_append_new(list, val);
    return len;
}

static int kt_hr_has_header(const json_t *headers, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)headers, k, v)
        if (!strcasecmp(k, name))
            return 1;
    return 0;
}

int kt_hr_build(kt_hr *hr, const json_t *props, const kt_hr_file *files, size_t nfiles, char *err, size_t errcap)
{
    const char *uri = json_string_value(json_object_get(props, "uri"));
    if (!uri || !*uri)
        return snprintf(err, errcap, "uri: must not be null"), -1;
    if (strncasecmp(uri, "http://", 7) && strncasecmp(uri, "https://", 8))
        return snprintf(err, errcap, "unknown protocol: %.*s", (int)strcspn(uri, ":"), uri), -1;
    hr->easy = curl_easy_init();
    hr->resp_headers = json_object();
    if (!hr->easy)
        return snprintf(err, errcap, "cannot make a curl handle"), -1;
    CURL *e = hr->easy;
    curl_easy_setopt(e, CURLOPT_URL, uri);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, hr->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, kt_hr_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, hr);
    const char *method = json_string_value(json_object_get(props, "method"));
    if (!method)
        method = "GET";
    const json_t *form = json_object_get(props, "formData");
    const char *body = json_string_value(json_object_get(props, "body"));
    const char *ct = json_string_value(json_object_get(props, "contentType"));
    if (json_is_object(form)) {
        if (kt_hr_form(hr, props, files, nfiles, err, errcap))
            return -1;
    } else if (body) {
        hr->body = strdup(body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(hr->body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, hr->body);
        if (!ct) /* Micronaut sends a String body as JSON unless told otherwise */
            hr->headers = curl_slist_append(hr->headers, "Content-Type: application/json");
    }
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") || hr->body || hr->mime)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (ct && !(hr->mime && !strcmp(ct, KT_HR_MULTIPART))) { /* curl writes the multipart type with its boundary */
        char line[1024];
        snprintf(line, sizeof line, "Content-Type: %s", ct);
        hr->headers = curl_slist_append(hr->headers, line);
    }
    const json_t *headers = json_object_get(props, "headers");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)headers, k, v) {
        char *t = kt_hr_text(v);
        kt_buf line = {0};
        kt_buf_printf(&line, "%s: %s", k, t ? t : "");
        free(t);
        if (strchr(line.p, '\r') || strchr(line.p, '\n')) {
            free(kt_buf_take(&line));
            return snprintf(err, errcap, "headers.%s: a header value cannot hold a line break", k), -1;
        }
        char *l = kt_buf_take(&line);
        hr->headers = curl_slist_append(hr->headers, l);
        free(l);
    }
    if (!kt_hr_has_header(headers, "Expect")) /* no 100-continue round trip before a body */
        hr->headers = curl_slist_append(hr->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hr->headers);
    const json_t *opts = json_object_get(props, "options");
    if (kt_hr_options(hr, json_is_object(opts) ? opts : NULL, err, errcap))
        return -1;
    const json_t *ssl = json_object_get(props, "sslOptions");
    if (!ssl && json_is_object(opts))
        ssl = json_object_get(opts, "ssl"); /* Kestra 1.x */
    if (json_is_true(json_object_get(ssl, "insecureTrustAllCertificates"))) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return 0;
}

void kt_hr_clear(kt_hr *hr)
{
    if (hr->easy)
        curl_easy_cleanup(hr->easy);
    curl_mime_free(hr->mime);
    curl_slist_free_all(hr->headers);
    free(hr->body);
    json_decref(hr->resp_headers);
    memset(hr, 0, sizeof *hr);
}

const char *kt_hr_header(const kt_hr *hr, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(hr->resp_headers, k, v)
        if (!strcasecmp(k, name))
            return json_string_value(json_array_get(v, 0));
    return NULL;
}

void kt_hr_error(const kt_hr *hr, CURLcode rc, char *out, size_t cap)
{
    long connected = 0;
    curl_easy_getinfo(hr->easy, CURLINFO_CONNECT_TIME_T, &connected);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(out, cap, "%s (%s)", connected ? "Read Timeout" : "Connect Timeout", hr->errbuf);
    else
        snprintf(out, cap, "%s", hr->errbuf[0] ? hr->errbuf : curl_easy_strerror(rc));
}
