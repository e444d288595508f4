#include "gateway/log_tail.hpp"

#include "transport/jetstream_setup.hpp"
#include "transport/stream_follower.hpp"

namespace kiln {

namespace {

// Keeps the newest pieces whose text makes keep_bytes; the oldest go as newer ones come.
class TailKeeper {
 public:
  explicit TailKeeper(std::uint64_t keep_bytes) : keep_bytes_(keep_bytes) {}
  void Add(LogPiece piece) {
    bytes_ += piece.chunk.text.size();
    tail_.pieces.push_back(std::move(piece));
    while (tail_.pieces.size() > 1 && bytes_ - tail_.pieces.front().chunk.text.size() >= keep_bytes_) {
      bytes_ -= tail_.pieces.front().chunk.text.size();
      tail_.pieces.pop_front();
    }
  }
  bool full() const { return bytes_ >= keep_bytes_; }
  LogTail& tail() { return tail_; }

 private:
  std::uint64_t keep_bytes_;
  std::uint64_t bytes_ = 0;
  LogTail tail_;
};

Result<LogTail> ReadWhole(NatsConnection& conn, const std::string& job_id, std::uint64_t keep_bytes) {
  TailKeeper keeper(keep_bytes);
  auto read = ReadLog(conn, job_id, LogReadOptions{}, [&](const LogPiece& piece) {
    keeper.Add(piece);
    return true;
  });
  if (!read) return MakeError(read.error());
  keeper.tail().lines = read->cursor.line;
  return std::move(keeper.tail());
}

}  // namespace

Result<LogTail> ReadLogTail(NatsConnection& conn, const std::string& job_id, std::uint64_t keep_bytes) {
  const std::string subject = std::string(subjects::kLogsPrefix) + job_id;
  auto last = LastStoredSequence(conn, subjects::kLogsStream, subject);
  if (!last) return MakeError(last.error());
  if (last.value() == 0) return LogTail{};
  // Stream sequences are shared by every job's log: a window of them holds this job's
  // chunks and others'. Wider each time until the window holds enough or starts at 1.
  for (std::uint64_t window = 16;; window *= 8) {
    const std::uint64_t start = last.value() > window ? last.value() - window + 1 : 1;
    if (start == 1) return ReadWhole(conn, job_id, keep_bytes);
    TailKeeper keeper(keep_bytes);
    bool later_attempt = false;
    LogReadOptions options;
    options.from.stream_seq = start - 1;
    auto read = ReadLog(conn, job_id, options, [&](const LogPiece& read_piece) {
      if (read_piece.chunk.job_attempt > 1) {
        later_attempt = true;
        return false;
      }
      // Numbered by the chunk itself: ReadLog counted from the window's start.
      LogPiece piece = read_piece;
      piece.first_line = piece.chunk.first_line;
      piece.after.line = piece.chunk.first_line - 1 + LinesEndingIn(piece.chunk);
      keeper.Add(std::move(piece));
      return true;
    });
    if (!read) return MakeError(read.error());
    if (later_attempt) return ReadWhole(conn, job_id, keep_bytes);
    if (keeper.full()) {
      LogTail& tail = keeper.tail();
      if (!tail.pieces.empty()) tail.lines = tail.pieces.back().after.line;
      return std::move(tail);
    }
  }
}

}  // namespace kiln
