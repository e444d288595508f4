// buildah.push{ image, destination, credentials? } -> { digest, destination }
//
// destination: a registry reference ("registry.example.com/acme/shop:1.2", with or without
// "docker://"), or "oci-archive:PATH[:TAG]", "oci:PATH[:TAG]", "dir:PATH",
// "docker-archive:PATH[:REF]" (relative paths are in the workspace).
// credentials: the name of a secret whose value is "user:password", or
// { username = "...", secret = "name" } where the secret's value is the password/token.
// The credentials reach buildah through an authfile written 0600 in the workspace and
// removed afterwards, never through argv (visible in /proc) or a log line; the password is
// registered for redaction before buildah starts.
#pragma once

#include <nlohmann/json.hpp>

#include "buildah_config.hpp"
#include "kiln/step_context.hpp"
#include "kiln/step_result.hpp"

namespace kiln::buildah {

StepResult RunPush(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx);

/// The registry host a docker:// reference (without the transport) lives on:
/// "registry.example.com:5000/a/b:t" -> "registry.example.com:5000", "acme/shop" -> "docker.io".
std::string RegistryHost(std::string_view reference);

/// `destination` with a transport: known transports are kept, anything else gets "docker://".
std::string WithTransport(std::string_view destination);

}  // namespace kiln::buildah
