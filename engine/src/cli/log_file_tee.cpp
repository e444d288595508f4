#include "cli/log_file_tee.hpp"

#include <cerrno>
#include <cstring>

#include "events/job_events.hpp"

namespace kiln::cli {

Result<std::unique_ptr<LogFileTee>> LogFileTee::Open(const std::string& path, std::unique_ptr<EventSink> inner) {
  std::FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr) return MakeError("--log " + path + ": " + std::strerror(errno));
  return std::unique_ptr<LogFileTee>(new LogFileTee(path, file, std::move(inner)));
}

LogFileTee::LogFileTee(std::string path, std::FILE* file, std::unique_ptr<EventSink> inner)
    : path_(std::move(path)), file_(file), inner_(std::move(inner)) {}

LogFileTee::~LogFileTee() { std::fclose(file_); }

void LogFileTee::publish(const nlohmann::json& event) {
  {
    std::lock_guard lock(mutex_);
    if (event.value("type", "") == event_type::kStepLog) {
      write_line_locked(event);
    } else if (write_error_.empty() && std::fflush(file_) != 0) {
      // Flushed at each step's start and end rather than per line: a noisy step stays cheap,
      // and `tail -f` still sees a finished step whole.
      write_error_ = "--log " + path_ + ": " + std::strerror(errno) + "; the log in it ends early";
    }
  }
  inner_->publish(event);
}

void LogFileTee::write_line_locked(const nlohmann::json& event) {
  if (!write_error_.empty()) return;
  const auto step = event.find("step");
  const bool in_step = step != event.end() && step->is_string();
  // kiln logs' header; kiln run has one job attempt.
  const std::string header = "==> " + (in_step ? "step " + step->get<std::string>() : std::string("(script)")) +
                             " (attempt " + std::to_string(event.value("attempt", 1)) + ", job attempt 1) <==";
  std::string text;
  if (header != last_header_) {
    text = header + "\n";
    last_header_ = header;
  }
  if (event.value("level", "") == "warn") text += "warning: ";
  text += event.value("message", "");
  text += "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    write_error_ = "--log " + path_ + ": " + std::strerror(errno) + "; the log in it ends early";
  }
}

std::string LogFileTee::write_error() const {
  std::lock_guard lock(mutex_);
  return write_error_;
}

}  // namespace kiln::cli
