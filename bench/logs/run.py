#!/usr/bin/env python3
"""Build logs under load (issue 18), through a real nats-server and `kiln worker`.

  python3 bench/logs/run.py BUILD_DIR [RUNS]

Per run: a step printing 1,000,000 lines of 80 bytes (80 MB) through the worker, its
step duration vs the same command writing to a file, side by side; `kiln logs --raw`
of it, line count and md5 against the file; `kiln logs` time to first byte and total.
Then the follow latency: a step printing a line every 50 ms for 5 s, read by
`kiln logs --follow --timestamps`; latency = read time - the line's own timestamp.
Then the gateway's search over that whole log (GET /builds/{id}/logs/search, issue 19):
a text on the last line and one found nowhere (both read all 80 MB), and one on every line
(the first page of 100 matches: reading stops at the 101st).
Figures to stdout (median and spread). logs.max_bytes is 128MiB so every line is kept.
"""
import calendar, hashlib, json, os, socket, statistics, subprocess, sys, tempfile, time
import urllib.parse, urllib.request

build = os.path.abspath(sys.argv[1])
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
kiln = os.path.join(build, "bin", "kiln")
GEN = "awk 'BEGIN{for(i=1;i<=1000000;i++) printf \"%07d %072d\\n\", i, i}'"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

tmp = tempfile.mkdtemp(prefix="kiln-bench-logs-")
os.chmod(tmp, 0o755)  # the sandbox uid must enter the workspace path
port = free_port()
nats = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", tmp + "/js"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
os.makedirs(tmp + "/pipelines")
with open(tmp + "/pipelines/loud.lua", "w") as f:
    f.write('kiln.step("loud", function() kiln.exec{ cmd = { "sh", "-c", %s } } end)\n' % json.dumps(GEN))
with open(tmp + "/pipelines/tick.lua", "w") as f:
    f.write('kiln.step("tick", function() kiln.exec{ cmd = { "sh", "-c", '
            '"for i in $(seq 1 100); do echo tick $i; sleep 0.05; done" } } end)\n')
cfg = tmp + "/config.yaml"
gateway_port = free_port()
with open(tmp + "/secret", "w") as f:
    f.write("bench-secret")
with open(cfg, "w") as f:
    f.write(f"nats: {{ url: \"nats://127.0.0.1:{port}\" }}\nworker: {{ pool_size: 1 }}\n"
            f"build: {{ workspace_path: {tmp}/ws, code_cache_path: {tmp}/code, build_cache_path: {tmp}/deps }}\n"
            f"pipelines: {{ dir: {tmp}/pipelines }}\nlogging: {{ level: warn, format: text }}\n"
            "logs: { max_bytes: 128MiB }\n"
            f"gateway: {{ address: 127.0.0.1, port: {gateway_port}, webhook_secret: \"file:{tmp}/secret\", "
            f"api_token: \"file:{tmp}/secret\" }}\n")
gateway = subprocess.Popen([kiln, "gateway", "--config", cfg], stdout=open(tmp + "/gateway.log", "w"),
                           stderr=subprocess.STDOUT)
worker = subprocess.Popen([kiln, "worker", "--config", cfg], stdout=open(tmp + "/worker.log", "w"),
                          stderr=subprocess.STDOUT)
time.sleep(1.5)

def submit(job_id, pipeline):
    subprocess.run([kiln, "submit", "--config", cfg, "--repo", "https://example.invalid/x.git", "--commit",
                    "9fceb02d0ae598e95dc970b74767f19372d61af8", "--id", job_id, "--pipeline", pipeline, "--wait"],
                   stdout=subprocess.DEVNULL, check=True)

def state(job_id):
    return json.loads(subprocess.run([kiln, "status", job_id, "--json", "--config", cfg],
                                     capture_output=True, check=True).stdout)

def search(job_id, text, limit=100):
    """Seconds for one search and its matches."""
    url = (f"http://127.0.0.1:{gateway_port}/builds/{job_id}/logs/search?"
           + urllib.parse.urlencode({"q": text, "limit": limit}))
    request = urllib.request.Request(url, headers={"Authorization": "Bearer bench-secret"})
    t = time.monotonic()
    body = json.loads(urllib.request.urlopen(request, timeout=120).read())
    return time.monotonic() - t, len(body["matches"])

ratios, kiln_s, file_s, ttfb, total = [], [], [], [], []
search_last, search_none, search_page = [], [], []
for r in range(runs):
    t = time.monotonic()
    subprocess.run(["sh", "-c", GEN + " > " + tmp + "/out.txt"], check=True)
    file_s.append(time.monotonic() - t)
    job = f"loud-{r}"
    submit(job, "loud")
    s = state(job)
    step = s["steps"][0]
    kiln_s.append(step["duration_ms"] / 1000)
    ratios.append(kiln_s[-1] / file_s[-1])
    t = time.monotonic()
    p = subprocess.Popen([kiln, "logs", job, "--raw", "--config", cfg], stdout=subprocess.PIPE)
    first = p.stdout.read(1)
    ttfb.append(time.monotonic() - t)
    data = first + p.stdout.read()
    p.wait()
    total.append(time.monotonic() - t)
    want = open(tmp + "/out.txt", "rb").read()
    lines = data.count(b"\n")
    print(f"run {r}: step {kiln_s[-1]:.2f}s, file {file_s[-1]:.2f}s, ratio {ratios[-1]:.2f}; "
          f"log lines {lines} (want 1000000), md5 match {hashlib.md5(data).digest() == hashlib.md5(want).digest()}, "
          f"state log_lines {step.get('log_lines')}; kiln logs first byte {ttfb[-1]*1000:.0f} ms, total {total[-1]:.2f}s "
          f"({len(data) / 2**20:.1f} MiB)", flush=True)
    took, found = search(job, "1000000 ")
    search_last.append(took)
    took_none, none_found = search(job, "no such text")
    search_none.append(took_none)
    took_page, page_found = search(job, "0000")
    search_page.append(took_page)
    print(f"  search: last line {took:.2f}s ({found} match), nowhere {took_none:.2f}s ({none_found}), "
          f"every line, first page {took_page:.3f}s ({page_found})", flush=True)

# Follow latency.
lat = []
p = subprocess.Popen([kiln, "logs", "tick-0", "--follow", "--timestamps", "--raw", "--config", cfg],
                     stdout=subprocess.PIPE)
# Published without waiting: the reader must read while the job runs.
ticker = subprocess.Popen([kiln, "submit", "--config", cfg, "--repo", "https://example.invalid/x.git", "--commit",
                           "9fceb02d0ae598e95dc970b74767f19372d61af8", "--id", "tick-0", "--pipeline", "tick"],
                          stdout=subprocess.DEVNULL)
for line in p.stdout:
    now = time.time()
    stamp = line.split(b" ", 1)[0].decode()
    t = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + stamp[19:-1])
    lat.append((now - t) * 1000)
p.wait()
lat.sort()
def spread(v): return f"median {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
ticker.wait()
if runs:
  print(f"ratio step/file: {spread(ratios)}; step s {spread(kiln_s)}; file s {spread(file_s)}")
  print(f"kiln logs 80 MB: first byte ms {spread([x*1000 for x in ttfb])}; total s {spread(total)}")
  print(f"search 1M lines, s: last line {spread(search_last)}; nowhere {spread(search_none)}; "
        f"first page of a text on every line {spread(search_page)}")
print(f"follow latency ms over {len(lat)} lines: p50 {lat[len(lat)//2]:.0f}, p99 {lat[min(len(lat)-1, int(len(lat)*0.99))]:.0f}, max {lat[-1]:.0f}")
print("load average:", open("/proc/loadavg").read().split()[:3])
worker.terminate(); worker.wait(); gateway.terminate(); gateway.wait(); nats.terminate(); nats.wait()
