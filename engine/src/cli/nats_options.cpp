// --config and --nats, shared by the commands that talk to NATS.
#include <string>

#include "cli/commands.hpp"

namespace kiln::cli {

void AddNatsOptions(CLI::App* cmd, GlobalOptions& global) {
  cmd->add_option_function<std::string>("--config", [&global](const std::string& v) { global.config_path = v; },
                                        "config file");
  cmd->add_option_function<std::string>("--nats", [&global](const std::string& v) { global.nats_url = v; },
                                        "NATS server URL (overrides nats.url)");
}

}  // namespace kiln::cli
