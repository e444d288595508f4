#include "step_args.hpp"

#include <algorithm>

namespace kiln::buildah {

std::string CheckKnownArgs(const nlohmann::json& args, const std::vector<std::string>& known) {
  if (args.is_null() || (args.is_array() && args.empty())) return {};
  if (!args.is_object()) return "arguments: must be a table, got " + args.dump();
  for (const auto& [key, value] : args.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
      return key + ": unknown argument (known: " + list + ")";
    }
  }
  return {};
}

std::string ReadStringArg(const nlohmann::json& args, const char* key, bool required, std::string& out) {
  auto it = args.is_object() ? args.find(key) : args.end();
  if (!args.is_object() || it == args.end() || it->is_null()) {
    return required ? std::string(key) + ": missing" : std::string();
  }
  if (!it->is_string()) return std::string(key) + ": must be a string, got " + it->dump();
  out = it->get<std::string>();
  if (required && out.empty()) return std::string(key) + ": must not be empty";
  return {};
}

std::string ReadBoolArg(const nlohmann::json& args, const char* key, bool& out) {
  auto it = args.is_object() ? args.find(key) : args.end();
  if (!args.is_object() || it == args.end() || it->is_null()) return {};
  if (!it->is_boolean()) return std::string(key) + ": must be true or false, got " + it->dump();
  out = it->get<bool>();
  return {};
}

std::string ReadStringListArg(const nlohmann::json& args, const char* key, std::vector<std::string>& out) {
  auto it = args.is_object() ? args.find(key) : args.end();
  if (!args.is_object() || it == args.end() || it->is_null()) return {};
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return {};
  }
  if (!it->is_array()) return std::string(key) + ": must be a list of strings, got " + it->dump();
  for (const auto& item : *it) {
    if (!item.is_string()) return std::string(key) + ": must be a list of strings, got " + item.dump();
    out.push_back(item.get<std::string>());
  }
  return {};
}

std::string ReadStringMapArg(const nlohmann::json& args, const char* key,
                             std::map<std::string, std::string>& out) {
  auto it = args.is_object() ? args.find(key) : args.end();
  if (!args.is_object() || it == args.end() || it->is_null()) return {};
  if (it->is_array() && it->empty()) return {};
  if (!it->is_object()) return std::string(key) + ": must be a table of names to values, got " + it->dump();
  for (const auto& [name, value] : it->items()) {
    if (value.is_string()) {
      out[name] = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      out[name] = value.dump();
    } else {
      return std::string(key) + "." + name + ": must be a string, number or boolean, got " + value.dump();
    }
  }
  return {};
}

}  // namespace kiln::buildah
