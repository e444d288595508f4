#include "transport/command_connection.hpp"

#include "transport/jetstream_setup.hpp"

namespace kiln {

Result<CommandSession> OpenCommandSession(const GlobalOptions& global, const std::string& client_name) {
  EngineSetup setup;
  setup.load_plugins = false;
  setup.configure_plugins = false;
  auto engine = SetUpEngine(global, setup);
  if (!engine) return MakeError(engine.error());
  CommandSession session;
  session.engine = std::move(engine.value());
  if (global.nats_url) session.engine->config.nats.url = *global.nats_url;
  auto conn = NatsConnection::Connect(session.engine->config.nats, client_name, &session.engine->redactor);
  if (!conn) return MakeError(conn.error());
  session.conn = std::move(conn.value());
  if (auto r = EnsureStreams(*session.conn, session.engine->config.nats, session.engine->config.logs); !r) return MakeError(r.error());
  return session;
}

}  // namespace kiln
