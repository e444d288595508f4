// Issue 20, item 2: a repository URL with a token in it (https://ci-bot:TOKEN@host/...)
// must not be kept anywhere a person reads: the KV state (every revision, written by
// kiln submit and again by the worker), the events in NATS, the dead letter (headers and
// body) and what kiln status / kiln dlq list print. Each path is run for real: kiln submit
// against a real worker, and a raw message the worker must dead-letter as invalid.
#include "worker/worker_fixture.hpp"

namespace kiln::testing {
namespace {

constexpr const char* kToken = "ghp_0TOKEN4c1e9a44notforanyone";

class UrlCredentials : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    WorkerSettings settings;
    settings.max_retries = 0;
    WriteConfig(settings);
    StartWorker();
  }
  static std::string Url() { return std::string("https://ci-bot:") + kToken + "@example.invalid/acme/shop.git"; }
  static bool Holds(const std::string& text) { return text.find(kToken) != std::string::npos; }

  void ExpectNotInAnyStateRevision(const std::string& id) {
    kvEntryList list{nullptr, 0};
    ASSERT_EQ(kvStore_History(&list, client_->builds_kv(), id.c_str(), nullptr), NATS_OK);
    ASSERT_GT(list.Count, 0);
    for (int i = 0; i < list.Count; ++i) {
      std::string value(static_cast<const char*>(kvEntry_Value(list.Entries[i])),
                        static_cast<std::size_t>(kvEntry_ValueLen(list.Entries[i])));
      EXPECT_FALSE(Holds(value)) << "revision " << kvEntry_Revision(list.Entries[i]) << ": " << value;
    }
    kvEntryList_Destroy(&list);
  }
  void ExpectNotInTheEvents(const std::string& id) {
    auto events = Events(id);
    ASSERT_FALSE(events.empty());
    for (const auto& event : events) EXPECT_FALSE(Holds(event.dump())) << event.dump();
  }
  DeadLetter TheDeadLetter() {
    std::vector<DeadLetter> letters;
    for (int i = 0; i < 100 && letters.empty(); ++i) {
      letters = DeadLetters();
      if (letters.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(letters.size(), 1u);
    return letters.empty() ? DeadLetter{} : letters[0];
  }
};

TEST_F(UrlCredentials, ASubmittedJobsTokenIsInNoStateEventOrDeadLetter) {
  std::string out;
  ASSERT_EQ(RunKiln("submit --repo " + Url() + " --commit " + kCommit + " --pipeline broken --id cred-1", &out), 0)
      << out;
  const auto queued = State("cred-1");
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->state["repo"]["url"], "https://***@example.invalid/acme/shop.git") << queued->state.dump();

  ASSERT_FALSE(WaitForStatus("cred-1", {"dead"}).is_null());
  ExpectNotInAnyStateRevision("cred-1");
  ExpectNotInTheEvents("cred-1");
  const DeadLetter letter = TheDeadLetter();
  EXPECT_EQ(letter.job_id, "cred-1");
  EXPECT_NE(letter.body.find("https://***@example.invalid/acme/shop.git"), std::string::npos) << letter.body;
  for (const std::string* field : {&letter.reason, &letter.error, &letter.body, &letter.worker}) {
    EXPECT_FALSE(Holds(*field)) << *field;
  }
  std::string status, dlq;
  EXPECT_EQ(RunKiln("status cred-1", &status), 0) << status;
  EXPECT_FALSE(Holds(status)) << status;
  EXPECT_EQ(RunKiln("dlq list --json", &dlq), 0) << dlq;
  EXPECT_FALSE(Holds(dlq)) << dlq;
}

TEST_F(UrlCredentials, AnInvalidMessagesTokenIsInNoStateEventOrDeadLetter) {
  // Published without kiln submit, so the worker writes the first state itself; the bad
  // commit makes it dead-letter the message unread.
  nlohmann::json job = {{"id", "cred-2"}, {"repo", {{"url", Url()}}}, {"commit", "not-a-commit"}, {"pipeline", "noop"}};
  PublishRaw(job.dump(), "cred-2");
  ASSERT_FALSE(WaitForStatus("cred-2", {"dead"}).is_null());
  ExpectNotInAnyStateRevision("cred-2");
  ExpectNotInTheEvents("cred-2");
  const DeadLetter letter = TheDeadLetter();
  EXPECT_NE(letter.body.find("example.invalid"), std::string::npos) << letter.body;
  for (const std::string* field : {&letter.reason, &letter.error, &letter.body}) EXPECT_FALSE(Holds(*field)) << *field;
}

TEST_F(UrlCredentials, AJobPublishedRawHasItsQueuedStateWrittenMaskedByTheWorker) {
  PublishRaw(nlohmann::json({{"id", "cred-3"},
                             {"repo", {{"url", Url()}}},
                             {"commit", kCommit},
                             {"pipeline", "noop"}})
                 .dump(),
             "cred-3");
  auto state = WaitForStatus("cred-3", {"succeeded"});
  ASSERT_FALSE(state.is_null());
  EXPECT_EQ(state["repo"]["url"], "https://***@example.invalid/acme/shop.git") << state.dump();
  ExpectNotInAnyStateRevision("cred-3");
  ExpectNotInTheEvents("cred-3");
}

}  // namespace
}  // namespace kiln::testing
