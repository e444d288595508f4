#include "buildah_config.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "image_naming.hpp"

namespace kiln::buildah {
namespace {

std::string Key(std::string_view key) { return "buildah." + std::string(key); }

std::string ReadString(const nlohmann::json& section, std::string_view key, std::string& out) {
  auto it = section.find(std::string(key));
  if (it == section.end()) return {};
  if (!it->is_string()) return Key(key) + ": must be a string, got " + it->dump();
  out = it->get<std::string>();
  if (out.empty()) return Key(key) + ": must not be empty";
  return {};
}

std::string ReadAbsolutePath(const nlohmann::json& section, std::string_view key, std::string& out) {
  if (auto error = ReadString(section, key, out); !error.empty()) return error;
  if (!out.empty() && out.front() != '/') return Key(key) + ": must be an absolute path, got '" + out + "'";
  return {};
}

template <std::size_t N>
std::string ReadChoice(const nlohmann::json& section, std::string_view key,
                       const std::array<std::string_view, N>& choices, std::string& out) {
  if (auto error = ReadString(section, key, out); !error.empty()) return error;
  if (std::find(choices.begin(), choices.end(), out) != choices.end()) return {};
  std::string list;
  for (auto choice : choices) list += (list.empty() ? "" : ", ") + std::string(choice);
  return Key(key) + ": must be one of " + list + ", got '" + out + "'";
}

}  // namespace

std::string ParseBuildahConfig(const nlohmann::json& section, BuildahConfig& out) {
  BuildahConfig config;
  if (section.is_null()) {
    out = config;
    return {};
  }
  if (!section.is_object()) return "buildah: must be a mapping, got " + section.dump();

  static constexpr std::array<std::string_view, 10> kKnown = {
      "binary", "root", "runroot", "storage_driver", "isolation", "repository", "tls_verify",
      "unshare", "cert_dir", "layer_cache"};
  for (const auto& [key, value] : section.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      return Key(key) + ": unknown key";
    }
  }

  std::string error;
  if (!(error = ReadString(section, "binary", config.binary)).empty()) return error;
  if (!(error = ReadAbsolutePath(section, "root", config.root)).empty()) return error;
  if (!(error = ReadAbsolutePath(section, "runroot", config.runroot)).empty()) return error;
  if (!(error = ReadChoice(section, "storage_driver",
                           std::array<std::string_view, 2>{"vfs", "overlay"},
                           config.storage_driver))
           .empty()) {
    return error;
  }
  if (!(error = ReadChoice(section, "isolation",
                           std::array<std::string_view, 3>{"chroot", "oci", "rootless"},
                           config.isolation))
           .empty()) {
    return error;
  }
  if (!(error = ReadString(section, "repository", config.repository)).empty()) return error;
  if (!(error = ReadString(section, "unshare", config.unshare)).empty()) return error;
  if (!(error = ReadAbsolutePath(section, "cert_dir", config.cert_dir)).empty()) return error;
  if (!(error = ReadString(section, "layer_cache", config.layer_cache)).empty()) return error;
  if (!config.layer_cache.empty() && !IsValidRepository(config.layer_cache)) {
    return Key("layer_cache") + ": must be a registry repository without tag or digest "
           "(registry.example.com/kiln/cache), got '" + config.layer_cache + "'";
  }
  if (auto it = section.find("tls_verify"); it != section.end()) {
    if (!it->is_boolean()) return Key("tls_verify") + ": must be true or false, got " + it->dump();
    config.tls_verify = it->get<bool>();
  }
  if (section.contains("repository")) {
    std::string expand_error;
    nlohmann::json sample = {{"repo", {{"name", "acme/shop"}}}};
    if (ExpandRepository(config.repository, sample, expand_error).empty()) {
      return Key("repository") + ": " + expand_error + " (with {repo} = acme/shop)";
    }
  }
  if (config.root == config.runroot) {
    return Key("runroot") + ": must differ from buildah.root ('" + config.root + "')";
  }
  out = config;
  return {};
}

}  // namespace kiln::buildah
