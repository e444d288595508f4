// Three (or more) real nats-server processes forming one JetStream cluster on 127.0.0.1,
// each with its own client port, route port and store dir under one temp dir, for tests
// that need replicated (R3) streams. A node can be stopped (SIGTERM), killed (SIGKILL) and
// started again with the same ports and store. The destructor stops every node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/nats_process.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

class NatsCluster {
 public:
  /// Starts `size` nodes and waits until each accepts clients; throws std::runtime_error
  /// when one does not come up. JetStream needs a few seconds more to elect its leaders:
  /// callers retry their first JetStream request.
  explicit NatsCluster(int size = 3);
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  void Start(int node) { nodes_[node].process->Start(); }
  /// SIGTERM and wait (the node leaves the cluster cleanly).
  void Stop(int node) { nodes_[node].process->Stop(); }
  /// SIGKILL: the node dies as in a crash.
  void Kill(int node) { nodes_[node].process->Kill(); }
  bool running(int node) const { return nodes_[node].process->running(); }

  /// Every node's client URL, comma-separated (what nats.url takes for a cluster).
  std::string urls() const;
  std::string url(int node) const;
  const std::string& log_file(int node) const { return nodes_[node].process->log_file(); }

 private:
  struct Node {
    std::string name;
    int client_port = 0;
    int route_port = 0;
    std::unique_ptr<NatsProcess> process;
  };
  /// Writes the node's config file and returns its path.
  std::string WriteConfig(int node);

  TempDir dir_{"kiln-nats-cluster"};
  std::vector<Node> nodes_;
};

}  // namespace kiln::testing
