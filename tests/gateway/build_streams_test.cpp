// GET /builds/{id}/events and /builds/{id}/logs end to end: a real nats-server, worker and
// `kiln gateway`, read with raw HTTP (Server-Sent Events, as a browser's EventSource reads
// them), a reconnect with Last-Event-ID included.
#include "gateway_fixture.hpp"
#include "gateway/raw_http_connection.hpp"

namespace kiln::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct ServerSentEvent {
  std::string id;
  std::string event;
  std::string data;
};

// A stream read until its "end" event (or the deadline, or the server closing it).
struct ReadStream {
  std::string head;  // the status line and headers
  std::vector<ServerSentEvent> events;
  bool ended = false;
};

std::vector<ServerSentEvent> ParseEvents(const std::string& body) {
  std::vector<ServerSentEvent> out;
  std::size_t start = 0;
  while (true) {
    auto blank = body.find("\n\n", start);
    if (blank == std::string::npos) break;
    ServerSentEvent ev;
    bool has_data = false;
    std::string block = body.substr(start, blank - start);
    start = blank + 2;
    std::size_t line_start = 0;
    while (line_start <= block.size()) {
      auto nl = block.find('\n', line_start);
      std::string line = block.substr(line_start, nl == std::string::npos ? std::string::npos : nl - line_start);
      if (line.rfind("id: ", 0) == 0) ev.id = line.substr(4);
      else if (line.rfind("event: ", 0) == 0) ev.event = line.substr(7);
      else if (line.rfind("data: ", 0) == 0) {
        ev.data += (has_data ? "\n" : "") + line.substr(6);
        has_data = true;
      }
      if (nl == std::string::npos) break;
      line_start = nl + 1;
    }
    if (has_data) out.push_back(ev);  // as EventSource does: a block without data (retry:) is no event
  }
  return out;
}

class BuildStreamsTest : public GatewayTest {
 protected:
  std::string Request(const std::string& path, const std::string& last_event_id = "", const std::string& token = kApiToken) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    return req + "\r\n";
  }

  /// Reads `conn`'s stream until `stop_when` says so for the events so far, the "end"
  /// event, or `timeout`.
  static ReadStream Read(RawHttpConnection& conn, milliseconds timeout,
                         const std::function<bool(const std::vector<ServerSentEvent>&)>& stop_when = nullptr) {
    ReadStream out;
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      text += conn.ReadRaw(milliseconds(50));
      auto head_end = text.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      out.head = text.substr(0, head_end);
      // No framing but the events' own: the body runs until either side closes.
      out.events = ParseEvents(text.substr(head_end + 4));
      out.ended = !out.events.empty() && out.events.back().event == "end";
      if (out.ended || (stop_when && stop_when(out.events))) break;
    }
    return out;
  }

  /// The text of a log stream's chunks, in order.
  static std::string LogText(const std::vector<ServerSentEvent>& events) {
    std::string text;
    for (const auto& ev : events) {
      if (ev.event == "end") continue;
      text += nlohmann::json::parse(ev.data).value("text", "");
    }
    return text;
  }

  std::string StartJob(const std::string& delivery) {
    auto res = Deliver("push", delivery, PushPayload("refs/heads/main", kPreviousCommit, kPushedCommit));
    EXPECT_TRUE(res && res->status == 202) << (res ? res->body : "no answer");
    return Json(res).value("job", "");
  }
};

// 40 lines, a pause, 20 more, then a failing step: the stream is open while the job runs.
constexpr const char* kTwoBatchesThenAFailure = R"(
kiln.step("count", function()
  kiln.exec { cmd = { "sh", "-c", "for i in $(seq 1 40); do echo line $i; done; sleep 2; for i in $(seq 41 60); do echo line $i; done" } }
end)
kiln.step("fail", function() kiln.exec { cmd = { "sh", "-c", "echo boom" } }; error("failing on purpose") end)
)";

std::string ExpectedLog() {
  std::string text;
  for (int i = 1; i <= 60; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

TEST_F(BuildStreamsTest, TheLogStreamsLiveAndAReconnectResumesWithoutGapOrRepeat) {
  WritePipeline("Codertocat/Hello-World", kTwoBatchesThenAFailure);
  StartWorker();
  StartGateway();
  const std::string id = StartJob("logs-1");
  ASSERT_FALSE(id.empty());

  // First connection: read until line 40 arrived, then go away mid-job.
  ReadStream first;
  {
    RawHttpConnection conn(port_);
    ASSERT_TRUE(conn.Send(Request("/builds/" + id + "/logs")));
    first = Read(conn, seconds(30), [](const std::vector<ServerSentEvent>& events) {
      return LogText(events).find("line 40\n") != std::string::npos;
    });
  }
  EXPECT_NE(first.head.find("200"), std::string::npos) << first.head;
  EXPECT_NE(first.head.find("text/event-stream"), std::string::npos) << first.head;
  ASSERT_FALSE(first.events.empty());
  ASSERT_FALSE(first.ended) << "the job was still running (sleep 2): the stream was live";
  auto running = State(id);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->state.value("status", ""), "running") << running->state.dump();

  // Reconnect as EventSource does, with the last id it saw: the rest, to the end.
  RawHttpConnection again(port_);
  ASSERT_TRUE(again.Send(Request("/builds/" + id + "/logs", first.events.back().id)));
  ReadStream rest = Read(again, seconds(30));
  ASSERT_TRUE(rest.ended) << "no end event; got " << rest.events.size() << " events";
  auto ended = State(id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(nlohmann::json::parse(rest.events.back().data).value("status", ""), ended->state.value("status", ""));
  EXPECT_TRUE(again.ClosedByPeer(seconds(5))) << "the server closes the stream after its end";

  // Every line exactly once, in order, across both connections.
  std::string all = LogText(first.events) + LogText(rest.events);
  EXPECT_EQ(all.substr(0, all.find("boom")), ExpectedLog()) << all;
  EXPECT_NE(all.find("boom\n"), std::string::npos) << all;
  // Line numbers continue over the reconnect, and each id is the cursor after its chunk.
  auto first_of_rest = nlohmann::json::parse(rest.events.front().data);
  const std::string last_id = first.events.back().id;
  EXPECT_EQ(first_of_rest.value("line", 0u), std::stoul(last_id.substr(last_id.find(':') + 1)) + 1);

  // After the end, a reconnect with the last id gets the end at once and nothing else.
  RawHttpConnection after_end(port_);
  ASSERT_TRUE(after_end.Send(Request("/builds/" + id + "/logs", rest.events[rest.events.size() - 2].id)));
  ReadStream nothing = Read(after_end, seconds(10));
  ASSERT_TRUE(nothing.ended) << nothing.head;
  EXPECT_EQ(nothing.events.size(), 1u);
}

TEST_F(BuildStreamsTest, TheEventStreamEndsWithTheJobAndResumesAfterLastEventId) {
  WritePipeline("Codertocat/Hello-World", kTwoBatchesThenAFailure);
  StartWorker();
  StartGateway();
  const std::string id = StartJob("events-1");
  ASSERT_FALSE(id.empty());

  RawHttpConnection conn(port_);
  ASSERT_TRUE(conn.Send(Request("/builds/" + id + "/events")));
  ReadStream all = Read(conn, seconds(30));
  ASSERT_TRUE(all.ended);
  auto ended = State(id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(nlohmann::json::parse(all.events.back().data).value("status", ""), ended->state.value("status", ""));
  std::vector<std::string> types;
  for (std::size_t i = 0; i + 1 < all.events.size(); ++i) {
    types.push_back(nlohmann::json::parse(all.events[i].data).value("type", ""));
    if (i > 0) {
      EXPECT_GT(std::stoull(all.events[i].id), std::stoull(all.events[i - 1].id));
    }
  }
  ASSERT_GE(types.size(), 4u);
  EXPECT_EQ(types.back(), "job." + ended->state.value("status", ""));
  EXPECT_NE(std::find(types.begin(), types.end(), "step.started"), types.end());
  // The same as stored on BUILD_EVENTS.
  EXPECT_EQ(types.size(), Events(id).size());

  // Resumed after the second event: the third onwards, nothing before.
  RawHttpConnection again(port_);
  ASSERT_TRUE(again.Send(Request("/builds/" + id + "/events", all.events[1].id)));
  ReadStream rest = Read(again, seconds(10));
  ASSERT_TRUE(rest.ended);
  ASSERT_EQ(rest.events.size(), all.events.size() - 2);
  for (std::size_t i = 0; i < rest.events.size(); ++i) {
    EXPECT_EQ(rest.events[i].id, all.events[i + 2].id);
    EXPECT_EQ(rest.events[i].data, all.events[i + 2].data);
  }
}

TEST_F(BuildStreamsTest, StreamsNeedTheTokenAJobAndAWellFormedLastEventId) {
  StartGateway();
  auto answer = [&](const std::string& request) {
    RawHttpConnection conn(port_);
    EXPECT_TRUE(conn.Send(request));
    return conn.Read();
  };
  const std::string unknown = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
  EXPECT_EQ(answer(Request("/builds/" + unknown + "/events", "", "")).status, 401);
  EXPECT_EQ(answer(Request("/builds/" + unknown + "/logs", "", "wrong")).status, 401);
  RawAnswer missing = answer(Request("/builds/" + unknown + "/events"));
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.body.find("no job with id"), std::string::npos) << missing.body;
  EXPECT_EQ(answer(Request("/builds/not.an.id/logs")).status, 400);

  const std::string id = StartJob("refusals-1");  // queued: no worker runs it
  RawAnswer bad_events = answer(Request("/builds/" + id + "/events", "7:3"));
  EXPECT_EQ(bad_events.status, 400);
  EXPECT_NE(bad_events.body.find("Last-Event-ID"), std::string::npos) << bad_events.body;
  RawAnswer bad_logs = answer(Request("/builds/" + id + "/logs", "7"));
  EXPECT_EQ(bad_logs.status, 400);
  EXPECT_NE(bad_logs.body.find("'<sequence>:<line>'"), std::string::npos) << bad_logs.body;
}

}  // namespace
}  // namespace kiln::testing
