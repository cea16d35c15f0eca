"""A small HTTP server on 127.0.0.1 for the http task tests (tests/unit/actors/test_http_tasks.c, bench/http.c).
Prints its port on the first line of stdout, then serves until killed. With `--tls CERT KEY` it serves HTTPS.
  /echo[...]          any method: {"method", "path", "headers", "body"} as JSON
  /status/N           answers N with body "status N"
  /redirect           302 to /echo
  /slow/S             waits S seconds, then answers 200 "late"
  /hang               sends the headers and part of the body, then waits 60 s
  /bytes/N            N bytes of 'x' with Content-Length, written 1 MiB at a time
  /file               a CSV with Content-Disposition: attachment; filename="report 1.csv"
  /empty              200 with an empty body
  /short              announces 10 bytes, sends 5
  /count/NAME/N       counts a hit for NAME, answers N with JSON {"name", "hit"} (the hit's number, from 1);
                      with ?sleep=S it answers S seconds after counting
  /hits/NAME          the number of hits counted for NAME, as text (0 when none)
"""
import http.server
import json
import socketserver
import sys
import threading
import time

hits = {}
hits_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, ctype="text/plain", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Multi", "one")
        self.send_header("X-Multi", "two")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        p = self.path
        if p.startswith("/count/"):
            path, _, query = p.partition("?")
            _, _, name, code = path.split("/", 3)
            with hits_lock:
                hits[name] = hits.get(name, 0) + 1
                n = hits[name]
            if query.startswith("sleep="):
                time.sleep(float(query[6:]))
            return self.send_body(int(code), json.dumps({"name": name, "hit": n}).encode(), "application/json")
        if p.startswith("/hits/"):
            with hits_lock:
                n = hits.get(p.split("/")[2], 0)
            return self.send_body(200, str(n).encode())
        if p.startswith("/status/"):
            code = int(p.split("/")[2])
            return self.send_body(code, ("status %d" % code).encode())
        if p == "/redirect":
            return self.send_body(302, b"", extra={"Location": "/echo/redirected"})
        if p.startswith("/slow/"):
            time.sleep(float(p.split("/")[2]))
            return self.send_body(200, b"late")
        if p == "/hang":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            time.sleep(60)
            return
        if p.startswith("/bytes/"):
            total = int(p.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            left = total
            while left > 0:
                k = min(left, len(chunk))
                self.wfile.write(chunk[:k])
                left -= k
            return
        if p == "/file":
            return self.send_body(200, b"a,b\n1,2\n", "text/csv",
                                  {"Content-Disposition": 'attachment; filename="report 1.csv"'})
        if p == "/empty":
            return self.send_body(200, b"")
        if p == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"12345")
            self.wfile.flush()
            self.close_connection = True
            return
        doc = {"method": self.command, "path": p, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("latin-1")}
        self.send_body(200, json.dumps(doc).encode(), "application/json")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) == 4 and sys.argv[1] == "--tls":
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
