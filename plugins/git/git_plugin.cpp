// The git plugin's front, the file kiln loads at start: name, steps and the `git:` config
// check, without libgit2. libgit2 pulls in OpenSSL, libssh2 and Kerberos (~7 ms of dlopen,
// ~3 MiB), so it lives in git.d/git_libgit2.so, loaded on the first git step
// (kiln/deferred_plugin.hpp): a job that never syncs never pays for it.
#include "git_config.hpp"
#include "kiln/deferred_plugin.hpp"
#include "plugin_identity.hpp"

namespace kiln::git {
namespace {

class GitPluginFront final : public DeferredPlugin {
 public:
  GitPluginFront() : DeferredPlugin("git.d/git_libgit2.so") {}
  std::string_view name() const override { return kPluginName; }
  std::string_view version() const override { return kPluginVersion; }
  std::vector<std::string> steps() const override { return PluginSteps(); }

 protected:
  std::string check_config(const nlohmann::json& section) const override {
    std::string error;
    return GitConfig::Parse(section, &error) ? std::string() : error;
  }
};

}  // namespace
}  // namespace kiln::git

KILN_PLUGIN(kiln::git::GitPluginFront)
