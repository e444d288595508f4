// kiln plugin SDK: a plugin whose heavy part loads on its first step, not at start-up.
//
// kiln loads every plugin when it starts, so a plugin linked against a large library
// (libgit2 pulls in OpenSSL, libssh2 and Kerberos: ~7 ms of dlopen) makes every job pay
// for it, even jobs that never call it. Such a plugin ships in two files:
//
//   <plugins>/NAME.so            a light front: DeferredPlugin, with the name, version,
//                                steps and the config check; KILN_PLUGIN(Front)
//   <plugins>/NAME.d/IMPL.so     the real plugin, a normal KILN_PLUGIN(Impl) library
//
// The front loads IMPL.so (once, thread-safe) on the first run() and forwards every call
// to it; the engine sees one plugin. The engine only scans the plugin dir itself, so the
// implementation under NAME.d/ is never taken for a plugin of its own. With CMake:
// `kiln_add_plugin(NAME front.cpp)` and `kiln_add_plugin_implementation(NAME IMPL impl.cpp)`.
//
// The implementation is checked as the engine checks a plugin (LoadPluginLibrary: ABI
// version, build id, factory) and must have the front's name and steps; a missing or broken file fails the
// step with a terminal error that names the file.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef BOOST_DLL_USE_STD_FS
#error "kiln/deferred_plugin.hpp needs BOOST_DLL_USE_STD_FS (kiln_add_plugin sets it)"
#endif
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include "kiln/plugin.hpp"
#include "kiln/plugin_library.hpp"

namespace kiln {

class DeferredPlugin : public Plugin {
 public:
  /// Keeps the section for the implementation once `check_config` accepts it.
  std::string configure(const nlohmann::json& section) final {
    std::string error = check_config(section);
    if (error.empty()) section_ = section;
    return error;
  }

  StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) final {
    std::string error;
    Plugin* implementation = Implementation(&error);
    if (implementation == nullptr) return StepResult::Terminal(std::string(name()) + "." + std::string(step) + ": " + error);
    try {
      return implementation->run(step, args, ctx);
    } catch (const std::exception& e) {
      return StepResult::Terminal(std::string(name()) + "." + std::string(step) + ": internal error: " + e.what());
    } catch (...) {
      return StepResult::Terminal(std::string(name()) + "." + std::string(step) + ": internal error");
    }
  }

  /// Whether the implementation has been loaded (for tests and `kiln plugins`).
  bool implementation_loaded() const { return implementation_.load() != nullptr; }

  ~DeferredPlugin() override {
    // The object first, then its library.
    owned_.reset();
    library_.unload();
  }

 protected:
  /// `relative_path`: the implementation's file, relative to the directory holding the
  /// front's own library, e.g. "git.d/git_libgit2.so".
  explicit DeferredPlugin(std::string relative_path) : relative_path_(std::move(relative_path)) {}

  /// Validates the config section without the implementation (so a bad config is reported
  /// when kiln starts). Empty when fine, else an error naming the key. The implementation's
  /// own configure() sees the same section when it loads.
  virtual std::string check_config(const nlohmann::json& section) const {
    if (section.is_null() || (section.is_object() && section.empty())) return {};
    return "plugin '" + std::string(name()) + "' takes no configuration";
  }

 private:
  Plugin* Implementation(std::string* error) {
    if (Plugin* loaded = implementation_.load(std::memory_order_acquire)) return loaded;
    std::lock_guard lock(mutex_);
    if (Plugin* loaded = implementation_.load(std::memory_order_relaxed)) return loaded;
    // Resolved here, in code compiled into the front's own library.
    const boost::dll::fs::path file = boost::dll::this_line_location().parent_path() / relative_path_;
    *error = Load(file);
    if (!error->empty()) {
      *error = "cannot load its implementation " + file.string() + ": " + *error;
      return nullptr;
    }
    implementation_.store(owned_.get(), std::memory_order_release);
    return owned_.get();
  }

  // Empty on success; the library and the object are kept only when every check passes.
  std::string Load(const boost::dll::fs::path& file) {
    boost::dll::shared_library library;
    std::string error;
    std::unique_ptr<Plugin> plugin = LoadPluginLibrary(file, library, &error);
    if (!plugin) return error;
    try {
      if (plugin->name() != name()) return "its name is '" + std::string(plugin->name()) + "', not '" + std::string(name()) + "'";
      if (plugin->steps() != steps()) return "its steps differ from its front's";
      if (std::string config_error = plugin->configure(section_); !config_error.empty()) return config_error;
    } catch (const std::exception& e) {
      return std::string("threw while starting: ") + e.what();
    } catch (...) {
      return "threw while starting";
    }
    library_ = std::move(library);
    owned_ = std::move(plugin);
    return {};
  }

  std::string relative_path_;
  nlohmann::json section_;
  std::mutex mutex_;
  // Declared before owned_: destroyed after it (and unloaded by hand in the destructor).
  boost::dll::shared_library library_;
  std::unique_ptr<Plugin> owned_;
  std::atomic<Plugin*> implementation_{nullptr};
};

}  // namespace kiln
