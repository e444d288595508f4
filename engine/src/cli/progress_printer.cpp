#include "cli/progress_printer.hpp"

#include <vector>

namespace kiln::cli {

namespace {

constexpr std::size_t kTailLines = 20;

std::string FormatMs(std::int64_t ms) {
  char buffer[32];
  if (ms < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lld ms", static_cast<long long>(ms));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms) / 1000.0);
  }
  return buffer;
}

std::string Field(const nlohmann::json& event, const char* name) {
  auto it = event.find(name);
  if (it == event.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

void JsonLinesPrinter::publish(const nlohmann::json& event) {
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool live) : out_(out), live_(live) {
  if (live_) ticker_ = std::thread([this] { ticker(); });
}

ProgressPrinter::~ProgressPrinter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void ProgressPrinter::ticker() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(200));
    if (!stopping_ && !step_.empty()) redraw_locked();
  }
}

void ProgressPrinter::redraw_locked() {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - step_started_).count();
  std::string line = "  ▶ " + step_;
  if (attempt_ > 1) line += " (attempt " + std::to_string(attempt_) + ")";
  line += "  " + FormatMs(elapsed);
  if (!last_line_.empty()) {
    std::string shown = last_line_.substr(0, 60);
    line += "  " + shown;
  }
  std::fprintf(out_, "\r\033[2K%s", line.c_str());
  std::fflush(out_);
}

void ProgressPrinter::publish(const nlohmann::json& event) {
  const std::string type = Field(event, "type");
  std::lock_guard lock(mutex_);
  auto clear_line = [&] {
    if (live_) std::fprintf(out_, "\r\033[2K");
  };
  if (type == "job.started") {
    std::fprintf(out_, "kiln: job %s  %s @ %.12s  (%s)\n", Field(event, "job").c_str(),
                 event.value("repo", nlohmann::json::object()).value("url", "").c_str(), Field(event, "commit").c_str(),
                 Field(event, "pipeline").c_str());
  } else if (type == "step.started") {
    if (event.value("attempt", 1) == 1 || Field(event, "step") != step_) step_log_tail_.clear();
    step_ = Field(event, "step");
    attempt_ = event.value("attempt", 1);
    last_line_.clear();
    step_started_ = std::chrono::steady_clock::now();
    if (live_) {
      redraw_locked();
    } else {
      std::fprintf(out_, "  ▶ %s%s\n", step_.c_str(),
                   attempt_ > 1 ? (" (attempt " + std::to_string(attempt_) + ")").c_str() : "");
    }
  } else if (type == "step.log") {
    last_line_ = Field(event, "message");
    step_log_tail_.push_back(last_line_);
    if (step_log_tail_.size() > kTailLines) step_log_tail_.erase(step_log_tail_.begin());
    if (live_ && !step_.empty()) redraw_locked();
  } else if (type == "step.progress") {
    last_line_ = std::to_string(static_cast<int>(event.value("percent", 0.0))) + "% " + Field(event, "message");
    if (live_ && !step_.empty()) redraw_locked();
  } else if (type == "step.retrying") {
    clear_line();
    std::fprintf(out_, "  ↻ %s attempt %d failed: %s; retrying in %s\n", Field(event, "step").c_str(),
                 event.value("attempt", 0), Field(event, "error").c_str(), FormatMs(event.value("delay_ms", 0)).c_str());
  } else if (type == "step.finished") {
    clear_line();
    const std::string status = Field(event, "status");
    const std::string duration = FormatMs(event.value("duration_ms", 0));
    const int attempt = event.value("attempt", 1);
    std::string attempts = attempt > 1 ? " after " + std::to_string(attempt) + " attempts" : "";
    if (status == "ok") {
      std::fprintf(out_, "  ✓ %s  %s%s\n", Field(event, "step").c_str(), duration.c_str(), attempts.c_str());
    } else {
      std::fprintf(out_, "  ✗ %s  %s%s  [%s] %s\n", Field(event, "step").c_str(), duration.c_str(), attempts.c_str(),
                   status.c_str(), Field(event, "message").c_str());
      for (const auto& line : step_log_tail_) std::fprintf(out_, "      │ %s\n", line.c_str());
    }
    step_.clear();
    step_log_tail_.clear();
  } else if (type.rfind("job.", 0) == 0 && type != "job.queued") {
    clear_line();
    const std::string duration = FormatMs(event.value("duration_ms", 0));
    if (type == "job.succeeded") {
      std::fprintf(out_, "✓ job succeeded in %s\n", duration.c_str());
    } else {
      std::fprintf(out_, "✗ job %s in %s: %s\n", type.substr(4).c_str(), duration.c_str(), Field(event, "error").c_str());
    }
  }
  std::fflush(out_);
}

}  // namespace kiln::cli
