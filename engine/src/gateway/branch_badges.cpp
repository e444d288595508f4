#include "gateway/branch_badges.hpp"

#include <spdlog/spdlog.h>

#include "gateway/build_badge.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

namespace {

constexpr std::string_view kSvgSuffix = ".svg";

// A path segment decoded: %XX only. '+' is a plus in a path (a branch may have one), not the
// space it is in a form.
std::optional<std::string> DecodePathPart(const std::string& part) {
  std::string escaped;
  for (char c : part) {
    if (c == '+') escaped += "%2B";
    else escaped += c;
  }
  std::string out;
  if (!PercentDecode(escaped, out) || out.empty()) return std::nullopt;
  return out;
}

// The string under `key`, "" when it is missing or not a string (a state is JSON anyone
// with write access to the bucket could have written).
std::string StringAt(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

}  // namespace

HttpResponse BranchBadges::Get(const std::string& owner, const std::string& repo, const std::string& branch_file) {
  const bool svg = branch_file.size() > kSvgSuffix.size() &&
                   branch_file.compare(branch_file.size() - kSvgSuffix.size(), kSvgSuffix.size(), kSvgSuffix) == 0;
  if (!svg) return JsonError(404, "a badge is /badge/<owner>/<repo>/<branch>.svg");
  auto owner_name = DecodePathPart(owner);
  auto repo_name = DecodePathPart(repo);
  auto branch = DecodePathPart(branch_file.substr(0, branch_file.size() - kSvgSuffix.size()));
  if (!owner_name || !repo_name || !branch) {
    return JsonError(404, "a badge's owner, repository and branch: malformed %-escape");
  }

  const std::optional<std::string> status = NewestStatus(*owner_name + "/" + *repo_name, *branch);
  HttpResponse res;
  res.content_type = "image/svg+xml";
  res.body = RenderBadgeSvg(BadgeForStatus(status.value_or("")));
  // Image proxies (GitHub's camo) keep what they are not told to revalidate.
  res.headers.emplace_back("Cache-Control", "no-cache, max-age=0");
  res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  return res;
}

std::optional<std::string> BranchBadges::NewestStatus(const std::string& repository, const std::string& branch) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (!read_at_ || now - *read_at_ >= refresh_) {
    std::string error;
    auto states = JobStateStore(conn_.builds_kv()).Newest(0, &error);
    read_at_ = now;  // a failed read too: a NATS outage must not turn every badge into a read
    if (states) {
      newest_status_.clear();
      for (const auto& state : *states) {  // newest first: the first of a branch is its newest
        const auto repo = state.find("repo");
        if (repo == state.end() || !repo->is_object()) continue;
        const std::string name = StringAt(*repo, "name");
        const std::string job_branch = StringAt(state, "branch");
        if (name.empty() || job_branch.empty()) continue;
        newest_status_.try_emplace({name, job_branch}, StringAt(state, "status"));
      }
    } else {
      spdlog::warn("gateway: badges: reading the job states failed (the last ones read stay): {}", error);
    }
  }
  auto found = newest_status_.find({repository, branch});
  if (found == newest_status_.end()) return std::nullopt;
  return found->second;
}

}  // namespace kiln
