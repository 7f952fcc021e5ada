#!/usr/bin/env python3
"""A Kubernetes API server double at scale, for benches/kube_scale.sh (issue #16).

Same API shapes as tests/support/kube_server.rs (which runs inside `cargo test`), but standalone
so the release binary (and kdash) can be pointed at it from a shell script:

- pods: PODS pods (the shape of tests/fixtures/kube/pods.json) across NAMESPACES namespaces;
  namespaces listed and watched too; every other namespaced resource is an empty list.
- list: `limit` + `continue` pages like the API server. The continue token carries the list's
  resourceVersion and the next key (apiserver: base64 JSON {"v","rv","start"}, see
  k8s.io/apiserver/pkg/storage/continue.go); every page of one list is served from the snapshot
  taken at that resourceVersion (etcd serves continuations at the first page's revision), so a
  paged list stays consistent while the churn runs.
- watch: `watch=true&resourceVersion=RV` replays the events after RV from a bounded history,
  then streams ADDED/MODIFIED/DELETED as JSON lines (chunked); a RV older than the history gets
  one ERROR event with a 410 Expired Status and the stream ends ("too old resource version",
  as the watch cache answers), so the client relists. BOOKMARKs every 10 s when asked
  (allowWatchBookmarks=true), as the apiserver sends them roughly once a minute or earlier.
- churn: POST /_churn?rate=N starts N events/s (80 % MODIFIED: a container restart count and
  the pod's resourceVersion; 10 % DELETED, each followed by an ADDED of a new pod, so the count
  stays PODS). GET /_stats answers the requests counted per kind ("list pods all", "watch pods
  ns", ...) as JSON; POST /_stats/reset clears them.

- log flood (FLOOD_PODS > 0): a Deployment `flood` in ns-0000 whose selector (`app=flood`, the
  pod list honours `labelSelector` equality terms) matches FLOOD_PODS pods of one container
  each; `GET …/pods/NAME/log?follow=true` streams FLOOD_RATE lines/s (`RFC 3339 stamp` + text
  when `timestamps=true`, as the kubelet writes them) in chunks every 10 ms, catching up when
  the reader fell behind, until the client goes. GET /_stats counts "log lines sent". Not shown
  by this double: the kubelet's own pacing, `tailLines` (a fresh flood has no past lines),
  the API server's proxying.

Usage: kube_scale_server.py PORT [PODS] [NAMESPACES]  (defaults 20000, 2000)
Environment: FLOOD_PODS (0), FLOOD_RATE (30000 lines/s per pod).
"""

import base64
import collections
import copy
import json
import os
import queue
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1])
PODS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
NAMESPACES = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
HISTORY = 20000
FLOOD_PODS = int(os.environ.get("FLOOD_PODS", "0"))
FLOOD_RATE = int(os.environ.get("FLOOD_RATE", "30000"))

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "../tests/fixtures/kube/pods.json")) as f:
    BASE = json.load(f)["items"][0]
BASE["metadata"].pop("managedFields", None)

lock = threading.Lock()
rv = 1000
# (namespace, name) -> serialized object (bytes); namespace objects by name.
pods = {}
namespaces = {}
history = collections.deque()  # (rv, namespace or "", resource, line bytes)
watchers = []  # (resource, namespace or None, queue)
stats = collections.Counter()
serial = 0


def ns_name(i):
    return f"ns-{i:04d}"


def make_pod(ns, i, restarts=0):
    global rv
    rv += 1
    p = copy.deepcopy(BASE)
    m = p["metadata"]
    m["name"] = f"app{i % 50}-{i:06d}"
    m["namespace"] = ns
    m["uid"] = f"uid-{i}"
    m["resourceVersion"] = str(rv)
    m.pop("generateName", None)
    for cs in p.get("status", {}).get("containerStatuses", []):
        cs["restartCount"] = restarts
    p["status"]["podIP"] = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
    return p


def make_ns(name):
    global rv
    rv += 1
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": str(rv),
                         "creationTimestamp": "2026-11-20T16:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def dump(o):
    return json.dumps(o, separators=(",", ":")).encode()


for n in range(NAMESPACES):
    namespaces[ns_name(n)] = dump(make_ns(ns_name(n)))
for i in range(PODS):
    ns = ns_name(i % NAMESPACES)
    p = make_pod(ns, i)
    pods[(ns, p["metadata"]["name"])] = (dump(p), p)
serial = PODS

deployments = {}  # (namespace, name) -> serialized object
if FLOOD_PODS:
    with open(os.path.join(HERE, "../tests/fixtures/kube/deployment.json")) as f:
        d = json.load(f)
    d["metadata"].pop("managedFields", None)
    d["metadata"].update(name="flood", namespace=ns_name(0), labels={"app": "flood"})
    d["spec"]["replicas"] = FLOOD_PODS
    d["spec"]["selector"] = {"matchLabels": {"app": "flood"}}
    d["spec"]["template"]["metadata"]["labels"] = {"app": "flood"}
    for k in ("replicas", "readyReplicas", "availableReplicas", "updatedReplicas"):
        d["status"][k] = FLOOD_PODS
    deployments[(ns_name(0), "flood")] = dump(d)
    for i in range(FLOOD_PODS):
        p = make_pod(ns_name(0), PODS + i)
        p["metadata"]["name"] = f"flood-{i:04d}"
        p["metadata"]["labels"] = {"app": "flood"}
        p["spec"]["containers"] = p["spec"]["containers"][:1]
        p["status"]["containerStatuses"] = p["status"]["containerStatuses"][:1]
        pods[(ns_name(0), p["metadata"]["name"])] = (dump(p), p)
# Watches from below this resourceVersion get 410 (history compacted).
floor = rv


def emit(kind, ns, obj):
    """Record an event and hand it to the matching watchers (lock held)."""
    line = b'{"type":"' + kind.encode() + b'","object":' + dump(obj) + b"}\n"
    history.append((rv, ns, "pods", line))
    global floor
    while len(history) > HISTORY:
        floor = history.popleft()[0]
    for res, wns, q in watchers:
        if res == "pods" and (wns is None or wns == ns):
            q.put(line)


def churn_one():
    global rv, serial
    with lock:
        key = random.choice(list(pods.keys())) if len(pods) < 50 else None
        if key is None:
            # random.choice over dict keys is O(n); sample a few candidate names instead.
            while True:
                i = random.randrange(serial)
                ns = ns_name(i % NAMESPACES)
                k = (ns, f"app{i % 50}-{i:06d}")
                if k in pods:
                    key = k
                    break
        ns = key[0]
        r = random.random()
        if r < 0.8:
            _, p = pods[key]
            p = copy.deepcopy(p)
            rv += 1
            p["metadata"]["resourceVersion"] = str(rv)
            for cs in p["status"].get("containerStatuses", []):
                cs["restartCount"] = cs.get("restartCount", 0) + 1
            pods[key] = (dump(p), p)
            emit("MODIFIED", ns, p)
        else:
            _, p = pods.pop(key)
            rv += 1
            p = copy.deepcopy(p)
            p["metadata"]["resourceVersion"] = str(rv)
            emit("DELETED", ns, p)
            i = serial
            serial += 1
            nns = ns_name(i % NAMESPACES)
            q = make_pod(nns, i)
            pods[(nns, q["metadata"]["name"])] = (dump(q), q)
            emit("ADDED", nns, q)


churn_rate = 0


def churner():
    tick = 0.05
    next_at = time.monotonic()
    carry = 0.0
    while True:
        next_at += tick
        carry += churn_rate * tick
        while carry >= 1:
            carry -= 1
            churn_one()
        time.sleep(max(0, next_at - time.monotonic()))


threading.Thread(target=churner, daemon=True).start()

# Snapshots for paged lists: rv -> (resource, ns) -> sorted [(key, bytes)]
snapshots = {}


def matches(labels, selector):
    """`labelSelector`'s equality terms (`a=b,c==d`); other terms are not needed here."""
    for term in filter(None, (selector or "").split(",")):
        k, _, v = term.replace("==", "=").partition("=")
        if labels.get(k) != v:
            return False
    return True


def snapshot(resource, ns, selector=None):
    if resource == "pods":
        items = sorted((k, v[0]) for k, v in pods.items() if (ns is None or k[0] == ns)
                       and matches(v[1]["metadata"].get("labels") or {}, selector))
    elif resource == "deployments":
        items = sorted((k, v) for k, v in deployments.items() if ns is None or k[0] == ns)
    elif resource == "namespaces":
        items = sorted(((k, k), v) for k, v in namespaces.items())
    else:
        items = []
    return items


KINDS = {"pods": "Pod", "namespaces": "Namespace", "services": "Service", "events": "Event",
         "nodes": "Node", "deployments": "Deployment", "statefulsets": "StatefulSet",
         "daemonsets": "DaemonSet", "replicasets": "ReplicaSet"}


def route(path):
    """(resource, namespace or None) of a collection path, else None."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        rest = parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        rest = parts[3:]
    else:
        return None
    if len(rest) == 1:
        return rest[0], None
    if len(rest) == 3 and rest[0] == "namespaces":
        return rest[2], rest[1]
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global churn_rate
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        if u.path == "/_churn":
            churn_rate = int(q.get("rate", ["200"])[0])
            return self.send_json(200, b"{}")
        if u.path == "/_stats/reset":
            with lock:
                stats.clear()
            return self.send_json(200, b"{}")
        self.send_json(405, b"{}")

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/_stats":
            with lock:
                return self.send_json(200, dump(dict(stats)))
        if u.path == "/version":
            return self.send_json(200, dump({"major": "1", "minor": "33", "gitVersion": "v1.33.4",
                                             "platform": "linux/amd64"}))
        parts = [p for p in u.path.split("/") if p]
        rest = parts[parts.index("namespaces") + 1:] if "namespaces" in parts else []
        if rest[1:2] == ["pods"] and rest[3:] == ["log"]:
            return self.log(rest[2])
        if len(rest) == 3:
            # One object: …/namespaces/NS/RESOURCE/NAME.
            ns, resource, name = rest
            with lock:
                obj = (pods.get((ns, name), (None,))[0] if resource == "pods"
                       else deployments.get((ns, name)) if resource == "deployments" else None)
            if obj is not None:
                return self.send_json(200, obj)
            return self.send_json(404, dump(status(
                404, "NotFound", f'{resource} "{name}" not found')))
        r = route(u.path)
        if r is None:
            return self.send_json(404, dump(status(404, "NotFound", "not found")))
        resource, ns = r
        watch = q.get("watch") in ("true", "1")
        with lock:
            stats[f"{'watch' if watch else 'list'} {resource} {'ns' if ns else 'all'}"] += 1
        if watch:
            return self.watch(resource, ns, q)
        return self.list(resource, ns, q)

    def list(self, resource, ns, q):
        limit = int(q.get("limit", "0") or 0)
        cont = q.get("continue")
        with lock:
            if cont:
                tok = json.loads(base64.urlsafe_b64decode(cont + "=="))
                list_rv, start = tok["rv"], tok["start"]
                items = snapshots.get((list_rv, resource, ns))
                if items is None:
                    return self.send_json(410, dump(status(
                        410, "Expired", "The provided continue parameter is too old")))
            else:
                list_rv, start = rv, 0
                items = snapshot(resource, ns, q.get("labelSelector"))
                if limit:
                    # Keep only the newest few snapshots (the apiserver's are bounded by
                    # etcd compaction, ~5 min).
                    if len(snapshots) > 8:
                        snapshots.pop(next(iter(snapshots)))
                    snapshots[(list_rv, resource, ns)] = items
        page = items[start:start + limit] if limit else items[start:]
        meta = {"resourceVersion": str(list_rv)}
        end = start + len(page)
        if end < len(items):
            tok = dump({"v": "meta.k8s.io/v1", "rv": list_rv, "start": end})
            meta["continue"] = base64.urlsafe_b64encode(tok).decode().rstrip("=")
            meta["remainingItemCount"] = len(items) - end
        body = (b'{"kind":"' + KINDS.get(resource, "Unknown").encode() + b'List","apiVersion":"v1",'
                b'"metadata":' + dump(meta) + b',"items":[' + b",".join(v for _, v in page) + b"]}")
        self.send_json(200, body)
        if end >= len(items) and resource == "pods":
            # When the last page of a pod list went out (epoch s): "after the lists arrive".
            with lock:
                stats["last_pods_page_at"] = time.time()

    def watch(self, resource, ns, q):
        since = int(q.get("resourceVersion", "0") or 0)
        bookmarks = q.get("allowWatchBookmarks") == "true"
        timeout = int(q.get("timeoutSeconds", "0") or 0) or 1800
        qu = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with lock:
            if since and since < floor:
                line = b'{"type":"ERROR","object":' + dump(status(
                    410, "Expired", f"too old resource version: {since} ({floor})")) + b"}\n"
                self.chunk(line)
                self.chunk(b"")
                return
            for erv, ens, eres, line in history:
                if erv > since and eres == resource and (ns is None or ens == ns):
                    qu.put(line)
            me = (resource, ns, qu)
            watchers.append(me)
        end = time.monotonic() + timeout
        last_bm = time.monotonic()
        try:
            while time.monotonic() < end:
                try:
                    lines = [qu.get(timeout=1)]
                    while len(lines) < 500:
                        try:
                            lines.append(qu.get_nowait())
                        except queue.Empty:
                            break
                    self.chunk(b"".join(lines))
                except queue.Empty:
                    pass
                if bookmarks and time.monotonic() - last_bm > 10:
                    last_bm = time.monotonic()
                    with lock:
                        cur = rv
                    self.chunk(dump({"type": "BOOKMARK", "object": {
                        "kind": KINDS.get(resource, "Unknown"), "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(cur)}}}) + b"\n")
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with lock:
                watchers.remove(me)

    def log(self, pod):
        """FLOOD_RATE numbered lines a second until the reader goes."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        stamps = q.get("timestamps") == "true"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        start = time.monotonic()
        sent = 0
        try:
            while q.get("follow") == "true":
                due = min(int(FLOOD_RATE * (time.monotonic() - start)) - sent, 5000)
                if due > 0:
                    now_ns = time.time_ns()
                    head = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(now_ns // 10**9))
                    frac = now_ns % 10**9
                    lines = [
                        (f"{head}{min(frac + j, 999999999):09d}Z " if stamps else "")
                        + f"{pod} line {sent + j}\n" for j in range(due)]
                    self.chunk("".join(lines).encode())
                    sent += due
                    with lock:
                        stats["log lines sent"] += due
                time.sleep(0.01)
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


ThreadingHTTPServer.daemon_threads = True
print(f"serving {len(pods)} pods in {len(namespaces)} namespaces on 127.0.0.1:{PORT}", flush=True)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
