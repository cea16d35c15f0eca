/* The S3 backend's HTTP layer (store/s3_req.h): settings, URLs, one signed request over libcurl's easy interface
 * (blocking, on the caller's thread), response headers, error bodies, and the few XML elements S3 answers with. */
#include "store/s3_req.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "base/alloc.h"
#include "store/s3_sign.h"

#define KT_S3_BODY_DEFAULT (64 * 1024)

/* ---- settings and URLs ---- */

static int is_ip_or_localhost(const char *host, size_t n)
{
    if (n == 9 && !strncasecmp(host, "localhost", 9))
        return 1;
    if (n && host[0] == '[')
        return 1; /* IPv6 literal */
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)host[i]) && host[i] != '.')
            return 0;
    return n > 0;
}

/* A bucket that can be a DNS label of a virtual host: lower case, digits, '-', 3 to 63 characters, no dots (a dot
 * would break the certificate's wildcard). */
static int dns_bucket(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-')
            return 0;
    return b[0] != '-' && b[n - 1] != '-';
}

static int empty(const char *s)
{
    return !s || !*s;
}

kt_status kt_s3_init(kt_s3 *s, const kt_storage_s3_config *c, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    if (empty(c->bucket) || empty(c->access_key) || empty(c->secret_key)) {
        kt_errf(err, errcap, "S3 storage: bucket, access key and secret key are required");
        return KT_EINVAL;
    }
    const char *region = empty(c->region) ? "us-east-1" : c->region;
    char defendpoint[256];
    snprintf(defendpoint, sizeof defendpoint, "https://s3.%s.amazonaws.com", region);
    const char *ep = empty(c->endpoint) ? defendpoint : c->endpoint;
    const char *scheme_end = strstr(ep, "://");
    if (!scheme_end || (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))) {
        kt_errf(err, errcap, "S3 storage: endpoint %s: expected http(s)://host[:port]", ep);
        return KT_EINVAL;
    }
    const char *host = scheme_end + 3;
    size_t hn = strcspn(host, "/?#");
    if (hn == 0 || (host[hn] && strcmp(host + hn, "/"))) {
        kt_errf(err, errcap, "S3 storage: endpoint %s: expected http(s)://host[:port] without a path", ep);
        return KT_EINVAL;
    }
    size_t name_len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    int path_style = c->force_path_style || is_ip_or_localhost(host, name_len);
    if (!path_style && !dns_bucket(c->bucket)) {
        kt_errf(err, errcap, "S3 storage: bucket %s cannot be a virtual host name: set force-path-style", c->bucket);
        return KT_EINVAL;
    }
    kt_buf o = {0}, h = {0};
    if (path_style) {
        kt_buf_put(&h, host, hn);
    } else {
        kt_buf_printf(&h, "%s.", c->bucket);
        kt_buf_put(&h, host, hn);
    }
    s->host = kt_buf_take(&h);
    kt_buf_put(&o, ep, (size_t)(host - ep));
    kt_buf_puts(&o, s->host);
    s->origin = kt_buf_take(&o);
    kt_buf bp = {0};
    if (path_style) {
        kt_buf_putc(&bp, '/');
        kt_s3sig_uri_encode(&bp, c->bucket, 0);
    }
    s->bucket_path = kt_buf_take(&bp);
    s->bucket = kt_xstrdup(c->bucket);
    s->region = kt_xstrdup(region);
    s->access_key = kt_xstrdup(c->access_key);
    s->secret_key = kt_xstrdup(c->secret_key);
    kt_buf p = {0};
    if (!empty(c->prefix)) {
        const char *x = c->prefix;
        while (*x == '/')
            x++;
        kt_buf_puts(&p, x);
        if (p.len && p.p[p.len - 1] != '/')
            kt_buf_putc(&p, '/');
    }
    s->prefix = kt_buf_take(&p);
    s->part_size = c->part_size ? c->part_size : 8u << 20;
    pthread_mutex_init(&s->lock, NULL);
    return KT_OK;
}

void kt_s3_clear(kt_s3 *s)
{
    for (size_t i = 0; i < s->nidle; i++)
        curl_easy_cleanup(s->idle[i]);
    if (s->origin)
        pthread_mutex_destroy(&s->lock);
    free(s->origin);
    free(s->host);
    free(s->bucket_path);
    free(s->bucket);
    free(s->region);
    free(s->access_key);
    if (s->secret_key)
        memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->secret_key);
    free(s->prefix);
    memset(s, 0, sizeof *s);
}

char *kt_s3_key(const kt_s3 *s, const char *path)
{
    kt_buf b = {0};
    kt_buf_printf(&b, "%s%s", s->prefix, path);
    return kt_buf_take(&b);
}

void kt_s3_url(const kt_s3 *s, const char *key, const char *query, char **url, char **canon_uri)
{
    kt_buf c = {0};
    kt_buf_puts(&c, s->bucket_path);
    kt_buf_putc(&c, '/');
    if (key)
        kt_s3sig_uri_encode(&c, key, 1);
    kt_buf u = {0};
    kt_buf_printf(&u, "%s%s", s->origin, c.p);
    if (query && *query)
        kt_buf_printf(&u, "?%s", query);
    *url = kt_buf_take(&u);
    *canon_uri = kt_buf_take(&c);
}

char *kt_s3_qparam(const char *k, const char *v)
{
    kt_buf b = {0};
    kt_s3sig_uri_encode(&b, k, 0);
    kt_buf_putc(&b, '=');
    kt_s3sig_uri_encode(&b, v ? v : "", 0);
    return kt_buf_take(&b);
}

/* ---- metadata names ---- */

char *kt_s3_meta_name_out(const char *name)
{
    kt_buf b = {0};
    for (const char *p = name; *p; p++) {
        if (isupper((unsigned char)*p)) {
            kt_buf_putc(&b, '_');
            kt_buf_putc(&b, (char)tolower((unsigned char)*p));
        } else {
            kt_buf_putc(&b, *p);
        }
    }
    return kt_buf_take(&b);
}

char *kt_s3_meta_name_in(const char *name)
{
    kt_buf b = {0};
    for (const char *p = name; *p; p++) {
        if (*p == '_' && islower((unsigned char)p[1])) {
            p++;
            kt_buf_putc(&b, (char)toupper((unsigned char)*p));
        } else {
            kt_buf_putc(&b, (char)tolower((unsigned char)*p));
        }
    }
    return kt_buf_take(&b);
}

/* Values travel in headers: printable ASCII as is, other bytes (and '%') percent-encoded. */
static char *meta_value_in(const char *v, size_t n)
{
    kt_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%' && i + 2 < n && isxdigit((unsigned char)v[i + 1]) && isxdigit((unsigned char)v[i + 2])) {
            char hx[3] = {v[i + 1], v[i + 2], 0};
            kt_buf_putc(&b, (char)strtol(hx, NULL, 16));
            i += 2;
        } else {
            kt_buf_putc(&b, v[i]);
        }
    }
    return kt_buf_take(&b);
}

/* ---- one request ---- */

typedef struct xfer {
    kt_s3_resp *rs;
    size_t max;
    char *into;
    int overflow;
} xfer;

static size_t on_body(char *p, size_t sz, size_t n, void *data)
{
    xfer *x = data;
    size_t len = sz * n;
    int direct = x->into && x->rs->status >= 200 && x->rs->status < 300;
    size_t have = direct ? x->rs->got : x->rs->body.len;
    if (have + len > x->max) {
        x->overflow = 1;
        return 0;
    }
    if (direct) {
        memcpy(x->into + x->rs->got, p, len);
        x->rs->got += len;
    } else {
        kt_buf_put(&x->rs->body, p, len);
    }
    return len;
}

static int64_t http_date_ms(const char *v)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S", &tm);
    return end ? (int64_t)timegm(&tm) * 1000 : 0;
}

int64_t kt_s3_iso_ms(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return 0;
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    if (*end == '.')
        ms += strtol(end + 1, NULL, 10) % 1000;
    return ms;
}

static size_t on_header(char *p, size_t sz, size_t n, void *data)
{
    kt_s3_resp *rs = ((xfer *)data)->rs;
    size_t len = sz * n;
    char line[4096];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, l);
    line[l] = 0;
    while (l && (line[l - 1] == '\r' || line[l - 1] == '\n'))
        line[--l] = 0;
    if (!strncmp(line, "HTTP/", 5)) { /* the status line: on_body needs the status before the body */
        const char *sp = strchr(line, ' ');
        rs->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ')
        v++;
    if (!strcasecmp(line, "content-length"))
        rs->length = strtoll(v, NULL, 10);
    else if (!strcasecmp(line, "content-range") && strchr(v, '/'))
        rs->total = strtoll(strchr(v, '/') + 1, NULL, 10);
    else if (!strcasecmp(line, "etag"))
        snprintf(rs->etag, sizeof rs->etag, "%s", v);
    else if (!strcasecmp(line, "last-modified"))
        rs->modified_ms = http_date_ms(v);
    else if (!strncasecmp(line, "x-amz-meta-", 11) && line[11]) {
        if (!rs->meta)
            rs->meta = json_object();
        char *name = kt_s3_meta_name_in(line + 11);
        char *val = meta_value_in(v, strlen(v));
        json_object_set_new(rs->meta, name, json_string(val));
        free(name);
        free(val);
    }
    return len;
}

static CURL *handle_take(kt_s3 *s)
{
    CURL *c = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->nidle)
        c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    if (c)
        curl_easy_reset(c);
    else
        c = curl_easy_init();
    return c;
}

static void handle_give(kt_s3 *s, CURL *c)
{
    pthread_mutex_lock(&s->lock);
    if (s->nidle < sizeof s->idle / sizeof *s->idle) {
        s->idle[s->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (c)
        curl_easy_cleanup(c);
}

static void amz_now(const kt_s3 *s, char out[17])
{
    time_t t = s->insecure_time ? (time_t)s->insecure_time : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

kt_status kt_s3_do(kt_s3 *s, const kt_s3_req *rq, kt_s3_resp *rs, char *err, size_t errcap)
{
    memset(rs, 0, sizeof *rs);
    rs->length = rs->total = -1;
    char *query = kt_s3sig_query(rq->query, rq->nquery);
    char *url, *canon;
    kt_s3_url(s, rq->key, query, &url, &canon);
    char payload[65], date[17];
    kt_s3sig_sha256_hex(rq->body ? rq->body : "", rq->body ? rq->body_len : 0, payload);
    amz_now(s, date);

    /* The signed headers: host, the date, the payload's hash, and the caller's. */
    kt_s3sig_header hs[40];
    size_t nh = 0;
    hs[nh++] = (kt_s3sig_header){"host", s->host};
    hs[nh++] = (kt_s3sig_header){"x-amz-content-sha256", payload};
    hs[nh++] = (kt_s3sig_header){"x-amz-date", date};
    char names[32][128];
    for (size_t i = 0; i < rq->nheaders && nh < 40 && i < 32; i++) {
        const char *h = rq->headers[i];
        size_t k = strcspn(h, ":");
        snprintf(names[i], sizeof names[i], "%.*s", (int)k, h);
        hs[nh++] = (kt_s3sig_header){names[i], h[k] ? h + k + 1 : ""};
    }
    kt_s3sig_key key = {s->access_key, s->secret_key, s->region, "s3"};
    kt_s3sig_request sr = {rq->method, canon, query, hs, nh, payload};
    char *auth = NULL;
    kt_status st = kt_s3sig_authorization(&key, date, &sr, &auth, NULL, NULL);
    if (st) {
        kt_errf(err, errcap, "S3: cannot sign the request");
        goto done;
    }

    struct curl_slist *hl = NULL;
    for (size_t i = 1; i < nh; i++) { /* curl writes Host itself (the same value) */
        kt_buf line = {0}; /* whole: a cut value would no longer match its signature */
        kt_buf_printf(&line, "%s: %s", hs[i].name, hs[i].value);
        char *l = kt_buf_take(&line);
        hl = curl_slist_append(hl, l);
        free(l);
    }
    kt_buf al = {0}; /* long with many metadata headers (SignedHeaders names them all) */
    kt_buf_printf(&al, "Authorization: %s", auth);
    char *a = kt_buf_take(&al);
    hl = curl_slist_append(hl, a);
    free(a);
    hl = curl_slist_append(hl, "Expect:");       /* no 100-continue round trip */
    hl = curl_slist_append(hl, "Content-Type:"); /* no form type on the POSTFIELDS bodies */

    CURL *c = handle_take(s);
    xfer x = {rs, rq->body_max ? rq->body_max : KT_S3_BODY_DEFAULT, rq->into, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled transfer fails instead of holding a pool thread */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
        if (rq->body || !strcmp(rq->method, "PUT") || !strcmp(rq->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
        }
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
    handle_give(s, c);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK) {
        /* named after the storage URI when the request is about one object, as the storage's messages are */
        size_t pl = strlen(s->prefix);
        const char *path = rq->key && !strncmp(rq->key, s->prefix, pl) ? rq->key + pl : NULL;
        char what[600];
        snprintf(what, sizeof what, "%s%s%sS3 %s %s", path ? "kestra:///" : "", path ? path : "", path ? ": " : "",
                 rq->method, url);
        if (x.overflow)
            kt_errf(err, errcap, "%s: answer larger than %zu bytes", what, x.max);
        else
            kt_errf(err, errcap, "%s: %s", what, curl_easy_strerror(rc));
        st = KT_EIO;
    }
done:
    free(auth);
    free(query);
    free(url);
    free(canon);
    return st;
}

int kt_s3_empty_range(const kt_s3_resp *rs)
{
    return rs->status == 416 || (rs->status == 206 && rs->total == 0);
}

void kt_s3_resp_clear(kt_s3_resp *rs)
{
    json_decref(rs->meta);
    free(kt_buf_take(&rs->body));
    memset(rs, 0, sizeof *rs);
}

kt_status kt_s3_status(const kt_s3_resp *rs, const char *path, char *err, size_t errcap)
{
    if (rs->status >= 200 && rs->status < 300)
        return KT_OK;
    const char *p = rs->body.p, *end = rs->body.p + rs->body.len;
    char *code = p ? kt_s3_xml_next(&p, end, "Code") : NULL;
    p = rs->body.p;
    char *msg = p ? kt_s3_xml_next(&p, end, "Message") : NULL;
    kt_errf(err, errcap, "kestra:///%s: S3 %ld %s%s%s", path, rs->status,
            code ? code : (rs->status == 404 ? "NoSuchKey" : rs->status == 403 ? "AccessDenied" : "Error"),
            msg ? ": " : "", msg ? msg : "");
    free(code);
    free(msg);
    return rs->status == 404 ? KT_ENOTFOUND : KT_EIO;
}

/* ---- XML ---- */

char *kt_s3_xml_next(const char **p, const char *end, const char *tag)
{
    char open[80], close[80];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    size_t ol = strlen(open), cl = strlen(close);
    const char *a = *p;
    for (; a + ol <= end && memcmp(a, open, ol); a++)
        ;
    if (a + ol > end)
        return NULL;
    a += ol;
    const char *b = a;
    for (; b + cl <= end && memcmp(b, close, cl); b++)
        ;
    if (b + cl > end)
        return NULL;
    *p = b + cl;
    kt_buf o = {0};
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (const char *q = a; q < b; q++) {
        int done = 0;
        if (*q == '&') {
            for (size_t i = 0; i < sizeof ents / sizeof *ents && !done; i++) {
                size_t n = strlen(ents[i].ent);
                if (q + n <= b && !memcmp(q, ents[i].ent, n)) {
                    kt_buf_putc(&o, ents[i].c);
                    q += n - 1;
                    done = 1;
                }
            }
            if (!done && q + 2 < b && q[1] == '#') { /* &#13; &#x0D; */
                char *e;
                long v = q[2] == 'x' ? strtol(q + 3, &e, 16) : strtol(q + 2, &e, 10);
                if (e < b && *e == ';' && v > 0 && v < 128) {
                    kt_buf_putc(&o, (char)v);
                    q = e;
                    done = 1;
                }
            }
        }
        if (!done)
            kt_buf_putc(&o, *q);
    }
    return kt_buf_take(&o);
}

void kt_s3_xml_escape(kt_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': kt_buf_puts(b, "&amp;"); break;
        case '<': kt_buf_puts(b, "&lt;"); break;
        case '>': kt_buf_puts(b, "&gt;"); break;
        case '"': kt_buf_puts(b, "&quot;"); break;
        case '\'': kt_buf_puts(b, "&apos;"); break;
        default: kt_buf_putc(b, *s);
        }
    }
}
