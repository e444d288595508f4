#include "plugin_host/plugin_host.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include <boost/dll/shared_library.hpp>

#include "kiln/plugin_library.hpp"

namespace kiln {

namespace {

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsStepName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Globals of the pipeline sandbox a plugin may not take as its name.
const std::set<std::string, std::less<>>& ReservedNames() {
  static const std::set<std::string, std::less<>> names = {
      "kiln", "job", "string", "table", "math", "utf8", "os", "io", "debug", "package", "coroutine",
      "print", "pairs", "ipairs", "error", "assert", "pcall", "xpcall", "select", "type", "tostring",
      "tonumber", "next", "load", "require", "rawget", "rawset", "rawequal", "rawlen", "setmetatable",
      "getmetatable", "collectgarbage", "_G", "_ENV", "_VERSION"};
  return names;
}

const nlohmann::json& NullJson() {
  static const nlohmann::json null_value;
  return null_value;
}

}  // namespace

struct PluginHost::Loaded {
  // Declared first, destroyed last: the library outlives every object made from it.
  boost::dll::shared_library library;
  std::unique_ptr<Plugin> plugin;
  nlohmann::json config;
  ~Loaded() { plugin.reset(); }
};

PluginHost::PluginHost() = default;
PluginHost::~PluginHost() = default;

std::vector<std::string> PluginHost::DefaultDirs(const std::vector<std::string>& extra) {
  std::vector<std::string> dirs;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    std::filesystem::path prefix = std::filesystem::path(self).parent_path().parent_path();
    for (const std::filesystem::path& rel : {std::filesystem::path("lib/kiln/plugins"),
                                             std::filesystem::path(KILN_PLUGIN_RELDIR)}) {
      std::string dir = (prefix / rel).lexically_normal().string();
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    }
  }
  for (const auto& dir : extra) dirs.push_back(dir);
  return dirs;
}

void PluginHost::load_dirs(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so" && entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) load_file(file);
  }
}

bool PluginHost::load_file(const std::filesystem::path& file) {
  const auto started = std::chrono::steady_clock::now();
  const std::string file_name = file.string();
  auto problem = [&](std::string reason) {
    problems_.push_back({file_name, std::move(reason)});
    return false;
  };

  auto loaded = std::make_unique<Loaded>();
  std::string error;
  loaded->plugin = LoadPluginLibrary(file, loaded->library, &error);
  if (!loaded->plugin) return problem(std::move(error));
  Plugin* raw = loaded->plugin.get();

  PluginInfo info;
  try {
    info.name = std::string(raw->name());
    info.version = std::string(raw->version());
    info.steps = raw->steps();
  } catch (const std::exception& e) {
    return problem(std::string("threw while describing itself: ") + e.what());
  } catch (...) {
    return problem("threw while describing itself");
  }
  if (!IsIdentifier(info.name)) return problem("invalid plugin name '" + info.name + "' (use [a-z_][a-z0-9_]*)");
  if (ReservedNames().count(info.name)) return problem("plugin name '" + info.name + "' is reserved");
  if (find(info.name) != nullptr) {
    return problem("a plugin named '" + info.name + "' is already loaded from another file");
  }
  for (const auto& step : info.steps) {
    if (!IsStepName(step)) return problem("plugin '" + info.name + "' has an invalid step name '" + step + "'");
  }
  info.file = file_name;
  info.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  infos_.push_back(std::move(info));
  loaded_.push_back(std::move(loaded));
  return true;
}

std::vector<std::string> PluginHost::configure(const std::map<std::string, nlohmann::json>& sections) {
  std::vector<std::string> errors;
  for (const auto& [name, section] : sections) {
    if (find(name) == nullptr) {
      errors.push_back("config section '" + name + "': no plugin named '" + name + "' is loaded");
    }
  }
  for (std::size_t i = 0; i < loaded_.size(); ++i) {
    auto& loaded = *loaded_[i];
    auto it = sections.find(infos_[i].name);
    loaded.config = it != sections.end() ? it->second : nlohmann::json();
    std::string error;
    try {
      error = loaded.plugin->configure(loaded.config);
    } catch (const std::exception& e) {
      error = std::string("threw while configuring: ") + e.what();
    } catch (...) {
      error = "threw while configuring";
    }
    if (!error.empty()) errors.push_back("plugin '" + infos_[i].name + "': " + error);
  }
  return errors;
}

Plugin* PluginHost::find(std::string_view name) const {
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    if (infos_[i].name == name) return loaded_[i]->plugin.get();
  }
  return nullptr;
}

const nlohmann::json& PluginHost::config_of(std::string_view name) const {
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    if (infos_[i].name == name) return loaded_[i]->config;
  }
  return NullJson();
}

StepResult PluginHost::RunStep(Plugin& plugin, std::string_view step, const nlohmann::json& args, StepContext& ctx) {
  std::string plugin_name;
  try {
    plugin_name = std::string(plugin.name());
    return plugin.run(step, args, ctx);
  } catch (const std::exception& e) {
    return StepResult::Terminal("plugin '" + plugin_name + "' threw in step '" + std::string(step) + "': " + e.what());
  } catch (...) {
    return StepResult::Terminal("plugin '" + plugin_name + "' threw in step '" + std::string(step) +
                                "': unknown exception");
  }
}

}  // namespace kiln
