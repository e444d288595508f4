#include "build_arg_passing.hpp"

#include <array>
#include <string_view>

namespace kiln::buildah {
namespace {

/// Names buildah, containers/storage, containers/image, Go or the dynamic loader read
/// from the environment, and the ones the engine's scrubbed environment sets.
bool ReadByBuildahItself(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kNames = {"PATH", "HOME", "LANG",  "TMPDIR", "TMP",
                                                              "USER", "TERM", "SHELL", "TZ",     "PWD"};
  static constexpr std::array<std::string_view, 10> kPrefixes = {"_",       "LD_",      "LC_",       "BUILDAH",
                                                                 "CONTAINERS", "STORAGE", "REGISTRY", "XDG_",
                                                                 "GO",      "DBUS_"};
  for (std::string_view known : kNames) {
    if (name == known) return true;
  }
  for (std::string_view prefix : kPrefixes) {
    if (name.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace

std::string PassBuildArgs(const std::map<std::string, std::string>& build_args, const IsSecret& is_secret,
                          BuildArgPassing& out) {
  for (const auto& [name, value] : build_args) {
    if (!(is_secret && is_secret(value))) {
      out.flags.insert(out.flags.end(), {"--build-arg", name + "=" + value});
      continue;
    }
    if (ReadByBuildahItself(name)) {
      return "build_args: " + name +
             " holds a secret, which kiln passes through buildah's environment, and buildah reads " + name +
             " itself there: give the ARG another name";
    }
    out.flags.insert(out.flags.end(), {"--build-arg", name});
    out.env[name] = value;
  }
  return {};
}

}  // namespace kiln::buildah
