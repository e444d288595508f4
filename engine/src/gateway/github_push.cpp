#include "gateway/github_push.hpp"

#include <nlohmann/json.hpp>

#include "gateway/push_content_key.hpp"

namespace kiln {

namespace {

constexpr std::string_view kBranchPrefix = "refs/heads/";
constexpr std::string_view kTagPrefix = "refs/tags/";

// GitHub writes a missing side of a push (before of a new branch, after of a deletion) as
// forty zeros.
bool IsZeroCommit(std::string_view sha) { return !sha.empty() && sha.find_first_not_of('0') == std::string_view::npos; }

Result<std::string> RequiredString(const nlohmann::json& parent, const char* key, const std::string& field) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return MakeError(field + ": missing");
  if (!it->is_string()) return MakeError(field + ": must be a string, got " + std::string(it->type_name()));
  return it->get<std::string>();
}

}  // namespace

Result<PushDecision> DecidePush(std::string_view body, const std::string& delivery_id, const GatewayConfig& gateway,
                                const JobRules& rules) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MakeError("payload: not valid JSON");
  if (!doc.is_object()) return MakeError("payload: must be a JSON object");
  auto ref = RequiredString(doc, "ref", "ref");
  if (!ref) return MakeError(ref.error());
  auto after = RequiredString(doc, "after", "after");
  if (!after) return MakeError(after.error());
  auto before = RequiredString(doc, "before", "before");
  if (!before) return MakeError(before.error());
  auto repository = doc.find("repository");
  if (repository == doc.end() || !repository->is_object()) return MakeError("repository: missing");
  auto clone_url = RequiredString(*repository, "clone_url", "repository.clone_url");
  if (!clone_url) return MakeError(clone_url.error());
  auto full_name = RequiredString(*repository, "full_name", "repository.full_name");
  if (!full_name) return MakeError(full_name.error());

  bool deleted_flag = false;
  if (auto it = doc.find("deleted"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return MakeError("deleted: must be true or false, got a " + std::string(it->type_name()));
    deleted_flag = it->get<bool>();
  }
  const bool deleted = deleted_flag || IsZeroCommit(after.value());
  PushDecision decision;
  Job& job = decision.job;
  job.repo_url = clone_url.value();
  job.repo_name = full_name.value();
  job.delivery_id = delivery_id;
  // A push event: someone who can write the repository put this ref there, so the job may
  // write the repository's caches. (A fork's pull request, when the gateway takes them,
  // will set false: issue 17.)
  job.trusted = true;
  const std::string& name = ref.value();
  if (name.rfind(kTagPrefix, 0) == 0) {
    const std::string tag = name.substr(kTagPrefix.size());
    if (deleted) {
      decision.reason = "tag " + tag + " was deleted: nothing to build";
      return decision;
    }
    if (gateway.tag_pushes != "build") {
      decision.reason = "tag push " + tag + " (gateway.tag_pushes: ignore)";
      return decision;
    }
    job.commit = after.value();
    job.env["KILN_TAG"] = tag;  // the pipeline sees which tag it builds (job.env.KILN_TAG)
  } else if (name.rfind(kBranchPrefix, 0) == 0) {
    job.branch = name.substr(kBranchPrefix.size());
    if (deleted) {
      if (gateway.branch_deletions != "build") {
        decision.reason = "branch " + job.branch + " was deleted (gateway.branch_deletions: ignore)";
        return decision;
      }
      // The last commit the branch had, with a flag: a pipeline can clean up after it.
      job.commit = before.value();
      job.env["KILN_BRANCH_DELETED"] = "true";
    } else {
      job.commit = after.value();
      if (!IsZeroCommit(before.value())) job.before = before.value();
    }
  } else {
    decision.reason = "ref " + name + " is neither a branch nor a tag";
    return decision;
  }
  job.id = NewJobId();
  // The worker's gate, on the message exactly as it will be published.
  auto checked = ParseJob(job.to_json().dump(), rules);
  if (!checked) return MakeError("job: " + checked.error());
  decision.job = std::move(checked).value();
  decision.content_key = PushContentKey(clone_url.value(), name, before.value(), after.value());
  decision.build = true;
  return decision;
}

}  // namespace kiln
