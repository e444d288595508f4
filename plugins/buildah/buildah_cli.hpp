// Running the buildah CLI for a step and turning its failures into step results.
//
// Every buildah command goes through StepContext::run (argv, no shell, scrubbed
// environment, process group killed on cancel/timeout, output streamed to the step log).
// The engine logs output lines, never argv; still, no secret is ever put on a buildah
// command line (it would show in /proc/<pid>/cmdline): credentials go through an authfile,
// secret build args through buildah's environment.
//
// buildah runs as the worker (Isolation::worker), not in the job sandbox: it needs root
// and kiln's image store, and it treats the repository as data. That is why the build
// step checks a Dockerfile before buildah sees it (dockerfile.hpp, run_mounts.hpp).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "buildah_config.hpp"
#include "kiln/process.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::buildah {

/// `buildah --root R --runroot RR --storage-driver D` followed by `command`.
std::vector<std::string> BuildahArgv(const BuildahConfig& config, std::vector<std::string> command);

/// The options of every buildah command that talks to a registry (pull, push, bud):
/// `--tls-verify=false` and `--cert-dir DIR` as configured.
std::vector<std::string> RegistryOptions(const BuildahConfig& config);

/// Runs argv through the context as the worker, output logged, with a tail kept for error
/// messages. `env` is added to the child's environment (secret build args).
ProcessResult RunLogged(StepContext& ctx, std::vector<std::string> argv,
                        std::map<std::string, std::string> env = {});
/// Runs argv through the context without logging its output (a query whose output we parse).
ProcessResult RunQuiet(StepContext& ctx, std::vector<std::string> argv);

enum class FailureKind { retryable, terminal };

/// What a failed buildah command's output says about trying again. Auth, manifest and
/// reference errors are terminal; network errors and 5xx/429 from a registry are
/// retryable; a failing RUN step is terminal (it failed on its own terms, even when its
/// output mentions the network); anything else is terminal, so an unknown failure is
/// never retried in a loop.
FailureKind ClassifyFailure(std::string_view output);

/// The last line of `output` that starts with "Error:" (buildah's own summary), or "".
std::string LastErrorLine(std::string_view output);
/// The last `lines` lines of `output`.
std::string TailLines(std::string_view output, std::size_t lines);

/// The step result for a failed run of `what` ("buildah bud of /ctx/Dockerfile"): the exit
/// status, buildah's error line and the output's tail, classified by ClassifyFailure.
StepResult FailureResult(const ProcessResult& result, std::string_view what);

}  // namespace kiln::buildah
