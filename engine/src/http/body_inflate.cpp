#include "http/body_inflate.hpp"

#include <zlib.h>

namespace kiln {

InflateResult InflateBody(std::string_view body, std::string_view encoding, std::uint64_t max_size, std::string& out) {
  out.clear();
  z_stream zs{};
  // 16 + MAX_WBITS: a gzip header and trailer; MAX_WBITS: a zlib one.
  if (inflateInit2(&zs, encoding == "gzip" ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) return InflateResult::malformed;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  char chunk[64 * 1024];
  InflateResult result = InflateResult::malformed;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    int rc = inflate(&zs, Z_NO_FLUSH);
    std::size_t produced = sizeof(chunk) - zs.avail_out;
    if (out.size() + produced > max_size) {
      result = InflateResult::too_large;
      break;
    }
    out.append(chunk, produced);
    if (rc == Z_STREAM_END) {
      result = zs.avail_in == 0 ? InflateResult::ok : InflateResult::malformed;  // no trailing garbage
      break;
    }
    if (rc != Z_OK || (produced == 0 && zs.avail_in == 0)) break;  // corrupt or truncated
  }
  inflateEnd(&zs);
  if (result != InflateResult::ok) out.clear();
  return result;
}

}  // namespace kiln
