// package.json's `packageManager` field: how a team pins its package manager
// ("yarn@4.15.0", "pnpm@9.15.9+sha512.<hex>"), which Corepack honours.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "nx_config.hpp"

namespace kiln::nx {

struct PackageManagerPin {
  std::string name;     // "npm", "pnpm" or "yarn"
  std::string version;  // "4.15.0"
  std::string spec;     // the field as written, hash included
};

/// The pin in `package_json` (its text). nullopt when there is no such field; an error
/// naming the value when it is not `<npm|pnpm|yarn>@<version>[+<algorithm>.<hex>]`.
/// `bun@...` is not something Corepack can fetch: nullopt, and `*ignored` says so.
Parsed<std::optional<PackageManagerPin>> ParsePackageManagerPin(const std::string& package_json,
                                                                std::string* ignored = nullptr);

/// ParsePackageManagerPin of <dir>/package.json (nullopt without one).
Parsed<std::optional<PackageManagerPin>> ReadPackageManagerPin(const std::filesystem::path& dir,
                                                               std::string* ignored = nullptr);

}  // namespace kiln::nx
