#include "support/nats_server.hpp"

namespace kiln::testing {

namespace {

std::vector<std::string> JetStreamOptions(int port, const std::string& store, std::vector<std::string> extra) {
  std::vector<std::string> options = {"-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd", store};
  options.insert(options.end(), extra.begin(), extra.end());
  return options;
}

}  // namespace

NatsServer::NatsServer() : NatsServer(std::vector<std::string>{}) {}

NatsServer::NatsServer(std::vector<std::string> extra_args)
    : store_((dir_.path() / "store").string()),
      port_(FreeLoopbackPort()),
      process_("nats-server", JetStreamOptions(port_, store_, std::move(extra_args)),
               (dir_.path() / "nats-server.log").string(), port_) {
  Start();
}

}  // namespace kiln::testing
