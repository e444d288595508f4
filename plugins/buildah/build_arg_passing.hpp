// How build args reach buildah without a secret on its command line.
//
// A command line is readable by every local user (/proc/<pid>/cmdline); a process's
// environment only by its own user and root. buildah 1.28 reads `--build-arg NAME`
// (no '=') from its own environment (checked against buildah 1.28.2), so a secret value
// goes there and only its name goes on the command line. Other values stay as
// `--build-arg NAME=value`, where they show what a build was given.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "secret_args.hpp"

namespace kiln::buildah {

struct BuildArgPassing {
  /// `--build-arg` pairs for the argv.
  std::vector<std::string> flags;
  /// Added to buildah's environment: the secret values by name.
  std::map<std::string, std::string> env;
};

/// Splits `build_args` by `is_secret`. Returns "" or the error: a secret build arg whose
/// name buildah or its runtime reads from the environment itself (PATH, HOME, TMPDIR,
/// LD_*, BUILDAH_*, CONTAINERS_*, ...), which would change how buildah runs.
std::string PassBuildArgs(const std::map<std::string, std::string>& build_args, const IsSecret& is_secret,
                          BuildArgPassing& out);

}  // namespace kiln::buildah
