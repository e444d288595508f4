#include "gateway/form_payload.hpp"

#include <strings.h>

#include "http/http_message.hpp"

namespace kiln {

bool IsFormEncoded(std::string_view content_type) {
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  if (content_type.size() < kForm.size() || strncasecmp(content_type.data(), kForm.data(), kForm.size()) != 0) {
    return false;
  }
  return content_type.size() == kForm.size() || content_type[kForm.size()] == ';' || content_type[kForm.size()] == ' ';
}

std::optional<std::string_view> RawFormField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view field = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (field.size() > name.size() && field.substr(0, name.size()) == name && field[name.size()] == '=') {
      return field.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

Result<std::string> FormPayload(std::string_view body) {
  auto raw = RawFormField(body, "payload");
  if (!raw) return MakeError("payload: missing from the form-encoded body (GitHub sends the JSON as payload=...)");
  std::string payload;
  if (!PercentDecode(*raw, payload)) {
    return MakeError("payload: not valid form encoding (a '%' not followed by two hex digits)");
  }
  return payload;
}

}  // namespace kiln
