#include "buildah_cli.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace kiln::buildah {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ContainsAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view needle) { return text.find(needle) != std::string_view::npos; });
}

/// How much of the output (a failing RUN step's own lines) a failure message carries.
constexpr std::size_t kTailLines = 25;

}  // namespace

std::vector<std::string> BuildahArgv(const BuildahConfig& config, std::vector<std::string> command) {
  std::vector<std::string> argv = {config.binary,  "--root",           config.root, "--runroot",
                                   config.runroot, "--storage-driver", config.storage_driver};
  argv.insert(argv.end(), std::make_move_iterator(command.begin()), std::make_move_iterator(command.end()));
  return argv;
}

std::vector<std::string> RegistryOptions(const BuildahConfig& config) {
  std::vector<std::string> options;
  if (!config.tls_verify) options.push_back("--tls-verify=false");
  if (!config.cert_dir.empty()) options.insert(options.end(), {"--cert-dir", config.cert_dir});
  return options;
}

ProcessResult RunLogged(StepContext& ctx, std::vector<std::string> argv, std::map<std::string, std::string> env) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  spec.isolation = Isolation::worker;  // see the header: root, the store, the repository as data
  spec.log_output = true;
  return ctx.run(spec);
}

ProcessResult RunQuiet(StepContext& ctx, std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.isolation = Isolation::worker;
  spec.log_output = false;
  spec.tail_bytes = 64 * 1024;
  return ctx.run(spec);
}

FailureKind ClassifyFailure(std::string_view output) {
  std::string all = Lower(output);
  // A RUN step that exits non-zero: the build itself is wrong, whatever it printed.
  if (all.find("building at step \"run") != std::string::npos) return FailureKind::terminal;

  std::string error_line = Lower(LastErrorLine(output));
  std::string_view text = error_line.empty() ? std::string_view(all) : std::string_view(error_line);
  if (ContainsAny(text, {"unauthorized", "authentication required", "access denied", "denied:",
                         "requested access to the resource is denied", "manifest unknown",
                         "manifest invalid", "name unknown", "invalid reference", "image not known",
                         "x509:", "certificate", "short-name"})) {
    return FailureKind::terminal;
  }
  if (ContainsAny(text, {"connection refused", "connection reset", "i/o timeout", "timeout exceeded",
                         "tls handshake timeout", "no such host", "network is unreachable",
                         "temporary failure in name resolution", "unexpected eof", "broken pipe",
                         "internal server error", "bad gateway", "service unavailable", "gateway timeout",
                         "too many requests", "status code from registry 5", "unexpected http status: 5",
                         "resource temporarily unavailable"})) {
    return FailureKind::retryable;
  }
  return FailureKind::terminal;
}

std::string LastErrorLine(std::string_view output) {
  std::string_view last;
  std::size_t begin = 0;
  while (begin < output.size()) {
    std::size_t end = output.find('\n', begin);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(begin, end - begin);
    if (line.rfind("Error:", 0) == 0) last = line;
    begin = end + 1;
  }
  return std::string(last);
}

std::string TailLines(std::string_view output, std::size_t lines) {
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.remove_suffix(1);
  std::size_t pos = output.size();
  for (std::size_t n = 0; n < lines && pos > 0; ++n) {
    std::size_t newline = output.rfind('\n', pos - 1);
    if (newline == std::string_view::npos) return std::string(output);
    pos = newline;
  }
  return std::string(output.substr(pos == 0 ? 0 : pos + 1));
}

StepResult FailureResult(const ProcessResult& result, std::string_view what) {
  if (!result.started) {
    return StepResult::Terminal(std::string(what) + ": could not start buildah: " + result.error);
  }
  if (result.cancelled) return StepResult::Terminal(std::string(what) + ": cancelled");
  if (result.timed_out) return StepResult::Terminal(std::string(what) + ": timed out");

  std::string status = result.exit_code >= 0 ? "exit " + std::to_string(result.exit_code)
                                              : "signal " + std::to_string(result.signal);
  std::string message = std::string(what) + " failed (" + status + ")";
  if (std::string error = LastErrorLine(result.output_tail); !error.empty()) message += ": " + error;
  message += "\n--- output tail ---\n" + TailLines(result.output_tail, kTailLines);
  if (ClassifyFailure(result.output_tail) == FailureKind::retryable) return StepResult::Retryable(message);
  return StepResult::Terminal(message);
}

}  // namespace kiln::buildah
