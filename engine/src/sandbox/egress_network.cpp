#include "sandbox/egress_network.hpp"

#include "sandbox/loopback_wait.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Reads what bwrap writes on its info pipe until it closes it or the JSON is complete.
Result<int> ReadChildPid(int fd, Clock::time_point deadline) {
  std::string text;
  char buffer[512];
  while (true) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready == 0) return MakeError("bwrap did not report its child in time");
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got > 0) text.append(buffer, static_cast<std::size_t>(got));
    auto info = nlohmann::json::parse(text, nullptr, false);
    if (!info.is_discarded()) {
      if (info.contains("child-pid") && info["child-pid"].is_number_integer()) return info["child-pid"].get<int>();
      return MakeError("bwrap's info has no child-pid: " + text);
    }
    if (got <= 0) return MakeError("bwrap ended before it reported its child" + (text.empty() ? "" : ": " + text));
  }
}

}  // namespace

Result<std::unique_ptr<EgressNetwork>> EgressNetwork::Prepare(const std::string& slirp4netns) {
  if (slirp4netns.empty()) {
    return MakeError("network = \"egress\" needs slirp4netns (sandbox.slirp4netns), which is not installed");
  }
  std::unique_ptr<EgressNetwork> network(new EgressNetwork(slirp4netns));
  int info[2];
  int block[2];
  if (::pipe2(info, O_CLOEXEC) != 0) return MakeError(std::string("pipe: ") + std::strerror(errno));
  network->info_read_ = info[0];
  network->info_write_ = info[1];
  if (::pipe2(block, O_CLOEXEC) != 0) return MakeError(std::string("pipe: ") + std::strerror(errno));
  network->block_read_ = block[0];
  network->block_write_ = block[1];
  return network;
}

std::string EgressNetwork::Attach(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // bwrap holds its own copies now; ours would keep the pipes from ever ending.
  CloseFd(info_write_);
  CloseFd(block_read_);
  auto child = ReadChildPid(info_read_, deadline);
  CloseFd(info_read_);
  if (!child) return "sandbox network: " + child.error();
  const std::string loopback = WaitForLoopbackAddress(child.value(), deadline);
  if (!loopback.empty()) return "sandbox network: " + loopback;

  // The network namespace belongs to bwrap's outer user namespace; its child runs in one
  // nested below it (the sandbox uid's). slirp4netns joins a user namespace before the network
  // one, and only the outer one gives it the right to: the parent of the child's.
  const std::string userns_path = "/proc/" + std::to_string(child.value()) + "/ns/user";
  const int child_userns = ::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (child_userns < 0) return "sandbox network: cannot open " + userns_path + ": " + std::strerror(errno);
  const int owner_userns = ::ioctl(child_userns, NS_GET_PARENT);
  ::close(child_userns);
  if (owner_userns < 0) return std::string("sandbox network: no parent user namespace: ") + std::strerror(errno);
  ::fcntl(owner_userns, F_SETFD, FD_CLOEXEC);

  int ready[2];
  int exit_pipe[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    ::close(owner_userns);
    return std::string("sandbox network: pipe: ") + std::strerror(errno);
  }
  if (::pipe2(exit_pipe, O_CLOEXEC) != 0) {
    ::close(owner_userns);
    ::close(ready[0]);
    ::close(ready[1]);
    return std::string("sandbox network: pipe: ") + std::strerror(errno);
  }
  const std::string pid_text = std::to_string(child.value());
  const std::string ready_arg = "--ready-fd=" + std::to_string(ready[1]);
  const std::string exit_arg = "--exit-fd=" + std::to_string(exit_pipe[0]);
  const std::string userns_arg = "--userns-path=/proc/self/fd/" + std::to_string(owner_userns);
  std::vector<std::string> args = {slirp4netns_,      "--configure", "--mtu=65520", "--disable-host-loopback",
                                   "--enable-sandbox", "--enable-seccomp", userns_arg, ready_arg,
                                   exit_arg,           pid_text,      "tap0"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {ready[0], ready[1], exit_pipe[0], exit_pipe[1], owner_userns}) ::close(fd);
    return std::string("sandbox network: fork: ") + std::strerror(errno);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::fcntl(ready[1], F_SETFD, 0);
    ::fcntl(exit_pipe[0], F_SETFD, 0);
    ::fcntl(owner_userns, F_SETFD, 0);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
    }
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  slirp_pid_ = pid;
  ::close(owner_userns);
  ::close(ready[1]);
  ::close(exit_pipe[0]);
  slirp_exit_write_ = exit_pipe[1];

  // slirp4netns writes "1" on the ready pipe once tap0 is configured.
  char byte = 0;
  ssize_t got = -1;
  while (true) {
    pollfd pfd{ready[0], POLLIN, 0};
    const int polled = ::poll(&pfd, 1, RemainingMs(deadline));
    if (polled < 0 && errno == EINTR) continue;
    if (polled > 0) got = ::read(ready[0], &byte, 1);
    break;
  }
  ::close(ready[0]);
  if (got != 1) return "sandbox network: slirp4netns did not bring the network up (" + slirp4netns_ + ")";
  if (::write(block_write_, "1", 1) != 1) return std::string("sandbox network: cannot start the command: ") + std::strerror(errno);
  CloseFd(block_write_);
  return {};
}

EgressNetwork::~EgressNetwork() {
  CloseFd(info_read_);
  CloseFd(info_write_);
  CloseFd(block_read_);
  CloseFd(block_write_);
  CloseFd(slirp_exit_write_);  // slirp4netns exits when its exit pipe closes
  if (slirp_pid_ > 0) {
    // It normally ends with its namespace; SIGKILL after a moment if it does not.
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(slirp_pid_, nullptr, WNOHANG) == slirp_pid_) return;
      ::usleep(2000);
    }
    ::kill(slirp_pid_, SIGKILL);
    ::waitpid(slirp_pid_, nullptr, 0);
  }
}

}  // namespace kiln
