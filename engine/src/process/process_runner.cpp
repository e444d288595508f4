#include "process/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "process/line_splitter.hpp"
#include "process/process_cgroup.hpp"
#include "secrets/redactor.hpp"
#include "secrets/stream_redactor.hpp"

namespace kiln {

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the last `limit` bytes of everything appended.
class OutputTail {
 public:
  explicit OutputTail(std::size_t limit) : limit_(limit) {}
  void append(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() > 2 * limit_ + 4096) buffer_.erase(0, buffer_.size() - limit_);
  }
  std::string take() {
    if (buffer_.size() > limit_) buffer_.erase(0, buffer_.size() - limit_);
    return std::move(buffer_);
  }

 private:
  std::size_t limit_;
  std::string buffer_;
};

void KillGroup(pid_t pgid, int sig) {
  if (pgid > 0) ::kill(-pgid, sig);
}

}  // namespace

std::string ResolveExecutable(const std::string& name, const std::map<std::string, std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  auto path_it = env.find("PATH");
  std::string path = path_it != env.end() ? path_it->second : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) {
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
      }
    }
    start = end + 1;
  }
  return {};
}

std::map<std::string, std::string> ScrubbedEnvironment(const std::string& home) {
  return {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", home},
      {"LANG", "C.UTF-8"},
      {"LC_ALL", "C.UTF-8"},
      {"TMPDIR", "/tmp"},
  };
}

ProcessResult RunProcess(const ProcessSpec& spec, const ProcessRunOptions& options) {
  ProcessResult result;
  if (spec.argv.empty() || spec.argv[0].empty()) {
    result.error = "no command given";
    return result;
  }
  std::map<std::string, std::string> env = options.base_env;
  for (const auto& [key, value] : spec.env) env[key] = value;
  const std::string executable = ResolveExecutable(spec.argv[0], env);
  if (executable.empty()) {
    result.error = "command not found: " + spec.argv[0];
    return result;
  }
  const std::string cwd = spec.cwd.empty() ? options.default_cwd : spec.cwd;
  if (!cwd.empty() && !std::filesystem::is_directory(cwd)) {
    result.error = "working directory does not exist: " + cwd;
    return result;
  }

  // Everything the child needs is built before fork: after fork in a threaded process only
  // async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int output[2];
  int exec_error[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (::pipe2(exec_error, O_CLOEXEC) != 0) {
    ::close(output[0]);
    ::close(output[1]);
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // A cgroup holds everything the process starts, even what leaves its process group.
  std::unique_ptr<ProcessCgroup> cgroup = ProcessCgroup::Create();
  const char* cgroup_procs = cgroup ? cgroup->procs_file().c_str() : nullptr;
  const pid_t parent = ::getpid();
  const ChildSetup& child = options.child;

  const pid_t pid = ::fork();
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    for (int fd : {output[0], output[1], exec_error[0], exec_error[1], devnull}) ::close(fd);
    return result;
  }
  if (pid == 0) {
    // Child: its own process group, so the whole tree can be signalled at once; its own
    // cgroup where there is one; killed if the thread that started it dies (a SIGKILLed
    // worker), so a killed worker's steps do not run on unsupervised.
    ::setpgid(0, 0);
    if (cgroup_procs != nullptr) {
      int fd = ::open(cgroup_procs, O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        (void)!::write(fd, "0", 1);
        ::close(fd);
      }
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(output[1], STDOUT_FILENO);
    ::dup2(output[1], STDERR_FILENO);
    // Nothing else the worker has open reaches the step's process: not its NATS connection
    // (the job's own code could publish on it, and a killed worker's connection stayed open,
    // its subscriptions alive, for as long as its children lived), not its log file. Marked
    // close-on-exec rather than closed, so exec_error still reports a failed exec.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // kernels before 5.11
    }
    for (int fd : child.inherited_fds) ::fcntl(fd, F_SETFD, 0);
    if (child.max_processes > 0) {
      const rlimit limit{child.max_processes, child.max_processes};
      ::setrlimit(RLIMIT_NPROC, &limit);
    }
    if (child.max_file_size > 0) {
      const rlimit limit{child.max_file_size, child.max_file_size};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    // Groups, then gid, then uid: once the uid is dropped the others can no longer change.
    if (child.switch_user && (::setgroups(0, nullptr) != 0 || ::setresgid(child.gid, child.gid, child.gid) != 0 ||
                              ::setresuid(child.uid, child.uid, child.uid) != 0)) {
      int err = errno;
      (void)!::write(exec_error[1], &err, sizeof err);
      ::_exit(127);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      int err = errno;
      (void)!::write(exec_error[1], &err, sizeof err);
      ::_exit(127);
    }
    ::execve(executable.c_str(), argv.data(), envp.data());
    int err = errno;
    (void)!::write(exec_error[1], &err, sizeof err);
    ::_exit(127);
  }

  ::setpgid(pid, pid);  // also in the parent: no race with an early kill
  ::close(output[1]);
  ::close(exec_error[1]);
  if (devnull >= 0) ::close(devnull);

  int child_errno = 0;
  ssize_t n = ::read(exec_error[0], &child_errno, sizeof child_errno);
  ::close(exec_error[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    ::close(output[0]);
    result.error = "cannot start " + spec.argv[0] + ": " + std::strerror(child_errno);
    return result;
  }
  if (options.after_start) {
    std::string error = options.after_start(pid);
    if (!error.empty()) {
      KillGroup(pid, SIGKILL);
      if (cgroup) cgroup->KillAll();
      ::waitpid(pid, nullptr, 0);
      ::close(output[0]);
      result.error = std::move(error);
      return result;
    }
  }
  result.started = true;

  const Clock::time_point own_deadline =
      spec.timeout.count() > 0 ? Clock::now() + spec.timeout : Clock::time_point::max();
  OutputTail tail(spec.tail_bytes);
  // Secrets are masked in the byte stream, before it is cut into lines: a secret of several
  // lines (a PEM key) or one cut by a read boundary is masked whole.
  StreamRedactor stream_redactor(options.redactor);
  LineSplitter lines;
  auto emit_line = [&](std::string_view line) {
    if (!spec.log_output || !options.on_line) return;
    // The stream redactor masked the secrets and the URL credentials of each read; a URL
    // cut by a read boundary is whole again in its line. Only a line with "://" can hold
    // one: the others go on as they are, without a copy each.
    if (options.redactor && line.find("://") != std::string_view::npos) {
      options.on_line(Redactor::redact_url_credentials(line));
    } else {
      options.on_line(line);
    }
  };

  auto take_output = [&](std::string_view raw) {
    const std::string clean = stream_redactor.feed(raw);
    tail.append(clean);
    lines.feed(clean, emit_line);
  };

  bool output_open = true;
  bool exited = false;
  int status = 0;
  bool terminating = false;
  Clock::time_point kill_at = Clock::time_point::max();  // when SIGKILL follows the SIGTERM sent
  Clock::time_point next_watch = Clock::now() + options.watch_interval;
  char buffer[65536];
  // Readable once the process has exited: the poll below wakes for its exit at once rather
  // than at its next 50 ms tick (up to 50 ms per process, a few % of a short build step).
  // -1 on kernels before 5.3: the tick alone then notices the exit.
  const int exit_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  while (!exited) {
    pollfd fds[2];
    nfds_t count = 0;
    if (output_open) fds[count++] = {output[0], POLLIN, 0};
    if (exit_fd >= 0) fds[count++] = {exit_fd, POLLIN, 0};
    if (count > 0) {
      const int ready = ::poll(fds, count, 50);
      if (ready > 0 && output_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        ssize_t got = ::read(output[0], buffer, sizeof buffer);
        if (got > 0) {
          take_output(std::string_view(buffer, static_cast<std::size_t>(got)));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          output_open = false;
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid) {
      exited = true;
      break;
    }

    if (!terminating && options.watchdog && Clock::now() >= next_watch) {
      result.stopped_by = options.watchdog();
      next_watch = Clock::now() + options.watch_interval;
      if (!result.stopped_by.empty()) {
        // Nothing to wait for: what it writes is the problem.
        KillGroup(pid, SIGKILL);
        if (cgroup) cgroup->KillAll();
        terminating = true;
      }
    }
    if (!terminating) {
      StopReason reason = options.stop ? options.stop->stop_reason() : StopReason::none;
      if (reason == StopReason::none && Clock::now() >= own_deadline) reason = StopReason::timed_out;
      if (reason != StopReason::none) {
        result.cancelled = reason == StopReason::cancelled;
        result.timed_out = reason == StopReason::timed_out;
        KillGroup(pid, SIGTERM);
        terminating = true;
        kill_at = Clock::now() + options.kill_grace;
      }
    } else if (Clock::now() >= kill_at) {
      KillGroup(pid, SIGKILL);
      if (cgroup) cgroup->KillAll();
      kill_at = Clock::time_point::max();
    }
  }

  if (exit_fd >= 0) ::close(exit_fd);
  // The leader is gone: whatever it left running in its group goes too, so nothing a step
  // started outlives it. The pipe then drains (a straggler holding it is dead now).
  KillGroup(pid, SIGKILL);
  if (cgroup) cgroup->KillAll();  // and what left the group (a daemon that called setsid)
  if (output_open) {
    int flags = ::fcntl(output[0], F_GETFL);
    ::fcntl(output[0], F_SETFL, flags | O_NONBLOCK);
    const auto drain_until = Clock::now() + std::chrono::milliseconds(500);
    while (Clock::now() < drain_until) {
      pollfd pfd{output[0], POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      ssize_t got = ::read(output[0], buffer, sizeof buffer);
      if (got <= 0) break;
      take_output(std::string_view(buffer, static_cast<std::size_t>(got)));
    }
  }
  ::close(output[0]);
  {
    const std::string rest = stream_redactor.finish();
    tail.append(rest);
    lines.feed(rest, emit_line);
  }
  if (!lines.empty()) lines.flush(emit_line);

  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
  if (!result.stopped_by.empty()) {
    const std::string note = "kiln: stopped: " + result.stopped_by;
    emit_line(note);
    tail.append(note + "\n");
  }
  result.output_tail = options.redactor ? options.redactor->redact(tail.take()) : tail.take();
  return result;
}

}  // namespace kiln
