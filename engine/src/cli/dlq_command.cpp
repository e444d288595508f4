// kiln dlq list [--json] | kiln dlq replay ID
// The dead-lettered jobs (stream BUILDS_DLQ) with why; replay publishes one's original
// message again on builds.webhook, resets its state to queued and removes the dead letter.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "events/job_events.hpp"
#include "job/job.hpp"
#include "state/job_state.hpp"
#include "transport/command_connection.hpp"
#include "transport/dead_letters.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/job_state_store.hpp"

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
  NatsConnection& conn = *session->conn;
  auto letters = ListDeadLetters(conn);
  if (!letters) {
    std::cerr << "kiln dlq: " << letters.error() << "\n";
    return 2;
  }
  const DeadLetter* letter = nullptr;
  for (const auto& d : letters.value()) {
    if (d.job_id == id || std::to_string(d.dlq_seq) == id) letter = &d;  // the newest one wins
  }
  if (letter == nullptr) {
    std::cerr << "kiln dlq replay: no dead letter for job '" << id << "'\n";
    return 2;
  }
  JobRules rules;
  rules.allow_file_urls = session->engine->config.build.allow_file_urls;
  auto job = ParseJob(letter->body, rules);
  if (!job || letter->truncated) {
    std::cerr << "kiln dlq replay: the dead letter of '" << id << "' cannot run: "
              << (letter->truncated ? "its message was truncated" : job.error()) << "\n";
    return 2;
  }
  // A fresh state: the worker only runs a job whose state is not terminal.
  JobStateStore store(conn.builds_kv());
  std::string error;
  nlohmann::json state = JobStateBuilder::Queued(job.value(), NowIso8601());
  if (auto stored = store.Get(job->id)) state["next_seq"] = stored->state.value("next_seq", std::uint64_t{1});
  state["replayed_from_dlq"] = letter->dlq_seq;
  if (!store.Put(job->id, state, &error)) {
    std::cerr << "kiln dlq replay: resetting the state of " << job->id << ": " << error << "\n";
    return 2;
  }
  natsMsg* msg = nullptr;
  natsMsg_Create(&msg, subjects::kJobs, nullptr, letter->body.data(), static_cast<int>(letter->body.size()));
  // Not the job id: that would be dropped as a duplicate within the window.
  std::string msg_id = job->id + "-replay-" + std::to_string(letter->dlq_seq);
  natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(nullptr, conn.js(), msg, nullptr, &code);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    std::cerr << "kiln dlq replay: publishing " << job->id << ": " << NatsError(s) << "\n";
    return 2;
  }
  if (auto deleted = DeleteDeadLetter(conn, letter->dlq_seq); !deleted) {
    std::cerr << "kiln dlq replay: " << deleted.error() << " (the job was replayed)\n";
  }
  std::cout << "replayed job " << job->id << "\n";
  return 0;
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
