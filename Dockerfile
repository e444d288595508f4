# syntax=docker/dockerfile:1
# kiln's image, in two stages on Debian 12:
#   build    compiles kiln and its plugins (tests off) and packages them with `cpack -G DEB`
#   runtime  debian:12-slim with that .deb installed: apt pulls the runtime libraries the
#            package depends on (worked out by dpkg-shlibdeps), buildah and git.
# The same .deb installs kiln on a plain Debian 12 host (README, "Install").
#
#   docker build -t kiln .
#   docker run --rm kiln plugins
#   docker run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
#     --security-opt apparmor=unconfined -v $PWD/config.yaml:/etc/kiln/config.yaml:ro kiln worker

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates dpkg-dev file \
      liblua5.4-dev libnats-dev libgit2-dev libboost-dev libspdlog-dev libfmt-dev \
      libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libssl-dev zlib1g-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -G Ninja -S . -B /build -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && cpack -G DEB \
 && mv /build/kiln_*.deb /kiln.deb

FROM debian:12-slim AS runtime
COPY --from=build /kiln.deb /tmp/kiln.deb
# buildah and git come with the .deb's Depends too; named here so the image says what is in it.
# nodejs and npm: the nx plugin runs NX from the repository's own node_modules.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/kiln.deb buildah git nodejs npm \
 && rm -rf /var/lib/apt/lists/* /tmp/kiln.deb \
 && mkdir -p /etc/kiln/pipelines /var/lib/kiln /var/cache/kiln/repos /var/cache/kiln/deps /run/kiln
COPY deploy/config.yaml /etc/kiln/config.yaml
# Workspaces and buildah's image store; repository mirrors and dependency caches.
VOLUME ["/var/lib/kiln", "/var/cache/kiln"]
ENV CONFIG_PATH=/etc/kiln/config.yaml
# The worker drains on SIGTERM (docker stop's signal): give it worker.shutdown_grace + a bit
# with `docker stop -t 60` / compose's stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/kiln"]
CMD ["worker", "--config", "/etc/kiln/config.yaml"]
