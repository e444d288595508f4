// kiln plugin SDK: a phase plugin.
//
// A plugin is a shared library holding one class derived from kiln::Plugin and the line
// KILN_PLUGIN(ThatClass). The engine loads it with Boost.DLL, checks the plain-C
// descriptor (ABI version and build id) before touching any C++ type, then creates one
// instance through the factory. Its steps become Lua functions: step "sync" of plugin
// "git" is `git.sync{...}` in a pipeline script.
//
// Contract:
// - No exception leaves the plugin: catch inside run() and return a StepResult. The
//   engine still catches at the boundary and turns an escaped exception into a terminal
//   error naming the plugin, but that is a bug of the plugin's.
// - run() may be called from several threads at once, for different jobs: keep
//   per-call state on the stack, and lock what is shared.
// - configure() is called once, before any run(), with the plugin's config section.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <boost/dll/alias.hpp>
#include <nlohmann/json.hpp>

#include "kiln/process.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln {

/// Bumped whenever Plugin, StepContext, StepResult or the process types change shape.
inline constexpr int kPluginAbiVersion = 2;

class Plugin {
 public:
  virtual ~Plugin() = default;

  /// The Lua table's name: "git". Lower case letters, digits and '_'.
  virtual std::string_view name() const = 0;
  virtual std::string_view version() const = 0;
  /// The step names: "sync", "checkout", ...
  virtual std::vector<std::string> steps() const = 0;

  /// Validates and keeps this plugin's top-level config section (null when there is none).
  /// Returns an empty string when it is fine, else an error naming the bad key.
  virtual std::string configure(const nlohmann::json& section) {
    if (section.is_null() || (section.is_object() && section.empty())) return {};
    return "plugin '" + std::string(name()) + "' takes no configuration";
  }

  /// Runs one attempt of `step` with the script's arguments.
  virtual StepResult run(std::string_view step, const nlohmann::json& args, StepContext& ctx) = 0;
};

namespace abi {

/// Read by the engine before any C++ type crosses: a plain-C layout that never changes.
struct Descriptor {
  int abi_version;
  /// C++ types are shared only between builds with the same standard library ABI and the
  /// same nlohmann_json: this string names both, and must match the engine's.
  const char* build_id;
};

/// The factory: a new instance, or nullptr with a message in `error`.
using CreateFunction = Plugin*(char* error, std::size_t error_size);

inline constexpr const char* kDescriptorSymbol = "kiln_plugin_descriptor";
inline constexpr const char* kFactoryAlias = "kiln_create_plugin_v1";

#define KILN_STRINGIFY_INNER(x) #x
#define KILN_STRINGIFY(x) KILN_STRINGIFY_INNER(x)
#define KILN_BUILD_ID                                                                     \
  "libstdc++" KILN_STRINGIFY(_GLIBCXX_RELEASE) "/cxx11abi" KILN_STRINGIFY(               \
      _GLIBCXX_USE_CXX11_ABI) "/json" KILN_STRINGIFY(NLOHMANN_JSON_VERSION_MAJOR) "." KILN_STRINGIFY( \
      NLOHMANN_JSON_VERSION_MINOR) "/diag" KILN_STRINGIFY(JSON_DIAGNOSTICS)

inline const char* build_id() { return KILN_BUILD_ID; }

}  // namespace abi
}  // namespace kiln

/// Exports the descriptor and the factory of `PluginClass`. Use once, at namespace scope.
#define KILN_PLUGIN(PluginClass)                                                          \
  extern "C" BOOST_SYMBOL_EXPORT const ::kiln::abi::Descriptor kiln_plugin_descriptor = { \
      ::kiln::kPluginAbiVersion, KILN_BUILD_ID};                                          \
  namespace {                                                                             \
  ::kiln::Plugin* kiln_create_plugin(char* error, std::size_t error_size) noexcept {      \
    try {                                                                                 \
      return new PluginClass();                                                           \
    } catch (const std::exception& e) {                                                   \
      std::snprintf(error, error_size, "%s", e.what());                                   \
    } catch (...) {                                                                       \
      std::snprintf(error, error_size, "unknown exception");                              \
    }                                                                                     \
    return nullptr;                                                                       \
  }                                                                                       \
  }                                                                                       \
  BOOST_DLL_ALIAS(kiln_create_plugin, kiln_create_plugin_v1)
