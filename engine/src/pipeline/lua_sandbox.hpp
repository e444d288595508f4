// A fresh, sandboxed Lua 5.4 state for one job.
//
// - Only base, table, string, math, utf8 are opened, and from `os` only time, clock and
//   date. No io, debug, package, require, dofile, loadfile, collectgarbage, string.dump;
//   `load` accepts text only.
// - Memory: a capped allocator; past the cap an allocation fails and Lua raises "not
//   enough memory", which the runtime reports as the memory limit.
// - CPU: a count hook charges every instruction to the job's budget and watches a
//   cancellation token and the script's own time (time not spent waiting in steps). Once
//   a limit is passed the hook raises on every instruction, so a script's pcall can catch
//   the error but cannot run another instruction with it.
// Lua is the C++ build: its errors unwind as exceptions, so the destructors of C++ frames
// between a C function and the pcall that catches run.
//
// Not thread-safe: one job's thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <lua.hpp>

#include "util/cancellation.hpp"
#include "util/result.hpp"

namespace kiln {

struct SandboxLimits {
  std::uint64_t memory_bytes = 64ull * 1024 * 1024;
  std::uint64_t instructions = 200'000'000;
  std::chrono::milliseconds script_time{30'000};
};

enum class SandboxFault { none, instructions, script_time, stopped };

class LuaSandbox {
 public:
  explicit LuaSandbox(const SandboxLimits& limits);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() const { return state_; }

  /// Compiles `source` (text only) as a chunk named `chunk_name` ("@path" gives "path:line:"
  /// in messages) and pushes the function. The error carries file and line.
  Result<bool> load(std::string_view source, const std::string& chunk_name);

  /// The token the hook watches: when it stops, the script gets an error at once and on
  /// every instruction after. Null: none.
  void watch(const CancellationToken* token);
  const CancellationToken* watched() const { return watched_; }

  /// Brackets time the script spends waiting (in a plugin step, a process, a retry delay):
  /// it does not count against the script time limit.
  void begin_wait();
  void end_wait();

  /// What is left of the script's own time (milliseconds::max() when there is no limit).
  std::chrono::milliseconds script_time_left() const;

  SandboxFault fault() const { return fault_; }
  bool memory_exhausted() const { return memory_exhausted_; }
  void clear_memory_exhausted() { memory_exhausted_ = false; }
  std::string fault_message() const;
  std::string memory_message() const;
  std::uint64_t instructions_used() const { return instructions_used_; }
  std::uint64_t memory_used() const { return memory_used_; }
  std::uint64_t memory_peak() const { return memory_peak_; }
  const SandboxLimits& limits() const { return limits_; }

  static LuaSandbox& From(lua_State* L);

 private:
  static void* Allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept;
  static void Hook(lua_State* L, lua_Debug* ar);
  void open_libraries();
  void arm_hook(int count);

  SandboxLimits limits_;
  lua_State* state_ = nullptr;
  std::uint64_t memory_used_ = 0;
  std::uint64_t memory_peak_ = 0;
  bool memory_exhausted_ = false;
  std::uint64_t instructions_used_ = 0;
  int hook_interval_ = 0;
  SandboxFault fault_ = SandboxFault::none;
  const CancellationToken* watched_ = nullptr;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::duration waited_{};
  std::chrono::steady_clock::time_point wait_started_;
  int wait_depth_ = 0;
};

}  // namespace kiln
