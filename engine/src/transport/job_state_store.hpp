// The KV bucket "builds": a job's state under its id, written with compare-and-set on the
// entry's revision so two workers never both believe they run the same attempt.
//
// JetStream accepts an ack from a worker whose message was already redelivered to another
// (nats-server issues 4786, 6937), so the queue cannot tell a worker that it lost its
// lease. The KV entry can: every write names the revision it read; a write over a newer
// revision fails with "wrong last sequence", and the writer knows someone else owns the job.
// Thread-safe (cnats KV calls are).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transport/nats_connection.hpp"

namespace kiln {

struct StoredState {
  nlohmann::json state;
  std::uint64_t revision = 0;
};

enum class WriteOutcome {
  ok,
  conflict,     // the entry changed since `revision` (or exists, for a create)
  unavailable,  // NATS did not answer (disconnected, timeout): try again later
};

/// The text a state is stored as: JSON with URL user-info masked (Redactor).
std::string StateBody(const nlohmann::json& state);

/// When a job state was last news: queued_at, else started_at, else updated_at.
std::string JobStateTime(const nlohmann::json& state);

class JobStateStore {
 public:
  explicit JobStateStore(kvStore* kv) : kv_(kv) {}

  /// nullopt when there is no entry (or it was deleted). `error` is set when NATS failed.
  std::optional<StoredState> Get(const std::string& id, std::string* error = nullptr) const;
  /// Writes `state` if the entry is still at `revision` (0: only if there is none).
  /// On ok, `revision` becomes the new revision.
  WriteOutcome Write(const std::string& id, const nlohmann::json& state, std::uint64_t& revision,
                     std::string* error = nullptr) const;
  /// Write() of a state already turned into its text (StateBody, or FitInMessage's).
  WriteOutcome WriteText(const std::string& id, const std::string& body, std::uint64_t& revision,
                         std::string* error = nullptr) const;
  /// Unconditional write (kiln dlq replay, kiln submit of a new id).
  bool Put(const std::string& id, const nlohmann::json& state, std::string* error = nullptr) const;
  /// Every job's state, newest first (JobStateTime), at most `limit` of them (0: all).
  /// Reads every key of the bucket: linear in the jobs it keeps (30 days), fine for status
  /// queries, not for a hot path. nullopt with `error` set when NATS failed.
  std::optional<std::vector<nlohmann::json>> Newest(std::size_t limit, std::string* error = nullptr) const;

 private:
  kvStore* kv_;
};

}  // namespace kiln
