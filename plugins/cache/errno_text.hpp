// The text of an errno value, for the error messages that name a path and why.
#pragma once

#include <string>
#include <system_error>

namespace kiln::cache {

inline std::string ErrnoText(int error) { return std::error_code(error, std::generic_category()).message(); }

}  // namespace kiln::cache
