// A plugin built against another standard library / JSON library: same ABI version,
// different build id.
#include "kiln/plugin.hpp"

extern "C" BOOST_SYMBOL_EXPORT const ::kiln::abi::Descriptor kiln_plugin_descriptor = {
    ::kiln::kPluginAbiVersion, "libstdc++99/cxx11abi0/json9.9/diag0"};
