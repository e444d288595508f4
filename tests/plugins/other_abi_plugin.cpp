// A plugin that claims another ABI version: exported by hand, as a future SDK would.
#include "kiln/plugin.hpp"

extern "C" BOOST_SYMBOL_EXPORT const ::kiln::abi::Descriptor kiln_plugin_descriptor = {::kiln::kPluginAbiVersion + 1,
                                                                                       KILN_BUILD_ID};
