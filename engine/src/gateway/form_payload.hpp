// GitHub's form-encoded webhook deliveries (the webhook's default content type,
// application/x-www-form-urlencoded): the JSON payload is the field payload=, percent-encoded.
// The signature covers the raw body, so this runs after it is checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace kiln {

/// True for application/x-www-form-urlencoded (parameters such as "; charset=" allowed).
bool IsFormEncoded(std::string_view content_type);

/// The value of field `name` in a form-encoded body as it stands there (not yet decoded:
/// PercentDecode it), nullopt when the body has no such field.
std::optional<std::string_view> RawFormField(std::string_view body, std::string_view name);

/// The decoded value of the body's `payload` field; the error names what is wrong.
Result<std::string> FormPayload(std::string_view body);

}  // namespace kiln
