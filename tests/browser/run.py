#!/usr/bin/env python3
"""Runs the build page's browser tests: python3 tests/browser/run.py BUILD_DIR [--screenshots]

Starts the real stack (stack.py: nats-server, kiln worker, kiln gateway), runs
page.test.mjs (or screenshots.mjs) in node against it with Debian's chromium, stops
everything and exits non-zero when a scenario failed.
"""
import os, signal, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from stack import Stack  # noqa: E402

if len(sys.argv) < 2:
    raise SystemExit(__doc__)
build = sys.argv[1]
script = "screenshots.mjs" if "--screenshots" in sys.argv[2:] else "page.test.mjs"
if not os.path.isdir(os.path.join(here, "node_modules", "playwright-core")):
    print(f"browser tests: {here}/node_modules is missing: run scripts/install-deps.sh "
          "(it runs npm ci in tests/browser)", file=sys.stderr)
    sys.exit(1)
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not os.access(chromium, os.X_OK):
    print(f"browser tests: no browser at {chromium}: run scripts/install-deps.sh (Debian's chromium)", file=sys.stderr)
    sys.exit(1)

signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest's timeout: stop the stack on the way out
with Stack(build, max_log_bytes="2MiB") as stack:  # "capped" passes it
    control = stack.serve_control()
    env = dict(os.environ, KILN_URL=stack.url, KILN_TOKEN=stack.token, KILN_CONTROL=control, CHROMIUM=chromium)
    try:
        rc = subprocess.run(["node", os.path.join(here, script)], env=env, cwd=here, timeout=170).returncode
    except subprocess.TimeoutExpired:
        print("browser tests: timed out after 170 s", file=sys.stderr)
        rc = 1
    if rc != 0:
        print(stack.logs(), file=sys.stderr)
sys.exit(rc)
