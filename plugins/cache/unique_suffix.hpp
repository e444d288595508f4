// Names for temp and trash entries beside shared ones (keyed/.tmp, keyed/.trash, a tree's
// marker being rewritten): a name no other thread or process on this machine picks at the
// same time.
#pragma once

#include <string>

namespace kiln::cache {

std::string UniqueSuffix();

}  // namespace kiln::cache
