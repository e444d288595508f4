// kiln_bench_gateway_http ROUNDS CLIENTS REQUESTS_PER_CLIENT: signed webhook deliveries per
// second through the new server (http/HttpServer, Boost.Beast) and the old one (cpp-httplib
// 0.11.4, configured as `kiln gateway` had it: 25 MiB payload cap, its default 8 threads),
// alternating in each round, same handler on both: the HMAC-SHA256 check of
// X-Hub-Signature-256 over the body and a JSON answer (what a ping delivery costs, without
// NATS, so the figure is the servers' own); the old one also with TCP_NODELAY. Each client is a thread with one keep-alive
// connection (cpp-httplib's client). Prints one line per server and round:
//   <server> <round> <requests/s>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gateway/webhook_signature.hpp"
#include "http/http_server.hpp"

namespace {

constexpr const char* kSecret = "bench-secret";

// The shared handler: what both servers run for a delivery.
std::pair<int, std::string> HandleDelivery(const std::string& signature, const std::string& body) {
  if (!kiln::VerifyGitHubSignature(kSecret, body, signature)) return {401, "{\"error\":\"signature\"}\n"};
  return {200, "{\"pong\":true}\n"};
}

double Drive(int port, int clients, int per_client, const std::string& body, const std::string& signature) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle and delayed ACKs (40 ms) time the client, not the server
      httplib::Headers headers = {{"X-GitHub-Event", "ping"}, {"X-Hub-Signature-256", signature}};
      for (int i = 0; i < per_client; ++i) {
        auto res = client.Post("/webhooks/github", headers, body, "application/json");
        if (!res || res->status != 200) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failures > 0) std::fprintf(stderr, "%d failed requests\n", failures.load());
  return clients * per_client / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  int clients = argc > 2 ? std::atoi(argv[2]) : 8;
  int per_client = argc > 3 ? std::atoi(argv[3]) : 2000;
  std::string body(7 * 1024, ' ');  // about the size of GitHub's documented push payload
  body.replace(0, 2, "{}");
  std::string signature = kiln::GitHubSignature(kSecret, body);

  kiln::HttpRouter router;
  router.Post("/webhooks/github", [](const kiln::HttpRequest& req) {
    auto [status, json] = HandleDelivery(req.header("X-Hub-Signature-256"), req.body);
    kiln::HttpResponse res;
    res.status = status;
    res.content_type = "application/json";
    res.body = json;
    return res;
  });
  kiln::HttpServer beast(kiln::HttpLimits(), std::move(router), "bench");
  if (!beast.Bind("127.0.0.1", 0)) return 1;
  std::thread beast_thread([&] { beast.Serve(); });

  // The old server as the gateway ran it (no TCP_NODELAY, cpp-httplib's default), and the
  // same with TCP_NODELAY, so the comparison is not only about Nagle's algorithm.
  httplib::Server old;
  httplib::Server old_nodelay;
  old_nodelay.set_tcp_nodelay(true);
  for (httplib::Server* server : {&old, &old_nodelay}) {
    server->set_payload_max_length(25 * 1024 * 1024);
    server->Post("/webhooks/github", [](const httplib::Request& req, httplib::Response& res) {
      auto [status, json] = HandleDelivery(req.get_header_value("X-Hub-Signature-256"), req.body);
      res.status = status;
      res.set_content(json, "application/json");
    });
  }
  int old_port = old.bind_to_any_port("127.0.0.1");
  int old_nodelay_port = old_nodelay.bind_to_any_port("127.0.0.1");
  std::thread old_thread([&] { old.listen_after_bind(); });
  std::thread old_nodelay_thread([&] { old_nodelay.listen_after_bind(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  struct Subject {
    const char* name;
    int port;
  };
  std::vector<Subject> subjects = {{"beast", beast.port()}, {"httplib", old_port}, {"httplib-nodelay", old_nodelay_port}};
  for (int round = 1; round <= rounds; ++round) {
    // Rotate which goes first, so a load change on the machine hits all alike.
    for (std::size_t k = 0; k < subjects.size(); ++k) {
      const Subject& s = subjects[(k + static_cast<std::size_t>(round)) % subjects.size()];
      double rate = Drive(s.port, clients, per_client, body, signature);
      std::printf("%s %d %.0f\n", s.name, round, rate);
      std::fflush(stdout);
    }
  }
  beast.Stop();
  old.stop();
  old_nodelay.stop();
  beast_thread.join();
  old_thread.join();
  old_nodelay_thread.join();
  return 0;
}
