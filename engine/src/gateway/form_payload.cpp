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

Result<std::string> FormPayload(std::string_view body) {
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view field = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (field.rfind("payload=", 0) != 0) continue;
    std::string payload;
    if (!PercentDecode(field.substr(8), payload)) {
      return MakeError("payload: not valid form encoding (a '%' not followed by two hex digits)");
    }
    return payload;
  }
  return MakeError("payload: missing from the form-encoded body (GitHub sends the JSON as payload=...)");
}

}  // namespace kiln
