// kiln: the command line. Thin: each command is in its own file (see commands.hpp).
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kiln: a build engine for container images"};
  app.set_version_flag("--version", std::string("kiln ") + KILN_VERSION);
  app.require_subcommand(1);
  kiln::GlobalOptions global;
  int exit_code = 0;
  kiln::cli::AddRunCommand(app, global, exit_code);
  kiln::cli::AddValidateCommand(app, global, exit_code);
  kiln::cli::AddPluginsCommand(app, global, exit_code);
  kiln::cli::AddWorkerCommand(app, global, exit_code);
  kiln::cli::AddSubmitCommand(app, global, exit_code);
  kiln::cli::AddStatusCommands(app, global, exit_code);
  kiln::cli::AddLogsCommand(app, global, exit_code);
  kiln::cli::AddDlqCommand(app, global, exit_code);
  kiln::cli::AddCacheCommand(app, global, exit_code);
  kiln::cli::AddGatewayCommand(app, global, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
