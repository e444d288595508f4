// A planted secret, run through a real `kiln worker`: logged by the script, echoed by a
// process, returned as step output and put in the error that kills the job. It must appear
// in none of the places a worker writes to: its log, the events in NATS, the KV state (every
// revision kept), the dead letter, and the error messages a person reads back (kiln status,
// kiln dlq list). `kiln run`'s output is tests/cli's; the git mirror's config is
// plugins/git/tests' (TheTokenNeverLeavesThePluginEvenUnredacted and the basic-auth test).
#include <chrono>
#include <cstdlib>
#include <thread>

#include "transport/log_reader.hpp"
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

constexpr const char* kPlanted = "planted-7c1e9a44-not-for-anyone";
constexpr const char* kJob = "secret-job";

// A worker configured with the planted secret (secrets.token).
class PlantedSecretConfig : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    ::setenv("KILN_PLANTED", kPlanted, 1);  // the worker inherits it; the config names it
    WorkerSettings settings;
    settings.max_retries = 0;
    WriteConfig(settings);
    // Debug logging, so the worker says as much as it ever does.
    const std::string plain_logging = "logging: { level: info, format: text }\n";
    std::string yaml = ReadFile(config_path());
    ASSERT_NE(yaml.find(plain_logging), std::string::npos);
    yaml.replace(yaml.find(plain_logging), plain_logging.size(),
                 "logging: { level: debug, format: json }\nsecrets:\n  token: env:KILN_PLANTED\n");
    WriteFile(config_path(), yaml);
  }
  void TearDown() override {
    ::unsetenv("KILN_PLANTED");
    WorkerTest::TearDown();
  }
  static bool Holds(const std::string& text) { return text.find(kPlanted) != std::string::npos; }
};

TEST_F(PlantedSecretConfig, IsNotInTheDeadEventOfAMessageThatIsNoJob) {
  // The parse error quotes the bad field, here the secret itself: the job.dead event, the
  // state and the letter of a message no attempt ran are redacted as a job's own events are.
  StartWorker();
  nlohmann::json body = nlohmann::json::parse(JobBody("invalid-secret-job", "noop"));
  body["commit"] = kPlanted;
  PublishRaw(body.dump());
  auto state = WaitForStatus("invalid-secret-job", {"dead"});
  ASSERT_FALSE(state.is_null());
  EXPECT_FALSE(Holds(state.dump())) << state.dump();
  std::vector<nlohmann::json> events;
  for (int i = 0; i < 50 && events.empty(); ++i) {
    events = Events("invalid-secret-job");
    if (events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(events.size(), 1u);
  const nlohmann::json& dead = events[0];
  EXPECT_EQ(dead["type"], "job.dead");
  EXPECT_EQ(dead["job"], "invalid-secret-job");
  EXPECT_EQ(dead["seq"], 1);
  EXPECT_TRUE(dead.contains("time") && dead.contains("worker")) << dead.dump();
  EXPECT_NE(dead.value("reason", "").find("invalid message: commit: "), std::string::npos) << dead.dump();
  EXPECT_NE(dead.value("reason", "").find("***"), std::string::npos) << dead.dump();
  EXPECT_FALSE(Holds(dead.dump())) << dead.dump();
}

class PlantedSecret : public PlantedSecretConfig {
 protected:
  void SetUp() override {
    PlantedSecretConfig::SetUp();
    WritePipeline("leak", R"(
      local t = kiln.secret("token")
      kiln.log("the token is " .. t)
      print("print " .. t)
      kiln.step("echo", function()
        local r = kiln.exec { cmd = { "sh", "-c", "echo $T; echo https://user:$T@example.invalid/x.git" }, env = { T = t } }
        return { tail = r.output_tail, value = t }
      end)
      kiln.step("fail", function() kiln.fail("cannot push with " .. t .. " to https://bob:" .. t .. "@example.invalid") end)
    )");
    StartWorker();
    PublishJob(kJob, "leak");
    ASSERT_FALSE(WaitForStatus(kJob, {"dead"}).is_null());
  }
};

TEST_F(PlantedSecret, IsNotInTheWorkersLog) {
  // Stopped first, so every line it had is written.
  workers_.back()->Signal(SIGTERM);
  ASSERT_EQ(workers_.back()->Wait(std::chrono::seconds(30)), 0);
  const std::string log = ReadFile(workers_.back()->log());
  EXPECT_NE(log.find("***"), std::string::npos) << "the redacted lines are there";
  EXPECT_FALSE(Holds(log)) << log;
}

TEST_F(PlantedSecret, IsNotInTheEventsInNats) {
  auto events = Events(kJob);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "job.dead");
  std::string all;
  for (const auto& event : events) all += event.dump() + "\n";
  EXPECT_FALSE(Holds(all)) << all;
}

TEST_F(PlantedSecret, IsNotInTheBuildLog) {
  // Log lines are no events any more: they are in stream BUILD_LOGS.
  std::string all;
  auto end = ReadLog(*client_, kJob, {}, [&](const LogPiece& piece) {
    all += piece.chunk.text;
    return true;
  });
  ASSERT_TRUE(end.ok()) << end.error();
  EXPECT_NE(all.find("the token is ***"), std::string::npos) << all;
  EXPECT_NE(all.find("https://***@example.invalid/x.git"), std::string::npos) << all;
  EXPECT_FALSE(Holds(all)) << all;
}

TEST_F(PlantedSecret, IsNotInAnyRevisionOfTheKvState) {
  kvEntryList list{nullptr, 0};
  ASSERT_EQ(kvStore_History(&list, client_->builds_kv(), kJob, nullptr), NATS_OK);
  ASSERT_GT(list.Count, 0);
  for (int i = 0; i < list.Count; ++i) {
    std::string value(static_cast<const char*>(kvEntry_Value(list.Entries[i])),
                      static_cast<std::size_t>(kvEntry_ValueLen(list.Entries[i])));
    EXPECT_FALSE(Holds(value)) << "revision " << kvEntry_Revision(list.Entries[i]) << ": " << value;
  }
  kvEntryList_Destroy(&list);
}

TEST_F(PlantedSecret, IsNotInTheDeadLetter) {
  std::vector<DeadLetter> letters;
  for (int i = 0; i < 50 && letters.empty(); ++i) {
    letters = DeadLetters();
    if (letters.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(letters.size(), 1u);
  const DeadLetter& letter = letters[0];
  EXPECT_NE(letter.error.find("cannot push with ***"), std::string::npos) << letter.error;
  for (const std::string* field : {&letter.reason, &letter.error, &letter.body, &letter.worker}) {
    EXPECT_FALSE(Holds(*field)) << *field;
  }
}

TEST_F(PlantedSecret, IsNotInTheErrorMessagesReadBack) {
  std::string status, dlq;
  EXPECT_EQ(RunKiln(std::string("status ") + kJob, &status), 0) << status;
  EXPECT_NE(status.find("cannot push with ***"), std::string::npos) << status;
  EXPECT_FALSE(Holds(status)) << status;
  EXPECT_EQ(RunKiln("dlq list", &dlq), 0) << dlq;
  EXPECT_FALSE(Holds(dlq)) << dlq;
}

}  // namespace
}  // namespace kiln::testing
