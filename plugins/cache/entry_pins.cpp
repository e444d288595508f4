#include "entry_pins.hpp"

#include <sys/file.h>
#include <sys/stat.h>

#include <mutex>
#include <vector>

#include "key_lock.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

struct Pin {
  KeyLock lock;
  fs::path target;
  dev_t overlay_device;  // each overlay has a device of its own: gone or replaced, it differs
};

std::mutex pins_mutex;
std::vector<Pin>& Pins() {
  static std::vector<Pin> pins;
  return pins;
}

bool StillMounted(const Pin& pin) {
  struct stat st {};
  return ::lstat(pin.target.c_str(), &st) == 0 && st.st_dev == pin.overlay_device;
}

}  // namespace

std::string PinMountedEntry(const fs::path& lock_path, const fs::path& target) {
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) return "cannot read \"" + target.string() + "\" after mounting it";
  Pin pin{KeyLock(), target, st.st_dev};
  std::string error;
  if (!pin.lock.Acquire(lock_path, LOCK_SH, &error)) return error;
  std::lock_guard lock(pins_mutex);
  Pins().push_back(std::move(pin));
  return {};
}

void ReleaseUnmountedPins() {
  std::lock_guard lock(pins_mutex);
  auto& pins = Pins();
  std::erase_if(pins, [](const Pin& pin) { return !StillMounted(pin); });
}

bool EntryPinned(const fs::path& lock_path) {
  KeyLock probe;
  std::string error;
  if (probe.Acquire(lock_path, LOCK_EX | LOCK_NB, &error)) return false;
  return error.empty();  // it would block: held; an error (no such dir) means no pin either
}

}  // namespace kiln::cache
