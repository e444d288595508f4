#include "logs/ansi_escapes.hpp"

namespace kiln {

std::string WithoutAnsiEscapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\x1b') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '[') {  // CSI: parameters, then a final byte @..~
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
    } else if (i + 1 < text.size() && text[i + 1] == ']') {  // OSC: up to BEL or ESC '\'
      i += 2;
      while (i < text.size() && text[i] != '\a' && !(text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '\\')) ++i;
      if (i < text.size() && text[i] == '\x1b') ++i;
    } else if (i + 1 < text.size()) {
      ++i;  // a two-byte escape (ESC c, ESC 7, ...)
    }
  }
  return out;
}

}  // namespace kiln
