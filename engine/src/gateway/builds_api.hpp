// GET /builds/{id} and GET /builds?limit=N: job states from KV bucket "builds", the same
// entries `kiln status` and `kiln list` show; POST /builds/{id}/cancel, as `kiln cancel`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "transport/nats_connection.hpp"

namespace kiln {

struct ApiReply {
  int status = 500;
  nlohmann::json body;
};

class BuildsApi {
 public:
  static constexpr int kDefaultLimit = 20;
  static constexpr int kMaxLimit = 1000;

  explicit BuildsApi(NatsConnection& conn) : conn_(conn) {}

  /// 200 with the state, 404 when there is no such job, 503 when NATS fails.
  ApiReply Get(const std::string& id) const;
  /// 200 {"builds": [...]}, newest first; `limit` is the query parameter as given ("" = the
  /// default), 400 when it is not a number in 1..kMaxLimit.
  ApiReply List(const std::string& limit) const;
  /// 202 when the worker running it was asked to stop it, 200 when it was cancelled before it
  /// ran, 409 when it had already ended, 404, 504 when its worker does not answer, 503.
  ApiReply Cancel(const std::string& id) const;

 private:
  NatsConnection& conn_;
};

}  // namespace kiln
