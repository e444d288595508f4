// Issue 8, point 4: docker-compose.yml's three NATS services, run for real. Each service's
// own command line starts a local nats-server (2.9, Debian's) with three changes only: the
// other services' host names become 127.0.0.1, every port is a free loopback port, and the
// store is a temp dir. kiln's EnsureStreams must then create its streams and KV bucket with
// three replicas, which only a JetStream cluster of three can hold, the compose healthcheck
// (/healthz) must answer 200 on every node, and a job must outlive one node stopping.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/nats_server.hpp"
#include "support/temp_dir.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/nats_connection.hpp"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The machine is shared: a cluster of three elects its meta leader in about two seconds
// when idle, much later under load. Every wait below has its own deadline, so a broken
// cluster fails with a reason instead of hanging ctest.
constexpr auto kNodeStartTimeout = std::chrono::seconds(30);
constexpr auto kClusterTimeout = std::chrono::seconds(90);
constexpr auto kStopTimeout = std::chrono::seconds(15);

/// The NATS services of docker-compose.yml (image nats*), name -> command line.
std::map<std::string, std::vector<std::string>> ComposeNatsCommands() {
  const YAML::Node root = YAML::LoadFile((fs::path(KILN_SOURCE_DIR) / "docker-compose.yml").string());
  std::map<std::string, std::vector<std::string>> commands;
  for (auto it = root["services"].begin(); it != root["services"].end(); ++it) {
    const YAML::Node service = it->second;
    if (!service["image"] || service["image"].as<std::string>().rfind("nats", 0) != 0) continue;
    std::vector<std::string> command;
    for (const auto& arg : service["command"]) command.push_back(arg.as<std::string>());
    commands[it->first.as<std::string>()] = command;
  }
  return commands;
}

struct NodePorts {
  int client = 0;
  int cluster = 0;
  int http = 0;
};

/// Three distinct free loopback ports per node (the kernel may hand out a released port
/// twice, so duplicates are drawn again).
std::map<std::string, NodePorts> DrawPorts(const std::map<std::string, std::vector<std::string>>& nodes) {
  std::set<int> used;
  auto draw = [&used] {
    for (;;) {
      const int port = FreeLoopbackPort();
      if (used.insert(port).second) return port;
    }
  };
  std::map<std::string, NodePorts> ports;
  for (const auto& [name, unused] : nodes) ports[name] = NodePorts{draw(), draw(), draw()};
  return ports;
}

std::string Url(int port) { return "nats://127.0.0.1:" + std::to_string(port); }

/// `command` (a compose service's) made runnable here; "" in `error` or what is wrong.
std::vector<std::string> LocalCommand(std::vector<std::string> command, const std::string& name,
                                      const std::map<std::string, NodePorts>& ports, const fs::path& store,
                                      const fs::path& log, std::string& error) {
  for (std::size_t i = 0; i + 1 < command.size(); ++i) {
    const std::string& flag = command[i];
    std::string& value = command[i + 1];
    if (flag == "--store_dir" || flag == "-sd") value = store.string();
    if (flag == "--http_port" || flag == "-m") value = std::to_string(ports.at(name).http);
    if (flag == "--cluster") value = Url(ports.at(name).cluster);
    if (flag == "--routes") {
      // nats://nats-2:6222,nats://nats-3:6222 -> the cluster ports of those nodes here.
      std::string routes;
      std::size_t start = 0;
      while (start < value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        const std::string route = value.substr(start, comma - start);
        start = comma + 1;
        const std::size_t host_at = route.find("://") == std::string::npos ? 0 : route.find("://") + 3;
        const std::string host = route.substr(host_at, route.rfind(':') - host_at);
        if (!ports.count(host)) {
          error = name + ": route " + route + " names no NATS service";
          return {};
        }
        routes += (routes.empty() ? "" : ",") + Url(ports.at(host).cluster);
      }
      value = routes;
    }
  }
  // The image's nats-server listens on 0.0.0.0:4222; here the client port is free and local.
  command.insert(command.begin(), {"nats-server", "-a", "127.0.0.1", "-p", std::to_string(ports.at(name).client),
                                   "-l", log.string()});
  return command;
}

/// A child process that ends with the test: SIGTERM then SIGKILL when the object goes, and
/// SIGKILL from the kernel if the test process dies first (no stray servers on the machine).
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const fs::path& output) {
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    const std::string out = output.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

  void Stop() {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopTimeout;
    while (Clock::now() < deadline) {
      if (!running()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

/// The HTTP status of GET http://127.0.0.1:port/path, or 0 when nothing answers.
int HttpStatus(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    char buffer[64] = {};
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()) &&
        ::read(fd, buffer, sizeof(buffer) - 1) > 12) {
      status = std::atoi(buffer + 9);  // "HTTP/1.1 200 OK"
    }
  }
  ::close(fd);
  return status;
}

struct StreamView {
  int replicas = 0;
  std::string cluster;
  std::set<std::string> peers;  // the leader and the replicas, by server name
  std::string leader;
  uint64_t messages = 0;
};

/// What the cluster says about `stream`; "" in `error` or why it could not tell.
StreamView ReadStream(NatsConnection& conn, const std::string& stream, std::string& error) {
  StreamView view;
  error.clear();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, conn.js(), stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    error = "stream info " + stream + ": " + NatsError(s) + " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
    return view;
  }
  view.replicas = static_cast<int>(info->Config->Replicas);
  view.messages = info->State.Msgs;
  if (info->Cluster != nullptr) {
    view.cluster = info->Cluster->Name ? info->Cluster->Name : "";
    view.leader = info->Cluster->Leader ? info->Cluster->Leader : "";
    if (!view.leader.empty()) view.peers.insert(view.leader);
    for (int i = 0; i < info->Cluster->ReplicasLen; ++i) view.peers.insert(info->Cluster->Replicas[i]->Name);
  }
  jsStreamInfo_Destroy(info);
  return view;
}

class ComposeNatsCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    commands_ = ComposeNatsCommands();
    ASSERT_EQ(commands_.size(), 3u) << "docker-compose.yml should have three NATS services";
    // A port drawn free may be taken by someone else before the server binds it: then the
    // whole cluster starts again on new ports.
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (StartNodes(why)) return;
      nodes_.clear();
    }
    FAIL() << "the compose NATS nodes did not start: " << why;
  }

  /// Starts the three nodes and waits until each says it is ready; false and why otherwise.
  bool StartNodes(std::string& why) {
    ports_ = DrawPorts(commands_);
    const std::string run = std::to_string(++starts_);  // each start its own files
    for (const auto& [name, command] : commands_) {
      const fs::path log = dir_ / (name + "-" + run + ".log");
      logs_[name] = log;
      outputs_[name] = dir_ / (name + "-" + run + ".out");
      WriteFile(log, "");  // read below before the server has written it
      std::string error;
      auto argv = LocalCommand(command, name, ports_, dir_ / (name + "-" + run + "-store"), log, error);
      if (!error.empty()) {
        why = error;
        return false;
      }
      nodes_[name] = std::make_unique<ChildProcess>(argv, outputs_[name]);
    }
    const auto deadline = Clock::now() + kNodeStartTimeout;
    std::set<std::string> ready;
    while (ready.size() < nodes_.size()) {
      for (const auto& [name, node] : nodes_) {
        if (ready.count(name)) continue;
        if (ReadFile(logs_[name]).find("Server is ready") != std::string::npos) ready.insert(name);
        else if (!node->running()) {
          why = name + " exited at start:\n" + Log(name) + ReadFile(outputs_[name]);
          return false;
        }
      }
      if (Clock::now() > deadline) {
        why = "not all ready in 30 s:\n" + Logs();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  NatsConfig ClientConfig() const {
    NatsConfig config;
    for (const auto& [name, ports] : ports_) config.url += (config.url.empty() ? "" : ",") + Url(ports.client);
    config.stream_replicas = 3;
    config.connect_timeout = std::chrono::seconds(2);
    config.reconnect_wait = std::chrono::milliseconds(250);
    return config;
  }

  /// Connects and runs EnsureStreams until they succeed (the meta leader needs electing).
  std::unique_ptr<NatsConnection> ConnectWithStreams(const NatsConfig& config) {
    std::string last_error;
    std::unique_ptr<NatsConnection> conn;
    const auto deadline = Clock::now() + kClusterTimeout;
    while (Clock::now() < deadline) {
      if (!conn) {
        auto connected = NatsConnection::Connect(config, "compose cluster test", nullptr);
        if (connected) conn = std::move(connected.value());
        else last_error = connected.error();
      }
      if (conn) {
        auto streams = EnsureStreams(*conn, config);
        if (streams) return conn;
        last_error = streams.error();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ADD_FAILURE() << "no R3 streams on the compose cluster in 90 s: " << last_error << "\n" << Logs();
    return nullptr;
  }

  /// The end of a node's log (the start is the same banner every time).
  std::string Log(const std::string& name) {
    std::string text = ReadFile(logs_[name]);
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    return text;
  }

  std::string Logs() {
    std::string all;
    for (const auto& [name, unused] : logs_) all += "--- " + name + "\n" + Log(name);
    return all;
  }

  TempDir dir_{"kiln-compose-nats"};  // declared first: outlives the servers writing in it
  std::map<std::string, std::vector<std::string>> commands_;
  std::map<std::string, NodePorts> ports_;
  std::map<std::string, fs::path> logs_;
  std::map<std::string, fs::path> outputs_;  // stdout and stderr (flag errors come before the log)
  std::map<std::string, std::unique_ptr<ChildProcess>> nodes_;
  int starts_ = 0;
};

TEST_F(ComposeNatsCluster, TheNatsCommandsFormAJetStreamClusterThatTakesR3Streams) {
  const NatsConfig config = ClientConfig();
  auto conn = ConnectWithStreams(config);
  ASSERT_TRUE(conn);
  std::set<std::string> names;
  for (const auto& [name, unused] : commands_) names.insert(name);  // each command's --name is its service's
  const std::string kv_stream = std::string("KV_") + subjects::kStateBucket;  // the bucket's stream
  for (const std::string& stream :
       {std::string(subjects::kJobsStream), std::string(subjects::kDeadLetterStream), std::string(subjects::kEventsStream), kv_stream}) {
    SCOPED_TRACE(stream);
    std::string error;
    const StreamView view = ReadStream(*conn, stream, error);
    ASSERT_EQ(error, "");
    EXPECT_EQ(view.replicas, 3);
    EXPECT_EQ(view.cluster, "kiln");
    EXPECT_EQ(view.peers, names) << "the stream should live on all three nodes";
  }
  // The compose healthcheck asks each node's monitoring port for /healthz.
  for (const auto& [name, ports] : ports_) {
    int status = 0;
    for (const auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline && status != 200;) {
      status = HttpStatus(ports.http, "/healthz");
      if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    EXPECT_EQ(status, 200) << name << "'s /healthz (the compose healthcheck)";
  }
}

TEST_F(ComposeNatsCluster, AJobPublishedBeforeANodeStopsIsStillThereAndNewJobsAreTaken) {
  // What R3 is for: docker compose restarting one NATS container loses no queued job.
  const NatsConfig config = ClientConfig();
  auto conn = ConnectWithStreams(config);
  ASSERT_TRUE(conn);
  auto publish = [&conn](const std::string& id, std::string& error) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MsgId = id.c_str();
    options.MaxWait = 5000;
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const std::string body = R"({"id":")" + id + R"("})";
    const natsStatus s = js_Publish(&ack, conn->js(), subjects::kJobs, body.data(), static_cast<int>(body.size()),
                                    &options, &code);
    jsPubAck_Destroy(ack);
    error = s == NATS_OK ? "" : "publish " + id + ": " + NatsError(s) + " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
    return s == NATS_OK;
  };
  std::string error;
  ASSERT_TRUE(publish("before-the-stop", error)) << error;

  // Stop the stream's leader: the hardest case (the other two must elect a new one).
  const std::string leader = ReadStream(*conn, subjects::kJobsStream, error).leader;
  ASSERT_TRUE(nodes_.count(leader)) << "leader '" << leader << "' " << error;
  nodes_[leader]->Stop();

  bool published = false;
  StreamView view;
  for (const auto deadline = Clock::now() + kClusterTimeout; Clock::now() < deadline;) {
    if (!published) published = publish("after-the-stop", error);
    if (published) {
      view = ReadStream(*conn, subjects::kJobsStream, error);
      if (error.empty() && view.messages == 2 && !view.leader.empty() && view.leader != leader) break;
      if (error.empty()) error = std::to_string(view.messages) + " messages, leader '" + view.leader + "'";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(published) << error;
  EXPECT_EQ(view.messages, 2u) << error;
  EXPECT_NE(view.leader, leader) << "no new leader after " << leader << " stopped: " << error;
  EXPECT_FALSE(view.leader.empty()) << error;
}

}  // namespace
}  // namespace kiln::testing
