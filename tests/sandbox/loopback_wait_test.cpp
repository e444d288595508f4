// WaitForLoopbackAddress on real network namespaces: it must hold slirp4netns back until
// bwrap's child has given its loopback an address, and never hang when that child is gone.
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>

#include <gtest/gtest.h>

#include "sandbox/loopback_wait.hpp"

namespace kiln {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A process in a network namespace of its own whose `lo` is down and has no address, as
// bwrap's child is before its loopback setup. A byte on its pipe brings `lo` up (the kernel
// then gives it 127.0.0.1, as when slirp4netns does it).
class NamespacedProcess {
 public:
  NamespacedProcess() {
    int ready[2];
    if (::pipe(go_) != 0 || ::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(go_[1]);
      ::close(ready[0]);
      const char ok = ::unshare(CLONE_NEWNET) == 0 ? '1' : '0';
      if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
      char byte;
      if (::read(go_[0], &byte, 1) == 1) {
        const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ifreq request{};
        std::strcpy(request.ifr_name, "lo");
        request.ifr_flags = IFF_UP | IFF_RUNNING;
        ::ioctl(sock, SIOCSIFFLAGS, &request);
      }
      ::pause();
      ::_exit(0);
    }
    ::close(go_[0]);
    ::close(ready[1]);
    char ok = '0';
    started_ = ::read(ready[0], &ok, 1) == 1 && ok == '1';
    ::close(ready[0]);
  }
  ~NamespacedProcess() { End(); }

  bool started() const { return started_; }
  pid_t pid() const { return pid_; }
  void BringLoopbackUp() { (void)!::write(go_[1], "1", 1); }
  void End() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(go_[1]);
    pid_ = -1;
  }

 private:
  int go_[2] = {-1, -1};
  pid_t pid_ = -1;
  bool started_ = false;
};

class LoopbackWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "a network namespace of its own needs root here";
    ASSERT_TRUE(process_.started()) << "unshare(CLONE_NEWNET) failed";
  }
  NamespacedProcess process_;
};

TEST_F(LoopbackWaitTest, WaitsWhileTheLoopbackHasNoAddressAndSaysSoAtTheDeadline) {
  const auto start = Clock::now();
  const std::string error = WaitForLoopbackAddress(process_.pid(), start + 100ms);
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_NE(error.find("not set up in time"), std::string::npos) << error;
  EXPECT_NE(error.find("/proc/" + std::to_string(process_.pid()) + "/net/fib_trie"), std::string::npos) << error;
}

TEST_F(LoopbackWaitTest, ReturnsOnceTheLoopbackHasItsAddress) {
  auto waited = std::async(std::launch::async,
                           [this] { return WaitForLoopbackAddress(process_.pid(), Clock::now() + 10s); });
  EXPECT_EQ(waited.wait_for(150ms), std::future_status::timeout) << "returned before lo had an address";
  process_.BringLoopbackUp();
  ASSERT_EQ(waited.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(waited.get(), "");
}

TEST_F(LoopbackWaitTest, AProcessThatEndedIsNamedInsteadOfWaitedFor) {
  const pid_t pid = process_.pid();
  process_.End();
  const auto start = Clock::now();
  const std::string error = WaitForLoopbackAddress(pid, start + 10s);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_NE(error.find("ended before its loopback was set up"), std::string::npos) << error;
}

}  // namespace
}  // namespace kiln
