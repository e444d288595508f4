#include "worker/status_subject_sink.hpp"

#include "secrets/redactor.hpp"
#include "transport/jetstream_setup.hpp"

namespace kiln {

StatusSubjectSink::StatusSubjectSink(NatsConnection& conn, const std::string& job_id)
    : conn_(conn), subject_(std::string(subjects::kStatusPrefix) + job_id) {}

void StatusSubjectSink::publish(const nlohmann::json& event) {
  // URL user-info too, as NatsJobSink does: the worker may have no Redactor (tests).
  const std::string body = Redactor::redact_url_credentials(event.dump());
  js_PublishAsync(conn_.js(), subject_.c_str(), body.data(), static_cast<int>(body.size()), nullptr);
}

}  // namespace kiln
