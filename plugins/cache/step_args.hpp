// Reading a step's arguments (the script's Lua table, as JSON) with errors that name the
// step and the argument.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::cache {

/// "" when `args` is an object (or null) with no keys outside `known`.
std::string CheckArgs(std::string_view step, const nlohmann::json& args, std::initializer_list<const char*> known);
/// A required or optional string argument; false with `error` set when it is malformed.
bool StringArg(std::string_view step, const nlohmann::json& args, const char* name, bool required,
               std::string* value, std::string* error);
/// A string or an array of strings (a Lua list arrives as an array).
bool StringListArg(std::string_view step, const nlohmann::json& args, const char* name, bool required,
                   std::vector<std::string>* values, std::string* error);

}  // namespace kiln::cache
