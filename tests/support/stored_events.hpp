// The job events kept in stream BUILD_EVENTS, read back by tests.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transport/nats_connection.hpp"

namespace kiln::testing {

/// Every event stored under `subject` ("builds.status.<id>", or "builds.status.>" for all),
/// in order, read until none comes for `idle_ms`. A message that is not JSON is kept as a
/// discarded value, for the caller's checks to fail on.
std::vector<nlohmann::json> StoredEvents(NatsConnection& conn, const std::string& subject, int idle_ms);

}  // namespace kiln::testing
