#include "support/base_image.hpp"

#include <unistd.h>

#include <sstream>
#include <system_error>

#include "support/temp_dir.hpp"

namespace kiln::testing {
namespace fs = std::filesystem;

BuildahStore::BuildahStore(const fs::path& dir) : dir_(dir) {
  fs::create_directories(root());
  fs::create_directories(runroot());
}

BuildahStore::~BuildahStore() {
  Buildah("rm -a >/dev/null");
  Buildah("rmi -a -f >/dev/null");
  std::error_code ec;
  fs::remove_all(root(), ec);
  if (ec || fs::exists(root())) {
    // vfs layers keep the modes of the image's directories (0555 and the like).
    Shell("chmod -R u+rwX '" + root().string() + "' 2>/dev/null; rm -rf '" + root().string() + "'");
  }
  fs::remove_all(runroot(), ec);
}

nlohmann::json BuildahStore::plugin_config() const {
  return {{"root", root().string()},
          {"runroot", runroot().string()},
          {"storage_driver", "vfs"},
          {"isolation", "chroot"}};
}

int BuildahStore::Buildah(const std::string& args, std::string* output) const {
  return Shell("buildah --root '" + root().string() + "' --runroot '" + runroot().string() +
                   "' --storage-driver vfs " + args,
               output);
}

std::string BuildBusyboxBase(const BuildahStore& store, const std::string& reference) {
  TempDir context("kiln-busybox-base");
  fs::path bin = context.path() / "rootfs" / "bin";
  fs::create_directories(bin);
  fs::create_directories(context.path() / "rootfs" / "tmp");
  fs::copy_file("/bin/busybox", bin / "busybox");
  std::string applets;
  if (Shell("/bin/busybox --list", &applets) != 0) return "cannot list busybox applets: " + applets;
  std::istringstream names(applets);
  for (std::string name; std::getline(names, name);) {
    if (name.empty() || name == "busybox" || name.find('/') != std::string::npos) continue;
    std::error_code ec;
    fs::create_symlink("busybox", bin / name, ec);
  }
  WriteFile(context.path() / "Containerfile", "FROM scratch\nCOPY rootfs/ /\nCMD [\"/bin/sh\"]\n");
  std::string output;
  int status = store.Buildah("bud --isolation chroot --layers -q -t '" + reference + "' '" +
                                 context.str() + "'",
                             &output);
  return status == 0 ? std::string() : output;
}

bool BuildahAvailable() {
  return Shell("command -v buildah && command -v unshare && test -x /bin/busybox >/dev/null") == 0;
}

}  // namespace kiln::testing
