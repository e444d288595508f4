#include "support/nats_cluster.hpp"

#include "support/free_port.hpp"

namespace kiln::testing {

NatsCluster::NatsCluster(int size) {
  nodes_.resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    nodes_[i].name = "n" + std::to_string(i + 1);
    nodes_[i].client_port = FreeLoopbackPort();
    nodes_[i].route_port = FreeLoopbackPort();
  }
  for (int i = 0; i < size; ++i) {
    nodes_[i].process = std::make_unique<NatsProcess>("nats-server " + nodes_[i].name,
                                                      std::vector<std::string>{"-c", WriteConfig(i)},
                                                      (dir_.path() / (nodes_[i].name + ".log")).string(),
                                                      nodes_[i].client_port);
  }
  // All at once: a node waits for its routes, the others must be coming up meanwhile.
  for (int i = 0; i < size; ++i) Start(i);
}


std::string NatsCluster::url(int node) const {
  return "nats://127.0.0.1:" + std::to_string(nodes_[node].client_port);
}

std::string NatsCluster::urls() const {
  std::string out;
  for (int i = 0; i < size(); ++i) out += (i > 0 ? "," : "") + url(i);
  return out;
}


std::string NatsCluster::WriteConfig(int node) {
  const Node& n = nodes_[node];
  std::string routes;
  for (int i = 0; i < size(); ++i) {
    if (i == node) continue;
    routes += "    \"nats-route://127.0.0.1:" + std::to_string(nodes_[i].route_port) + "\"\n";
  }
  std::string config = "server_name: \"" + n.name + "\"\n" +
                       "listen: \"127.0.0.1:" + std::to_string(n.client_port) + "\"\n" +
                       "jetstream {\n  store_dir: \"" + (dir_.path() / (n.name + "-store")).string() + "\"\n}\n" +
                       "cluster {\n  name: \"kiln-test\"\n  listen: \"127.0.0.1:" + std::to_string(n.route_port) +
                       "\"\n  routes: [\n" + routes + "  ]\n}\n";
  const std::string file = (dir_.path() / (n.name + ".conf")).string();
  WriteFile(file, config);
  return file;
}

}  // namespace kiln::testing
