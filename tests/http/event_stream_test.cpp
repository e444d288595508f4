// The HTTP server's stream routes (HttpRouter::Stream), in process on loopback: a handler
// takes the connection over as Server-Sent Events and feeds it from another thread; the
// stream learns when the client goes away. The gateway's /builds/{id}/events and /logs
// build on this (tests/gateway/build_streams_test.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "gateway/raw_http_connection.hpp"
#include "http/http_server.hpp"

namespace kiln::testing {
namespace {

class EventStreamTest : public ::testing::Test {
 protected:
  void Serve(HttpRouter router) {
    server_ = std::make_unique<HttpServer>(HttpLimits(), std::move(router), "test");
    ASSERT_TRUE(server_->Bind("127.0.0.1", 0));
    thread_ = std::thread([this] { server_->Serve(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    for (auto& t : feeders_) t.join();
    server_.reset();
  }
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::vector<std::thread> feeders_;
};

std::string ReadUntil(RawHttpConnection& conn, const std::string& marker) {
  // The stream has no Content-Length: read what comes until `marker` or the peer closes.
  std::string text;
  for (int i = 0; i < 100 && text.find(marker) == std::string::npos; ++i) {
    text += conn.ReadRaw(std::chrono::milliseconds(100));
  }
  return text;
}

TEST(FormatServerSentEvent, WritesIdEventAndOneDataLinePerLine) {
  EXPECT_EQ(FormatServerSentEvent("7", "step", "a\nb"), "id: 7\nevent: step\ndata: a\ndata: b\n\n");
  EXPECT_EQ(FormatServerSentEvent("", "", "x"), "data: x\n\n");
}

TEST_F(EventStreamTest, AHandlerFeedsTheStreamFromAnotherThreadResumingAfterLastEventId) {
  std::atomic<bool> client_gone{false};
  HttpRouter router;
  router.Stream("/builds/{}/events", [&](const HttpRequest& req, const std::shared_ptr<EventStream>& stream)
                                         -> std::optional<HttpResponse> {
    if (req.params[0] != "job-1") return JsonError(404, "no job");
    int from = req.header("Last-Event-ID").empty() ? 0 : std::stoi(req.header("Last-Event-ID"));
    stream->OnClose([&] { client_gone = true; });
    feeders_.emplace_back([stream, from] {
      for (int seq = from + 1; seq <= from + 3; ++seq) stream->Send(std::to_string(seq), "event", "{\"seq\":" + std::to_string(seq) + "}");
    });
    return std::nullopt;
  });
  Serve(std::move(router));

  {
    RawHttpConnection conn(server_->port());
    ASSERT_TRUE(conn.Send("GET /builds/job-1/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 4\r\n\r\n"));
    std::string text = ReadUntil(conn, "id: 7\n");
    EXPECT_NE(text.find("text/event-stream"), std::string::npos) << text;
    // A dropped client reconnects within a quarter second, not the browser's ~3 s.
    EXPECT_NE(text.find("\r\n\r\nretry: 250\n\n"), std::string::npos) << text;
    EXPECT_NE(text.find("id: 5\nevent: event\ndata: {\"seq\":5}\n\n"), std::string::npos) << text;
    EXPECT_NE(text.find("id: 7\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("id: 4\n"), std::string::npos) << "resumed after Last-Event-ID, not at it: " << text;
  }
  // The client went away: the handler hears it (and would drop its NATS subscription).
  for (int i = 0; i < 100 && !client_gone; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(client_gone);

  // A refusal from a stream handler is an ordinary JSON answer.
  RawHttpConnection other(server_->port());
  ASSERT_TRUE(other.Send("GET /builds/job-2/events HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(other.Read().status, 404);
}

TEST_F(EventStreamTest, AStreamEndedBeforeItsHandlerReturnedStillSendsHeadersAndEvents) {
  // Nothing left to follow (a job that ended): the handler sends its last event and closes
  // at once, before the server started the stream.
  HttpRouter router;
  router.Stream("/done", [](const HttpRequest&, const std::shared_ptr<EventStream>& stream) -> std::optional<HttpResponse> {
    stream->Send("", "end", "{}");
    stream->Close();
    return std::nullopt;
  });
  Serve(std::move(router));
  RawHttpConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /done HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string text = ReadUntil(conn, "data: {}\n\n");
  EXPECT_EQ(text.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\n\r\nretry: 250\n\nevent: end\ndata: {}\n\n"), std::string::npos) << text;
  EXPECT_TRUE(conn.ClosedByPeer(std::chrono::seconds(5)));
}

TEST_F(EventStreamTest, ABurstOfEventsArrivesWholeAndInOrder) {
  // A log's replay: thousands of events queued faster than the socket takes them, written
  // several at a time; none lost, none reordered, none cut.
  constexpr int kEvents = 5000;
  HttpRouter router;
  router.Stream("/burst", [this](const HttpRequest&, const std::shared_ptr<EventStream>& stream) -> std::optional<HttpResponse> {
    feeders_.emplace_back([stream] {
      for (int i = 1; i <= kEvents; ++i) stream->Send(std::to_string(i), "", std::string(100, 'a' + i % 26));
      stream->Close();
    });
    return std::nullopt;
  });
  Serve(std::move(router));
  RawHttpConnection conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /burst HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string last = "id: " + std::to_string(kEvents) + "\ndata: " + std::string(100, 'a' + kEvents % 26) + "\n\n";
  std::string text = ReadUntil(conn, last);
  std::size_t at = text.find("\r\n\r\n");
  ASSERT_NE(at, std::string::npos) << text.substr(0, 300);
  at = text.find("id: ", at);
  for (int i = 1; i <= kEvents; ++i) {
    const std::string event = "id: " + std::to_string(i) + "\ndata: " + std::string(100, 'a' + i % 26) + "\n\n";
    ASSERT_EQ(text.compare(at, event.size(), event), 0) << "event " << i << " at byte " << at;
    at += event.size();
  }
  EXPECT_EQ(at, text.size());
}

}  // namespace
}  // namespace kiln::testing
