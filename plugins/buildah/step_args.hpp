// Reading a step's arguments (the Lua table, as JSON) with errors that name the argument.
// Each reader returns an empty string when the argument is fine or absent, else the error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::buildah {

/// Fails on keys outside `known`: a misspelt argument ("tag" for "tags") is an error, not
/// a silently ignored option.
std::string CheckKnownArgs(const nlohmann::json& args, const std::vector<std::string>& known);
std::string ReadStringArg(const nlohmann::json& args, const char* key, bool required, std::string& out);
std::string ReadBoolArg(const nlohmann::json& args, const char* key, bool& out);
/// A list of strings; a single string is taken as a list of one.
std::string ReadStringListArg(const nlohmann::json& args, const char* key, std::vector<std::string>& out);
/// A table of string keys to strings, numbers or booleans (converted to text). An empty
/// Lua table arrives as an empty array, which is accepted as an empty map.
std::string ReadStringMapArg(const nlohmann::json& args, const char* key,
                             std::map<std::string, std::string>& out);

}  // namespace kiln::buildah
