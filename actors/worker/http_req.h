/* The HTTP request of http.Request / http.Download (Kestra's AbstractHttp) as a configured curl easy handle: uri,
 * method, headers, body / formData / contentType (url-encoded or multipart, file parts from local copies of
 * kestra:// files), options (timeouts, redirects, basic/bearer/digest auth, proxy) and TLS options; and the response
 * headers collected as Kestra outputs them (name -> list of values, reset at each new response of a redirect
 * chain). Private to the worker. Prefix kt_hr. */
#ifndef KT_WORKER_HTTP_REQ_H
#define KT_WORKER_HTTP_REQ_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A multipart file part whose content lives in internal storage: fetched to `local` before the request is built. */
typedef struct kt_hr_file {
    char *uri;   /* kestra:// */
    char *local; /* <workdir>/<index>/<name> */
} kt_hr_file;

typedef struct kt_hr {
    CURL *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    char *body;             /* the request body curl sends (owned) */
    json_t *resp_headers;   /* {name: [values]} of the last response */
    int64_t read_idle_ms;   /* options.readTimeout: no byte for that long fails the transfer */
    char errbuf[CURL_ERROR_SIZE];
} kt_hr;

/* The multipart file parts of props' formData (none unless contentType is multipart/form-data), with their local
 * paths under workdir (folders made). 0, or -1 with err. *files is malloc'd (kt_hr_files_free). */
int kt_hr_files(const json_t *props, const char *workdir, kt_hr_file **files, size_t *n, char *err, size_t errcap);
void kt_hr_files_free(kt_hr_file *files, size_t n);

/* Configures hr->easy from the rendered props (the file parts already local). head_unlimited: 1 for HEAD.
 * 0, or -1 with err (a bad property). The caller sets the write callback. */
int kt_hr_build(kt_hr *hr, const json_t *props, const kt_hr_file *files, size_t nfiles, char *err, size_t errcap);
void kt_hr_clear(kt_hr *hr);

/* The first value of a response header (case-insensitive name), or NULL. */
const char *kt_hr_header(const kt_hr *hr, const char *name);
/* Kestra's texts for a transfer that did not get an answer: "Read Timeout", "Connect Timeout", or curl's error. */
void kt_hr_error(const kt_hr *hr, CURLcode rc, char *out, size_t cap);

#endif
