#include "logs/log_chunk.hpp"

#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

namespace kiln {

std::string EncodeLogChunk(const LogChunk& chunk) {
  nlohmann::json header = {{"v", 1},
                           {"step", chunk.step},
                           {"attempt", chunk.attempt},
                           {"job_attempt", chunk.job_attempt},
                           {"first_line", chunk.first_line},
                           {"t0", chunk.t0_ms},
                           {"dt", chunk.dt_ms},
                           {"open", chunk.open},
                           {"kept_bytes", chunk.kept_bytes}};
  if (chunk.is_marker()) {
    header["skipped_lines"] = chunk.skipped_lines;
    header["skipped_bytes"] = chunk.skipped_bytes;
  }
  // The step name came from the job's script: replace, never throw, on bad UTF-8 in it.
  std::string body = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  body += '\n';
  body += chunk.text;
  return body;
}

std::optional<LogChunk> DecodeLogChunk(std::string_view body, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<LogChunk> {
    if (error != nullptr) *error = "not a log chunk: " + why;
    return std::nullopt;
  };
  const std::size_t newline = body.find('\n');
  if (newline == std::string_view::npos) return fail("no header line");
  nlohmann::json header = nlohmann::json::parse(body.substr(0, newline), nullptr, false);
  if (!header.is_object()) return fail("header is not a JSON object");
  if (header.value("v", 0) != 1) return fail("unknown version " + header.value("v", nlohmann::json()).dump());
  LogChunk chunk;
  try {
    chunk.step = header.value("step", "");
    chunk.attempt = header.value("attempt", 0);
    chunk.job_attempt = header.value("job_attempt", std::uint64_t{0});
    chunk.first_line = header.value("first_line", std::uint64_t{1});
    chunk.t0_ms = header.value("t0", std::int64_t{0});
    if (header.contains("dt")) chunk.dt_ms = header["dt"].get<std::vector<std::int64_t>>();
    chunk.open = header.value("open", false);
    chunk.skipped_lines = header.value("skipped_lines", std::uint64_t{0});
    chunk.skipped_bytes = header.value("skipped_bytes", std::uint64_t{0});
    chunk.kept_bytes = header.value("kept_bytes", std::uint64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("bad header field: ") + e.what());
  }
  chunk.text = std::string(body.substr(newline + 1));
  return chunk;
}

namespace {
// Length of the valid UTF-8 sequence at text[i], 0 when there is none.
std::size_t ValidSequenceAt(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;   // no overlong forms
    if (c == 0xED) high = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}
}  // namespace

std::string MakeValidUtf8(std::string_view text) {
  std::size_t i = 0;
  // The common case, all ASCII or valid: one scan, one copy. ASCII goes 8 bytes at a time.
  while (i < text.size()) {
    std::uint64_t word;
    while (i + sizeof word <= text.size()) {
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += sizeof word;
    }
    if (i == text.size()) break;
    const std::size_t n = ValidSequenceAt(text, i);
    if (n == 0) break;
    i += n;
  }
  std::string out(text.substr(0, i));
  if (i == text.size()) return out;
  while (i < text.size()) {
    const std::size_t n = ValidSequenceAt(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for each byte that starts no valid sequence
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::size_t Utf8CutPoint(std::string_view text, std::size_t max) {
  if (max >= text.size()) return text.size();
  std::size_t cut = max;
  // Back over continuation bytes to the start of the sequence that max falls in.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace kiln
