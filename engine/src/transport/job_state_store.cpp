#include "transport/job_state_store.hpp"

#include <algorithm>
#include <cstring>

#include "transport/message_fit.hpp"

namespace kiln {

namespace {
bool IsConflict(natsStatus s) {
  if (s != NATS_ERR) return false;
  const char* last = nats_GetLastError(nullptr);
  // cnats 3.4.1 reports JetStream's error 10071 only as text.
  return last != nullptr && (std::strstr(last, "wrong last sequence") != nullptr);
}
}  // namespace

std::string StateBody(const nlohmann::json& state) {
  // Whoever built the state, a token written in a URL (a repository's, one in an error)
  // never reaches the bucket that GET /builds/{id} and kiln status read.
  return MessageText(state);
}

std::string JobStateTime(const nlohmann::json& state) {
  return state.value("queued_at", state.value("started_at", state.value("updated_at", std::string())));
}

std::optional<std::vector<nlohmann::json>> JobStateStore::Newest(std::size_t limit, std::string* error) const {
  std::vector<nlohmann::json> states;
  kvKeysList keys;
  natsStatus s = kvStore_Keys(&keys, kv_, nullptr);
  if (s == NATS_NOT_FOUND) return states;  // an empty bucket
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsError(s);
    return std::nullopt;
  }
  for (int i = 0; i < keys.Count; ++i) {
    if (auto stored = Get(keys.Keys[i])) states.push_back(std::move(stored->state));
  }
  kvKeysList_Destroy(&keys);
  std::sort(states.begin(), states.end(),
            [](const auto& a, const auto& b) {
              // Ties (one millisecond) by id: a page of a list stays where it was.
              const std::string ta = JobStateTime(a), tb = JobStateTime(b);
              return ta != tb ? ta > tb : a.value("id", "") > b.value("id", "");
            });
  if (limit > 0 && states.size() > limit) states.resize(limit);
  return states;
}

std::optional<StoredState> JobStateStore::Get(const std::string& id, std::string* error) const {
  kvEntry* entry = nullptr;
  natsStatus s = kvStore_Get(&entry, kv_, id.c_str());
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsError(s);
    return std::nullopt;
  }
  StoredState out;
  out.revision = kvEntry_Revision(entry);
  const char* data = static_cast<const char*>(kvEntry_Value(entry));
  int len = kvEntry_ValueLen(entry);
  out.state = nlohmann::json::parse(data, data + len, nullptr, false);
  if (out.state.is_discarded()) out.state = nlohmann::json::object();
  kvEntry_Destroy(entry);
  return out;
}

WriteOutcome JobStateStore::Write(const std::string& id, const nlohmann::json& state, std::uint64_t& revision,
                                  std::string* error) const {
  return WriteText(id, StateBody(state), revision, error);
}

WriteOutcome JobStateStore::WriteText(const std::string& id, const std::string& body, std::uint64_t& revision,
                                      std::string* error) const {
  std::uint64_t new_revision = 0;
  natsStatus s = revision == 0
                     ? kvStore_Create(&new_revision, kv_, id.c_str(), body.data(), static_cast<int>(body.size()))
                     : kvStore_Update(&new_revision, kv_, id.c_str(), body.data(), static_cast<int>(body.size()),
                                      revision);
  if (s == NATS_OK) {
    revision = new_revision;
    return WriteOutcome::ok;
  }
  if (IsConflict(s)) return WriteOutcome::conflict;
  if (error != nullptr) *error = NatsError(s);
  return WriteOutcome::unavailable;
}

bool JobStateStore::Put(const std::string& id, const nlohmann::json& state, std::string* error) const {
  const std::string body = StateBody(state);
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv_, id.c_str(), body.data(), static_cast<int>(body.size()));
  if (s != NATS_OK && error != nullptr) *error = NatsError(s);
  return s == NATS_OK;
}

}  // namespace kiln
