// What the end of an attempt means for its message and its last event, as a table: every
// branch of DecideAttemptOutcome, without NATS.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "worker/attempt_outcome.hpp"

namespace kiln::testing {
namespace {

using std::chrono::milliseconds;

struct OutcomeRow {
  std::string name;
  AttemptResult result;
  // Expected:
  MessageAction message;
  bool replaces_attempt_event;
  std::optional<std::string> event_type;
  nlohmann::json event_fields;  // every field but retry_in_ms, which is checked against the delay range
  milliseconds min_nak_delay;
  milliseconds max_nak_delay;
  std::string dead_letter_reason;
};

// ctest's test names print the parameter: its name, not its bytes.
void PrintTo(const OutcomeRow& row, std::ostream* out) { *out << row.name; }

AttemptResult FinishedAttempt(JobStatus status, bool retryable, int attempt, int max_attempts, bool shutdown = false,
                      std::string error = "boom", milliseconds retry_delay = milliseconds(10000),
                      milliseconds retry_max_delay = milliseconds(300000)) {
  AttemptResult r;
  r.status = status;
  r.retryable = retryable;
  r.error = std::move(error);
  r.attempt = attempt;
  r.max_attempts = max_attempts;
  r.interrupted_by_shutdown = shutdown;
  r.timeout = milliseconds(60000);
  r.retry_delay = retry_delay;
  r.retry_max_delay = retry_max_delay;
  return r;
}

const nlohmann::json kRequeuedFields = {{"message", "worker shutting down; the job will run again"}};
const nlohmann::json kNoOutcomeFields = nlohmann::json::object();
constexpr milliseconds kNoDelay{0};

std::vector<OutcomeRow> AttemptOutcomeRows() {
  using enum JobStatus;
  return {
      {"succeeded_is_acked", FinishedAttempt(succeeded, false, 1, 3), MessageAction::ack, false, std::nullopt, kNoOutcomeFields, kNoDelay,
       kNoDelay, ""},
      {"cancelled_is_acked", FinishedAttempt(cancelled, false, 1, 3), MessageAction::ack, false, std::nullopt, kNoOutcomeFields, kNoDelay,
       kNoDelay, ""},
      {"succeeded_during_shutdown_is_still_acked", FinishedAttempt(succeeded, false, 1, 3, true), MessageAction::ack, false,
       std::nullopt, kNoOutcomeFields, kNoDelay, kNoDelay, ""},
      {"failed_during_shutdown_is_requeued", FinishedAttempt(failed, false, 3, 3, true), MessageAction::nak, true,
       "job.queued", kRequeuedFields, kNoDelay, kNoDelay, ""},
      {"cancelled_by_shutdown_is_requeued", FinishedAttempt(cancelled, false, 1, 3, true), MessageAction::nak, true,
       "job.queued", kRequeuedFields, kNoDelay, kNoDelay, ""},
      {"timed_out_during_shutdown_is_requeued", FinishedAttempt(timed_out, false, 1, 3, true), MessageAction::nak, true,
       "job.queued", kRequeuedFields, kNoDelay, kNoDelay, ""},
      {"timed_out_is_dead_lettered_at_once", FinishedAttempt(timed_out, true, 1, 3), MessageAction::dead_letter, false,
       std::nullopt, {{"reason", "timed out (worker.timeout)"}, {"dead_lettered", true}}, kNoDelay, kNoDelay,
       "timed out after 60000 ms"},
      {"retryable_first_failure_retries_after_10s_jittered", FinishedAttempt(failed, true, 1, 3), MessageAction::nak, false,
       std::nullopt, {{"will_retry", true}}, milliseconds(8000), milliseconds(12000), ""},
      {"retryable_second_failure_waits_twice_as_long", FinishedAttempt(failed, true, 2, 3), MessageAction::nak, false,
       std::nullopt, {{"will_retry", true}}, milliseconds(16000), milliseconds(24000), ""},
      {"retry_delay_is_capped", FinishedAttempt(failed, true, 6, 9, false, "boom", milliseconds(10000), milliseconds(30000)),
       MessageAction::nak, false, std::nullopt, {{"will_retry", true}}, milliseconds(24000), milliseconds(30000), ""},
      {"zero_retry_delay_retries_at_once", FinishedAttempt(failed, true, 1, 3, false, "boom", kNoDelay), MessageAction::nak, false,
       std::nullopt, {{"will_retry", true}}, kNoDelay, kNoDelay, ""},
      {"retryable_last_attempt_is_dead",
       FinishedAttempt(failed, true, 3, 3), MessageAction::dead_letter, false, "job.dead",
       {{"reason", "failed after 3 attempts"}, {"attempts", 3}, {"error", "boom"}}, kNoDelay, kNoDelay,
       "failed after 3 attempts"},
      {"no_retries_configured_is_dead_after_one", FinishedAttempt(failed, true, 1, 1), MessageAction::dead_letter, false,
       "job.dead", {{"reason", "failed after 1 attempts"}, {"attempts", 1}, {"error", "boom"}}, kNoDelay, kNoDelay,
       "failed after 1 attempts"},
      {"terminal_failure_is_dead_at_first_attempt", FinishedAttempt(failed, false, 1, 3), MessageAction::dead_letter, false,
       "job.dead", {{"reason", "terminal failure"}, {"attempts", 1}, {"error", "boom"}}, kNoDelay, kNoDelay,
       "terminal failure"},
      {"dead_without_error_has_no_error_field", FinishedAttempt(failed, false, 2, 3, false, ""), MessageAction::dead_letter,
       false, "job.dead", {{"reason", "terminal failure"}, {"attempts", 2}}, kNoDelay, kNoDelay, "terminal failure"},
  };
}

class AttemptOutcomeTable : public ::testing::TestWithParam<OutcomeRow> {};

TEST_P(AttemptOutcomeTable, DecidesMessageAndEvent) {
  const OutcomeRow& row = GetParam();
  std::mt19937_64 rng(42);
  AttemptOutcome out = DecideAttemptOutcome(row.result, rng);
  EXPECT_EQ(out.message, row.message);
  EXPECT_EQ(out.replaces_attempt_event, row.replaces_attempt_event);
  EXPECT_EQ(out.event_type, row.event_type);
  EXPECT_EQ(out.dead_letter_reason, row.dead_letter_reason);
  EXPECT_GE(out.nak_delay, row.min_nak_delay);
  EXPECT_LE(out.nak_delay, row.max_nak_delay);
  nlohmann::json fields = out.event_fields;
  if (fields.contains("retry_in_ms")) {
    // The event says the delay the message was nak'ed with.
    EXPECT_EQ(fields["retry_in_ms"].get<std::int64_t>(), out.nak_delay.count());
    fields.erase("retry_in_ms");
  } else {
    EXPECT_EQ(out.nak_delay, kNoDelay);
  }
  EXPECT_EQ(fields, row.event_fields) << fields.dump();
}

INSTANTIATE_TEST_SUITE_P(Branches, AttemptOutcomeTable, ::testing::ValuesIn(AttemptOutcomeRows()),
                         [](const ::testing::TestParamInfo<OutcomeRow>& row) { return row.param.name; });

TEST(AttemptOutcome, RetryDelayIsJitteredPerDraw) {
  // The jitter comes from the caller's generator: two draws of one generator differ, so the
  // retries of jobs that failed together spread out.
  std::mt19937_64 rng(7);
  auto first = DecideAttemptOutcome(FinishedAttempt(JobStatus::failed, true, 1, 3), rng).nak_delay;
  auto second = DecideAttemptOutcome(FinishedAttempt(JobStatus::failed, true, 1, 3), rng).nak_delay;
  EXPECT_NE(first, second);
}

}  // namespace
}  // namespace kiln::testing
