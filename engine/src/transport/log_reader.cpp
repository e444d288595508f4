#include "transport/log_reader.hpp"

#include <algorithm>

#include "state/job_state.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"
#include "transport/stream_follower.hpp"

namespace kiln {

namespace {

nlohmann::json StateOf(NatsConnection& conn, const std::string& job_id) {
  if (conn.builds_kv() == nullptr) return nullptr;
  auto stored = JobStateStore(conn.builds_kv()).Get(job_id);
  return stored ? stored->state : nlohmann::json();
}

bool Ended(const nlohmann::json& state) {
  return state.is_object() && IsTerminalStatus(state.value("status", ""));
}

struct Subscription {
  natsSubscription* sub = nullptr;
  ~Subscription() {
    if (sub != nullptr) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
  }
};

}  // namespace

std::uint64_t LinesEndingIn(const LogChunk& chunk) {
  if (chunk.is_marker()) return chunk.skipped_lines;
  return static_cast<std::uint64_t>(std::count(chunk.text.begin(), chunk.text.end(), '\n'));
}

Result<LogReadEnd> ReadLog(NatsConnection& conn, const std::string& job_id, const LogReadOptions& options,
                           const std::function<bool(const LogPiece&)>& on_piece) {
  const std::string subject = std::string(subjects::kLogsPrefix) + job_id;
  LogReadEnd end;
  end.cursor = options.from;
  // Without follow the log is read up to what is stored now; a follower learns the end
  // once the job's state is terminal.
  std::uint64_t last = 0;
  bool know_last = false;
  auto learn_last = [&]() -> Result<bool> {
    auto seq = LastStoredSequence(conn, subjects::kLogsStream, subject);
    if (!seq) return MakeError(seq.error());
    last = seq.value();
    know_last = true;
    return true;
  };
  if (!options.follow) {
    if (auto r = learn_last(); !r) return MakeError(r.error());
    if (last <= end.cursor.stream_seq) {
      end.state = StateOf(conn, job_id);
      return end;
    }
  }

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = subjects::kLogsStream;
  so.Ordered = true;  // the library re-creates the consumer where it left off after a gap
  if (options.from.stream_seq > 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = options.from.stream_seq + 1;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  Subscription subscription;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&subscription.sub, conn.js(), subject.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) return MakeError("subscribing to " + subject + " on stream BUILD_LOGS: " + NatsError(s));
  // A capped log is 64 MiB: let the subscription hold it rather than drop messages.
  natsSubscription_SetPendingLimits(subscription.sub, 1 << 20, 512 << 20);
  const auto unknown_until = std::chrono::steady_clock::now() + options.unknown_job_wait;

  while (true) {
    if (options.stop != nullptr && options.stop->stopped()) {
      end.stopped = true;
      break;
    }
    if (know_last && end.cursor.stream_seq >= last) break;
    natsMsg* msg = nullptr;
    s = natsSubscription_NextMsg(&msg, subscription.sub, static_cast<int64_t>(options.poll.count()));
    if (s == NATS_TIMEOUT) {
      if (options.follow && !know_last) {
        end.state = StateOf(conn, job_id);
        if (Ended(end.state)) {
          if (auto r = learn_last(); !r) return MakeError(r.error());
        } else if (end.state.is_null() && end.cursor.stream_seq == 0 &&
                   std::chrono::steady_clock::now() >= unknown_until) {
          break;  // no such job: the caller says so
        }
      }
      continue;
    }
    if (s != NATS_OK) return MakeError("reading " + subject + ": " + NatsError(s));
    jsMsgMetaData* meta = nullptr;
    std::uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    std::string error;
    auto chunk = DecodeLogChunk(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
                                &error);
    natsMsg_Destroy(msg);
    if (seq <= end.cursor.stream_seq) continue;  // never twice
    LogPiece piece;
    piece.first_line = end.cursor.line + 1;
    if (chunk) {
      end.cursor.line += LinesEndingIn(*chunk);
      piece.chunk = std::move(*chunk);
    }
    end.cursor.stream_seq = seq;
    piece.after = end.cursor;
    if (!chunk) continue;  // not ours to show; counted as read
    if (options.from_line > 1 && end.cursor.line < options.from_line && !piece.chunk.open) continue;
    if (!on_piece(piece)) {
      end.stopped = true;
      break;
    }
  }
  if (end.state.is_null()) end.state = StateOf(conn, job_id);
  return end;
}

}  // namespace kiln
