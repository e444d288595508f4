#include "cli_fetcher.hpp"

#include "ascii_lower.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <system_error>

namespace kiln::git {
namespace {

// A private temp dir, removed with everything in it when the object goes.
class PrivateDir {
 public:
  PrivateDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kiln-git-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~PrivateDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

bool WriteFileMode(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << content;
    if (!out) return false;
  }
  return ::chmod(path.c_str(), mode) == 0;
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// git writes progress as "...\r...\r...done.\n": keep the last state of each line.
std::vector<std::string> FinalLines(const std::string& output) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    while (!line.empty() && line.back() == '\r') line.pop_back();
    if (const auto cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

FetchOutcome::Kind ClassifyOutput(const std::string& output, bool have_login) {
  using Kind = FetchOutcome::Kind;
  const std::string text = AsciiLower(output);
  auto has = [&](const char* needle) { return text.find(needle) != std::string::npos; };
  // git daemon's "access denied or repository not exported" is about the repository.
  if (has("not exported")) return Kind::repo_not_found;
  if (has("authentication failed") || has("could not read username") || has("could not read password") ||
      has("terminal prompts disabled") || has("permission denied (publickey") || has("access denied") ||
      has("returned error: 401") || has("returned error: 403")) {
    return have_login ? Kind::auth_refused : Kind::auth_required;
  }
  if (has("server certificate verification failed") || has("ssl certificate problem") ||
      has("host key verification failed")) {
    return Kind::certificate;
  }
  if (has("not our ref") || has("couldn't find remote ref") || has("no such remote ref")) return Kind::ref_not_found;
  if (has("repository not found") || has("does not appear to be a git repository") ||
      has("returned error: 404") || (has("repository") && has("not found"))) {
    return Kind::repo_not_found;
  }
  return Kind::network;
}

}  // namespace

void ParseCliProgress(const std::string& output, std::size_t* objects, std::size_t* bytes) {
  *objects = 0;
  *bytes = 0;
  static const std::regex kObjects(R"((Receiving|Unpacking) objects: +\d+% \((\d+)/(\d+)\)(, ([0-9.]+) (bytes|KiB|MiB|GiB))?)");
  // git shows "Receiving objects" only when the transfer takes a while; the server's
  // "Total N (delta D)" line comes with every pack.
  static const std::regex kTotal(R"(^remote: Total (\d+) \(delta)");
  for (const auto& line : FinalLines(output)) {
    std::smatch match;
    if (std::regex_search(line, match, kTotal)) {
      *objects = std::strtoull(match[1].str().c_str(), nullptr, 10);
      continue;
    }
    if (!std::regex_search(line, match, kObjects)) continue;
    *objects = std::strtoull(match[3].str().c_str(), nullptr, 10);
    if (match[5].matched) {
      double size = std::strtod(match[5].str().c_str(), nullptr);
      const std::string unit = match[6].str();
      if (unit == "KiB") size *= 1024;
      if (unit == "MiB") size *= 1024 * 1024;
      if (unit == "GiB") size *= 1024.0 * 1024 * 1024;
      *bytes = static_cast<std::size_t>(size);
    }
  }
}

FetchOutcome CliFetcher::Fetch(const FetchRequest& request, StepContext& ctx) const {
  FetchOutcome outcome;
  PrivateDir scratch;
  ProcessSpec spec;
  // git fetch into kiln's own mirror: it needs the mirror and the credentials, and a fetch
  // runs none of the repository's code (no hooks, no checkout).
  spec.isolation = Isolation::worker;
  spec.cwd = request.mirror.string();
  spec.log_output = false;  // progress comes as \r-separated updates: logged below, once settled
  spec.tail_bytes = 64 * 1024;
  spec.env["GIT_TERMINAL_PROMPT"] = "0";
  spec.env["GIT_ASKPASS"] = "/bin/false";  // no login configured: refuse, never prompt
  spec.env["SSH_ASKPASS"] = "/bin/false";
  spec.env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";

  const Credential& credential = request.credential;
  const bool have_login = credential.kind != Credential::Kind::none;
  if (have_login && scratch.path().empty()) {
    outcome.kind = FetchOutcome::Kind::network;
    outcome.detail = std::string("cannot create a private temp dir for the login: ") + std::strerror(errno);
    return outcome;
  }
  if (credential.kind == Credential::Kind::userpass) {
    const auto askpass = scratch.path() / "askpass";
    if (!WriteFileMode(askpass,
                       "#!/bin/sh\ncase \"$1\" in\n  [Uu]sername*) printf '%s\\n' \"$KILN_GIT_USERNAME\" ;;\n"
                       "  *) printf '%s\\n' \"$KILN_GIT_PASSWORD\" ;;\nesac\n",
                       0700)) {
      outcome.kind = FetchOutcome::Kind::network;
      outcome.detail = "cannot write the askpass helper in " + scratch.path().string();
      return outcome;
    }
    spec.env["GIT_ASKPASS"] = askpass.string();
    spec.env["KILN_GIT_USERNAME"] = credential.username;
    spec.env["KILN_GIT_PASSWORD"] = credential.password;
  } else if (credential.kind == Credential::Kind::ssh_key_memory || credential.kind == Credential::Kind::ssh_key_file) {
    std::string key_file = credential.key;
    if (credential.kind == Credential::Kind::ssh_key_memory) {
      key_file = (scratch.path() / "key").string();
      std::string key = credential.key;
      if (key.back() != '\n') key += '\n';
      if (!WriteFileMode(key_file, key, 0600)) {
        outcome.kind = FetchOutcome::Kind::network;
        outcome.detail = "cannot write the ssh key in " + scratch.path().string();
        return outcome;
      }
    }
    spec.env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o IdentitiesOnly=yes -i " + ShellQuote(key_file);
  }

  spec.argv = {"git", "-c", "credential.helper=", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
               "-c", "fetch.writeCommitGraph=false", "fetch", "--no-tags", "--no-write-fetch-head",
               "--progress"};
  if (request.prune) spec.argv.push_back("--prune");
  spec.argv.push_back(request.url.clean());
  for (const auto& refspec : request.refspecs) spec.argv.push_back(refspec);

  const ProcessResult result = ctx.run(spec);
  const auto lines = FinalLines(result.output_tail);
  for (const auto& line : lines) ctx.log(line);
  ParseCliProgress(result.output_tail, &outcome.received_objects, &outcome.received_bytes);
  if (result.cancelled || result.timed_out) {
    outcome.kind = FetchOutcome::Kind::cancelled;
    outcome.detail = result.timed_out ? "git fetch timed out" : "git fetch was cancelled";
    return outcome;
  }
  if (!result.started) {
    outcome.kind = FetchOutcome::Kind::network;
    outcome.detail = "cannot run git: " + result.error;
    return outcome;
  }
  if (result.exit_code == 0) return outcome;
  outcome.kind = ClassifyOutput(result.output_tail, have_login);
  // The last lines say why ("fatal: ..."): enough for a message, short enough for an event.
  std::string detail;
  for (const auto& line : lines) {
    if (line.rfind("fatal:", 0) == 0 || line.rfind("error:", 0) == 0 || line.rfind("remote:", 0) == 0) {
      if (!detail.empty()) detail += "; ";
      detail += line;
    }
  }
  if (detail.empty()) detail = "git fetch exited with status " + std::to_string(result.exit_code);
  if (detail.size() > 600) detail = detail.substr(detail.size() - 600);
  outcome.detail = detail;
  return outcome;
}

}  // namespace kiln::git
