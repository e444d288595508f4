// Shared set-up of the worker tests: a real nats-server, a temp config with tiny Lua
// pipelines, real `kiln worker` processes (the binary under test), and a client connection
// to publish jobs and read states, events and dead letters.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/kiln_process.hpp"
#include "support/nats_server.hpp"
#include "support/stored_events.hpp"
#include "support/temp_dir.hpp"
#include "transport/dead_letters.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"
#include "transport/nats_connection.hpp"

namespace kiln::testing {

inline constexpr const char* kCommit = "9fceb02d0ae598e95dc970b74767f19372d61af8";

struct WorkerSettings {
  int pool_size = 2;
  int max_retries = 2;
  std::string retry_delay = "1s";
  std::string retry_max_delay = "2s";
  std::string shutdown_grace = "10s";
  std::string timeout = "60";
  std::string ack_wait = "30s";
  bool allow_file_urls = false;
  std::string nats_url;  // empty: server_
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WritePipeline("noop", "kiln.step(\"noop\", function() return { ok = true } end)\n");
    WritePipeline("sleep1", "kiln.step(\"sleep\", function() kiln.exec{ cmd = { \"sleep\", \"1\" } } end)\n");
    WritePipeline("sleep4", "kiln.step(\"sleep\", function() kiln.exec{ cmd = { \"sleep\", \"4\" } } end)\n");
    WritePipeline("sleep60", "kiln.step(\"sleep\", function() kiln.exec{ cmd = { \"sleep\", \"60\" } } end)\n");
    WritePipeline("flaky", "kiln.step(\"flaky\", { retry = { attempts = 1 } }, function() kiln.retryable(\"x\") end)\n");
    WritePipeline("broken", "kiln.step(\"broken\", function() kiln.fail(\"broken on purpose\") end)\n");
    WriteConfig(WorkerSettings{});
    NatsConfig nats;
    nats.url = server_.url();
    nats.reconnect_wait = std::chrono::milliseconds(250);
    auto conn = NatsConnection::Connect(nats, "worker test", nullptr);
    ASSERT_TRUE(conn.ok()) << conn.error();
    client_ = std::move(conn.value());
    auto streams = EnsureStreams(*client_, nats);
    ASSERT_TRUE(streams.ok()) << streams.error();
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& w : workers_) {
        std::cerr << "---- " << w->log() << "\n" << ReadFile(w->log()).substr(0, 20000) << "\n";
      }
    }
    workers_.clear();
    client_.reset();
  }

  void WritePipeline(const std::string& name, const std::string& lua) {
    WriteFile(dir_.path() / "pipelines" / (name + ".lua"), lua);
  }

  void WriteConfig(const WorkerSettings& s) {
    const std::string url = s.nats_url.empty() ? server_.url() : s.nats_url;
    std::string yaml = "nats: { url: \"" + url + "\", reconnect_wait: 250ms }\n" +
                       "worker: { pool_size: " + std::to_string(s.pool_size) +
                       ", max_retries: " + std::to_string(s.max_retries) + ", retry_delay: " + s.retry_delay +
                       ", retry_max_delay: " + s.retry_max_delay + ", shutdown_grace: " + s.shutdown_grace +
                       ", timeout: " + s.timeout + ", ack_wait: " + s.ack_wait + " }\n" +
                       "build: { workspace_path: work/ws, code_cache_path: work/code, build_cache_path: work/deps, "
                       "allow_file_urls: " +
                       (s.allow_file_urls ? "true" : "false") + " }\n" +
                       "pipelines: { dir: pipelines }\n" + "logging: { level: info, format: text }\n";
    WriteFile(config_path(), yaml);
  }
  std::string config_path() const { return (dir_.path() / "config.yaml").string(); }

  KilnProcess& StartWorker() {
    std::string log = (dir_.path() / ("worker-" + std::to_string(workers_.size()) + ".log")).string();
    workers_.push_back(std::make_unique<KilnProcess>(std::vector<std::string>{"worker", "--config", config_path()}, log));
    return *workers_.back();
  }

  /// `kiln <args> --config ...`, waiting for it; output in `out`.
  int RunKiln(const std::string& args, std::string* out) {
    return Shell(KilnBinary() + " " + args + " --config '" + config_path() + "' 2>&1", out);
  }

  static std::string JobBody(const std::string& id, const std::string& pipeline) {
    nlohmann::json job = {{"id", id},
                          {"repo", {{"url", "https://example.invalid/acme/shop.git"}}},
                          {"commit", kCommit},
                          {"branch", "main"},
                          {"pipeline", pipeline}};
    return job.dump();
  }

  void PublishRaw(const std::string& body, const std::string& msg_id = "") {
    natsMsg* msg = nullptr;
    ASSERT_EQ(natsMsg_Create(&msg, subjects::kJobs, nullptr, body.data(), static_cast<int>(body.size())), NATS_OK);
    if (!msg_id.empty()) natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_PublishMsg(nullptr, client_->js(), msg, nullptr, &code);
    natsMsg_Destroy(msg);
    ASSERT_EQ(s, NATS_OK) << NatsError(s);
  }
  void PublishJob(const std::string& id, const std::string& pipeline, const std::string& msg_id = "") {
    PublishRaw(JobBody(id, pipeline), msg_id.empty() ? id : msg_id);
  }

  std::optional<StoredState> State(const std::string& id) {
    return JobStateStore(client_->builds_kv()).Get(id);
  }

  /// Polls the KV state until its status is in `statuses`; the state, or null on timeout.
  nlohmann::json WaitForStatus(const std::string& id, const std::set<std::string>& statuses,
                               std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto stored = State(id); stored && statuses.count(stored->state.value("status", ""))) return stored->state;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    auto stored = State(id);
    ADD_FAILURE() << "job " << id << " did not reach the expected status; state: "
                  << (stored ? stored->state.dump() : std::string("none"));
    return nullptr;
  }

  /// The events kept in BUILD_EVENTS for one job, in order.
  std::vector<nlohmann::json> Events(const std::string& id) {
    return StoredEvents(*client_, std::string(subjects::kStatusPrefix) + id, 500);
  }

  static int Count(const std::vector<nlohmann::json>& events, const std::string& type) {
    int n = 0;
    for (const auto& e : events) n += e.value("type", "") == type ? 1 : 0;
    return n;
  }

  /// Messages still in BUILDS (a work queue: done jobs are gone).
  std::uint64_t JobsInQueue() {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, client_->js(), subjects::kJobsStream, nullptr, nullptr) != NATS_OK) return ~0ull;
    std::uint64_t n = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return n;
  }

  /// Messages still in BUILDS once the acks in flight arrived: the worker acks without waiting
  /// for the server's reply, so an ack may land a moment after the state it follows.
  std::uint64_t JobsLeftInQueue() {
    for (int i = 0; i < 100 && JobsInQueue() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return JobsInQueue();
  }

  std::vector<DeadLetter> DeadLetters() {
    auto letters = ListDeadLetters(*client_);
    EXPECT_TRUE(letters.ok()) << letters.error();
    return letters.ok() ? letters.value() : std::vector<DeadLetter>{};
  }

  NatsServer server_;
  TempDir dir_{"kiln-worker-test"};
  std::unique_ptr<NatsConnection> client_;
  std::vector<std::unique_ptr<KilnProcess>> workers_;
};

}  // namespace kiln::testing
