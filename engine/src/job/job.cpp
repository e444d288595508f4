// The job message's validation (DESIGN.md, "Job message"). Every error starts with the
// name of the field it is about ("commit: ...", "repo.url: ..."), so a dead letter says
// what to fix. URLs in errors have their credentials masked.
#include "job/job.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "secrets/redactor.hpp"

namespace kiln {

namespace {

bool IsHexLower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

std::string Quote(std::string_view text) {
  // Short, printable, credential-free: enough to recognise the value in an error. The cut
  // backs off to the start of a UTF-8 character: half of one would make the error invalid
  // UTF-8, and errors become JSON (events, dead letters, logs).
  std::size_t cut = std::min<std::size_t>(text.size(), 200);
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  std::string out = Redactor::redact_url_credentials(text.substr(0, cut));
  for (char& c : out) {
    if (IsControl(c)) c = '?';
  }
  if (cut < text.size()) out += "...";
  return "'" + out + "'";
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '_') return false;
  }
  return true;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "git@github.com:acme/shop.git": [user@]host:path with no "://" (git's scp-like form of
// ssh). "transport::address" is git's remote-helper form (ext::, fd::), never scp-like.
bool IsScpLike(std::string_view url) {
  if (url.find("://") != std::string_view::npos || url.find("::") != std::string_view::npos) return false;
  auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= url.size()) return false;
  std::string_view authority = url.substr(0, colon);
  auto at = authority.rfind('@');
  std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (host.empty() || host[0] == '-') return false;
  for (char c : host) {
    if (!IsAlnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  for (char c : authority.substr(0, at == std::string_view::npos ? 0 : at)) {
    if (!IsAlnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

// The scheme of "scheme://...", lower-cased; "" when there is none.
std::string SchemeOf(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  std::string scheme;
  for (char c : url.substr(0, sep)) {
    if (!IsAlnum(c) && c != '+' && c != '-' && c != '.') return {};
    scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return scheme;
}

Result<bool> ValidateRepoUrl(std::string_view url, const JobRules& rules) {
  const std::string field = "repo.url: ";
  if (url.empty()) return MakeError(field + "must not be empty");
  if (url.size() > 2048) return MakeError(field + "longer than 2048 characters");
  for (char c : url) {
    if (IsControl(c) || c == ' ') return MakeError(field + "contains a space or control character: " + Quote(url));
  }
  // git would read a leading dash as an option.
  if (url[0] == '-') return MakeError(field + "must not start with '-': " + Quote(url));
  std::string scheme = SchemeOf(url);
  if (!scheme.empty()) {
    if (scheme == "https" || scheme == "http" || scheme == "ssh" || scheme == "git") {
      if (url.size() == scheme.size() + 3) return MakeError(field + "has no host: " + Quote(url));
      return true;
    }
    if (scheme == "file") {
      if (!rules.allow_file_urls) {
        return MakeError(field + "file:// URLs are not allowed here (build.allow_file_urls): " + Quote(url));
      }
      return true;
    }
    return MakeError(field + "scheme '" + scheme + "' is not allowed (https, http, ssh, git" +
                     (rules.allow_file_urls ? ", file" : "") + "): " + Quote(url));
  }
  if (url.find("://") != std::string_view::npos) return MakeError(field + "malformed scheme: " + Quote(url));
  if (url[0] == '/' || StartsWith(url, "./") || StartsWith(url, "../") || url == "." || url == "..") {
    if (!rules.allow_file_urls) {
      return MakeError(field + "local paths are not allowed here (build.allow_file_urls): " + Quote(url));
    }
    return true;
  }
  if (IsScpLike(url)) return true;  // ssh
  if (rules.allow_file_urls) return true;  // a relative local path (kiln run)
  return MakeError(field + "not a URL (https, http, ssh, git or user@host:path): " + Quote(url));
}

// Crockford's base32 alphabet (no I, L, O, U).
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

nlohmann::json Job::to_json() const {
  nlohmann::json out;
  out["id"] = id;
  out["repo"] = {{"url", repo_url}};
  if (!repo_name.empty()) out["repo"]["name"] = repo_name;
  out["commit"] = commit;
  if (!branch.empty()) out["branch"] = branch;
  if (!before.empty()) out["before"] = before;
  if (!pipeline.empty()) out["pipeline"] = pipeline;
  if (!env.empty()) out["env"] = env;
  if (!delivery_id.empty()) out["delivery_id"] = delivery_id;
  out["trusted"] = trusted;  // always written: plugins decide cache scopes by it
  return out;
}

bool IsValidJobId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!IsAlnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidCommitId(std::string_view commit) {
  if (commit.size() != 40 && commit.size() != 64) return false;
  for (char c : commit) {
    if (!IsHexLower(c)) return false;
  }
  return true;
}

bool IsValidBranchName(std::string_view branch) {
  // git-check-ref-format(1), applied to refs/heads/<branch>, plus --branch's own rules
  // (no leading '-', not "HEAD").
  if (branch.empty() || branch.size() > 255) return false;
  if (branch == "@" || branch == "HEAD" || branch[0] == '-') return false;
  if (branch.front() == '/' || branch.back() == '/' || branch.back() == '.') return false;
  if (branch.find("..") != std::string_view::npos || branch.find("@{") != std::string_view::npos ||
      branch.find("//") != std::string_view::npos) {
    return false;
  }
  for (char c : branch) {
    if (IsControl(c) || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' ||
        c == '\\') {
      return false;
    }
  }
  std::size_t start = 0;
  while (start <= branch.size()) {
    auto end = branch.find('/', start);
    if (end == std::string_view::npos) end = branch.size();
    std::string_view component = branch.substr(start, end - start);
    if (component.empty() || component[0] == '.') return false;
    if (component.size() >= 5 && component.substr(component.size() - 5) == ".lock") return false;
    start = end + 1;
  }
  return true;
}

bool IsValidPipelineName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment) {
      if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

std::string RepoNameFromUrl(std::string_view url) {
  std::string_view path;
  bool local = false;
  auto sep = url.find("://");
  if (sep != std::string_view::npos) {
    std::string_view rest = url.substr(sep + 3);
    local = SchemeOf(url) == "file";
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return {};
    path = rest.substr(slash);
  } else if (!url.empty() && url[0] != '/' && url[0] != '.' && IsScpLike(url)) {
    path = url.substr(url.find(':') + 1);
  } else {
    path = url;
    local = true;
  }
  // Drop query/fragment, surrounding slashes and a ".git" suffix.
  path = path.substr(0, path.find_first_of("?#"));
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.size() > 4 && path.substr(path.size() - 4) == ".git") path.remove_suffix(4);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return {};
  if (local) {
    // A path on disk: its last two directories stand for owner/repo.
    auto last = path.rfind('/');
    if (last != std::string_view::npos) {
      auto before_last = path.substr(0, last).rfind('/');
      if (before_last != std::string_view::npos) path = path.substr(before_last + 1);
    }
  }
  std::string name(path);
  return IsValidPipelineName(name) ? name : std::string();
}

std::string NewJobId() {
  // 48 bits of milliseconds since the epoch, then 80 random bits. Within one millisecond
  // the random part is incremented, so ids made by one process sort in creation order.
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  static std::uint64_t last_ms = 0;
  static std::uint64_t random_hi = 0;  // 16 bits
  static std::uint64_t random_lo = 0;  // 64 bits

  std::lock_guard lock(mutex);
  auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  if (now_ms <= last_ms) {
    now_ms = last_ms;
    if (++random_lo == 0) random_hi = (random_hi + 1) & 0xffff;
  } else {
    last_ms = now_ms;
    random_hi = rng() & 0xffff;
    random_lo = rng();
  }
  // 128 bits: time (48) | random_hi (16) | random_lo (64) -> 26 base32 characters (130 bits,
  // the top two always zero).
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(now_ms >> (8 * (5 - i)));
  bytes[6] = static_cast<std::uint8_t>(random_hi >> 8);
  bytes[7] = static_cast<std::uint8_t>(random_hi);
  for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<std::uint8_t>(random_lo >> (8 * (7 - i)));
  std::string out(26, '0');
  for (int i = 25, bit = 0; i >= 0; --i, bit += 5) {
    // Character i holds bits [bit, bit+5) counted from the least significant end.
    unsigned value = 0;
    for (int b = 0; b < 5; ++b) {
      int pos = bit + b;
      if (pos >= 128) break;
      int byte = 15 - pos / 8;
      if (bytes[byte] & (1u << (pos % 8))) value |= 1u << b;
    }
    out[i] = kCrockford[value];
  }
  return out;
}

Result<bool> ValidateJob(const Job& job, const JobRules& rules) {
  if (job.id.empty()) return MakeError("id: missing");
  if (!IsValidJobId(job.id)) {
    return MakeError("id: must be 1 to 128 of A-Z a-z 0-9 _ -, got " + Quote(job.id));
  }
  if (job.repo_url.empty()) return MakeError("repo.url: missing");
  if (auto url = ValidateRepoUrl(job.repo_url, rules); !url) return MakeError(url.error());
  if (!job.repo_name.empty() && !IsValidPipelineName(job.repo_name)) {
    return MakeError("repo.name: must be segments of A-Z a-z 0-9 _ . - joined by '/', got " + Quote(job.repo_name));
  }
  if (job.commit.empty()) return MakeError("commit: missing");
  if (!IsValidCommitId(job.commit)) {
    return MakeError("commit: must be 40 or 64 lowercase hex digits, got " + Quote(job.commit));
  }
  if (!job.branch.empty() && !IsValidBranchName(job.branch)) {
    return MakeError("branch: not a valid branch name (git check-ref-format), got " + Quote(job.branch));
  }
  if (!job.before.empty() && !IsValidCommitId(job.before)) {
    return MakeError("before: must be 40 or 64 lowercase hex digits, got " + Quote(job.before));
  }
  if (!job.pipeline.empty() && !IsValidPipelineName(job.pipeline)) {
    return MakeError("pipeline: must be segments of A-Z a-z 0-9 _ . - joined by '/', no '.' or '..', got " +
                     Quote(job.pipeline));
  }
  for (const auto& [key, value] : job.env) {
    if (!IsEnvName(key)) return MakeError("env: " + Quote(key) + " is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    if (value.find('\0') != std::string::npos) return MakeError("env." + key + ": contains a NUL byte");
  }
  if (job.delivery_id.size() > 256) return MakeError("delivery_id: longer than 256 characters");
  return true;
}

Result<Job> ParseJob(std::string_view body, const JobRules& rules) {
  if (body.size() > rules.max_bytes) {
    return MakeError("message: " + std::to_string(body.size()) + " bytes, larger than the limit of " +
                     std::to_string(rules.max_bytes));
  }
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MakeError("message: not valid JSON");
  if (!doc.is_object()) return MakeError("message: must be a JSON object");

  Job job;
  auto optional_string = [&](const nlohmann::json& parent, const char* key, const std::string& field,
                             std::string& out) -> Result<bool> {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return true;
    if (!it->is_string()) return MakeError(field + ": must be a string, got " + std::string(it->type_name()));
    out = it->get<std::string>();
    return true;
  };
  auto required_string = [&](const nlohmann::json& parent, const char* key, const std::string& field,
                             std::string& out) -> Result<bool> {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return MakeError(field + ": missing");
    return optional_string(parent, key, field, out);
  };

  if (auto r = required_string(doc, "id", "id", job.id); !r) return MakeError(r.error());
  auto repo = doc.find("repo");
  if (repo == doc.end() || repo->is_null()) return MakeError("repo.url: missing");
  if (!repo->is_object()) return MakeError("repo: must be an object with 'url', got " + std::string(repo->type_name()));
  if (auto r = required_string(*repo, "url", "repo.url", job.repo_url); !r) return MakeError(r.error());
  if (auto r = optional_string(*repo, "name", "repo.name", job.repo_name); !r) return MakeError(r.error());
  if (auto r = required_string(doc, "commit", "commit", job.commit); !r) return MakeError(r.error());
  if (auto r = optional_string(doc, "branch", "branch", job.branch); !r) return MakeError(r.error());
  if (auto r = optional_string(doc, "before", "before", job.before); !r) return MakeError(r.error());
  if (auto r = optional_string(doc, "pipeline", "pipeline", job.pipeline); !r) return MakeError(r.error());
  if (auto r = optional_string(doc, "delivery_id", "delivery_id", job.delivery_id); !r) return MakeError(r.error());
  if (auto trusted = doc.find("trusted"); trusted != doc.end() && !trusted->is_null()) {
    if (!trusted->is_boolean()) {
      return MakeError("trusted: must be true or false, got " + std::string(trusted->type_name()));
    }
    job.trusted = trusted->get<bool>();
  }
  if (auto env = doc.find("env"); env != doc.end() && !env->is_null()) {
    if (!env->is_object()) return MakeError("env: must be an object of strings, got " + std::string(env->type_name()));
    for (const auto& [key, value] : env->items()) {
      // The name first: a key is any JSON string, and it goes into the error below unquoted.
      if (!IsEnvName(key)) return MakeError("env: " + Quote(key) + " is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
      if (!value.is_string()) {
        return MakeError("env." + key + ": must be a string, got " + std::string(value.type_name()));
      }
      job.env[key] = value.get<std::string>();
    }
  }
  if (job.repo_name.empty()) job.repo_name = RepoNameFromUrl(job.repo_url);
  if (auto valid = ValidateJob(job, rules); !valid) return MakeError(valid.error());
  return job;
}

}  // namespace kiln
