// kiln plugin SDK: what a step returns.
//
// A step ends in one of three ways. `ok` carries the step's outputs (a JSON object the
// pipeline script receives as a Lua table). `retryable` says the same call may succeed
// later (a network error, a busy server): the step's retry policy applies. `terminal`
// says it will not (bad input, a failing build): it is never retried.
// A value type: safe to copy and move between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace kiln {

struct StepResult {
  enum class Status { ok, retryable, terminal };

  Status status = Status::ok;
  std::string message;
  nlohmann::json outputs = nlohmann::json::object();

  static StepResult Ok(nlohmann::json outputs = nlohmann::json::object(), std::string message = {}) {
    return StepResult{Status::ok, std::move(message), std::move(outputs)};
  }
  static StepResult Retryable(std::string message) {
    return StepResult{Status::retryable, std::move(message), nlohmann::json::object()};
  }
  static StepResult Terminal(std::string message) {
    return StepResult{Status::terminal, std::move(message), nlohmann::json::object()};
  }

  bool ok() const { return status == Status::ok; }
};

inline std::string_view to_string(StepResult::Status status) {
  switch (status) {
    case StepResult::Status::ok: return "ok";
    case StepResult::Status::retryable: return "retryable";
    case StepResult::Status::terminal: return "terminal";
  }
  return "terminal";
}

}  // namespace kiln
