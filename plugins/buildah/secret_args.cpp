#include "secret_args.hpp"

#include "text.hpp"

#include <cctype>
#include <sstream>
#include <utility>
#include <vector>

namespace kiln::buildah {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::set<std::string> ReferencedVariables(const std::string& text) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) continue;
    std::size_t begin = text[i + 1] == '{' ? i + 2 : i + 1;
    std::size_t end = begin;
    while (end < text.size() && IsNameChar(text[end])) ++end;
    if (end > begin) names.insert(text.substr(begin, end - begin));
  }
  return names;
}

SecretArgTracker::SecretArgTracker(const std::map<std::string, std::string>& build_args, IsSecret is_secret)
    : is_secret_(std::move(is_secret)) {
  for (const auto& [name, value] : build_args) {
    if (is_secret_ && is_secret_(value)) secret_names_.insert(name);
  }
}

void SecretArgTracker::Define(const std::string& keyword, const std::string& rest) {
  bool secret = is_secret_ && is_secret_(rest);
  for (const std::string& name : ReferencedVariables(rest)) secret = secret || secret_names_.count(name) > 0;
  if (!secret) return;
  std::vector<std::string> words = Words(rest);
  // `ENV NAME value with spaces` defines one name; otherwise each word defines the name
  // before its '=' (ARG's bare `NAME` too).
  if (keyword == "env" && !words.empty() && words.front().find('=') == std::string::npos) {
    secret_names_.insert(words.front());
    return;
  }
  for (const std::string& word : words) secret_names_.insert(word.substr(0, word.find('=')));
}

std::string SecretArgTracker::Check(const std::string& what, const std::string& text) const {
  for (const std::string& name : ReferencedVariables(text)) {
    if (secret_names_.count(name)) {
      return what + " refers to build arg " + name +
             ", whose value is a secret: a secret may not reach an image name or anything pulled with network";
    }
  }
  if (is_secret_ && is_secret_(text)) {
    return what + " holds a secret value: a secret may not reach an image name or anything pulled with network";
  }
  return {};
}

}  // namespace kiln::buildah
