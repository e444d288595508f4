// Outbound network for one sandboxed process, through slirp4netns (rootless Podman's
// user-mode network): the sandbox keeps its own network namespace, whose only way out is a
// tap device that slirp4netns turns into ordinary sockets of the host. The host's loopback is
// refused (--disable-host-loopback), so nats-server, the gateway and the metrics ports stay
// unreachable; slirp4netns itself runs in a mount namespace of its own with a seccomp filter.
//
// The order matters: bwrap reports the pid of its child on an info pipe and waits on a
// block pipe; once the child has given its loopback an address (loopback_wait.hpp says why
// that must come first), slirp4netns attaches to the child's network namespace and says when
// the tap device is up; only then is the block pipe written and the step's command started.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "util/result.hpp"

namespace kiln {

class EgressNetwork {
 public:
  static Result<std::unique_ptr<EgressNetwork>> Prepare(const std::string& slirp4netns);
  ~EgressNetwork();
  EgressNetwork(const EgressNetwork&) = delete;
  EgressNetwork& operator=(const EgressNetwork&) = delete;

  /// The pipe ends bwrap inherits (--info-fd, --block-fd).
  int info_fd_for_bwrap() const { return info_write_; }
  int block_fd_for_bwrap() const { return block_read_; }

  /// Once bwrap has started: attaches slirp4netns to its child and lets the command run.
  /// Empty on success, else what failed.
  std::string Attach(std::chrono::milliseconds timeout);

 private:
  explicit EgressNetwork(std::string slirp4netns) : slirp4netns_(std::move(slirp4netns)) {}
  std::string slirp4netns_;
  int info_read_ = -1, info_write_ = -1;
  int block_read_ = -1, block_write_ = -1;
  int slirp_pid_ = -1;
  int slirp_exit_write_ = -1;  // closing it ends slirp4netns (--exit-fd)
};

}  // namespace kiln
