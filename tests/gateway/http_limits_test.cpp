// The gateway's HTTP server under hostile clients, with raw sockets against a real
// `kiln gateway` and nats-server: what each limit of the gateway section refuses, always
// with a JSON body, and that the server stays responsive meanwhile.
#include <zlib.h>

#include <thread>

#include "gateway_fixture.hpp"
#include "raw_http_connection.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string PercentEncode(const std::string& in) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// The request line and headers of a signed webhook POST, without the body's framing.
std::string WebhookHead(const std::string& signed_body, const std::string& delivery) {
  return "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: " + delivery +
         "\r\nX-Hub-Signature-256: " + GitHubSignature(kWebhookSecret, signed_body) +
         "\r\nContent-Type: application/json\r\n";
}

std::string Chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

std::string ErrorOf(const RawAnswer& answer) {
  auto json = nlohmann::json::parse(answer.body, nullptr, false);
  return json.is_object() ? json.value("error", "") : "";
}

class HttpLimitsTest : public GatewayTest {};

TEST_F(HttpLimitsTest, AChunkedBodyOverTheCapIs413AndAChunkedOneUnderItBuilds) {
  AppendGatewaySection("  max_body: 64KiB\n");
  StartGateway();
  {
    RawHttpConnection conn(port_);
    ASSERT_TRUE(conn.Send(WebhookHead("x", "chunk-1") + "Transfer-Encoding: chunked\r\n\r\n"));
    // 4 MiB in 16 KiB chunks: the server answers once the running total passes 64 KiB and
    // reads no further than it must (the sends may fail once it closed).
    for (int i = 0; i < 256 && conn.Send(Chunk(std::string(16 * 1024, ' '))); ++i) {
    }
    RawAnswer answer = conn.Read();
    EXPECT_EQ(answer.status, 413) << answer.headers;
    EXPECT_TRUE(Contains(ErrorOf(answer), "max_body")) << answer.body;
  }
  // Under the cap, in chunks, the signed push is read whole and queued.
  std::string body = BranchPush();
  RawHttpConnection conn(port_);
  std::string framed;
  for (std::size_t at = 0; at < body.size(); at += 1000) framed += Chunk(body.substr(at, 1000));
  ASSERT_TRUE(conn.Send(WebhookHead(body, "chunk-2") + "Transfer-Encoding: chunked\r\n\r\n" + framed + "0\r\n\r\n"));
  RawAnswer ok = conn.Read();
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(JobsInQueue(), 1u);
  auto metrics = Client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(Contains(metrics->body, "kiln_gateway_webhooks_total{result=\"too_large\"} 1")) << metrics->body;
}

TEST_F(HttpLimitsTest, ACompressedBodyIs415UnlessAllowedAndThenInflatesOnlyUpToTheCap) {
  StartGateway();
  std::string body = BranchPush();
  {
    RawHttpConnection conn(port_);
    std::string gz = Gzip(body);
    ASSERT_TRUE(conn.Send(WebhookHead(body, "gz-1") + "Content-Encoding: gzip\r\nContent-Length: " +
                          std::to_string(gz.size()) + "\r\n\r\n" + gz));
    RawAnswer answer = conn.Read();
    EXPECT_EQ(answer.status, 415) << answer.headers;
    EXPECT_TRUE(Contains(ErrorOf(answer), "allow_compressed_bodies")) << answer.body;
  }
  EXPECT_EQ(JobsInQueue(), 0u);

  workers_.clear();
  AppendGatewaySection("  max_body: 64KiB\n  allow_compressed_bodies: true\n");
  StartGateway();
  {
    // 64 MiB of spaces is a 64 KiB gzip: a bomb the server stops inflating at 64 KiB.
    std::string bomb = Gzip(std::string(64 * 1024 * 1024, ' '));
    ASSERT_LT(bomb.size(), 64u * 1024);
    RawHttpConnection conn(port_);
    ASSERT_TRUE(conn.Send(WebhookHead("x", "gz-2") + "Content-Encoding: gzip\r\nContent-Length: " +
                          std::to_string(bomb.size()) + "\r\n\r\n" + bomb));
    RawAnswer answer = conn.Read();
    EXPECT_EQ(answer.status, 413) << answer.headers;
    EXPECT_TRUE(Contains(ErrorOf(answer), "inflated")) << answer.body;
  }
  // Allowed and under the cap: inflated, the signature checked over the inflated payload.
  RawHttpConnection conn(port_);
  std::string gz = Gzip(body);
  ASSERT_TRUE(conn.Send(WebhookHead(body, "gz-3") + "Content-Encoding: gzip\r\nContent-Length: " +
                        std::to_string(gz.size()) + "\r\n\r\n" + gz));
  RawAnswer ok = conn.Read();
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(JobsInQueue(), 1u);
}

TEST_F(HttpLimitsTest, SlowHeadersGet408WhileHealthzStaysResponsive) {
  AppendGatewaySection("  header_timeout: 2s\n");
  StartGateway();
  // 16 clients that send part of a request and then one header line every 300 ms (more
  // than the 8 threads cpp-httplib had): each holds a connection, none holds a thread.
  constexpr int kSlow = 16;
  std::vector<std::unique_ptr<RawHttpConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawHttpConnection>(port_));
    ASSERT_TRUE(slow.back()->Send("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    for (int line = 0; trickling && line < 40; ++line) {
      for (auto& conn : slow) conn->Send("X-Slow-" + std::to_string(line) + ": still coming\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  for (int i = 0; i < 5; ++i) {
    auto health = Client().Get("/healthz");
    ASSERT_TRUE(health) << "GET /healthz failed while slow clients held connections";
    EXPECT_EQ(health->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Sending header lines does not extend the deadline: every slow client gets 408.
  for (auto& conn : slow) {
    RawAnswer answer = conn->Read(std::chrono::seconds(20));
    EXPECT_EQ(answer.status, 408) << answer.headers;
    EXPECT_TRUE(Contains(ErrorOf(answer), "header_timeout")) << answer.body;
  }
  trickling = false;
  trickle.join();
}

TEST_F(HttpLimitsTest, ConnectionsOverTheCapsAreRefusedWithJson) {
  AppendGatewaySection("  max_connections: 4\n  max_connections_per_address: 2\n");
  StartGateway();
  // The per-address cap: a third connection from 127.0.0.1 is refused, one from 127.0.0.2
  // (another client) is not.
  std::vector<std::unique_ptr<RawHttpConnection>> held;
  for (int i = 0; i < 2; ++i) held.push_back(std::make_unique<RawHttpConnection>(port_));
  // Accepted connections are counted asynchronously; a request on each makes sure of it.
  for (auto& conn : held) {
    ASSERT_TRUE(conn->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(conn->Read().status, 200);
  }
  RawHttpConnection third(port_);
  RawAnswer refused = third.Read();
  EXPECT_EQ(refused.status, 429) << refused.headers;
  EXPECT_TRUE(Contains(ErrorOf(refused), "max_connections_per_address")) << refused.body;

  for (const char* source : {"127.0.0.2", "127.0.0.3"}) {
    held.push_back(std::make_unique<RawHttpConnection>(port_, source));
    ASSERT_TRUE(held.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(held.back()->Read().status, 200) << source;
  }
  // Four open: the server-wide cap.
  RawHttpConnection fifth(port_, "127.0.0.4");
  RawAnswer full = fifth.Read();
  EXPECT_EQ(full.status, 503) << full.headers;
  EXPECT_TRUE(Contains(ErrorOf(full), "max_connections")) << full.body;

  // A closed connection frees its place.
  held.erase(held.begin());
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    RawHttpConnection again(port_);
    again.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    status = again.Read().status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpLimitsTest, KeepAliveServesSeveralRequestsThenClosesWhenIdle) {
  AppendGatewaySection("  idle_timeout: 1s\n");
  StartGateway();
  RawHttpConnection conn(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(conn.Read().status, 200) << "request " << i << " on one connection";
  }
  EXPECT_TRUE(conn.ClosedByPeer(std::chrono::seconds(15))) << "an idle connection outlived gateway.idle_timeout";
}

TEST_F(HttpLimitsTest, EveryRefusalOfTheServerHasAJsonBody) {
  StartGateway();
  struct Case {
    std::string request;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404},
           {"DELETE /webhooks/github HTTP/1.1\r\nHost: x\r\n\r\n", 405},
           {"GARBAGE\r\n\r\n", 400},
           {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 * 1024, 'a') + "\r\n\r\n", 431},
           {"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 26214401\r\n\r\n", 413},
       }) {
    RawHttpConnection conn(port_);
    ASSERT_TRUE(conn.Send(c.request));
    RawAnswer answer = conn.Read();
    EXPECT_EQ(answer.status, c.status) << c.request.substr(0, 40);
    EXPECT_TRUE(Contains(answer.headers, "application/json")) << answer.headers;
    EXPECT_FALSE(ErrorOf(answer).empty()) << answer.body;
  }
}

TEST_F(HttpLimitsTest, GitHubsFormEncodedDeliveryBuilds) {
  StartGateway();
  std::string body = "payload=" + PercentEncode(BranchPush());
  RawHttpConnection conn(port_);
  ASSERT_TRUE(conn.Send("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
                        "X-GitHub-Delivery: form-1\r\nX-Hub-Signature-256: " +
                        GitHubSignature(kWebhookSecret, body) +
                        "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
  RawAnswer answer = conn.Read();
  ASSERT_EQ(answer.status, 202) << answer.body;
  ASSERT_EQ(JobsInQueue(), 1u);
  auto [message, msg_id] = QueuedMessage(1);
  EXPECT_EQ(message["commit"], kPushedCommit);
  EXPECT_EQ(msg_id, "form-1");

  // The signature is over the form as sent: the same payload signed as JSON is refused.
  RawHttpConnection forged(port_);
  ASSERT_TRUE(forged.Send("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
                          "X-GitHub-Delivery: form-2\r\nX-Hub-Signature-256: " +
                          GitHubSignature(kWebhookSecret, BranchPush()) +
                          "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  EXPECT_EQ(forged.Read().status, 401);
  // A form without payload= is 400 naming the field.
  std::string empty = "other=1";
  RawHttpConnection missing(port_);
  ASSERT_TRUE(missing.Send("POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
                           "X-GitHub-Delivery: form-3\r\nX-Hub-Signature-256: " +
                           GitHubSignature(kWebhookSecret, empty) +
                           "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                           std::to_string(empty.size()) + "\r\n\r\n" + empty));
  RawAnswer refused = missing.Read();
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(Contains(ErrorOf(refused), "payload")) << refused.body;
}

}  // namespace
}  // namespace kiln::testing
