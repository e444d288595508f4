#pragma once

#include <string_view>

namespace kiln::testing {

// For checks on error texts, where a gmock matcher would print the whole text twice.
inline bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace kiln::testing
