// Both sides of bench/worker, measured the same way by one program:
//
//   kiln_bench_plain_consumer NATS_URL N POOL plain [NAME=PID ...]
//     publishes N messages on a work-queue stream and consumes them with a plain cnats pull
//     consumer (fetch + ack, POOL threads): done = acked.
//   kiln_bench_plain_consumer NATS_URL N POOL kiln
//     publishes N no-op kiln jobs (pipeline "noop") on builds.webhook for the `kiln worker`s
//     started by bench.sh: done = its job.succeeded event arrived on builds.status.>.
//
// Two phases each: a burst of N (throughput = N / time to the last done) and a paced run
// of N/2 jobs, one every 20 ms (latency publish -> done, p50 and p99, without queueing).
// For each NAME=PID given (nats-server, the worker), the CPU (user + system) that process
// used per job in each phase: the burst shows the cost of a job under load; the paced phase
// includes the idle polling between jobs.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Tracker {
  std::mutex mutex;
  std::unordered_map<std::string, int64_t> sent;  // id -> publish time
  std::vector<int64_t> latencies;
  std::atomic<int> done{0};
  void Sent(const std::string& id) {
    std::lock_guard lock(mutex);
    sent[id] = NowNs();
  }
  void Done(const std::string& id) {
    int64_t now = NowNs();
    std::lock_guard lock(mutex);
    auto it = sent.find(id);
    if (it == sent.end()) return;
    latencies.push_back(now - it->second);
    sent.erase(it);
    done.fetch_add(1);
  }
};

void OnStatus(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto event = nlohmann::json::parse(natsMsg_GetData(msg), natsMsg_GetData(msg) + natsMsg_GetDataLength(msg), nullptr,
                                     false);
  natsMsg_Destroy(msg);
  if (event.is_object() && event.value("type", "") == "job.succeeded") {
    static_cast<Tracker*>(closure)->Done(event.value("job", ""));
  }
}

// CPU seconds (user + system) process `pid` used so far.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) return 0;
  // The command name (in parentheses) may hold spaces; utime and stime are fields 14 and 15.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::vector<std::string> fields((std::istream_iterator<std::string>(rest)), std::istream_iterator<std::string>());
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Watched {
  std::string name;
  int pid;
};
std::vector<double> CpuOf(const std::vector<Watched>& watched) {
  std::vector<double> out;
  for (const auto& w : watched) out.push_back(CpuSeconds(w.pid));
  return out;
}
std::string CpuReport(const char* phase, const std::vector<Watched>& watched, const std::vector<double>& before,
                      int jobs) {
  if (watched.empty() || jobs == 0) return "";
  std::string out = std::string("\n       cpu per job, ") + phase + ":";
  auto after = CpuOf(watched);
  for (std::size_t i = 0; i < watched.size(); ++i) {
    char buf[128];
    std::snprintf(buf, sizeof buf, " %s %.0f us", watched[i].name.c_str(), (after[i] - before[i]) / jobs * 1e6);
    out += buf;
  }
  return out;
}

double Pct(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s NATS_URL N POOL plain|kiln [NAME=PID ...]\n", argv[0]);
    return 2;
  }
  std::vector<Watched> watched;
  for (int i = 5; i < argc; ++i) {
    std::string arg = argv[i];
    auto eq = arg.find('=');
    if (eq == std::string::npos) continue;
    watched.push_back({arg.substr(0, eq), std::atoi(arg.c_str() + eq + 1)});
  }
  if (!watched.empty()) watched.push_back({"this client", static_cast<int>(getpid())});
  const char* url = argv[1];
  const int n = std::atoi(argv[2]);
  const int pool = std::atoi(argv[3]);
  const bool kiln = std::string(argv[4]) == "kiln";
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url) != NATS_OK) return 2;
  jsCtx* js = nullptr;
  natsConnection_JetStream(&js, nc, nullptr);
  jsErrCode code;
  Tracker tracker;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  natsSubscription* status_sub = nullptr;
  const char* subject = kiln ? "builds.webhook" : "bench.plain";

  if (kiln) {
    natsConnection_Subscribe(&status_sub, nc, "builds.status.>", OnStatus, &tracker);
    natsConnection_Flush(nc);
  } else {
    js_DeleteStream(js, "BENCH_PLAIN", nullptr, &code);
    const char* subjects[] = {"bench.plain"};
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = "BENCH_PLAIN";
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_FileStorage;
    if (js_AddStream(nullptr, js, &sc, nullptr, &code) != NATS_OK) return 2;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "bench";
    cc.AckPolicy = js_AckExplicit;
    cc.MaxAckPending = pool * 64;
    js_AddConsumer(nullptr, js, "BENCH_PLAIN", &cc, nullptr, &code);
    for (int t = 0; t < pool; ++t) {
      threads.emplace_back([&] {
        natsSubscription* sub = nullptr;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "BENCH_PLAIN";
        so.Consumer = "bench";
        js_PullSubscribe(&sub, js, "bench.plain", "bench", nullptr, &so, nullptr);
        while (!stop.load()) {
          natsMsgList list{nullptr, 0};
          if (natsSubscription_Fetch(&list, sub, 1, 200, nullptr) != NATS_OK) continue;
          for (int i = 0; i < list.Count; ++i) {
            std::string id(natsMsg_GetData(list.Msgs[i]), static_cast<std::size_t>(natsMsg_GetDataLength(list.Msgs[i])));
            natsMsg_AckSync(list.Msgs[i], nullptr, nullptr);
            tracker.Done(id);
          }
          natsMsgList_Destroy(&list);
        }
        natsSubscription_Destroy(sub);
      });
    }
  }

  int seq = 0;
  auto publish = [&] {
    std::string id = std::string(kiln ? "bench-" : "plain-") + std::to_string(NowNs()) + "-" + std::to_string(seq++);
    std::string body = id;
    if (kiln) {
      body = nlohmann::json{{"id", id},
                            {"repo", {{"url", "https://example.invalid/bench/noop.git"}}},
                            {"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
                            {"pipeline", "noop"}}
                 .dump();
    }
    tracker.Sent(id);
    js_Publish(nullptr, js, subject, body.data(), static_cast<int>(body.size()), nullptr, nullptr);
  };
  auto wait_done = [&](int target) {
    auto deadline = NowNs() + 300'000'000'000LL;
    while (tracker.done.load() < target && NowNs() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };

  // Burst: throughput.
  auto cpu_burst = CpuOf(watched);
  int64_t start = NowNs();
  for (int i = 0; i < n; ++i) publish();
  wait_done(n);
  double seconds = static_cast<double>(NowNs() - start) / 1e9;
  int burst_done = tracker.done.load();
  std::string burst_cpu = CpuReport("burst", watched, cpu_burst, burst_done);
  auto cpu_paced = CpuOf(watched);
  {
    std::lock_guard lock(tracker.mutex);
    tracker.latencies.clear();
  }
  // Paced: latency without queueing.
  int paced = std::max(1, n / 2);
  for (int i = 0; i < paced; ++i) {
    publish();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  wait_done(burst_done + paced);
  std::string paced_cpu = CpuReport("paced", watched, cpu_paced, paced);
  std::vector<int64_t> latencies;
  {
    std::lock_guard lock(tracker.mutex);
    latencies = tracker.latencies;
  }
  std::printf("%-6s pool %d: %d jobs in %.2f s = %.0f jobs/s; paced %zu jobs: latency p50 %.2f ms, p99 %.2f ms%s%s%s\n",
              kiln ? "kiln" : "plain", pool, burst_done, seconds, burst_done / seconds, latencies.size(),
              Pct(latencies, 0.50), Pct(latencies, 0.99), burst_done < n ? " (INCOMPLETE)" : "", burst_cpu.c_str(),
              paced_cpu.c_str());
  stop.store(true);
  for (auto& t : threads) t.join();
  if (status_sub) natsSubscription_Destroy(status_sub);
  if (!kiln) js_DeleteStream(js, "BENCH_PLAIN", nullptr, &code);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return burst_done < n ? 1 : 0;
}
