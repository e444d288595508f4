// The webhook parser (DecidePush): what a GitHub push delivery becomes, fed by anyone who
// can reach the gateway and has the webhook secret (or by GitHub with odd repositories,
// refs and names).
//
// An input is a push payload's body. Promises checked: no crash and no exception for any
// bytes, under either setting of tag_pushes and branch_deletions; a push that builds gives
// a job the worker accepts (ParseJob of the message as published) with the delivery id
// kept; a push that builds nothing says why; an error is never empty.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "gateway/github_push.hpp"
#include "job/job.hpp"

namespace {

void Check(std::string_view body, const kiln::GatewayConfig& gateway) {
  using kiln::fuzz::Fail;
  const std::string delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
  const kiln::JobRules rules;
  auto decision = kiln::DecidePush(body, delivery, gateway, rules);
  if (!decision) {
    if (decision.error().empty()) Fail("an empty error");
    return;
  }
  if (!decision->build) {
    if (decision->reason.empty()) Fail("a push ignored without a reason");
    return;
  }
  const kiln::Job& job = decision->job;
  if (job.delivery_id != delivery) Fail("the delivery id was lost");
  auto again = kiln::ParseJob(job.to_json().dump(), rules);
  if (!again) Fail("a job the worker refuses: " + again.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  kiln::GatewayConfig defaults;
  Check(body, defaults);
  kiln::GatewayConfig builds_everything;
  builds_everything.tag_pushes = "build";
  builds_everything.branch_deletions = "build";
  Check(body, builds_everything);
  return 0;
}
