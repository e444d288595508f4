#pragma once

#include <string>

#include "git_config.hpp"

namespace kiln::git {

// The name of a test parameterised over both fetchers, as gtest prints it.
inline std::string TransportName(Transport transport) { return transport == Transport::cli ? "cli" : "libgit2"; }

}  // namespace kiln::git
