// kiln dlq list [--json] | kiln dlq replay ID
// The dead-lettered jobs (stream BUILDS_DLQ) with why; replay publishes one's original
// message again on builds.webhook, resets its state to queued and removes the dead letter.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "job/job.hpp"
#include "transport/command_connection.hpp"
#include "transport/dead_letter_replay.hpp"
#include "transport/dead_letters.hpp"

namespace kiln::cli {

namespace {

nlohmann::json ToJson(const DeadLetter& d) {
  nlohmann::json out = {{"dlq_seq", d.dlq_seq}, {"job", d.job_id},     {"reason", d.reason},
                        {"error", d.error},     {"attempts", d.attempts}, {"worker", d.worker},
                        {"time", d.time},       {"stream_seq", d.stream_seq}, {"size", d.body.size()}};
  if (d.truncated) out["truncated"] = true;
  auto body = nlohmann::json::parse(d.body, nullptr, false);
  if (!body.is_discarded()) out["message"] = body;
  return out;
}

int List(const GlobalOptions& global, bool json) {
  auto session = OpenCommandSession(global, "kiln dlq");
  if (!session) {
    std::cerr << "kiln dlq: " << session.error() << "\n";
    return 2;
  }
  auto letters = ListDeadLetters(*session->conn);
  if (!letters) {
    std::cerr << "kiln dlq: " << letters.error() << "\n";
    return 2;
  }
  for (const auto& d : letters.value()) {
    if (json) {
      std::cout << ToJson(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      continue;
    }
    std::cout << std::left << std::setw(6) << d.dlq_seq << std::setw(28) << (d.job_id.empty() ? "-" : d.job_id)
              << std::setw(26) << d.time << "attempts " << d.attempts << "  " << d.reason;
    if (!d.error.empty()) std::cout << ": " << d.error;
    std::cout << "\n";
  }
  return 0;
}

int Replay(const GlobalOptions& global, const std::string& id) {
  auto session = OpenCommandSession(global, "kiln dlq replay");
  if (!session) {
    std::cerr << "kiln dlq: " << session.error() << "\n";
    return 2;
  }
  JobRules rules;
  rules.allow_file_urls = session->engine->config.build.allow_file_urls;
  const ReplayOutcome outcome = ReplayDeadLetter(*session->conn, id, rules);
  switch (outcome.kind) {
    case ReplayOutcome::Kind::replayed:
      if (!outcome.warning.empty()) std::cerr << "kiln dlq replay: " << outcome.warning << "\n";
      std::cout << "replayed job " << outcome.job_id << "\n";
      return 0;
    case ReplayOutcome::Kind::no_dead_letter:
      std::cerr << "kiln dlq replay: no dead letter for job '" << id << "'\n";
      return 2;
    case ReplayOutcome::Kind::cannot_run:
      std::cerr << "kiln dlq replay: the dead letter of '" << id << "' cannot run: " << outcome.error << "\n";
      return 2;
    case ReplayOutcome::Kind::unavailable:
      break;
  }
  std::cerr << "kiln dlq: " << outcome.error << "\n";
  return 2;
}

}  // namespace

void AddDlqCommand(CLI::App& app, GlobalOptions& global, int& exit_code) {
  auto* dlq = app.add_subcommand("dlq", "dead-lettered jobs, with why; send one back");
  dlq->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto* list = dlq->add_subcommand("list", "the dead letters, oldest first");
  list->add_flag("--json", *json, "one JSON object a line, with the original message");
  AddNatsOptions(list, global);
  AddNatsOptions(dlq, global);
  list->callback([&global, &exit_code, json] { exit_code = List(global, *json); });
  auto id = std::make_shared<std::string>();
  auto* replay = dlq->add_subcommand("replay", "publish a dead-lettered job again and remove its dead letter");
  replay->add_option("ID", *id, "job id (or the dead letter's sequence number)")->required();
  AddNatsOptions(replay, global);
  replay->callback([&global, &exit_code, id] { exit_code = Replay(global, *id); });
}

}  // namespace kiln::cli
