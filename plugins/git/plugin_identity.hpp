// What the git plugin says of itself, shared by its light front (git_plugin.cpp) and its
// libgit2 implementation (git_plugin.hpp), which must agree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::git {

inline constexpr std::string_view kPluginName = "git";
inline constexpr std::string_view kPluginVersion = "0.1.0";
inline std::vector<std::string> PluginSteps() { return {"sync", "read_file"}; }

}  // namespace kiln::git
