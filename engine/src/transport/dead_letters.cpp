#include "transport/dead_letters.hpp"

#include "events/job_events.hpp"
#include "secrets/redactor.hpp"
#include "transport/jetstream_setup.hpp"

namespace kiln {

namespace {

constexpr std::size_t kMaxHeaderValue = 1024;
constexpr std::size_t kHeaderRoom = 8 * 1024;

std::string HeaderValue(std::string_view text) {
  std::string out = Redactor::redact_url_credentials(text).substr(0, kMaxHeaderValue);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

std::string GetHeader(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

}  // namespace

Result<bool> PublishDeadLetter(NatsConnection& conn, const DeadLetter& letter) {
  // The job message with the user-info of its URLs masked: BUILDS_DLQ keeps it for weeks
  // and `kiln dlq list` shows it. A replay therefore runs without those credentials.
  std::string body = Redactor::redact_url_credentials(letter.body);
  bool truncated = letter.truncated;
  int64_t max_payload = natsConnection_GetMaxPayload(conn.nc());
  if (max_payload > 0 && body.size() + kHeaderRoom > static_cast<std::size_t>(max_payload)) {
    body.resize(static_cast<std::size_t>(max_payload) - kHeaderRoom);
    truncated = true;
  }
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subjects::kDeadLetters, nullptr, body.data(), static_cast<int>(body.size()));
  if (s != NATS_OK) return MakeError("dead letter: " + NatsError(s));
  natsMsgHeader_Set(msg, "Kiln-Job-Id", HeaderValue(letter.job_id).c_str());
  natsMsgHeader_Set(msg, "Kiln-Reason", HeaderValue(letter.reason).c_str());
  if (!letter.error.empty()) natsMsgHeader_Set(msg, "Kiln-Error", HeaderValue(letter.error).c_str());
  natsMsgHeader_Set(msg, "Kiln-Attempts", std::to_string(letter.attempts).c_str());
  natsMsgHeader_Set(msg, "Kiln-Worker", HeaderValue(letter.worker).c_str());
  natsMsgHeader_Set(msg, "Kiln-Time", (letter.time.empty() ? NowIso8601() : letter.time).c_str());
  natsMsgHeader_Set(msg, "Kiln-Stream-Seq", std::to_string(letter.stream_seq).c_str());
  if (truncated) natsMsgHeader_Set(msg, "Kiln-Truncated", "true");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  std::string msg_id = "dlq-" + std::to_string(letter.stream_seq);
  if (letter.stream_seq != 0) po.MsgId = msg_id.c_str();
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(nullptr, conn.js(), msg, &po, &code);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) return MakeError("dead letter for job " + letter.job_id + ": " + NatsError(s));
  return true;
}

Result<std::vector<DeadLetter>> ListDeadLetters(NatsConnection& conn, std::size_t limit) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, conn.js(), subjects::kDeadLetterStream, nullptr, &code);
  if (s == NATS_NOT_FOUND) return std::vector<DeadLetter>{};
  if (s != NATS_OK) return MakeError("nats: reading stream BUILDS_DLQ: " + NatsError(s));
  std::uint64_t first = info->State.FirstSeq;
  std::uint64_t last = info->State.LastSeq;
  std::uint64_t count = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  std::vector<DeadLetter> out;
  if (count == 0) return out;
  for (std::uint64_t seq = first; seq <= last && seq != 0; ++seq) {
    natsMsg* msg = nullptr;
    s = js_GetMsg(&msg, conn.js(), subjects::kDeadLetterStream, seq, nullptr, &code);
    if (s == NATS_NOT_FOUND) continue;  // deleted (replayed)
    if (s != NATS_OK) return MakeError("nats: reading dead letter " + std::to_string(seq) + ": " + NatsError(s));
    DeadLetter letter;
    letter.dlq_seq = seq;
    letter.job_id = GetHeader(msg, "Kiln-Job-Id");
    letter.reason = GetHeader(msg, "Kiln-Reason");
    letter.error = GetHeader(msg, "Kiln-Error");
    try {
      letter.attempts = std::stoi(GetHeader(msg, "Kiln-Attempts"));
      letter.stream_seq = std::stoull(GetHeader(msg, "Kiln-Stream-Seq"));
    } catch (const std::exception&) {
    }
    letter.worker = GetHeader(msg, "Kiln-Worker");
    letter.time = GetHeader(msg, "Kiln-Time");
    letter.truncated = GetHeader(msg, "Kiln-Truncated") == "true";
    letter.body.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    out.push_back(std::move(letter));
  }
  if (limit != 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

Result<bool> DeleteDeadLetter(NatsConnection& conn, std::uint64_t dlq_seq) {
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteMsg(conn.js(), subjects::kDeadLetterStream, dlq_seq, nullptr, &code);
  if (s != NATS_OK) return MakeError("nats: deleting dead letter " + std::to_string(dlq_seq) + ": " + NatsError(s));
  return true;
}

}  // namespace kiln
