#!/usr/bin/env python3
"""A minimal stand-in for the Docker Engine API on a unix socket, serving N canned containers.

    python3 benches/fake_engine.py /tmp/fake.sock 1000

Used by `FAKE_ENGINE=1 bash benches/many_containers.sh` to measure the console's own cost of
listing and drawing N containers without the engine's (the real engine spends 100-200 ms on
GET /containers/json with 1000 containers on the reference machine). Answers GET /_ping,
/version, /containers/json (N entries shaped like Docker Engine 20.10's), and holds /events and
/containers/{id}/stats open without sending anything (an idle engine). Everything else: 404.
"""
import json
import os
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler

SOCK, N = sys.argv[1], int(sys.argv[2])
NOW = int(time.time())

VERSION = json.dumps({
    "Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "MinAPIVersion": "1.12",
    "GitCommit": "5d6db84", "GoVersion": "go1.19.8", "Os": "linux", "Arch": "amd64",
    "KernelVersion": os.uname().release, "Platform": {"Name": "fake"},
}).encode()


def container(i: int) -> dict:
    cid = f"{i:08x}" + "f" * 56
    return {
        "Id": cid,
        "Names": [f"/fdbench-fake-{i:05d}"],
        "Image": "fleetdeck-test/busybox:local",
        "ImageID": "sha256:" + "e" * 64,
        "Command": "sleep 1000000",
        "Created": NOW - 600 - i,
        "Ports": [],
        "Labels": {"fleetdeck.bench": "1", "fleetdeck.bench.run": "fake"},
        "State": "running",
        "Status": "Up 10 minutes",
        "HostConfig": {"NetworkMode": "none"},
        "NetworkSettings": {"Networks": {"none": {
            "IPAMConfig": None, "Links": None, "Aliases": None,
            "NetworkID": "6" * 64, "EndpointID": f"{i:064x}", "Gateway": "", "IPAddress": "",
            "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": None}}},
        "Mounts": [],
    }


CONTAINERS = json.dumps([container(i) for i in range(1, N + 1)]).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet; client_address is empty on unix sockets anyway
        pass

    def reply(self, body: bytes, status: int = 200, ctype: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def hold_open(self):
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            while self.rfile.read(1):  # returns b"" when the client goes away
                pass
        except OSError:
            pass
        self.close_connection = True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = path.split("/")
        if len(parts) > 1 and parts[1].startswith("v1."):
            path = "/" + "/".join(parts[2:])
        if path == "/_ping":
            self.reply(b"OK", ctype="text/plain")
        elif path == "/version":
            self.reply(VERSION)
        elif path == "/containers/json":
            self.reply(CONTAINERS)
        elif path == "/events" or (path.startswith("/containers/") and path.endswith("/stats")):
            self.hold_open()
        else:
            self.reply(json.dumps({"message": f"fake engine: no {path}"}).encode(), 404)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that hung up: not news
        pass


if os.path.exists(SOCK):
    os.unlink(SOCK)
with Server(SOCK, Handler) as srv:
    srv.serve_forever()
