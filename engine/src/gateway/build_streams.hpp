// GET /builds/{id}/events and GET /builds/{id}/logs: a job's events (stream BUILD_EVENTS)
// and its log (stream BUILD_LOGS, the chunks ReadLog reads) as Server-Sent Events, from
// what is stored and then live, until the job has ended and all of it was sent.
//
//   events: id = the event's JetStream sequence; data = the event as published (JSON).
//   logs:   id = "<stream_seq>:<line>" (a LogCursor); data = {"step", "attempt",
//           "job_attempt", "line" (number of the chunk's first line over the whole log),
//           "t0", "dt", "open", "text"}, and "skipped_lines"/"skipped_bytes" on the marker
//           of a capped log.
//   both:   a last event "end" (no id) with {"status"} once the job ended and everything
//           was sent: a client closes there instead of reconnecting.
//
// Resuming: a client that reconnects with Last-Event-ID (what EventSource does by itself)
// gets what follows that event, no gap and nothing twice, whatever was stored meanwhile;
// the sequence is the resume point because JetStream can start a consumer at it. A client
// too slow for the stream is dropped by the server (EventStream::kMaxQueuedBytes) and
// resumes the same way.
//
// No thread per stream: each open stream is a NATS subscription or two delivered on the
// connection's shared pool (NatsConnection::Delivery::shared_pool).
#pragma once

#include <memory>
#include <optional>

#include "http/event_stream.hpp"
#include "http/http_message.hpp"
#include "transport/nats_connection.hpp"

namespace kiln {

class BuildStreams {
 public:
  explicit BuildStreams(NatsConnection& conn) : conn_(conn) {}

  /// Take `stream` and answer nullopt, or refuse: 400 (a bad id or Last-Event-ID), 404 (no
  /// such job), 503 (NATS).
  std::optional<HttpResponse> Events(const HttpRequest& req, const std::shared_ptr<EventStream>& stream);
  std::optional<HttpResponse> Logs(const HttpRequest& req, const std::shared_ptr<EventStream>& stream);

 private:
  NatsConnection& conn_;
};

}  // namespace kiln
