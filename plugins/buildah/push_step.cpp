#include "push_step.hpp"

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <system_error>

#include "buildah_cli.hpp"
#include "image_naming.hpp"
#include "scratch_file.hpp"
#include "step_args.hpp"

namespace kiln::buildah {
namespace fs = std::filesystem;
namespace {

constexpr std::array<std::string_view, 5> kTransports = {"docker://", "oci-archive:", "oci:", "dir:",
                                                         "docker-archive:"};

std::string Base64(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
  }
  if (i + 1 == data.size()) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    unsigned n = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string UniqueName(std::string_view prefix, std::string_view suffix) {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  return std::string(prefix) + std::to_string(random()) + "-" + std::to_string(counter++) + std::string(suffix);
}

/// A file removed when this goes out of scope, whatever way the step ends.
/// Username and password from the `credentials` argument, or an error naming it.
std::string ReadCredentials(const nlohmann::json& value, StepContext& ctx, std::string& user, std::string& password) {
  std::string secret_name;
  if (value.is_string()) {
    secret_name = value.get<std::string>();
  } else if (value.is_object() && value.contains("secret") && value.at("secret").is_string() &&
             value.contains("username") && value.at("username").is_string()) {
    secret_name = value.at("secret").get<std::string>();
    user = value.at("username").get<std::string>();
  } else {
    return "credentials: must be a secret name or { username = ..., secret = ... }";
  }
  std::optional<std::string> secret = ctx.secret(secret_name);
  if (!secret || secret->empty()) return "credentials: no secret named '" + secret_name + "' is configured";
  if (user.empty()) {
    auto colon = secret->find(':');
    if (colon == std::string::npos || colon == 0) {
      ctx.add_redaction(*secret);
      return "credentials: secret '" + secret_name +
             "' must hold 'user:password' (or pass { username = ..., secret = '" + secret_name + "' })";
    }
    user = secret->substr(0, colon);
    password = secret->substr(colon + 1);
  } else {
    password = *secret;
  }
  ctx.add_redaction(*secret);
  ctx.add_redaction(password);
  return {};
}

/// Writes a containers-auth.json for `host` that only the owner can read. Returns "" or an error.
std::string WriteAuthFile(const fs::path& path, const std::string& host, const std::string& user,
                          const std::string& password, StepContext& ctx) {
  std::string auth = Base64(user + ":" + password);
  ctx.add_redaction(auth);
  nlohmann::json file = {{"auths", {{host, {{"auth", auth}}}}}};
  return WriteScratch(path, file.dump(), "the registry auth file");
}

}  // namespace

std::string WithTransport(std::string_view destination) {
  for (std::string_view transport : kTransports) {
    if (destination.rfind(transport, 0) == 0) return std::string(destination);
  }
  return "docker://" + std::string(destination);
}

std::string RegistryHost(std::string_view reference) {
  auto slash = reference.find('/');
  if (slash == std::string_view::npos) return "docker.io";
  std::string_view first = reference.substr(0, slash);
  if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") return std::string(first);
  return "docker.io";
}

StepResult RunPush(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx) {
  std::string error;
  std::string image;
  std::string destination;
  if (!(error = CheckKnownArgs(args, {"image", "destination", "credentials"})).empty() ||
      !(error = ReadStringArg(args, "image", true, image)).empty() ||
      !(error = ReadStringArg(args, "destination", true, destination)).empty()) {
    return StepResult::Terminal("buildah.push: " + error);
  }
  if (!(error = RefuseOptionLikeName("image", image)).empty() ||
      !(error = RefuseOptionLikeName("destination", destination)).empty()) {
    return StepResult::Terminal("buildah.push: " + error);
  }
  destination = WithTransport(destination);
  bool to_registry = destination.rfind("docker://", 0) == 0;

  // buildah 1.28 retries a push 3 times whatever --retry says; keep its pauses short and
  // leave longer backoff to the step's retry policy.
  std::vector<std::string> push = {"push", "--retry-delay", "500ms"};
  for (std::string& option : RegistryOptions(config)) push.push_back(std::move(option));

  fs::path authfile;
  std::optional<RemovedFile> remove_authfile;
  if (args.contains("credentials") && !args.at("credentials").is_null()) {
    std::string user;
    std::string password;
    if (!(error = ReadCredentials(args.at("credentials"), ctx, user, password)).empty()) {
      return StepResult::Terminal("buildah.push: " + error);
    }
    if (!to_registry) return StepResult::Terminal("buildah.push: credentials: only a registry destination takes them");
    authfile = fs::path(ctx.workspace()) / UniqueName(".kiln-registry-auth-", ".json");
    remove_authfile.emplace(authfile);  // also when it was written only in part
    std::string host = RegistryHost(destination.substr(9));
    if (!(error = WriteAuthFile(authfile, host, user, password, ctx)).empty()) {
      return StepResult::Terminal("buildah.push: " + error);
    }
    push.insert(push.end(), {"--authfile", authfile.string()});
  }

  fs::path digestfile = fs::temp_directory_path() / UniqueName("kiln-buildah-", ".digest");
  RemovedFile remove_digestfile(digestfile);
  push.insert(push.end(), {"--digestfile", digestfile.string(), "--", image, destination});

  ctx.log("buildah push " + image + " -> " + destination + (authfile.empty() ? "" : " (with credentials)"));
  ProcessResult pushed = RunLogged(ctx, BuildahArgv(config, push));
  if (!pushed.ok()) return FailureResult(pushed, "buildah push of " + image + " to " + destination);

  std::string digest;
  std::ifstream in(digestfile);
  std::getline(in, digest);
  return StepResult::Ok({{"digest", digest}, {"destination", destination}, {"image", image}},
                        "pushed " + image + " to " + destination);
}

}  // namespace kiln::buildah
