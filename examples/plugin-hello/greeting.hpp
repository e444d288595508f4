// The plugin's own logic, apart from the SDK glue: plain functions, easy to unit test.
#pragma once

#include <string>

namespace hello {

/// "Hello, <name>!" in the configured style; names longer than 100 characters are refused
/// (an empty return), which the step turns into a terminal error.
std::string Greeting(const std::string& name, const std::string& style);

}  // namespace hello
