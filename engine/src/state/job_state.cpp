#include "state/job_state.hpp"

#include "secrets/redactor.hpp"

namespace kiln {

bool IsTerminalStatus(std::string_view status) {
  return status == "succeeded" || status == "failed" || status == "cancelled" || status == "timed_out" ||
         status == "dead";
}

bool IsJobStatus(std::string_view status) {
  return IsTerminalStatus(status) || status == "queued" || status == "running" || status == "retrying";
}

JobStateBuilder::JobStateBuilder(nlohmann::json state) : state_(std::move(state)) {
  if (!state_.is_object()) state_ = nlohmann::json::object();
}

nlohmann::json JobStateBuilder::Queued(const Job& job, const std::string& now) {
  nlohmann::json state = {{"id", job.id},
                          {"status", "queued"},
                          {"repo", {{"url", Redactor::redact_url_credentials(job.repo_url)}, {"name", job.repo_name}}},
                          {"commit", job.commit},
                          {"steps", nlohmann::json::array()},
                          {"outputs", nlohmann::json::object()},
                          {"queued_at", now},
                          {"updated_at", now},
                          {"next_seq", 1}};
  if (!job.branch.empty()) state["branch"] = job.branch;
  if (!job.pipeline.empty()) state["pipeline"] = job.pipeline;
  // What a rebuild (POST /builds/{id}/rebuild) needs to run the job again as it was.
  if (!job.env.empty()) state["env"] = job.env;
  if (!job.trusted) state["trusted"] = false;
  return state;
}

nlohmann::json& JobStateBuilder::step(const std::string& name) {
  auto& steps = state_["steps"];
  if (!steps.is_array()) steps = nlohmann::json::array();
  for (auto& s : steps) {
    if (s.value("name", "") == name) return s;
  }
  steps.push_back({{"name", name}, {"status", "pending"}, {"attempts", 0}});
  return steps.back();
}

bool JobStateBuilder::apply(const nlohmann::json& event) {
  const std::string type = event.value("type", "");
  const std::string time = event.value("time", "");
  if (event.contains("seq") && event["seq"].is_number_unsigned()) {
    state_["next_seq"] = event["seq"].get<std::uint64_t>() + 1;
  }
  if (!time.empty()) state_["updated_at"] = time;
  if (event.contains("worker") && event["worker"].is_string()) state_["worker"] = event["worker"];
  auto copy_error = [&](nlohmann::json& into) {
    if (event.contains("error")) into["error"] = event["error"];
    else if (event.contains("message")) into["error"] = event["message"];
  };

  if (type == "job.queued") {
    state_["status"] = "queued";
    return true;
  }
  if (type == "job.started") {
    state_["status"] = "running";
    state_["started_at"] = time;
    state_.erase("finished_at");
    state_.erase("error");
    state_.erase("retry_at");
    // A new attempt starts from the beginning: forget the steps of the one before.
    state_["steps"] = nlohmann::json::array();
    return true;
  }
  if (type == "step.started") {
    auto& s = step(event.value("step", ""));
    s["status"] = "running";
    s["attempts"] = event.value("attempt", s.value("attempts", 0) + 1);
    if (!s.contains("started")) s["started"] = time;
    return true;
  }
  if (type == "step.retrying") {
    auto& s = step(event.value("step", ""));
    s["status"] = "retrying";
    copy_error(s);
    return true;
  }
  if (type == "step.finished") {
    auto& s = step(event.value("step", ""));
    s["status"] = event.value("status", "ok");
    if (event.contains("attempt")) s["attempts"] = event["attempt"];
    if (event.contains("duration_ms")) s["duration_ms"] = event["duration_ms"];
    s["finished"] = time;
    if (event.contains("outputs") && !event["outputs"].is_null()) s["outputs"] = event["outputs"];
    if (s["status"] != "ok") copy_error(s);
    else s.erase("error");
    return true;
  }
  if (type == "step.progress") {
    auto& s = step(event.value("step", ""));
    if (event.contains("percent")) s["progress"] = event["percent"];
    else if (event.contains("pct")) s["progress"] = event["pct"];
    return false;  // written with the next step change, or by the periodic heartbeat
  }
  if (type == "step.log") return false;

  std::string status;
  if (type == "job.succeeded") status = "succeeded";
  else if (type == "job.failed") status = event.value("will_retry", false) ? "retrying" : "failed";
  else if (type == "job.cancelled") status = "cancelled";
  else if (type == "job.timed_out") status = "timed_out";
  else if (type == "job.dead") status = "dead";
  if (status.empty()) return false;
  state_["status"] = status;
  if (status != "retrying") state_["finished_at"] = time;
  if (event.contains("duration_ms")) state_["duration_ms"] = event["duration_ms"];
  if (event.contains("outputs") && event["outputs"].is_object() && !event["outputs"].empty()) {
    state_["outputs"] = event["outputs"];
  }
  if (status == "succeeded") {
    state_.erase("error");
  } else {
    copy_error(state_);
  }
  if (event.contains("reason")) state_["reason"] = event["reason"];
  if (event.contains("retry_at")) state_["retry_at"] = event["retry_at"];
  return true;
}

void JobStateBuilder::record_log(const std::string& name, std::uint64_t lines, std::uint64_t bytes) {
  if (!state_.contains("steps") || !state_["steps"].is_array()) return;
  for (auto& s : state_["steps"]) {
    if (s.value("name", "") == name) {
      s["log_lines"] = lines;
      s["log_bytes"] = bytes;
      return;
    }
  }
}

}  // namespace kiln
