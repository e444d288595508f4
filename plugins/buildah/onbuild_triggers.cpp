#include "onbuild_triggers.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "buildah_cli.hpp"

namespace kiln::buildah {
namespace fs = std::filesystem;
namespace {

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

/// The triggers as `buildah inspect` prints them, one a line.
std::optional<std::vector<std::string>> InspectedTriggers(const BuildahConfig& config, const std::string& image,
                                                          StepContext& ctx) {
  ProcessResult inspected =
      RunQuiet(ctx, BuildahArgv(config, {"inspect", "--type", "image", "--format",
                                         "{{range .Docker.Config.OnBuild}}{{println .}}{{end}}", "--", image}));
  if (!inspected.ok()) return std::nullopt;
  std::vector<std::string> triggers;
  std::istringstream lines(inspected.output_tail);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) triggers.push_back(line);
  }
  return triggers;
}

}  // namespace

std::optional<std::vector<std::string>> StoredOnBuildTriggers(const BuildahConfig& config,
                                                              const std::string& image_id) {
  if (image_id.empty() || image_id.find('/') != std::string::npos) return std::nullopt;
  fs::path file = fs::path(config.root) / (config.storage_driver + "-images") / image_id /
                  ("=" + Base64("sha256:" + image_id));
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  nlohmann::json image_config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!image_config.is_object()) return std::nullopt;
  std::vector<std::string> triggers;
  auto inner = image_config.find("config");
  if (inner == image_config.end() || !inner->is_object()) return triggers;  // no config: nothing runs
  auto onbuild = inner->find("OnBuild");
  if (onbuild == inner->end() || onbuild->is_null()) return triggers;  // OCI images have none
  if (!onbuild->is_array()) return std::nullopt;
  for (const auto& trigger : *onbuild) {
    if (!trigger.is_string()) return std::nullopt;
    triggers.push_back(trigger.get<std::string>());
  }
  return triggers;
}

std::string CheckOnBuildTriggers(const BuildahConfig& config, const std::map<std::string, std::string>& images,
                                 const std::map<std::string, std::string>& build_args, const IsSecret& is_secret,
                                 const fs::path& context, StepContext& ctx) {
  for (const auto& [name, id] : images) {
    std::optional<std::vector<std::string>> triggers = StoredOnBuildTriggers(config, id);
    if (!triggers) triggers = InspectedTriggers(config, name, ctx);
    if (!triggers) return "base image " + name + ": its ONBUILD triggers cannot be read, so they cannot be checked";
    for (const std::string& trigger : *triggers) {
      if (trigger.find_first_of("\r\n") != std::string::npos) {
        return "base image " + name + ": an ONBUILD trigger spans several lines";
      }
      // The trigger runs in this build, in this context: check it as a line of it.
      Dockerfile as_line;
      as_line.context = context;
      std::string error;
      if (!ParseDockerfile("FROM scratch\n" + trigger + "\n", build_args, is_secret, as_line, error)) {
        if (error.rfind("line 2: ", 0) == 0) error = error.substr(8);
        return "base image " + name + ": ONBUILD trigger '" + trigger + "': " + error;
      }
    }
  }
  return {};
}

}  // namespace kiln::buildah
