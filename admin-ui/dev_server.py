#!/usr/bin/env python3
"""Development server for the dashboard: serves admin-ui/static and forwards /api/* to a
management API (Roost's, or a private RabbitMQ node's rabbitmq_management, whose paths and
JSON the dashboard follows). Lets the UI be worked on and compared against RabbitMQ without
rebuilding the broker; Roost itself serves the same files at /.

  admin-ui/dev_server.py --port 8080 --upstream http://127.0.0.1:15672
"""
import argparse
import http.client
import http.server
import os
import urllib.parse

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Reason")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Location")


class Handler(http.server.SimpleHTTPRequestHandler):
    upstream = None  # urllib.parse result, set in main()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=STATIC, **kwargs)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {h: self.headers[h] for h in FORWARDED_REQUEST_HEADERS if self.headers.get(h)}
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.send_response(resp.status)
        for h in FORWARDED_RESPONSE_HEADERS:
            if resp.getheader(h):
                self.send_header(h, resp.getheader(h))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self):
        if self.path.startswith("/api/"):
            self.forward()
        elif self.command in ("GET", "HEAD"):
            super().do_GET() if self.command == "GET" else super().do_HEAD()
        else:
            self.send_error(405)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = dispatch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--upstream", default="http://127.0.0.1:15672")
    args = ap.parse_args()
    Handler.upstream = urllib.parse.urlsplit(args.upstream)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    print(f"listening http {args.bind} {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
