// Which Dockerfile variables may hold a secret, so that none reaches an image name.
//
// A build arg whose value is a secret (StepContext::is_secret) is fine inside RUN steps,
// but an image reference is sent to a registry: `FROM 127.0.0.1:5999/x:${TOKEN}` hands the
// token to that host when the image is pulled, and the log only shows `***`. The tracker
// follows a secret through ARG and ENV values (`ARG B=$TOKEN`), in every stage, and never
// forgets one: a name that held a secret anywhere is treated as secret everywhere.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace kiln::buildah {

using IsSecret = std::function<bool(std::string_view)>;

/// The names `$NAME`, `${NAME}` and `${NAME<modifier>...}` refer to in `text`, including
/// those inside a modifier's word (`${A:-$B}` refers to A and B).
std::set<std::string> ReferencedVariables(const std::string& text);

class SecretArgTracker {
 public:
  /// Build args whose value `is_secret` says holds a secret start out secret.
  SecretArgTracker(const std::map<std::string, std::string>& build_args, IsSecret is_secret);

  /// An ARG or ENV instruction's text (after the keyword): each name it defines becomes
  /// secret when the text refers to a secret name or holds a secret itself.
  void Define(const std::string& keyword, const std::string& rest);

  /// "" when `text` (a FROM line, a `--from=` value, an ADD source) neither refers to a
  /// secret variable nor holds a secret; else an error naming the variable (never its
  /// value) for `what` ("FROM").
  std::string Check(const std::string& what, const std::string& text) const;

 private:
  std::set<std::string> secret_names_;
  IsSecret is_secret_;
};

}  // namespace kiln::buildah
