// The status API's authentication: "Authorization: Bearer <gateway.api_token>".
#pragma once

#include <string_view>

namespace kiln {

/// True when `authorization` is "Bearer <token>" for the configured `token`. Both are hashed
/// (SHA-256) and the digests compared in constant time, so neither the token's content nor
/// its length shows in the time taken. An empty configured token matches nothing.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace kiln
