#include "dockerfile.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "image_naming.hpp"
#include "kiln/workspace_path.hpp"
#include "run_mounts.hpp"

namespace kiln::buildah {
namespace fs = std::filesystem;
namespace {

/// One instruction, with its continuation lines joined, and the line it starts on.
struct Instruction {
  int line = 0;
  std::string keyword;  // lower case
  std::string rest;
};

std::vector<Instruction> SplitInstructions(const std::string& text) {
  std::vector<Instruction> out;
  std::istringstream in(text);
  char escape = '\\';
  bool directives = true;  // parser directives are only read before anything else
  std::string pending;
  int pending_line = 0;
  int number = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    std::string line = Trim(raw);
    if (directives) {
      std::string lowered = AsciiLower(line);
      if (lowered.rfind("#", 0) == 0) {
        std::string body = Trim(lowered.substr(1));
        if (body.rfind("escape", 0) == 0) {
          auto eq = body.find('=');
          std::string value = eq == std::string::npos ? std::string() : Trim(body.substr(eq + 1));
          if (value == "`") escape = '`';
          continue;
        }
      }
      directives = false;
    }
    if (line.empty() || line.front() == '#') continue;  // comments, even inside continuations
    if (pending.empty()) pending_line = number;
    if (line.back() == escape) {
      line.pop_back();
      pending += line + " ";
      continue;
    }
    pending += line;
    std::string joined = Trim(pending);
    pending.clear();
    auto space = joined.find_first_of(" \t");
    Instruction instruction;
    instruction.line = pending_line;
    instruction.keyword = AsciiLower(joined.substr(0, space));
    instruction.rest = space == std::string::npos ? std::string() : Trim(joined.substr(space));
    out.push_back(instruction);
  }
  if (!Trim(pending).empty()) {
    std::string joined = Trim(pending);
    auto space = joined.find_first_of(" \t");
    out.push_back({pending_line, AsciiLower(joined.substr(0, space)),
                   space == std::string::npos ? std::string() : Trim(joined.substr(space))});
  }
  return out;
}

/// $NAME, ${NAME}, ${NAME:-default} from `values`; sets `unresolved` when a name has no value.
std::string Substitute(const std::string& text, const std::map<std::string, std::string>& values,
                       bool& unresolved) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    std::string name;
    std::string fallback;
    bool has_fallback = false;
    if (text[i + 1] == '{') {
      auto close = text.find('}', i + 2);
      if (close == std::string::npos) {
        unresolved = true;
        return out + text.substr(i);
      }
      std::string body = text.substr(i + 2, close - i - 2);
      if (auto dash = body.find(":-"); dash != std::string::npos) {
        name = body.substr(0, dash);
        fallback = body.substr(dash + 2);
        has_fallback = true;
      } else {
        name = body;
      }
      i = close;
    } else {
      std::size_t j = i + 1;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
      name = text.substr(i + 1, j - i - 1);
      i = j - 1;
    }
    auto it = values.find(name);
    if (it != values.end() && !it->second.empty()) {
      out += it->second;
    } else if (has_fallback) {
      out += fallback;
    } else {
      unresolved = true;
    }
  }
  return out;
}

}  // namespace

bool LocateDockerfile(const fs::path& workspace, const std::string& context, const std::string& given,
                      Dockerfile& out, std::string& error) {
  if (context.empty()) {
    error = "context: missing (the directory to build)";
    return false;
  }
  // buildah reads (and an image then carries) everything in the context: it must lie in
  // the job's workspace once symlinks and ".." are resolved (kiln/workspace_path.hpp).
  const auto in_workspace = workspace_path::Resolve(workspace, context);
  if (!in_workspace) {
    error = "context: " + in_workspace.error;
    return false;
  }
  fs::path context_path = fs::path(context).is_absolute() ? fs::path(context) : workspace / context;
  std::error_code ec;
  const fs::path context_dir = in_workspace.path;
  if (!fs::is_directory(context_dir, ec)) {
    error = "build context " + context_path.string() + " is not a directory";
    return false;
  }

  fs::path candidate;
  if (!given.empty()) {
    candidate = fs::path(given).is_absolute() ? fs::path(given) : context_dir / given;
    if (!fs::exists(candidate, ec)) {
      error = "Dockerfile " + candidate.string() + " does not exist";
      return false;
    }
  } else {
    for (const char* name : {"Dockerfile", "Containerfile"}) {
      if (fs::exists(context_dir / name, ec)) {
        candidate = context_dir / name;
        break;
      }
    }
    if (candidate.empty()) {
      error = "no Dockerfile or Containerfile in build context " + context_dir.string();
      return false;
    }
  }

  // Beneath the context as the step names it, so an absolute `given` may spell it either
  // way; `candidate` exists, so every link on the way is resolved.
  const auto in_context =
      workspace_path::Resolve(context_path, given.empty() ? candidate.filename().string() : given, "the build context");
  if (!in_context) {
    const fs::path resolved = fs::weakly_canonical(candidate, ec);
    error = "Dockerfile " + candidate.string() + " lies outside the build context " + context_dir.string() +
            (!ec && resolved != candidate ? " (it resolves to " + resolved.string() + ")" : "") + ": " +
            in_context.error;
    return false;
  }
  const fs::path& resolved = in_context.path;
  if (!fs::is_regular_file(resolved, ec)) {
    error = "Dockerfile " + candidate.string() + " is not a regular file";
    return false;
  }
  out.path = resolved;
  out.context = context_dir;
  return true;
}

namespace {

std::string AtLine(int line) { return "line " + std::to_string(line) + ": "; }

/// A bind mount without `from` shows part of the context: it must stay inside it once
/// symlinks are resolved (a link in the repository to / would otherwise mount the host).
std::string CheckBindSource(const fs::path& context, const RunMount& mount) {
  if (mount.type != "bind" || mount.options.count("from") || context.empty()) return {};
  auto source = mount.options.find("source");
  const std::string given = source == mount.options.end() ? std::string(".") : source->second;
  const auto resolved = workspace_path::Resolve(context, given, "the build context");
  if (!resolved) return "--mount source " + (context / given).string() + ": " + resolved.error;
  return {};
}

}  // namespace

bool ParseDockerfile(const std::string& text, const std::map<std::string, std::string>& build_args,
                     Dockerfile& out, std::string& error) {
  return ParseDockerfile(text, build_args, IsSecret(), out, error);
}

bool ParseDockerfile(const std::string& text, const std::map<std::string, std::string>& build_args,
                     const IsSecret& is_secret, Dockerfile& out, std::string& error) {
  std::map<std::string, std::string> globals;  // ARGs before the first FROM, for FROM lines
  std::vector<std::string> stages;  // names and indexes of the stages so far, lower case
  SecretArgTracker secrets(build_args, is_secret);
  int stage_count = 0;
  bool seen_from = false;
  auto add_external = [&](const std::string& image) {
    if (AsciiLower(image) == "scratch") return;
    if (std::find(stages.begin(), stages.end(), AsciiLower(image)) != stages.end()) return;
    if (std::find(out.external_images.begin(), out.external_images.end(), image) ==
        out.external_images.end()) {
      out.external_images.push_back(image);
    }
  };
  // An image named by `--from=` or a mount's `from`: a stage, or an image buildah pulls.
  auto read_from = [&](const std::string& what, const std::string& value) -> std::string {
    if (std::string refused = secrets.Check(what, value); !refused.empty()) return refused;
    bool unresolved = false;
    std::string image = Substitute(value, globals, unresolved);
    if (unresolved) {
      out.unresolved_images = true;
      return {};
    }
    if (std::string refused = RefuseOptionLikeName(what, image); !refused.empty()) return refused;
    add_external(image);
    return {};
  };

  for (Instruction instruction : SplitInstructions(text)) {
    const std::string at = AtLine(instruction.line);
    // Every `--mount` in the text must be one read below as a RUN flag.
    int mount_words = CountMountWords(instruction.keyword + " " + instruction.rest);
    int mounts_read = 0;
    // ONBUILD instructions run when another build starts FROM this image: check them now.
    const bool onbuild = instruction.keyword == "onbuild";
    if (onbuild) {
      std::string inner = instruction.rest;
      auto space = inner.find_first_of(" \t");
      instruction.keyword = AsciiLower(inner.substr(0, space));
      instruction.rest = space == std::string::npos ? std::string() : Trim(inner.substr(space));
    }
    if (instruction.keyword == "arg" || instruction.keyword == "env") secrets.Define(instruction.keyword, instruction.rest);

    if (instruction.keyword == "arg" && !seen_from && !onbuild) {
      for (const std::string& word : Words(instruction.rest)) {
        auto eq = word.find('=');
        std::string name = word.substr(0, eq);
        std::string value = eq == std::string::npos ? std::string() : word.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
          value = value.substr(1, value.size() - 2);
        }
        auto arg = build_args.find(name);
        globals[name] = arg != build_args.end() ? arg->second : value;
      }
      continue;
    }
    if (instruction.keyword == "from" && !onbuild) {
      if (std::string refused = secrets.Check("FROM", instruction.rest); !refused.empty()) {
        error = at + refused;
        return false;
      }
      std::vector<std::string> words = Words(instruction.rest);
      std::size_t i = 0;
      while (i < words.size() && words[i].rfind("--", 0) == 0) ++i;  // --platform=...
      if (i >= words.size()) {
        error = at + "FROM names no image";
        return false;
      }
      bool unresolved = false;
      std::string image = Substitute(words[i], globals, unresolved);
      if (unresolved) {
        out.unresolved_images = true;
      } else if (std::string refused = RefuseOptionLikeName("FROM", image); !refused.empty()) {
        error = at + refused;
        return false;
      } else {
        add_external(image);
      }
      if (i + 2 < words.size() && AsciiLower(words[i + 1]) == "as") stages.push_back(AsciiLower(words[i + 2]));
      stages.push_back(std::to_string(stage_count++));  // COPY --from may name a stage by index
      seen_from = true;
      continue;
    }
    if (!seen_from) {
      error = at + instruction.keyword + " comes before the first FROM";
      return false;
    }
    if (instruction.keyword == "add") {
      if (std::string refused = secrets.Check("ADD", instruction.rest); !refused.empty()) {
        error = at + refused;
        return false;
      }
    }
    if (instruction.keyword == "copy" || instruction.keyword == "add") {
      for (const std::string& word : Words(instruction.rest)) {
        if (word.rfind("--from=", 0) != 0) continue;
        std::string what = instruction.keyword == "copy" ? "COPY --from" : "ADD --from";
        if (std::string refused = read_from(what, word.substr(7)); !refused.empty()) {
          error = at + refused;
          return false;
        }
      }
    }
    if (instruction.keyword == "run") {
      std::vector<RunMount> mounts;
      if (std::string refused = ReadRunFlags(instruction.rest, mounts); !refused.empty()) {
        error = at + "RUN " + refused;
        return false;
      }
      for (const RunMount& mount : mounts) {
        if (auto from = mount.options.find("from"); from != mount.options.end()) {
          if (std::string refused = read_from("RUN --mount from", from->second); !refused.empty()) {
            error = at + refused;
            return false;
          }
        }
        if (std::string refused = CheckBindSource(out.context, mount); !refused.empty()) {
          error = at + "RUN " + refused;
          return false;
        }
      }
      mounts_read = static_cast<int>(mounts.size());
    }
    if (mount_words > mounts_read) {
      error = at + "'--mount' outside the flags at the start of a RUN instruction: kiln cannot tell how buildah "
                   "reads it, so it is refused";
      return false;
    }
  }
  if (!seen_from) {
    error = "no FROM instruction";
    return false;
  }
  return true;
}

}  // namespace kiln::buildah
