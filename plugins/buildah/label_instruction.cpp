#include "label_instruction.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

namespace kiln::buildah {
namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool HasControlCharacter(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

/// A FROM instruction: the line (0-based) it starts on and the stage's name, lower case.
struct Stage {
  std::size_t line = 0;
  std::string name;
};

}  // namespace

std::string QuotedWord(const std::string& value, char escape) {
  std::string out = "\"";
  for (char c : value) {
    if (c == escape || c == '"' || c == '$') out += escape;
    out += c;
  }
  return out + "\"";
}

std::optional<std::string> WithLabelInstruction(const std::string& text, const std::string& target,
                                                const std::map<std::string, std::string>& labels) {
  for (const auto& [name, value] : labels) {
    if (HasControlCharacter(name) || HasControlCharacter(value)) return std::nullopt;
  }
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }

  // The same reading as dockerfile.cpp's: parser directives first, comments and blank lines
  // skipped even inside a continuation, an instruction starts where no continuation is open.
  char escape = '\\';
  bool directives = true;
  bool continued = false;
  std::vector<Stage> stages;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line = Trim(lines[i]);
    if (directives) {
      if (line.rfind("#", 0) == 0) {
        std::string body = Lower(Trim(line.substr(1)));
        if (body.rfind("escape", 0) == 0) {
          auto eq = body.find('=');
          if (eq != std::string::npos && Trim(body.substr(eq + 1)) == "`") escape = '`';
          continue;
        }
      }
      directives = false;
    }
    if (line.empty() || line.front() == '#') continue;
    if (!continued) {
      std::istringstream words(line);
      std::string keyword;
      words >> keyword;
      if (Lower(keyword) == "from") {
        std::vector<std::string> rest;
        for (std::string word; words >> word;) rest.push_back(word);
        Stage stage{i, {}};
        for (std::size_t w = 0; w + 1 < rest.size(); ++w) {
          if (Lower(rest[w]) == "as") stage.name = Lower(rest[w + 1]);
        }
        stages.push_back(stage);
      }
    }
    continued = line.back() == escape;
  }
  if (continued || stages.empty()) return std::nullopt;

  std::size_t insert_at = lines.size();  // the end of the last stage
  if (!target.empty()) {
    std::string wanted = Lower(target);
    std::size_t found = stages.size();
    for (std::size_t s = 0; s < stages.size(); ++s) {
      if (stages[s].name == wanted || std::to_string(s) == wanted) found = s;
    }
    if (found == stages.size()) return std::nullopt;  // buildah names the unknown target
    if (found + 1 < stages.size()) insert_at = stages[found + 1].line;
  }

  std::string instruction = "LABEL";
  for (const auto& [name, value] : labels) instruction += " " + QuotedWord(name, escape) + "=" + QuotedWord(value, escape);
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(insert_at), instruction);
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace kiln::buildah
