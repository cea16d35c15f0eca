/* libcurl's multi interface driven by a libuv loop: one CURLM per owner (the worker has one), a uv_poll per socket
 * curl opens and one uv_timer for curl's timeouts (curl_multi_socket_action), so any number of transfers run on the
 * loop thread without a thread per request and without ever blocking the loop on the network. Prefix kt_hl.
 *
 * A transfer is an easy handle the caller configured (its callbacks run on the loop thread, inside
 * curl_multi_socket_action); done runs once when curl finishes it, outside any curl callback, so done may free the
 * easy handle and start other transfers. The easy handle stays the caller's: kt_hl_add never frees it. */
#ifndef KT_WORKER_HTTP_LOOP_H
#define KT_WORKER_HTTP_LOOP_H

#include <curl/curl.h>
#include <uv.h>

#include "base/status.h"

typedef struct kt_hl kt_hl;
typedef struct kt_hl_xfer kt_hl_xfer;

/* rc: CURLE_OK when an answer came (whatever its HTTP status), curl's error otherwise (errbuf: the easy handle's
 * CURLOPT_ERRORBUFFER when the caller set one). The xfer is freed after done returns. */
typedef void (*kt_hl_done_fn)(kt_hl_xfer *x, CURLcode rc, void *data);

/* NULL when curl cannot make a multi handle. */
kt_hl *kt_hl_new(uv_loop_t *loop);
/* Removes the transfers still running (their done never runs), closes curl's connections and the handles; the
 * struct is freed once libuv has closed them (the loop must run on). NULL is fine. */
void kt_hl_close(kt_hl *h);

/* Starts easy on the loop. KT_OK and *out (may be NULL) set; KT_EIO when curl refuses it (done never runs). */
kt_status kt_hl_add(kt_hl *h, CURL *easy, kt_hl_done_fn done, void *data, kt_hl_xfer **out);
/* Stops a running transfer now (its done never runs; the easy handle is free to clean up). Never from inside one of
 * the easy handle's own curl callbacks. NULL is fine. */
void kt_hl_cancel(kt_hl_xfer *x);
/* Resumes a transfer whose write or read callback returned CURL_WRITEFUNC_PAUSE / CURL_READFUNC_PAUSE. curl may
 * call the write callback again before this returns (with the data it held back). */
void kt_hl_resume(kt_hl_xfer *x);

#endif
