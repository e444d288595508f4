#!/usr/bin/env python3
"""The real parts the browser tests and the page bench drive, on loopback in a temp dir:
`nats-server -js`, a `kiln worker` and a `kiln gateway` (BUILD_DIR/bin/kiln), with a config
file and the small Lua pipelines the tests need. Nothing here is a stand-in: the page talks to
the gateway, the gateway to NATS, the worker runs the jobs.

As a module:  with Stack(build_dir) as s: s.submit("fail"); s.url; s.token
By hand:      python3 tests/browser/stack.py BUILD_DIR   (prints the URL and token, Ctrl-C stops)

A small control server (s.serve_control()) lets the node test submit jobs and restart the
gateway: POST /submit {"pipeline", "id"?, "branch"?, "repo"?}, POST /restart-gateway,
GET /state/<id> (the state as `kiln status --json` reads it from KV).
"""
import http.server, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.request

COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def lua_str(s):
    return json.dumps(s, ensure_ascii=False)  # a valid Lua string literal for these texts (UTF-8 as is)


def sh_step(name, script, opts=""):
    o = f"{opts}, " if opts else ""
    return (f'kiln.step({lua_str(name)}, {o}function()\n'
            f'  local r = kiln.exec{{ cmd = {{ "sh", "-c", {lua_str(script)} }} }}\n'
            f'  if r.code ~= 0 then kiln.fail({lua_str(name)} .. ": exit code " .. r.code) end\n'
            'end)\n')


# The pipelines: name -> Lua source.
PIPELINES = {
    # A build that fails in the middle of its second step, after a line saying "error: ...".
    # Colours, and a line of HTML that must stay text.
    "fail": sh_step("checkout", "echo 'Cloning into workspace...'; for i in $(seq 1 20); do echo \"checkout $i\"; done; "
                               "printf '\\033[32mcheckout done\\033[0m\\n'")
    + sh_step("compile", "for i in $(seq 1 200); do echo \"cc -c src/file$i.c\"; done; "
                         "echo '<img src=x onerror=window.__xss=1>'; "
                         "printf '\\033[1;31merror: undefined reference to `frobnicate`\\033[0m\\n'; "
                         "for i in $(seq 1 30); do echo \"note: after the error $i\"; done; exit 2")
    + sh_step("package", "echo never"),
    # A build that sleeps: to cancel.
    "sleep": sh_step("prepare", "echo preparing")
    + sh_step("sleep", "echo sleeping; sleep 300"),
    # A 20,000-line log that succeeds.
    "lines20k": sh_step("generate", "awk 'BEGIN{for(i=1;i<=20000;i++) printf \"line %06d of the generated log, padded to be a little longer\\n\", i}'"),
    # 7,500 numbered lines over ~15 s: for the reconnect check.
    "stream": sh_step("stream", "i=0; while [ $i -lt 150 ]; do seq -f \"tick $i %g\" 1 50; i=$((i+1)); sleep 0.1; done"),
    # A step retried once, then two more steps.
    "retry": 'local calls = 0\n'
             'kiln.step("fetch", { retry = { attempts = 2, backoff = "fixed", initial = "700ms" } }, function()\n'
             '  calls = calls + 1\n'
             '  kiln.exec{ cmd = { "sh", "-c", "echo fetching, try ' + '" .. calls } }\n'
             '  if calls == 1 then kiln.retryable("registry busy (503)") end\n'
             'end)\n'
             + sh_step("build", "for i in $(seq 1 40); do echo \"build $i\"; sleep 0.02; done")
             + sh_step("test", "for i in $(seq 1 20); do echo \"ok $i - test $i\"; done"),
    # 60,000 lines of 80 bytes (4.8 MB): past the test stack's logs.max_bytes (2MiB), so the
    # middle is left out behind a marker.
    "capped": sh_step("loud", "awk 'BEGIN{for(i=1;i<=60000;i++) printf \"%07d %072d\\n\", i, i}'"),
    # A success that runs 5 s: the list reads every 2 s, so it must show it running first.
    "slow": sh_step("build", "echo building; sleep 5; echo built"),
    # A quick success, for filling the list.
    "quick": sh_step("build", "echo building; sleep 0.3; printf '\\033[32mall good\\033[0m\\n'"),
    # A 6 s wait (a page subscribes meanwhile), then 100 short steps: step.started events for
    # the latency bench.
    "steps100": sh_step("wait", "sleep 6")
    + 'for i = 1, 100 do kiln.step("s" .. i, function() kiln.exec{ cmd = { "true" } } end) end\n',
    # 1,000,000 lines of 80 bytes, as bench/logs/run.py writes them.
    "loud": sh_step("loud", "awk 'BEGIN{for(i=1;i<=1000000;i++) printf \"%07d %072d\\n\", i, i}'"),
    # A realistic build for the screenshots: colours, several steps, a failing test.
    "demo": sh_step("git sync", "echo 'Fetching origin'; echo 'HEAD is now at 9fceb02 Add widgets'")
    + sh_step("install", "echo 'npm ci'; for p in react react-dom typescript vite vitest; do "
                         "printf '\\033[2madded\\033[0m %s\\n' $p; sleep 0.1; done; echo 'added 312 packages in 2.4s'")
    + sh_step("build", "printf '\\033[36mvite v5.2.0\\033[0m building for production...\\n'; sleep 0.6; "
                       "printf 'dist/index.html          \\033[33m0.46 kB\\033[0m\\n'; printf 'dist/assets/app.js       \\033[33m142.31 kB\\033[0m\\n'; "
                       "printf '\\033[32m✓ built in 1.21s\\033[0m\\n'")
    + sh_step("test", "printf ' \\033[32m✓\\033[0m src/widget.test.ts (12 tests)\\n'; sleep 0.4; "
                      "printf ' \\033[32m✓\\033[0m src/cart.test.ts (8 tests)\\n'; "
                      "printf ' \\033[31m✗\\033[0m src/checkout.test.ts > applies the discount\\n'; "
                      "printf '   \\033[1;31merror: expected 90 to equal 81\\033[0m\\n'; "
                      "printf '    at src/checkout.test.ts:42:17\\n'; "
                      "printf '\\033[1mTest Files\\033[0m  \\033[31m1 failed\\033[0m | \\033[32m2 passed\\033[0m (3)\\n'; exit 1")
    + sh_step("image", "echo never"),
}


class Stack:
    def __init__(self, build_dir, max_log_bytes=None, quiet=True, gateway_extra=""):
        self.build = os.path.abspath(build_dir)
        self.kiln = os.path.join(self.build, "bin", "kiln")
        if not os.access(self.kiln, os.X_OK):
            raise SystemExit(f"stack: no kiln binary at {self.kiln}: build it first (ninja -C {build_dir} kiln)")
        self.max_log_bytes = max_log_bytes
        self.gateway_extra = gateway_extra  # more keys for the gateway section, e.g. "max_connections_per_address: 512"
        self.quiet = quiet
        self.procs = {}
        self.seq = 0

    # -- lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="kiln-browser-")
        os.chmod(self.tmp, 0o755)  # the sandbox uid must enter the workspace path
        self.nats_port = free_port()
        self.port = free_port()
        self.token = "browser-test-token-" + os.urandom(6).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        os.makedirs(self.tmp + "/pipelines")
        for name, src in PIPELINES.items():
            with open(f"{self.tmp}/pipelines/{name}.lua", "w") as f:
                f.write(src)
        with open(self.tmp + "/token", "w") as f:
            f.write(self.token + "\n")
        with open(self.tmp + "/secret", "w") as f:
            f.write("browser-test-webhook-secret\n")
        self.cfg = self.tmp + "/config.yaml"
        t = self.tmp
        with open(self.cfg, "w") as f:
            f.write(f'nats: {{ url: "nats://127.0.0.1:{self.nats_port}" }}\n'
                    "worker: { pool_size: 2 }\n"
                    f"build: {{ workspace_path: {t}/ws, code_cache_path: {t}/code, build_cache_path: {t}/deps }}\n"
                    f"pipelines: {{ dir: {t}/pipelines }}\n"
                    "logging: { level: warn, format: text }\n"
                    + (f"logs: {{ max_bytes: {self.max_log_bytes} }}\n" if self.max_log_bytes else "")
                    + f'gateway: {{ address: 127.0.0.1, port: {self.port}, webhook_secret: "file:{t}/secret", '
                      f'api_token: "file:{t}/token"' + (f", {self.gateway_extra}" if self.gateway_extra else "") + " }\n")
        self.procs["nats"] = subprocess.Popen(
            ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.nats_port), "-sd", t + "/js"],
            stdout=open(t + "/nats.log", "w"), stderr=subprocess.STDOUT)
        self._wait_port(self.nats_port, "nats-server")
        self.start_gateway()
        self.procs["worker"] = subprocess.Popen([self.kiln, "worker", "--config", self.cfg],
                                                stdout=open(t + "/worker.log", "a"), stderr=subprocess.STDOUT)
        self._wait_healthz()

    def start_gateway(self):
        self.procs["gateway"] = subprocess.Popen([self.kiln, "gateway", "--config", self.cfg],
                                                 stdout=open(self.tmp + "/gateway.log", "a"), stderr=subprocess.STDOUT)
        self._wait_healthz()

    def restart_gateway(self, down_seconds=0.5):
        p = self.procs.pop("gateway")
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()
        time.sleep(down_seconds)
        self.start_gateway()

    def stop(self):
        for name in ["gateway", "worker", "nats"]:
            p = self.procs.pop(name, None)
            if p is None:
                continue
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill(); p.wait()
        if getattr(self, "control", None):
            self.control.shutdown()
        if os.environ.get("KILN_BROWSER_KEEP"):
            print(f"stack: kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        out = []
        for n in ["gateway", "worker"]:
            try:
                out.append(f"--- {n}.log (tail)\n" + "".join(open(f"{self.tmp}/{n}.log").readlines()[-40:]))
            except OSError:
                pass
        return "\n".join(out)

    def _wait_port(self, port, what, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{what} did not listen on {port}")

    def _wait_healthz(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(self.url + "/healthz", timeout=1).status == 200:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError("kiln gateway did not become healthy:\n" + self.logs())

    # -- jobs

    def submit(self, pipeline, job_id=None, branch="main", repo="https://github.com/acme/widgets.git", wait=False,
               commit=COMMIT):
        self.seq += 1
        job_id = job_id or f"{pipeline}-{int(time.time() * 1000) % 10**9}-{self.seq}"
        cmd = [self.kiln, "submit", "--config", self.cfg, "--repo", repo, "--commit", commit,
               "--branch", branch, "--id", job_id, "--pipeline", pipeline]
        if wait:
            cmd.append("--wait")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 and not wait:
            raise RuntimeError(f"kiln submit failed: {r.stdout}{r.stderr}")
        return job_id

    def state(self, job_id):
        r = subprocess.run([self.kiln, "status", job_id, "--json", "--config", self.cfg], capture_output=True, text=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_status(self, job_id, statuses, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.state(job_id)
            if s and s.get("status") in statuses:
                return s
            time.sleep(0.2)
        raise RuntimeError(f"{job_id} not {statuses} after {timeout}s: {self.state(job_id)}")

    def api(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method, data=body,
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")

    # -- control channel for the node test

    def serve_control(self):
        stack = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.startswith("/state/"):
                    return self.reply(200, stack.state(self.path[len("/state/"):]))
                self.reply(404, {"error": "no such control route"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                try:
                    if self.path == "/submit":
                        job = stack.submit(body["pipeline"], body.get("id"), body.get("branch", "main"),
                                           body.get("repo", "https://github.com/acme/widgets.git"),
                                           wait=body.get("wait", False))
                        return self.reply(200, {"job": job})
                    if self.path == "/restart-gateway":
                        stack.restart_gateway(body.get("down_seconds", 0.5))
                        return self.reply(200, {"ok": True})
                except Exception as e:  # the test sees why
                    return self.reply(500, {"error": str(e)})
                self.reply(404, {"error": "no such control route"})

        self.control = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.control.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.control.server_address[1]}"


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the stack on kill, too
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    with Stack(sys.argv[1]) as s:
        ctl = s.serve_control()
        print(f"gateway {s.url}  token {s.token}  control {ctl}  dir {s.tmp}", flush=True)
        signal.pause()
