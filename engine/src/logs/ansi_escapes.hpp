// A log's text as a reader sees it: without the terminal escape sequences (colours, cursor
// moves, window titles) a process wrote into it. For `kiln logs` into a pipe and for
// searching a log (a compiler colours "error" and a search for it must still find it).
#pragma once

#include <string>
#include <string_view>

namespace kiln {

/// `text` with ANSI escape sequences removed: CSI ("ESC [ params final"), OSC ("ESC ]
/// ... BEL" or "ESC ] ... ESC \") and two-byte ones ("ESC c"). A sequence cut off at the end
/// is removed too.
std::string WithoutAnsiEscapes(std::string_view text);

}  // namespace kiln
