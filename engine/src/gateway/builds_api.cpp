#include "gateway/builds_api.hpp"

#include <algorithm>
#include <charconv>

#include "job/job.hpp"
#include "transport/job_state_store.hpp"

namespace kiln {

ApiReply BuildsApi::Get(const std::string& id) const {
  if (!IsValidJobId(id)) return {400, {{"error", "id: not a job id"}}};
  std::string error;
  auto stored = JobStateStore(conn_.builds_kv()).Get(id, &error);
  if (stored) return {200, stored->state};
  if (!error.empty()) return {503, {{"error", "NATS is unavailable: " + error}}};
  return {404, {{"error", "no job with id '" + id + "'"}}};
}

ApiReply BuildsApi::List(const std::string& limit_text) const {
  int limit = kDefaultLimit;
  if (!limit_text.empty()) {
    auto [end, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || end != limit_text.data() + limit_text.size() || limit < 1 || limit > kMaxLimit) {
      return {400, {{"error", "limit: must be a number from 1 to " + std::to_string(kMaxLimit)}}};
    }
  }
  // Every key is read, as `kiln list` does: the bucket keeps 30 days of jobs, which is
  // fine for a status page, not for a hot path.
  kvStore* kv = conn_.builds_kv();
  kvKeysList keys;
  natsStatus s = kvStore_Keys(&keys, kv, nullptr);
  std::vector<nlohmann::json> states;
  if (s == NATS_OK) {
    JobStateStore store(kv);
    for (int i = 0; i < keys.Count; ++i) {
      if (auto stored = store.Get(keys.Keys[i])) states.push_back(std::move(stored->state));
    }
    kvKeysList_Destroy(&keys);
  } else if (s != NATS_NOT_FOUND) {
    return {503, {{"error", "NATS is unavailable: " + NatsError(s)}}};
  }
  auto when = [](const nlohmann::json& st) {
    return st.value("queued_at", st.value("started_at", st.value("updated_at", std::string())));
  };
  std::sort(states.begin(), states.end(), [&](const auto& a, const auto& b) { return when(a) > when(b); });
  if (states.size() > static_cast<std::size_t>(limit)) states.resize(static_cast<std::size_t>(limit));
  return {200, {{"builds", states}}};
}

}  // namespace kiln
