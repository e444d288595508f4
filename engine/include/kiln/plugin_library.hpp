// kiln plugin SDK: loading one plugin library with the checks every plugin file gets, before
// any C++ type crosses: a loadable library, the plain-C descriptor, the ABI version, the build
// id, the factory. The engine's plugin host loads each plugin file with it, and
// kiln::DeferredPlugin loads a plugin's implementation with it.
#pragma once

#include <dlfcn.h>

#include <cstring>
#include <exception>
#include <memory>
#include <string>

#ifndef BOOST_DLL_USE_STD_FS
#error "kiln/plugin_library.hpp needs BOOST_DLL_USE_STD_FS (kiln_add_plugin sets it)"
#endif
#include <boost/dll/shared_library.hpp>

#include "kiln/plugin.hpp"

namespace kiln {

/// Loads `file` into `library` and creates its plugin. nullptr with `error` set (what is
/// wrong, without the file's name) when a check fails; `library` then holds nothing.
inline std::unique_ptr<Plugin> LoadPluginLibrary(const boost::dll::fs::path& file, boost::dll::shared_library& library,
                                                 std::string* error) {
  auto fail = [&](std::string reason) {
    *error = std::move(reason);
    library.unload();
    return nullptr;
  };
  // RTLD_NODELETE: a plugin stays mapped until the process exits, even once unloaded. The
  // libraries a plugin pulls in (libgit2, OpenSSL) keep global state and exit handlers that
  // must not outlive their code, and LeakSanitizer can only name code still mapped.
  const auto mode = boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local |
                    static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);
  try {
    library.load(file, mode);
  } catch (const std::exception& e) {
    return fail(std::string("not a loadable library: ") + e.what());
  }
  if (!library.has(abi::kDescriptorSymbol)) return fail("not a kiln plugin (no kiln_plugin_descriptor)");
  const auto& descriptor = library.get<const abi::Descriptor>(abi::kDescriptorSymbol);
  if (descriptor.abi_version != kPluginAbiVersion) {
    return fail("plugin ABI version " + std::to_string(descriptor.abi_version) + ", this kiln loads version " +
                std::to_string(kPluginAbiVersion));
  }
  if (descriptor.build_id == nullptr || std::strcmp(descriptor.build_id, abi::build_id()) != 0) {
    return fail(std::string("built against ") + (descriptor.build_id ? descriptor.build_id : "(none)") +
                ", this kiln against " + abi::build_id() + ": rebuild the plugin with this SDK");
  }
  if (!library.has(abi::kFactoryAlias)) return fail("no factory (kiln_create_plugin_v1): use KILN_PLUGIN(...)");
  char message[512] = {0};
  Plugin* raw = nullptr;
  try {
    raw = library.get_alias<abi::CreateFunction>(abi::kFactoryAlias)(message, sizeof message);
  } catch (const std::exception& e) {
    return fail(std::string("factory failed: ") + e.what());
  }
  if (raw == nullptr) return fail(std::string("threw while loading: ") + (message[0] ? message : "no instance"));
  return std::unique_ptr<Plugin>(raw);
}

}  // namespace kiln
