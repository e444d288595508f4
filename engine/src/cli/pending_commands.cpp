// Commands whose implementation has not landed yet: each says so and exits 2.
// Whoever implements one deletes its stub here and adds <name>_command.cpp.
#include <iostream>

#include "cli/commands.hpp"

namespace kiln::cli {

namespace {
void AddPending(CLI::App& app, const std::string& name, const std::string& what, int& exit_code) {
  auto* cmd = app.add_subcommand(name, what + " (not available in this build yet)");
  cmd->allow_extras();
  cmd->callback([name, &exit_code] {
    std::cerr << "kiln " << name << ": not available in this build yet\n";
    exit_code = 2;
  });
}
}  // namespace

void AddRunCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "run", "run one job here", exit_code);
}
void AddValidateCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "validate", "check a pipeline", exit_code);
}
void AddPluginsCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "plugins", "list plugins", exit_code);
}
void AddWorkerCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "worker", "serve jobs from NATS until SIGINT/SIGTERM", exit_code);
}
void AddSubmitCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "submit", "publish a job", exit_code);
}
void AddStatusCommands(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "status", "the state of one job", exit_code);
  AddPending(app, "list", "recent jobs", exit_code);
  AddPending(app, "cancel", "stop a running job", exit_code);
}
void AddDlqCommand(CLI::App& app, GlobalOptions&, int& exit_code) {
  AddPending(app, "dlq", "dead-lettered jobs", exit_code);
}

}  // namespace kiln::cli
