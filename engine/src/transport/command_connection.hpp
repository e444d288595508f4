// What the job commands (submit, status, list, cancel, dlq) share: the engine set up
// without plugins, --nats applied, a connection, the streams and KV bucket ensured.
#pragma once

#include <memory>
#include <string>

#include "app/engine_context.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

struct CommandSession {
  std::unique_ptr<EngineContext> engine;
  std::unique_ptr<NatsConnection> conn;
};

/// On error prints nothing; the message names what is wrong (config key, NATS URL).
Result<CommandSession> OpenCommandSession(const GlobalOptions& global, const std::string& client_name);

}  // namespace kiln
