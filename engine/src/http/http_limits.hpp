// What an HttpServer enforces before (and while) it reads a request. The gateway fills it
// from its config section (gateway.max_body, ...); the worker's metrics listener uses the
// defaults. docs/security.md says what each one stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kiln {

struct HttpLimits {
  /// The largest request body, for every transfer encoding (Content-Length is refused from the
  /// header alone, chunked when the running total passes it, an allowed compressed body when
  /// its inflated size passes it). GitHub caps webhook payloads at 25 MB.
  std::uint64_t max_body = 25ull * 1024 * 1024;
  /// The request line plus headers; not configurable (no client of the gateway needs more).
  std::size_t max_header_bytes = 16 * 1024;
  /// From a request's first byte (a new connection: from the accept) to its last header byte.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  /// From a request's first byte to its last body byte.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(60);
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  /// How long writing one answer may take before the connection is dropped.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
  /// Open connections in all, and from one remote address.
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;
  /// Content-Encoding gzip/deflate request bodies: refused with 415 unless true; when true,
  /// inflated under max_body before the handler sees them.
  bool allow_compressed_bodies = false;
};

}  // namespace kiln
