#include "support/state_history.hpp"

namespace kiln::testing {

std::vector<nlohmann::json> StateHistory(NatsConnection& conn, const std::string& id) {
  std::vector<nlohmann::json> out;
  kvEntryList list{nullptr, 0};
  if (kvStore_History(&list, conn.builds_kv(), id.c_str(), nullptr) != NATS_OK) return out;
  for (int i = 0; i < list.Count; ++i) {
    if (kvEntry_Operation(list.Entries[i]) != kvOp_Put) continue;
    const char* data = static_cast<const char*>(kvEntry_Value(list.Entries[i]));
    out.push_back(nlohmann::json::parse(data, data + kvEntry_ValueLen(list.Entries[i]), nullptr, false));
  }
  kvEntryList_Destroy(&list);
  return out;
}

}  // namespace kiln::testing
