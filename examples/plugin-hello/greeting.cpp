#include "greeting.hpp"

namespace hello {

std::string Greeting(const std::string& name, const std::string& style) {
  if (name.empty() || name.size() > 100) return {};
  if (style == "loud") {
    std::string out = "HELLO, ";
    for (char c : name) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    return out + "!";
  }
  return "Hello, " + name + "!";
}

}  // namespace hello
