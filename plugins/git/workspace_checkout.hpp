// A job's working copy of one commit, made from a mirror.
//
// The working copy is a normal (non-bare) repository whose objects/info/alternates points
// at the mirror's objects: nothing is copied, every commit of the mirror can be read from
// it (so tools that diff against an older commit work), and its worktree holds exactly
// the commit's files. HEAD is the branch when one is given, else detached at the commit.
// `origin` is set to the URL without credentials.
#pragma once

#include <filesystem>
#include <string>

#include "kiln/step_context.hpp"

namespace kiln::git {

struct CheckoutRequest {
  std::filesystem::path mirror;
  std::filesystem::path dir;  // replaced if it exists
  std::string commit;
  std::string branch;  // short name, or empty
  std::string origin_url;
};

/// Makes `request.dir`; returns an empty string on success, else what went wrong.
std::string CheckoutWorkspace(const CheckoutRequest& request, StepContext& ctx);

}  // namespace kiln::git
