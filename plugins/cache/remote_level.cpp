#include "remote_level.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "errno_text.hpp"
#include "remote_artifact.hpp"
#include "tree_copy.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

std::string Base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// A containers-auth.json for the registry's host, readable by the worker only: credentials
// never go on a command line, which any local user can read.
std::string WriteAuthFile(const fs::path& path, const RemoteCacheConfig& config, const RegistryCredentials& credentials) {
  const nlohmann::json file = {{"auths", {{config.host(), {{"auth", Base64(credentials.user + ":" + credentials.password)}}}}}};
  const std::string content = file.dump();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create the registry auth file: " + ErrnoText(errno);
  const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  return written ? std::string() : "cannot write the registry auth file";
}

// skopeo's TLS and auth options for one side of a copy ("src" or "dest").
std::vector<std::string> RegistryOptions(const RemoteCacheConfig& config, const std::string& side,
                                         const fs::path& authfile) {
  std::vector<std::string> options;
  if (!config.tls_verify) options.push_back("--" + side + "-tls-verify=false");
  if (!config.cert_dir.empty()) options.push_back("--" + side + "-cert-dir=" + config.cert_dir);
  if (!authfile.empty()) options.push_back("--" + side + "-authfile=" + authfile.string());
  return options;
}

// The last non-empty line of skopeo's output: its error.
std::string LastLine(const std::string& output) {
  std::string text = output;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto newline = text.rfind('\n');
  text = newline == std::string::npos ? text : text.substr(newline + 1);
  if (text.size() > 400) text = text.substr(text.size() - 400);
  return text;
}

bool Contains(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// A registry answering that the tag or the whole repository is not there.
bool NotFound(const std::string& output) {
  return Contains(output, "manifest unknown") || Contains(output, "name unknown") ||
         Contains(output, "MANIFEST_UNKNOWN") || Contains(output, "NAME_UNKNOWN");
}

// A blob whose bytes do not hash to the digest it is stored under: tampered or corrupted.
bool DigestMismatch(const std::string& output) {
  return Contains(output, "Digest did not match") || Contains(output, "digest did not match") ||
         Contains(output, "DIGEST_INVALID");
}

std::string ReadFileTail(const fs::path& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace

bool CredentialsForStep(const RemoteCacheConfig& config, StepContext& ctx, RegistryCredentials* credentials,
                        std::string* error) {
  *credentials = RegistryCredentials{};
  if (config.secret.empty()) return true;
  const std::optional<std::string> secret = ctx.secret(config.secret);
  if (!secret || secret->empty()) {
    *error = "cache.remote.secret: no secret named '" + config.secret + "' is configured";
    return false;
  }
  ctx.add_redaction(*secret);
  const auto colon = secret->find(':');
  if (colon == std::string::npos || colon == 0) {
    *error = "cache.remote.secret: secret '" + config.secret + "' must hold 'user:password'";
    return false;
  }
  credentials->user = secret->substr(0, colon);
  credentials->password = secret->substr(colon + 1);
  ctx.add_redaction(credentials->password);
  ctx.add_redaction(Base64(*secret));
  return true;
}

std::string RemoteReference(const RemoteCacheConfig& config, const std::string& scope, const std::string& key) {
  return config.registry + "/" + scope + ":" + EntryTag(key);
}

RemoteLevel::~RemoteLevel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (pusher_ && pusher_->joinable()) pusher_->join();
}

void RemoteLevel::Count(const std::string& op, const std::string& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  counts_[op][result] += 1;
}

nlohmann::json RemoteLevel::Counters() {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [op, results] : counts_) {
    for (const auto& [result, n] : results) out[op][result] = n;
  }
  out["pushes_pending"] = queue_.size() + (pushing_ ? 1 : 0);
  if (!last_push_error_.empty()) out["last_push_error"] = last_push_error_;
  return out;
}

void RemoteLevel::WaitIdle() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return (queue_.empty() && !pushing_) || stopping_; });
}

RemoteLevel::FetchResult RemoteLevel::Fetch(const RemoteCacheConfig& config, const RegistryCredentials& credentials,
                                            KeyedStore& store, const std::string& key, StepContext& ctx,
                                            std::string* why) {
  fs::path import;
  if (auto error = store.NewImportDir(&import); !error.empty()) {
    *why = error;
    Count("fetch", "error");
    return FetchResult::error;
  }
  const fs::path layout = import.string() + ".oci";
  const fs::path authfile = credentials.empty() ? fs::path() : fs::path(import.string() + ".auth");
  struct Cleanup {
    fs::path import, layout, authfile;
    ~Cleanup() {
      RemoveTree(layout);
      if (!authfile.empty()) ::unlink(authfile.c_str());
      RemoveTree(import);  // already gone when adopted
    }
  } cleanup{import, layout, authfile};
  if (!authfile.empty()) {
    if (auto error = WriteAuthFile(authfile, config, credentials); !error.empty()) {
      *why = error;
      Count("fetch", "error");
      return FetchResult::error;
    }
  }
  ProcessSpec spec;
  spec.argv = {"skopeo", "copy", "--quiet"};
  for (auto& option : RegistryOptions(config, "src", authfile)) spec.argv.push_back(std::move(option));
  spec.argv.push_back("docker://" + RemoteReference(config, store.scope(), key));
  spec.argv.push_back("oci:" + layout.string() + ":" + EntryTag(key));
  spec.isolation = Isolation::worker;  // skopeo reads the registry; the entry is data it never runs
  spec.log_output = false;
  spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  spec.env = {{"TMPDIR", import.parent_path().string()}};
  const ProcessResult result = ctx.run(spec);
  if (result.cancelled) return FetchResult::cancelled;
  if (!result.ok()) {
    if (result.started && !result.timed_out && NotFound(result.output_tail)) {
      Count("fetch", "miss");
      return FetchResult::miss;
    }
    if (result.started && DigestMismatch(result.output_tail)) {
      *why = "the registry's copy is corrupt or altered: " + LastLine(result.output_tail);
      Count("fetch", "rejected");
      return FetchResult::rejected;
    }
    *why = !result.started ? "cannot run skopeo: " + result.error
           : result.timed_out ? "skopeo did not finish within " + std::to_string(config.timeout.count()) + " s"
                              : "skopeo failed: " + LastLine(result.output_tail);
    Count("fetch", "error");
    return FetchResult::error;
  }
  if (auto rejected = ReadEntryLayout(layout, store.scope(), key, import); !rejected.empty()) {
    *why = "the registry's copy is rejected: " + rejected;
    Count("fetch", "rejected");
    return FetchResult::rejected;
  }
  const SaveOutcome adopted = store.Adopt(key, import);
  if (adopted.kind == SaveOutcome::Kind::saved || adopted.kind == SaveOutcome::Kind::exists) {
    Count("fetch", "hit");
    return FetchResult::hit;
  }
  *why = "the registry's copy is rejected: " + adopted.message;
  Count("fetch", "rejected");
  return FetchResult::rejected;
}

void RemoteLevel::EnqueuePush(const RemoteCacheConfig& config, const RegistryCredentials& credentials,
                              const KeyedStore& store, const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return;
  if (queue_.size() >= kMaxQueuedPushes) {
    counts_["push"]["dropped"] += 1;
    return;
  }
  queue_.push_back(PushJob{config, credentials, store.keyed_dir().parent_path().parent_path(), store.scope(), key});
  if (!pusher_) pusher_.emplace([this] { PushLoop(); });
  changed_.notify_all();
}

void RemoteLevel::PushLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    PushJob job = std::move(queue_.front());
    queue_.pop_front();
    pushing_ = true;
    lock.unlock();
    Push(job);
    lock.lock();
    pushing_ = false;
    changed_.notify_all();
  }
}

void RemoteLevel::Push(const PushJob& job) {
  KeyedStore store(job.cache_root, job.scope);
  auto failed = [&](const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex_);
    counts_["push"]["error"] += 1;
    last_push_error_ = "key \"" + job.key + "\" to " + RemoteReference(job.config, job.scope, job.key) + ": " + why;
  };
  if (store.RemotePushed(job.key)) return;  // two saves of one key queued it twice
  fs::path work;
  if (auto error = store.NewImportDir(&work); !error.empty()) return failed(error);
  const fs::path layout = work / "oci";
  const fs::path authfile = job.credentials.empty() ? fs::path() : work / "auth.json";
  const fs::path output = work / "skopeo.log";
  struct Cleanup {
    fs::path work;
    ~Cleanup() { RemoveTree(work); }
  } cleanup{work};
  // The layout links the entry's pack: an eviction meanwhile does not take it from under skopeo.
  if (auto error = WriteEntryLayout(store.entry_dir(job.key), job.scope, job.key, layout); !error.empty()) {
    return failed(error);
  }
  if (!authfile.empty()) {
    if (auto error = WriteAuthFile(authfile, job.config, job.credentials); !error.empty()) return failed(error);
  }
  std::vector<std::string> argv = {"skopeo", "copy", "--quiet"};
  for (auto& option : RegistryOptions(job.config, "dest", authfile)) argv.push_back(std::move(option));
  argv.push_back("oci:" + layout.string() + ":" + EntryTag(job.key));
  argv.push_back("docker://" + RemoteReference(job.config, job.scope, job.key));
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  // The worker's environment may hold secrets: skopeo gets a path, a home and a temp dir.
  std::vector<std::string> environment = {"PATH=" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"),
                                          "HOME=" + work.string(), "TMPDIR=" + work.string()};
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);  // its own group, killed as one
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, "skopeo", &actions, &attributes, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return failed("cannot run skopeo: " + ErrnoText(spawned));

  const auto deadline = std::chrono::steady_clock::now() + job.config.timeout;
  int status = 0;
  bool killed_for = false;
  std::string killed_why;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return failed("cannot wait for skopeo: " + ErrnoText(errno));
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; });
      stop = stopping_;
    }
    if (!killed_for && (stop || std::chrono::steady_clock::now() > deadline)) {
      killed_for = true;
      killed_why = stop ? "the worker stopped before the push ended"
                        : "skopeo did not finish within " + std::to_string(job.config.timeout.count()) + " s";
      ::kill(-pid, SIGKILL);
    }
  }
  if (killed_for) return failed(killed_why);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return failed("skopeo failed: " + LastLine(ReadFileTail(output, 4096)));
  store.MarkRemotePushed(job.key);
  Count("push", "ok");
}

}  // namespace kiln::cache
