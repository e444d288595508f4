#include "support/pipeline_fixture.hpp"

#include <atomic>

namespace kiln::testing {

std::vector<nlohmann::json> RecordingSink::of_type(const std::string& type) const {
  std::vector<nlohmann::json> found;
  for (const auto& event : events()) {
    if (event.value("type", "") == type) found.push_back(event);
  }
  return found;
}

std::string RecordingSink::dump() const {
  std::string text;
  for (const auto& event : events()) text += event.dump() + "\n";
  return text;
}

std::vector<nlohmann::json> PipelineRun::of_type(const std::string& type) const {
  std::vector<nlohmann::json> found;
  for (const auto& event : events) {
    if (event.value("type", "") == type) found.push_back(event);
  }
  return found;
}

std::string PipelineRun::dump() const {
  std::string text;
  for (const auto& event : events) text += event.dump() + "\n";
  return text;
}

PipelineFixture::PipelineFixture() {
  config.build.workspace_path = (root / "work").string();
  config.build.code_cache_path = (root / "cache/code").string();
  config.build.build_cache_path = (root / "cache/build").string();
  config.pipelines.dir = (root / "pipelines").string();
  config.worker.timeout = std::chrono::minutes(5);
  plugins.load_file(std::string(KILN_TEST_PLUGIN_DIR) + "/probe.so");
  plugins.configure({});
  secrets = std::make_unique<SecretStore>();
  static std::atomic<int> counter{0};
  job.id = "01JTEST" + std::to_string(counter++);
  job.repo_url = "https://example.invalid/acme/shop.git";
  job.repo_name = "acme/shop";
  job.commit = "9fceb02d0ae598e95dc970b74767f19372d61af8";
  job.branch = "main";
}

void PipelineFixture::set_secret(const std::string& name, const std::string& value) {
  secret_values_[name] = value;
  std::map<std::string, std::string> specs;
  for (const auto& [secret_name, ignored] : secret_values_) specs[secret_name] = "env:KILN_TEST_" + secret_name;
  auto values = secret_values_;
  secrets = std::make_unique<SecretStore>(specs, redactor, [values](std::string_view env_name) -> std::optional<std::string> {
    std::string name_part(env_name.substr(std::string_view("KILN_TEST_").size()));
    auto it = values.find(name_part);
    if (it == values.end()) return std::nullopt;
    return it->second;
  });
}

PipelineRun PipelineFixture::run(const std::string& script, CancellationToken* cancel) {
  const std::string file = (root / "pipeline.lua").string();
  WriteFile(file, script);
  RecordingSink sink(max_message_bytes);
  CancellationToken own;
  JobRunner runner(JobRunnerDeps{&config, &plugins, secrets.get(), &redactor, "test-worker"});
  PipelineRun run;
  run.outcome = runner.run(job, sink, cancel ? *cancel : own, file);
  run.events = sink.events();
  return run;
}

}  // namespace kiln::testing
