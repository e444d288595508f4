#!/usr/bin/env bash
# Installs everything kiln needs to build, test and run on Debian 12, idempotently.
# Packages already present are left alone; apt is only called when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # packaging: cpack -G DEB (dpkg-shlibdeps comes with build-essential's dpkg-dev; CPack needs file)
  file
  # the sanitizer builds (GCC's runtimes) and the fuzz targets (clang's libFuzzer; the
  # symbolizer names the frames of a finding's stack)
  libasan8 libubsan1 libtsan2 clang-14 libclang-rt-14-dev llvm-14
  # libraries (see README "Dependencies" for why each is there)
  liblua5.4-dev libnats-dev libgit2-dev libboost-dev libspdlog-dev libfmt-dev
  libyaml-cpp-dev nlohmann-json3-dev libgtest-dev libgmock-dev libcli11-dev
  libcpp-httplib-dev prometheus-cpp-dev libssl-dev zlib1g-dev
  # the real parts the engine drives and the tests start
  nats-server buildah busybox-static
  # a real registry for the push and layer-cache tests (tests/support/local_registry):
  # distribution 2.8, htpasswd (bcrypt) for its basic auth, skopeo to read what it holds
  docker-registry apache2-utils skopeo
  # the job sandbox: every process a job starts runs in bubblewrap; slirp4netns gives a
  # step that asks for "egress" outbound network without the host's loopback
  bubblewrap slirp4netns
  # the TLS test of the NATS connection makes its certificate with the openssl CLI
  openssl
  # the demo and the benchmarks pick free ports and summarize figures with python3
  python3
  # benchmarks
  time hyperfine strace
  # browser tests of the gateway's build page (tests/browser: playwright-core drives this one)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js and npm may come from outside Debian (nodesource, nvm); only install Debian's when absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

# Corepack (the nx plugin runs yarn and pnpm, and the version package.json's packageManager
# pins, through it): shipped with Node.js from nodejs.org and nodesource, not with Debian 12's.
if ! command -v corepack >/dev/null 2>&1; then
  echo "install-deps: installing corepack (npm)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd npm install -g --no-audit --no-fund corepack
fi

# The browser tests' node packages (playwright-core only: it downloads no browser), from the
# lockfile; again only when node_modules is missing or older than the lockfile.
browser_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
if [ ! -d "$browser_dir/node_modules" ] || [ "$browser_dir/package-lock.json" -nt "$browser_dir/node_modules" ]; then
  echo "install-deps: npm ci in tests/browser"
  npm ci --prefix "$browser_dir" --no-audit --no-fund --loglevel=error
  touch "$browser_dir/node_modules"
fi
