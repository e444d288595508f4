// What each kind of NATS operation costs nats-server, in CPU per operation: the pieces a
// kiln job is made of (KV get, KV create/update, stored event publish, ack), measured one
// kind at a time so the CPU per job of bench.sh's two sides can be explained.
//
//   kiln_bench_server_cost NATS_URL SERVER_PID N THREADS
//
// Each operation kind runs N times from THREADS threads (as the worker's pool does) against
// its own stream; the line printed per kind: wall time, operations per second, and the CPU
// (user + system, from /proc/SERVER_PID/stat) nats-server spent per operation.
#include <nats/nats.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (in parentheses, may hold spaces): utime is the 14th field.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::vector<std::string> fields((std::istream_iterator<std::string>(rest)), std::istream_iterator<std::string>());
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / tick;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Setup {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
};

void AddStream(jsCtx* js, const char* name, const char* subject, jsRetentionPolicy retention) {
  jsErrCode code;
  js_DeleteStream(js, name, nullptr, &code);
  const char* subjects[] = {subject};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = name;
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Retention = retention;
  sc.Storage = js_FileStorage;
  if (js_AddStream(nullptr, js, &sc, nullptr, &code) != NATS_OK) {
    std::fprintf(stderr, "cannot create stream %s\n", name);
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s NATS_URL SERVER_PID N THREADS\n", argv[0]);
    return 2;
  }
  nats_Open(0);
  const char* url = argv[1];
  const int pid = std::atoi(argv[2]);
  const int n = std::atoi(argv[3]);
  const int threads = std::atoi(argv[4]);
  Setup s;
  if (natsConnection_ConnectTo(&s.nc, url) != NATS_OK) return 2;
  jsOptions jso;
  jsOptions_Init(&jso);
  jso.PublishAsync.MaxPending = 4096;
  natsConnection_JetStream(&s.js, s.nc, &jso);

  // A 300-byte body, about the size of a kiln event; a 600-byte one for KV states.
  const std::string event(300, 'e');
  const std::string state(600, 's');

  kvStore* kv = nullptr;
  {
    jsErrCode code;
    js_DeleteStream(s.js, "KV_costbench", nullptr, &code);
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = "costbench";
    cfg.History = 5;
    cfg.StorageType = js_FileStorage;
    if (js_CreateKeyValue(&kv, s.js, &cfg) != NATS_OK) return 2;
  }
  AddStream(s.js, "COST_EVENTS", "cost.events.>", js_LimitsPolicy);
  AddStream(s.js, "COST_QUEUE", "cost.queue", js_WorkQueuePolicy);

  // `done`, when given, runs after the operations, inside the measurement (waits for the
  // acknowledgements of asynchronous publishes).
  auto run = [&](const char* what, const std::function<void(int)>& op, const std::function<void()>& done = {}) {
    std::atomic<int> next{0};
    const double cpu0 = CpuSeconds(pid);
    const double t0 = Now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) op(i);
      });
    }
    for (auto& t : pool) t.join();
    if (done) done();
    const double wall = Now() - t0;
    const double cpu = CpuSeconds(pid) - cpu0;
    std::printf("%-34s %6d ops in %5.2f s = %6.0f ops/s; nats-server %4.0f us/op\n", what, n, wall, n / wall,
                cpu / n * 1e6);
    std::fflush(stdout);
  };
  auto key = [](const char* prefix, int i) { return std::string(prefix) + std::to_string(i); };

  run("core publish (not stored)", [&](int) {
    natsConnection_Publish(s.nc, "cost.core", event.data(), static_cast<int>(event.size()));
  }, [&] { natsConnection_Flush(s.nc); });
  run("stored publish, sync (js_Publish)", [&](int i) {
    std::string subject = key("cost.events.", i % 64);
    js_Publish(nullptr, s.js, subject.c_str(), event.data(), static_cast<int>(event.size()), nullptr, nullptr);
  });
  run("stored publish, async", [&](int i) {
    std::string subject = key("cost.events.", i % 64);
    js_PublishAsync(s.js, subject.c_str(), event.data(), static_cast<int>(event.size()), nullptr);
  }, [&] {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    js_PublishAsyncComplete(s.js, &po);
  });
  run("KV create (new key)", [&](int i) {
    std::uint64_t rev = 0;
    kvStore_Create(&rev, kv, key("k", i).c_str(), state.data(), static_cast<int>(state.size()));
  });
  run("KV get (direct get)", [&](int i) {
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, kv, key("k", i).c_str()) == NATS_OK) kvEntry_Destroy(e);
  });
  run("KV get of a missing key", [&](int i) {
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, kv, key("missing", i).c_str()) == NATS_OK) kvEntry_Destroy(e);
  });
  std::vector<std::uint64_t> revisions(static_cast<std::size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    kvEntry* entry = nullptr;
    if (kvStore_Get(&entry, kv, key("k", i).c_str()) == NATS_OK) {
      revisions[static_cast<std::size_t>(i)] = kvEntry_Revision(entry);
      kvEntry_Destroy(entry);
    }
  }
  run("KV update (compare-and-set)", [&](int i) {
    std::uint64_t rev = 0;
    kvStore_Update(&rev, kv, key("k", i).c_str(), state.data(), static_cast<int>(state.size()),
                   revisions[static_cast<std::size_t>(i)]);
  });
  run("KV create over an existing key", [&](int i) {
    std::uint64_t rev = 0;
    kvStore_Create(&rev, kv, key("k", i).c_str(), state.data(), static_cast<int>(state.size()));
  });

  // The plain consumer's work per message: publish (sync), fetch 1, ack (sync or not).
  for (bool sync : {true, false}) {
    AddStream(s.js, "COST_QUEUE", "cost.queue", js_WorkQueuePolicy);
    jsErrCode code;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "cost";
    cc.AckPolicy = js_AckExplicit;
    cc.MaxAckPending = 1024;
    js_AddConsumer(nullptr, s.js, "COST_QUEUE", &cc, nullptr, &code);
    run("work-queue publish (sync)", [&](int) {
      js_Publish(nullptr, s.js, "cost.queue", event.data(), static_cast<int>(event.size()), nullptr, nullptr);
    });
    std::vector<natsSubscription*> subs(static_cast<std::size_t>(threads), nullptr);
    std::atomic<int> slot{0};
    thread_local natsSubscription* mine = nullptr;
    run(sync ? "fetch(1) + AckSync" : "fetch(1) + Ack (no reply)", [&](int) {
      if (mine == nullptr) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "COST_QUEUE";
        so.Consumer = "cost";
        js_PullSubscribe(&mine, s.js, "cost.queue", "cost", nullptr, &so, nullptr);
        subs[static_cast<std::size_t>(slot.fetch_add(1))] = mine;
      }
      natsMsgList list{nullptr, 0};
      if (natsSubscription_Fetch(&list, mine, 1, 2000, nullptr) != NATS_OK) return;
      for (int m = 0; m < list.Count; ++m) {
        if (sync) natsMsg_AckSync(list.Msgs[m], nullptr, nullptr);
        else natsMsg_Ack(list.Msgs[m], nullptr);
      }
      natsMsgList_Destroy(&list);
    });
    natsConnection_Flush(s.nc);
    for (auto* sub : subs) {
      if (sub != nullptr) natsSubscription_Destroy(sub);
    }
    mine = nullptr;
  }

  jsErrCode code;
  kvStore_Destroy(kv);
  js_DeleteStream(s.js, "KV_costbench", nullptr, &code);
  js_DeleteStream(s.js, "COST_EVENTS", nullptr, &code);
  js_DeleteStream(s.js, "COST_QUEUE", nullptr, &code);
  jsCtx_Destroy(s.js);
  natsConnection_Destroy(s.nc);
  return 0;
}
