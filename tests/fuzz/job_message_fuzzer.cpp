// The job message parser (ParseJob): the gate in front of every worker, fed by anyone who
// can publish on builds.webhook.
//
// Promises checked: no crash and no exception for any bytes; an error names what is wrong
// in valid UTF-8 with no control characters (it becomes a dead-letter header, an event and
// a log line); a message that passes round-trips through Job::to_json unchanged, and what
// to_json gives passes again (kiln submit publishes to_json; the worker parses it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.hpp"
#include "job/job.hpp"

namespace {

bool SameJob(const kiln::Job& a, const kiln::Job& b) {
  return a.id == b.id && a.repo_url == b.repo_url && a.repo_name == b.repo_name && a.commit == b.commit &&
         a.branch == b.branch && a.before == b.before && a.pipeline == b.pipeline && a.env == b.env &&
         a.delivery_id == b.delivery_id && a.trusted == b.trusted;
}

void Check(std::string_view body, const kiln::JobRules& rules) {
  using kiln::fuzz::Fail;
  auto job = kiln::ParseJob(body, rules);
  if (!job) {
    if (job.error().empty()) Fail("an empty error");
    if (!kiln::fuzz::IsValidUtf8(job.error())) Fail("an error that is not UTF-8: " + job.error());
    if (kiln::fuzz::HasControlCharacter(job.error())) Fail("a control character in an error: " + job.error());
    return;
  }
  if (!kiln::ValidateJob(job.value(), rules)) Fail("a parsed job that ValidateJob refuses");
  // to_json adds repo.name when the message had none, so it may outgrow the size limit.
  kiln::JobRules again_rules = rules;
  again_rules.max_bytes = body.size() * 2 + 4096;
  const std::string published = job->to_json().dump();
  auto again = kiln::ParseJob(published, again_rules);
  if (!again) Fail("to_json of a valid job does not parse again: " + again.error());
  if (!SameJob(job.value(), again.value())) Fail("a job changed through to_json: " + published);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // Both rule sets: the worker's (no file URLs) and kiln run's (file URLs and local paths).
  Check(body, kiln::JobRules{});
  Check(body, kiln::JobRules{.allow_file_urls = true});
  return 0;
}
