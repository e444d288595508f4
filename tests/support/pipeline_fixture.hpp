// Runs pipeline scripts through the real JobRunner with the probe test plugin loaded,
// over temp dirs, and records every event published.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/engine_context.hpp"
#include "events/event_sink.hpp"
#include "job/job_runner.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {

class RecordingSink final : public EventSink {
 public:
  explicit RecordingSink(std::size_t max_message_bytes = 0) : max_message_bytes_(max_message_bytes) {}
  /// As a NATS sink's max_payload would limit it (0: no limit).
  std::size_t max_message_bytes() const override { return max_message_bytes_; }
  void publish(const nlohmann::json& event) override {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  std::vector<nlohmann::json> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  /// Events of one type, in order.
  std::vector<nlohmann::json> of_type(const std::string& type) const;
  /// Every event serialised, one per line: for "this text appears nowhere" checks.
  std::string dump() const;

 private:
  const std::size_t max_message_bytes_;
  mutable std::mutex mutex_;
  std::vector<nlohmann::json> events_;
};

struct PipelineRun {
  JobOutcome outcome;
  std::vector<nlohmann::json> events;
  std::vector<nlohmann::json> of_type(const std::string& type) const;
  std::string dump() const;
};

class PipelineFixture {
 public:
  PipelineFixture();

  Config config;
  Redactor redactor;
  std::unique_ptr<SecretStore> secrets;
  PluginHost plugins;
  Job job;
  TempDir root{"kiln-pipeline"};
  /// The events' sink says it takes at most this many bytes (a NATS max_payload); 0: any.
  std::size_t max_message_bytes = 0;

  /// Sets a secret named `name` with `value` (through an env: spec).
  void set_secret(const std::string& name, const std::string& value);
  /// Writes `script` to a file and runs it as the job's pipeline. `cancel` may be given to
  /// stop the job from another thread.
  PipelineRun run(const std::string& script, CancellationToken* cancel = nullptr);

 private:
  std::map<std::string, std::string> secret_values_;
};

}  // namespace kiln::testing
