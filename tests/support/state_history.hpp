// Every revision of a job's state still kept in the KV bucket, read back by tests that check
// what was written, not only what was written last.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transport/nats_connection.hpp"

namespace kiln::testing {

/// The puts of job `id`'s KV entry, oldest first (the bucket keeps the last 5); deletes are
/// left out. Empty when the entry has no history or NATS cannot be asked.
std::vector<nlohmann::json> StateHistory(NatsConnection& conn, const std::string& id);

}  // namespace kiln::testing
