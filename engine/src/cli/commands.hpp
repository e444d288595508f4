// Each kiln command lives in its own file and adds itself to the CLI11 app here.
// The callback stores the process exit code in `exit_code`:
// 0 the job succeeded / the command did its work; 1 the job failed, was cancelled or timed
// out; 2 bad usage, bad config or bad input (with a message naming what is wrong).
#pragma once

#include <CLI/CLI.hpp>

#include "app/engine_context.hpp"

namespace kiln::cli {

void AddRunCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddValidateCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddPluginsCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddWorkerCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddSubmitCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddStatusCommands(CLI::App& app, GlobalOptions& global, int& exit_code);  // status, list, cancel
void AddLogsCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddDlqCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
void AddGatewayCommand(CLI::App& app, GlobalOptions& global, int& exit_code);
/// --config and --nats, for the commands that talk to NATS.
void AddNatsOptions(CLI::App* cmd, GlobalOptions& global);

void AddCacheCommand(CLI::App& app, GlobalOptions& global, int& exit_code);  // cache gc, cache stats

}  // namespace kiln::cli
