// One NATS message holds at most the server's max_payload (1 MiB by default), but a step may
// return 16 MiB of outputs, and a job's state keeps them all. A publish over the limit is
// refused by the client library; one that is retried never succeeds. So every event and
// state a worker sends is first made to fit: the text it is sent as (URL user-info masked,
// Redactor), and when that is too long, the same document with its outputs dropped, then
// with its long strings cut, each with a note of what went.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace kiln {

/// Room left in a message for its headers (a KV write's expected-revision header, ...).
inline constexpr std::size_t kMessageHeaderRoom = 1024;

/// The text an event or a state is sent as: JSON, URL user-info masked. The mask is applied
/// to the JSON text, which is safe: the user-info scan stops at '"', a string's end.
std::string MessageText(const nlohmann::json& doc);

/// Shrinks `doc` until MessageText(doc) is at most `limit` bytes: first every "outputs"
/// member (replaced by {}, with "outputs_dropped" saying how many bytes went and why), then
/// every string over kKeptStringBytes (cut). Returns the text, or an empty string when even
/// that does not fit.
std::string FitInMessage(nlohmann::json& doc, std::size_t limit);

/// How long a string FitInMessage keeps.
inline constexpr std::size_t kKeptStringBytes = 1024;

}  // namespace kiln
