#include "http/connection_table.hpp"

namespace kiln {

ConnectionTable::Admit ConnectionTable::TryAdd(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Admit::server_full;
  std::size_t& mine = per_address_[address];
  if (mine >= max_per_address_) return Admit::address_full;
  ++mine;
  ++total_;
  return Admit::yes;
}

void ConnectionTable::Remove(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace kiln
