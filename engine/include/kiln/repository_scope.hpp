// kiln plugin SDK: which repository (and, for an untrusted job, which ref) a cache belongs
// to, as a directory name.
//
// Caches a build restores and runs (keyed entries, node_modules, NX's task outputs) are
// never shared between repositories: a repository that commits a copy of another's lockfile
// would otherwise save under the other's key and have its files run there (Nx's
// CVE-2025-36852 was this class). The identity is the job's repository URL, normalised so
// that spellings of one repository meet (scheme and host lower-case, no user-info, no
// trailing "/" or ".git") and hashed into a fixed-length name. An untrusted job (a fork's
// pull request) gets a scope of its own ref as well, as GitHub Actions scopes caches by
// branch: it may read its repository's scope but writes only its ref's.
//
// Header-only, standard library only (its SHA-256 included), so any plugin can use it
// without linking anything.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::repository_scope {

namespace detail {

// SHA-256 (FIPS 180-4) of `text`, lower-case hex. A collision-resistant hash: a repository
// must not be able to pick a URL whose scope is another repository's.
inline std::string Sha256Hex(std::string_view text) {
  static constexpr std::array<std::uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  std::string message(text);
  const std::uint64_t bits = static_cast<std::uint64_t>(text.size()) * 8;
  message.push_back(static_cast<char>(0x80));
  while (message.size() % 64 != 56) message.push_back('\0');
  for (int i = 7; i >= 0; --i) message.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  for (std::size_t block = 0; block < message.size(); block += 64) {
    std::array<std::uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i) {
      for (int j = 0; j < 4; ++j) {
        w[i] = (w[i] << 8) | static_cast<unsigned char>(message[block + 4 * i + j]);
      }
    }
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = h;
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const std::uint32_t t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::string hex;
  char digits[9];
  for (std::uint32_t word : h) {
    std::snprintf(digits, sizeof digits, "%08x", static_cast<unsigned>(word));
    hex += digits;
  }
  return hex;
}

inline std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// 32 hex digits (128 bits) of SHA-256: short enough for a directory name, far beyond
// reach of a chosen collision.
inline std::string ShortHash(std::string_view text) { return Sha256Hex(text).substr(0, 32); }

}  // namespace detail

/// One repository's URL in one spelling: "HTTPS://user:token@GitHub.com/Acme/Shop.git/" ->
/// "https://github.com/Acme/Shop". Scheme and host are lower-cased, user-info dropped, then
/// trailing "/" and one ".git" (and "/" again) removed; the path keeps its case (servers
/// other than GitHub tell "Shop" from "shop"). An scp-like address "git@host:acme/shop.git"
/// becomes "ssh://host/acme/shop". A local path is kept as it is, less trailing "/" and ".git".
inline std::string NormaliseRepositoryUrl(std::string_view url) {
  std::string scheme, authority, path;
  if (const auto sep = url.find("://"); sep != std::string_view::npos) {
    scheme = detail::Lower(url.substr(0, sep));
    const std::string_view rest = url.substr(sep + 3);
    const auto slash = rest.find('/');
    authority = std::string(rest.substr(0, slash));
    path = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
  } else if (const auto colon = url.find(':');
             colon != std::string_view::npos && url.find('/') > colon && colon > 0) {
    scheme = "ssh";  // scp-like: [user@]host:path
    authority = std::string(url.substr(0, colon));
    path = "/" + std::string(url.substr(colon + 1));
  } else {
    path = std::string(url);
  }
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  authority = detail::Lower(authority);
  auto trim_slashes = [&path] {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
  };
  trim_slashes();
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".git") == 0) path.resize(path.size() - 4);
  trim_slashes();
  if (scheme.empty()) return path;
  return scheme + "://" + authority + (path == "/" ? std::string() : path);
}

/// The scope of jobs without a repository URL (a pipeline that checks nothing out).
inline constexpr std::string_view kNoRepositoryScope = "local";

/// "repo-" and 32 hex digits of the normalised URL; kNoRepositoryScope for "".
inline std::string RepositoryScope(std::string_view repository_url) {
  if (repository_url.empty()) return std::string(kNoRepositoryScope);
  return "repo-" + detail::ShortHash(NormaliseRepositoryUrl(repository_url));
}

/// "ref-" and 32 hex digits of the normalised URL and `ref`: one ref's own scope, for what
/// an untrusted job saves. A NUL separates the two, which neither may contain.
inline std::string RefScope(std::string_view repository_url, std::string_view ref) {
  std::string identity = NormaliseRepositoryUrl(repository_url);
  identity.push_back('\0');
  identity.append(ref);
  return "ref-" + detail::ShortHash(identity);
}

/// True for a name RepositoryScope or RefScope makes.
inline bool IsScopeName(std::string_view name) {
  if (name == kNoRepositoryScope) return true;
  std::string_view hex;
  if (name.rfind("repo-", 0) == 0) {
    hex = name.substr(5);
  } else if (name.rfind("ref-", 0) == 0) {
    hex = name.substr(4);
  } else {
    return false;
  }
  if (hex.size() != 32) return false;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

/// Where one job reads and writes a repository's caches.
struct JobScopes {
  bool trusted = true;
  /// The repository's scope: a trusted job reads and writes it; an untrusted one only reads.
  std::string repository;
  /// Where the job saves: the repository scope when trusted, its ref's scope otherwise.
  std::string save;
  /// Where it looks, in order: an untrusted job its ref's scope, then the repository's.
  std::vector<std::string> restore;
};

/// The scopes of the job message `job` (StepContext::job()): `repo.url`, `trusted` (absent:
/// true) and, for an untrusted job, its ref: `branch`, else the job `id` (a job without a
/// ref shares its saves with nobody).
inline JobScopes ScopesForJob(const nlohmann::json& job) {
  auto text = [](const nlohmann::json& parent, const char* key) -> std::string {
    if (!parent.is_object()) return {};
    const auto it = parent.find(key);
    return it != parent.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  JobScopes scopes;
  const std::string url = job.is_object() && job.contains("repo") ? text(job["repo"], "url") : std::string();
  // Absent means trusted (kiln submit, pushes); anything but `true` otherwise is not.
  const bool has_flag = job.is_object() && job.contains("trusted") && !job["trusted"].is_null();
  scopes.trusted = !has_flag || (job["trusted"].is_boolean() && job["trusted"].get<bool>());
  scopes.repository = RepositoryScope(url);
  if (scopes.trusted) {
    scopes.save = scopes.repository;
    scopes.restore = {scopes.repository};
  } else {
    const std::string branch = text(job, "branch");
    const std::string ref = branch.empty() ? "job:" + text(job, "id") : "branch:" + branch;
    scopes.save = RefScope(url, ref);
    scopes.restore = {scopes.save, scopes.repository};
  }
  return scopes;
}

}  // namespace kiln::repository_scope
