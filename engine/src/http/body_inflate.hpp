// A Content-Encoding gzip or deflate request body inflated under a cap, for a server whose
// config allows compressed bodies (HttpLimits::allow_compressed_bodies): inflation stops at
// the cap instead of trusting the compressed size (cpp-httplib's CVE-2025-46728 inflated
// first: 300 KB became 300 MiB).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

enum class InflateResult { ok, too_large, malformed };

/// `encoding` is "gzip" or "deflate" (zlib-wrapped, as HTTP means it); `out` gets at most
/// `max_size` bytes.
InflateResult InflateBody(std::string_view body, std::string_view encoding, std::uint64_t max_size, std::string& out);

}  // namespace kiln
