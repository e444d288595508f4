// A job a slot runs, as the fetch, heartbeat and cancel paths of the worker see it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "transport/nats_job_sink.hpp"
#include "util/cancellation.hpp"
#include "worker/worker.hpp"

namespace kiln {

struct Worker::RunningJob {
  natsMsg* msg = nullptr;
  std::string id;
  CancellationToken token;
  std::unique_ptr<NatsJobSink> sink;
  std::atomic<bool> cancelled_by_user{false};
  std::atomic<bool> interrupted_by_shutdown{false};
};

}  // namespace kiln
