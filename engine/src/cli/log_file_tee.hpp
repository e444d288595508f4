// kiln run --log FILE: the job's whole log in a file, as `kiln logs ID` prints it from
// BUILD_LOGS (a header per step and attempt, then the lines as the processes wrote them,
// redacted), while the events still go to the terminal. kiln run has no NATS, and its
// workspace is removed when the job ends, so the file is the run's log afterwards.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "events/event_sink.hpp"
#include "util/result.hpp"

namespace kiln::cli {

class LogFileTee final : public EventSink {
 public:
  /// Creates (or empties) `path`; an error names the path and why.
  static Result<std::unique_ptr<LogFileTee>> Open(const std::string& path, std::unique_ptr<EventSink> inner);
  ~LogFileTee() override;

  void publish(const nlohmann::json& event) override;
  std::size_t max_message_bytes() const override { return inner_->max_message_bytes(); }

  /// Empty while every line reached the file; else the first write error, naming the file.
  std::string write_error() const;

 private:
  LogFileTee(std::string path, std::FILE* file, std::unique_ptr<EventSink> inner);
  void write_line_locked(const nlohmann::json& event);

  std::string path_;
  std::FILE* file_;
  std::unique_ptr<EventSink> inner_;
  mutable std::mutex mutex_;
  std::string last_header_;
  std::string write_error_;
};

}  // namespace kiln::cli
