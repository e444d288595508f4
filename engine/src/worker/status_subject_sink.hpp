// The events a worker publishes for a job no attempt of its runs (a message that is no valid
// job, one that reached max deliveries): to the job's status subject, from a JobEvents that
// stamps and redacts them like every other event.
#pragma once

#include <string>

#include "events/event_sink.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

class StatusSubjectSink : public EventSink {
 public:
  StatusSubjectSink(NatsConnection& conn, const std::string& job_id);
  /// Asynchronous: the caller is on a thread that must not wait for the server.
  void publish(const nlohmann::json& event) override;

 private:
  NatsConnection& conn_;
  std::string subject_;
};

}  // namespace kiln
