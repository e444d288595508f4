// The git plugin's entry point: exports GitPlugin (git_plugin_impl.cpp) to the engine.
#include "git_plugin.hpp"

KILN_PLUGIN(kiln::git::GitPlugin)
