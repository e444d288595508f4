#include "overlay_mount.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "errno_text.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

// overlayfs splits its options at ',' and lowerdir at ':'; a path with either (or a
// backslash, its escape) is not passed at all rather than escaped.
bool FitsOptionString(const std::string& path) { return path.find_first_of(",:\\") == std::string::npos; }

// Absolute: the kernel reads a relative option path against our working directory.
std::string Absolute(const fs::path& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  return (ec ? path : absolute).lexically_normal().string();
}

}  // namespace

std::string MountOverlay(const fs::path& lower, const fs::path& target, const fs::path& scratch) {
  const fs::path upper = scratch / "upper";
  const fs::path work = scratch / "work";
  std::error_code ec;
  fs::create_directories(upper, ec);
  if (!ec) fs::create_directory(work, ec);
  if (ec) return "cannot create \"" + scratch.string() + "\": " + ec.message();
  if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) {
    return "cannot create \"" + target.string() + "\": " + ErrnoText(errno);
  }
  const std::string lower_text = Absolute(lower);
  const std::string upper_text = Absolute(upper);
  const std::string work_text = Absolute(work);
  for (const std::string* path : {&lower_text, &upper_text, &work_text}) {
    if (!FitsOptionString(*path)) return "\"" + *path + "\" has a ',', ':' or '\\', which overlay options cannot hold";
  }
  const std::string options = "lowerdir=" + lower_text + ",upperdir=" + upper_text + ",workdir=" + work_text;
  if (::mount("kiln-cache", target.c_str(), "overlay", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    const int error = errno;
    fs::remove_all(scratch, ec);
    return "mounting an overlay at \"" + target.string() + "\": " + ErrnoText(error);
  }
  return {};
}

void DetachMount(const fs::path& target) { ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW); }

}  // namespace kiln::cache
