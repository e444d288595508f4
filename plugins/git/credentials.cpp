#include "credentials.hpp"

namespace kiln::git {
namespace {

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

// The password and the basic-auth header value both, so that neither can leak even if a
// library or server echoes one of them.
void RegisterUserpass(const Credential& credential, StepContext& ctx) {
  ctx.add_redaction(credential.password);
  ctx.add_redaction(Base64(credential.username + ":" + credential.password));
}

Credential FromSecretValue(const RepoUrl& url, const std::string& value, std::string origin) {
  Credential credential;
  credential.origin = std::move(origin);
  if (url.scheme == "ssh") {
    credential.username = url.user.empty() ? "git" : url.user;
    credential.key = value;
    credential.kind = value.rfind("-----BEGIN", 0) == 0 ? Credential::Kind::ssh_key_memory
                                                        : Credential::Kind::ssh_key_file;
    return credential;
  }
  credential.kind = Credential::Kind::userpass;
  if (const auto colon = value.find(':'); colon != std::string::npos && colon > 0) {
    credential.username = value.substr(0, colon);
    credential.password = value.substr(colon + 1);
  } else {
    credential.username = url.user.empty() ? "x-access-token" : url.user;
    credential.password = value;
  }
  return credential;
}

}  // namespace

std::optional<Credential> ResolveCredential(const RepoUrl& url, const std::string& secret_name,
                                            const GitConfig& config, StepContext& ctx, std::string* error) {
  if (url.scheme == "git" || url.scheme == "file") {
    // No login in these protocols; a named secret must still exist (a typo is an error).
    if (!secret_name.empty() && !ctx.secret(secret_name)) {
      *error = "credentials names secret '" + secret_name + "', which is not configured (see `secrets:`)";
      return std::nullopt;
    }
    return Credential{};
  }

  auto from_secret = [&](const std::string& name, const std::string& where) -> std::optional<Credential> {
    auto value = ctx.secret(name);
    if (!value || value->empty()) {
      *error = where + " names secret '" + name + "', which is not configured (see `secrets:`)";
      return std::nullopt;
    }
    ctx.add_redaction(*value);
    Credential credential = FromSecretValue(url, *value, "secret '" + name + "'");
    if (credential.kind == Credential::Kind::userpass) RegisterUserpass(credential, ctx);
    return credential;
  };

  if (!secret_name.empty()) return from_secret(secret_name, "credentials");
  if (!url.password.empty()) return CredentialInUrl(url, ctx);
  if (auto name = config.credentials_for(url.host_key())) {
    return from_secret(*name, "git.credentials." + url.host_key());
  }
  return Credential{};
}

Credential CredentialInUrl(const RepoUrl& url, StepContext& ctx) {
  if (url.password.empty() || !url.is_http()) return Credential{};
  Credential credential;
  credential.kind = Credential::Kind::userpass;
  credential.username = url.user.empty() ? "x-access-token" : url.user;
  credential.password = url.password;
  credential.origin = "the URL";
  RegisterUserpass(credential, ctx);
  return credential;
}

}  // namespace kiln::git
