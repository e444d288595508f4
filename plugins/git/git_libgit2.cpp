// The git plugin's implementation library (git.d/git_libgit2.so): GitPlugin, loaded by
// the front (git_plugin.cpp) on the first git step.
#include "git_plugin.hpp"

KILN_PLUGIN(kiln::git::GitPlugin)
