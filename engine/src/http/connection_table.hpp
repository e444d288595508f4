// The open connections of one HttpServer, in all and per remote address: the caps
// (HttpLimits::max_connections, max_connections_per_address) are checked on accept.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace kiln {

class ConnectionTable {
 public:
  ConnectionTable(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  enum class Admit { yes, server_full, address_full };
  /// Counts the connection in when it fits; Remove(address) once for each `yes`.
  Admit TryAdd(const std::string& address);
  void Remove(const std::string& address);

 private:
  std::size_t max_total_;
  std::size_t max_per_address_;
  std::mutex mutex_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> per_address_;
};

}  // namespace kiln
