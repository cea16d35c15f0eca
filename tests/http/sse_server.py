"""A text/event-stream server on 127.0.0.1 for io.kestra.plugin.core.http.SseRequest's tests
(tests/integration/test_coretypes.c). Prints its port on the first line of stdout, then serves until killed.
  /events        four events then the end of the stream: JSON data with an id, a name and a retry, a comment, data on
                 two lines, plain text; lines cut across writes, \r\n and \r line ends mixed
  /numbers       three events whose data is {"n": 1..3}
  /endless       one event every 50 ms until the client goes away
  /status/N      answers N with a text body
The answer has no Content-Length: the stream ends when the server closes the connection (HTTP/1.0).
"""
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def write(self, text):
        self.wfile.write(text.encode())
        self.wfile.flush()

    def do_GET(self):
        p = self.path
        if p.startswith("/status/"):
            code = int(p.split("/")[2])
            body = ("status %d" % code).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if p == "/events":
            self.start_stream()
            # the first event's lines are cut in the middle, across writes
            self.write('id: 1\nevent: greet')
            time.sleep(0.05)
            self.write('ing\nretry: 2500\ndata: {"message": "hel')
            time.sleep(0.05)
            self.write('lo"}\n\n')
            self.write(": a comment line\r\n\r\n")
            self.write("data: first line\rdata: second line\r\r")
            self.write("data:plain text\n\n")
            return
        if p == "/numbers":
            self.start_stream()
            for n in (1, 2, 3):
                self.write('data: {"n": %d}\n\n' % n)
            return
        if p == "/endless":
            self.start_stream()
            n = 0
            try:
                while True:
                    n += 1
                    self.write("id: %d\ndata: tick %d\n\n" % (n, n))
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
