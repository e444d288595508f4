#include "step_args.hpp"

namespace kiln::cache {

std::string CheckArgs(std::string_view step, const nlohmann::json& args, std::initializer_list<const char*> known) {
  if (args.is_null()) return {};
  if (!args.is_object()) return "cache." + std::string(step) + ": arguments must be a table of named fields";
  for (const auto& [key, value] : args.items()) {
    bool ok = false;
    std::string names;
    for (const char* name : known) {
      ok = ok || key == name;
      names += names.empty() ? name : std::string(", ") + name;
    }
    if (!ok) return "cache." + std::string(step) + ": unknown argument '" + key + "' (known: " + names + ")";
  }
  return {};
}

bool StringArg(std::string_view step, const nlohmann::json& args, const char* name, bool required,
               std::string* value, std::string* error) {
  if (!args.is_object() || !args.contains(name) || args[name].is_null()) {
    if (required) *error = "cache." + std::string(step) + ": argument '" + name + "' is required";
    return !required;
  }
  if (!args[name].is_string()) {
    *error = "cache." + std::string(step) + ": argument '" + name + "' must be a string, got " + args[name].dump();
    return false;
  }
  *value = args[name].get<std::string>();
  return true;
}

bool StringListArg(std::string_view step, const nlohmann::json& args, const char* name, bool required,
                   std::vector<std::string>* values, std::string* error) {
  values->clear();
  if (!args.is_object() || !args.contains(name) || args[name].is_null() ||
      (args[name].is_object() && args[name].empty())) {  // an empty Lua table may arrive as {}
    if (required) *error = "cache." + std::string(step) + ": argument '" + name + "' is required";
    return !required;
  }
  const auto& value = args[name];
  if (value.is_string()) {
    values->push_back(value.get<std::string>());
    return true;
  }
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) {
        *error = "cache." + std::string(step) + ": " + name + "[" + std::to_string(i + 1) +
                 "] must be a string, got " + value[i].dump();
        return false;
      }
      values->push_back(value[i].get<std::string>());
    }
    if (values->empty() && required) {
      *error = "cache." + std::string(step) + ": argument '" + name + "' must not be empty";
      return false;
    }
    return true;
  }
  *error = "cache." + std::string(step) + ": argument '" + name + "' must be a string or a list of strings, got " +
           value.dump();
  return false;
}

}  // namespace kiln::cache
