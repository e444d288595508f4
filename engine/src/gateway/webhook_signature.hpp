// GitHub's webhook signature (X-Hub-Signature-256), checked exactly as GitHub documents it:
// "sha256=" followed by the lowercase hex HMAC-SHA256 of the raw request body, keyed with
// the webhook's secret. The body is the bytes as received, never a re-serialised parse.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

/// HMAC-SHA256 of `message` keyed with `key`, as 64 lowercase hex digits.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

/// The header value GitHub sends for `body` under `secret`: "sha256=<64 hex digits>".
std::string GitHubSignature(std::string_view secret, std::string_view body);

/// True only when `header` is the signature of `body` under `secret`. The digests are compared
/// in constant time (CRYPTO_memcmp), so the time taken tells an attacker nothing about how
/// much of a forged signature was right. An empty secret never verifies.
bool VerifyGitHubSignature(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace kiln
