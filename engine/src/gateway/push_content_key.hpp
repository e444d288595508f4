// What a push is, apart from the delivery that carried it: the ledger key of its content.
//
// GitHub signs only the body, so a captured push sent again under a new X-GitHub-Delivery
// passes the signature check; its repository, ref, before and after do not change. The
// key is "push." + the hex SHA-256 of those four (JSON-encoded, so no two inputs share a
// key); the '.' keeps it apart from every delivery id, which may not hold one.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

std::string PushContentKey(std::string_view repository, std::string_view ref, std::string_view before,
                           std::string_view after);

}  // namespace kiln
