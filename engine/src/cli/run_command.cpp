// kiln run: one job here, without NATS.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/log_file_tee.hpp"
#include "cli/progress_printer.hpp"
#include "job/job_runner.hpp"
#include "log/logging.hpp"
#include "process/process_runner.hpp"

namespace kiln::cli {

namespace {

std::atomic<CancellationToken*> g_run_token{nullptr};

void CancelOnSignal(int) {
  if (CancellationToken* token = g_run_token.load()) token->cancel();
}

// "refs/heads/main" of the remote's HEAD and the commit a ref points at, via git ls-remote.
struct RemoteRef {
  std::string commit;
  std::string branch;
};

Result<RemoteRef> LookUpRemote(const std::string& url, const std::string& branch) {
  ProcessSpec spec;
  spec.argv = {"git", "ls-remote", "--symref", url, branch.empty() ? "HEAD" : "refs/heads/" + branch};
  spec.timeout = std::chrono::seconds(60);
  spec.log_output = false;
  spec.tail_bytes = 64 * 1024;
  ProcessRunOptions options;
  options.base_env = ScrubbedEnvironment(std::filesystem::temp_directory_path().string());
  options.default_cwd = std::filesystem::temp_directory_path().string();
  ProcessResult result = RunProcess(spec, options);
  if (!result.ok()) {
    return MakeError("cannot read the refs of " + Redactor::redact_url_credentials(url) + ": " +
                     (result.started ? Redactor::redact_url_credentials(result.output_tail) : result.error));
  }
  RemoteRef ref{{}, branch};
  std::size_t start = 0;
  const std::string& out = result.output_tail;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    start = end + 1;
    if (line.rfind("ref: refs/heads/", 0) == 0) {
      ref.branch = line.substr(16, line.find('\t') - 16);
    } else if (line.size() > 41 && line[40] == '\t' && ref.commit.empty()) {
      ref.commit = line.substr(0, 40);
    }
  }
  if (ref.commit.empty()) {
    return MakeError(branch.empty() ? "the repository has no HEAD commit" : "no branch '" + branch + "' in the repository");
  }
  return ref;
}

}  // namespace

void AddRunCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  struct Options {
    std::string repo, pipeline, commit, branch, before, log_file;
    std::vector<std::string> env;
    bool json = false;
    bool verbose = false;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("run", "Run one job here, without NATS. REPO is a URL or a local path.");
  cmd->add_option("REPO", options->repo, "repository URL or local path")->required();
  cmd->add_option("--pipeline", options->pipeline, "the pipeline script to run (default: resolved as DESIGN.md says)");
  cmd->add_option("--commit", options->commit, "commit to build (default: the branch's head)");
  cmd->add_option("--branch", options->branch, "branch (default: the remote's HEAD)");
  cmd->add_option("--before", options->before, "the previous commit, for affected builds");
  cmd->add_option("--env", options->env, "KEY=VALUE for the job's env (repeatable), as kiln submit --env");
  cmd->add_option("--config", global.config_path, "config file (else CONFIG_PATH, else defaults)");
  cmd->add_flag("--json", options->json, "print one JSON event per line");
  cmd->add_option("--log", options->log_file, "also write the job's whole log to this file, as kiln logs prints it");
  cmd->add_flag("-v,--verbose", options->verbose, "log at the configured level (default for run: warnings only)");
  cmd->callback([options, &global, &exit_code] {
    EngineSetup setup;
    setup.sandbox = true;
    auto engine = SetUpEngine(global, setup);
    if (!engine) {
      std::cerr << "kiln run: " << engine.error() << "\n";
      exit_code = 2;
      return;
    }
    EngineContext& ctx = *engine.value();
    if (!options->verbose) {
      LoggingConfig quiet = ctx.config.logging;
      quiet.level = "warn";
      SetUpLogging(quiet, &ctx.redactor);
    }

    Job job;
    job.id = NewJobId();
    std::error_code ec;
    if (std::filesystem::is_directory(options->repo, ec)) {
      job.repo_url = "file://" + std::filesystem::absolute(options->repo).lexically_normal().string();
      if (job.repo_url.size() > 8 && job.repo_url.back() == '/') job.repo_url.pop_back();
    } else {
      job.repo_url = options->repo;
    }
    job.repo_name = RepoNameFromUrl(job.repo_url);
    job.branch = options->branch;
    job.before = options->before;
    job.commit = options->commit;
    if (job.commit.empty()) {
      auto remote = LookUpRemote(job.repo_url, job.branch);
      if (!remote) {
        std::cerr << "kiln run: " << remote.error() << "\n";
        exit_code = 2;
        return;
      }
      job.commit = remote->commit;
      job.branch = remote->branch;
    }
    for (const auto& kv : options->env) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "kiln run: --env: expected KEY=VALUE, got '" << kv << "'\n";
        exit_code = 2;
        return;
      }
      job.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    JobRules rules;
    rules.allow_file_urls = true;
    auto valid = ValidateJob(job, rules);
    if (!valid) {
      std::cerr << "kiln run: " << valid.error() << "\n";
      exit_code = 2;
      return;
    }
    if (!options->pipeline.empty() && !std::filesystem::is_regular_file(options->pipeline, ec)) {
      std::cerr << "kiln run: --pipeline " << options->pipeline << ": no such file\n";
      exit_code = 2;
      return;
    }

    std::unique_ptr<EventSink> sink;
    if (options->json) {
      sink = std::make_unique<JsonLinesPrinter>(stdout);
    } else {
      sink = std::make_unique<ProgressPrinter>(stdout, ::isatty(STDOUT_FILENO) != 0);
    }
    LogFileTee* log_file = nullptr;
    if (!options->log_file.empty()) {
      auto tee = LogFileTee::Open(options->log_file, std::move(sink));
      if (!tee) {
        std::cerr << "kiln run: " << tee.error() << "\n";
        exit_code = 2;
        return;
      }
      log_file = tee.value().get();
      sink = std::move(tee.value());
    }
    CancellationToken cancel;
    g_run_token.store(&cancel);
    struct sigaction action {};
    action.sa_handler = CancelOnSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    JobRunnerDeps deps{&ctx.config, ctx.plugins.get(), ctx.secrets.get(), &ctx.redactor,
                       ctx.config.worker.id.empty() ? "local" : ctx.config.worker.id};
    deps.sandbox = ctx.sandbox ? &*ctx.sandbox : nullptr;
    JobRunner runner(deps);
    JobOutcome outcome = runner.run(job, *sink, cancel, options->pipeline);
    g_run_token.store(nullptr);
    const std::string log_error = log_file != nullptr ? log_file->write_error() : std::string();
    sink.reset();
    exit_code = outcome.status == JobStatus::succeeded ? 0 : 1;
    if (!log_error.empty()) std::cerr << "kiln run: " << log_error << "\n";
  });
}

}  // namespace kiln::cli
