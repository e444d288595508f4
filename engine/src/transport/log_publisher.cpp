#include "transport/log_publisher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "logs/log_chunk.hpp"
#include "transport/jetstream_setup.hpp"

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

LogPublisher::LogPublisher(NatsConnection& conn, std::string job_id, std::uint64_t job_attempt,
                           std::uint64_t max_bytes)
    : conn_(conn),
      job_id_(std::move(job_id)),
      subject_(std::string(subjects::kLogsPrefix) + job_id_),
      job_attempt_(job_attempt) {
  kept_bytes_ = KeptBeforeThisAttempt();
  const std::uint64_t left = max_bytes > kept_bytes_ ? max_bytes - kept_bytes_ : 0;
  head_budget_ = static_cast<std::size_t>(left - left / 2);
  tail_budget_ = static_cast<std::size_t>(left / 2);
  static thread_local std::mt19937_64 random{std::random_device{}()};
  msg_id_prefix_ = job_id_ + "." + std::to_string(job_attempt_) + "." + std::to_string(random()) + ".";
  thread_ = std::thread([this] { Run(); });
}

std::uint64_t LogPublisher::KeptBeforeThisAttempt() {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&msg, conn_.js(), subjects::kLogsStream, subject_.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return 0;
  if (s != NATS_OK) {
    spdlog::warn("job {}: reading the last chunk of {}: {}; this attempt's log counts from 0 against logs.max_bytes",
                 job_id_, subject_, NatsError(s));
    return 0;
  }
  auto chunk = DecodeLogChunk(
      std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  natsMsg_Destroy(msg);
  return chunk ? chunk->kept_bytes : 0;
}

LogPublisher::~LogPublisher() {
  // A normal end called Finish(); a lost lease or an exception did not: publish what there
  // is, briefly, so that the log shows how far the attempt got.
  Finish(Clock::now() + std::chrono::seconds(3));
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LogPublisher::Append(std::string_view step, int attempt, std::string_view line) {
  Line entry{std::string(step), attempt, 0, NowMs(), MakeValidUtf8(line), {}};
  const std::size_t size = entry.text.size() + 1;
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    LogCounts& count = counts_[entry.step];
    count.lines += 1;
    count.bytes += size;
    ++version_;
    entry.number = next_line_++;
    if (!in_tail_ && head_bytes_ + size <= head_budget_) {
      head_bytes_ += size;
      if (queue_.empty()) {
        first_queued_ = Clock::now();
        notify = true;  // arms the thread's kChunkDelay timer
      }
      queued_bytes_ += size;
      if (queued_bytes_ >= kChunkBytes && queued_bytes_ - size < kChunkBytes) notify = true;
      queue_.push_back(std::move(entry));
    } else {
      in_tail_ = true;
      tail_bytes_ += size;
      tail_.push_back(std::move(entry));
      while (tail_bytes_ > tail_budget_ && tail_.size() > 1) {
        skipped_.lines += 1;
        skipped_.bytes += tail_.front().text.size() + 1;
        tail_bytes_ -= tail_.front().text.size() + 1;
        tail_.pop_front();
      }
    }
  }
  if (notify) wake_.notify_one();
}

bool LogPublisher::Finish(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (give_up_at_ == Clock::time_point::max() || deadline < give_up_at_) give_up_at_ = deadline;
  if (in_tail_) {
    if (skipped_.lines > 0) {
      Line marker;
      marker.step = tail_.front().step;
      marker.attempt = tail_.front().attempt;
      marker.number = tail_.front().number - skipped_.lines;
      marker.time_ms = tail_.front().time_ms;
      marker.skipped = skipped_;
      marker.text = "kiln: " + std::to_string(skipped_.lines) + " lines (" + Mebibytes(skipped_.bytes) +
                    ") left out here: the log passed logs.max_bytes; its first and last parts are kept";
      queue_.push_back(std::move(marker));
    }
    for (auto& line : tail_) {
      queued_bytes_ += line.text.size() + 1;
      queue_.push_back(std::move(line));
    }
    tail_.clear();
    tail_bytes_ = 0;
    in_tail_ = false;
    head_budget_ = std::numeric_limits<std::size_t>::max();  // the cap applied to the attempt's run
    head_bytes_ = 0;
  }
  finishing_ = true;
  wake_.notify_one();
  published_.wait_until(lock, deadline, [&] { return (queue_.empty() && !sending_) || failed_; });
  return queue_.empty() && !sending_ && !failed_;
}

std::map<std::string, LogCounts> LogPublisher::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::uint64_t LogPublisher::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

void LogPublisher::Run() {
  std::deque<Line> lines;  // taken from the queue; cleared and swapped back each time
  std::unique_lock lock(mutex_);
  while (true) {
    if (queue_.empty()) {
      if (stopping_) return;
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      continue;
    }
    // Wait for a full chunk or for the first line's delay, unless the end is near.
    if (!stopping_ && !finishing_ && queued_bytes_ < kChunkBytes) {
      wake_.wait_until(lock, first_queued_ + kChunkDelay,
                       [&] { return stopping_ || finishing_ || queued_bytes_ >= kChunkBytes; });
      if (!stopping_ && !finishing_ && queued_bytes_ < kChunkBytes && Clock::now() < first_queued_ + kChunkDelay) {
        continue;
      }
    }
    lines.clear();
    lines.swap(queue_);
    queued_bytes_ = 0;
    sending_ = true;
    lock.unlock();
    const bool sent = PublishLines(lines);
    lock.lock();
    sending_ = false;
    if (!sent) failed_ = true;
    published_.notify_all();
  }
}

bool LogPublisher::PublishLines(std::deque<Line>& lines) {
  // Text and header must fit the server's max_payload: half of it for the text leaves the
  // header (per-line timestamps) room on a server configured small.
  const std::size_t max_payload = conn_.max_payload();
  const std::size_t chunk_bytes =
      max_payload == 0 ? kChunkBytes : std::min(kChunkBytes, std::max<std::size_t>(4096, max_payload / 2));
  LogChunk chunk;
  std::size_t count = 0;
  std::uint64_t next_number = 0;
  auto send = [&]() {
    if (count == 0) return true;
    kept_bytes_ += chunk.text.size();
    chunk.kept_bytes = kept_bytes_;
    const bool ok = PublishChunk(EncodeLogChunk(chunk));
    chunk = LogChunk{};
    count = 0;
    return ok;
  };
  for (Line& line : lines) {
    const bool marker = line.skipped.lines > 0;
    const bool fits = count > 0 && !marker && line.step == chunk.step && line.attempt == chunk.attempt &&
                      line.number == next_number && count < kChunkLines &&
                      chunk.text.size() + line.text.size() + 1 <= chunk_bytes && !chunk.is_marker();
    if (!fits && !send()) return false;
    if (count == 0) {
      chunk.step = line.step;
      chunk.attempt = line.attempt;
      chunk.job_attempt = job_attempt_;
      chunk.first_line = line.number;
      chunk.t0_ms = line.time_ms;
      if (marker) {
        chunk.skipped_lines = line.skipped.lines;
        chunk.skipped_bytes = line.skipped.bytes;
      }
    }
    if (line.text.size() + 1 <= chunk_bytes) {
      chunk.text += line.text;
      chunk.text += '\n';
      chunk.dt_ms.push_back(line.time_ms - chunk.t0_ms);
      ++count;
      next_number = line.number + 1;
      continue;
    }
    // A line longer than a chunk: pieces of it, each open but the last, cut between
    // characters so that every piece is valid UTF-8 by itself.
    std::string_view rest(line.text);
    while (!rest.empty()) {
      const std::size_t cut = Utf8CutPoint(rest, chunk_bytes - 1);
      chunk.text.append(rest.substr(0, cut));
      rest.remove_prefix(cut);
      chunk.dt_ms.push_back(line.time_ms - chunk.t0_ms);
      ++count;
      if (rest.empty()) {
        chunk.text += '\n';
      } else {
        chunk.open = true;
        if (!send()) return false;
        chunk.step = line.step;
        chunk.attempt = line.attempt;
        chunk.job_attempt = job_attempt_;
        chunk.first_line = line.number;
        chunk.t0_ms = line.time_ms;
      }
    }
    next_number = line.number + 1;
  }
  return send();
}

bool LogPublisher::PublishChunk(const std::string& body) {
  // A message id per chunk: a publish whose acknowledgement was lost is sent again and the
  // stream's duplicate window drops the copy, so a reader never sees a chunk twice.
  const std::string msg_id = msg_id_prefix_ + std::to_string(++chunks_);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = msg_id.c_str();
  auto wait = std::chrono::milliseconds(100);
  while (true) {
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&ack, conn_.js(), subject_.c_str(), body.data(), static_cast<int>(body.size()),
                              &options, &code);
    if (s == NATS_OK) {
      jsPubAck_Destroy(ack);
      return true;
    }
    Clock::time_point give_up;
    {
      std::lock_guard lock(mutex_);
      give_up = give_up_at_;
    }
    if (Clock::now() + wait > give_up) {
      spdlog::error("job {}: log chunk of {} bytes not stored on {}: {}; the log misses it", job_id_, body.size(),
                    subject_, NatsError(s));
      return false;
    }
    spdlog::debug("job {}: log chunk not stored yet ({}); again in {} ms", job_id_, NatsError(s), wait.count());
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace kiln
