#include "support/nats_cluster.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/free_port.hpp"
#include "support/nats_server.hpp"

namespace kiln::testing {

NatsCluster::NatsCluster(int size) {
  nodes_.resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    nodes_[i].name = "n" + std::to_string(i + 1);
    nodes_[i].client_port = FreeLoopbackPort();
    nodes_[i].route_port = FreeLoopbackPort();
  }
  for (int i = 0; i < size; ++i) WriteConfig(i);
  // All at once: a node waits for its routes, the others must be coming up meanwhile.
  for (int i = 0; i < size; ++i) Start(i);
}

NatsCluster::~NatsCluster() {
  for (int i = 0; i < size(); ++i) Stop(i);
}

std::string NatsCluster::url(int node) const {
  return "nats://127.0.0.1:" + std::to_string(nodes_[node].client_port);
}

std::string NatsCluster::urls() const {
  std::string out;
  for (int i = 0; i < size(); ++i) out += (i > 0 ? "," : "") + url(i);
  return out;
}

std::string NatsCluster::log_file(int node) const { return (dir_.path() / (nodes_[node].name + ".log")).string(); }

void NatsCluster::WriteConfig(int node) {
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
  nodes_[node].config_file = (dir_.path() / (n.name + ".conf")).string();
  WriteFile(nodes_[node].config_file, config);
}

void NatsCluster::Start(int node) {
  Node& n = nodes_[node];
  if (n.pid > 0) return;
  const std::string log = log_file(node);
  WriteFile(log, "");  // WaitReady looks for this run's "Server is ready"
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execlp("nats-server", "nats-server", "-c", n.config_file.c_str(), "-l", log.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  n.pid = pid;
  WaitReady(node);
}

void NatsCluster::WaitReady(int node) {
  Node& n = nodes_[node];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(n.pid, &status, WNOHANG) == n.pid) {
      n.pid = -1;
      throw std::runtime_error("nats-server " + n.name + " exited at start; see " + log_file(node));
    }
    if (LoopbackPortAccepts(n.client_port) && ReadFile(log_file(node)).find("Server is ready") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill(node);
  throw std::runtime_error("nats-server " + n.name + " did not become ready in 30 s; see " + log_file(node));
}

void NatsCluster::Stop(int node) {
  Node& n = nodes_[node];
  if (n.pid <= 0) return;
  ::kill(n.pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(n.pid, &status, WNOHANG) == n.pid) {
      n.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill(node);
}

void NatsCluster::Kill(int node) {
  Node& n = nodes_[node];
  if (n.pid <= 0) return;
  ::kill(n.pid, SIGKILL);
  int status = 0;
  ::waitpid(n.pid, &status, 0);
  n.pid = -1;
}

}  // namespace kiln::testing
