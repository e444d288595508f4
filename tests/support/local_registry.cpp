#include "support/local_registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace kiln::testing {
namespace fs = std::filesystem;
namespace {

void MustShell(const std::string& command) {
  std::string output;
  if (Shell(command, &output) != 0) throw std::runtime_error("LocalRegistry: `" + command + "` failed:\n" + output);
}

std::string Quoted(const fs::path& path) { return "'" + path.string() + "'"; }

}  // namespace

bool LocalRegistry::Available() {
  return Shell("command -v docker-registry && command -v openssl && command -v htpasswd") == 0;
}

LocalRegistry::LocalRegistry(fs::path dir, Options options) : dir_(std::move(dir)), options_(std::move(options)) {
  if (!options_.user.empty() && !options_.tls) {
    throw std::invalid_argument("LocalRegistry: basic auth needs tls (distribution refuses it over HTTP)");
  }
  fs::create_directories(dir_ / "storage");
  log_ = dir_ / "registry.log";
  port_ = FreeLoopbackPort();
  if (options_.tls) MakeCertificates();
  if (!options_.user.empty()) {
    // bcrypt (-B): the only hash distribution's htpasswd backend accepts.
    MustShell("htpasswd -Bbn '" + options_.user + "' '" + options_.password + "' > " + Quoted(dir_ / "htpasswd"));
  }
  WriteConfig();
  Start();
}

LocalRegistry::~LocalRegistry() { Stop(); }

void LocalRegistry::MakeCertificates() {
  // A CA of the test's own, and a server certificate for 127.0.0.1 (an IP SAN: Go's TLS
  // ignores the common name) signed by it.
  fs::path tls = dir_ / "tls";
  fs::create_directories(tls);
  fs::create_directories(dir_ / "certs.d");
  MustShell("(cd " + Quoted(tls) +
            " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=kiln test CA' -keyout ca.key -out ca.crt"
            " && openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout server.key -out server.csr"
            " && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf"
            " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf"
            " -out server.crt)");
  fs::copy_file(tls / "ca.crt", dir_ / "certs.d" / "ca.crt", fs::copy_options::overwrite_existing);
}

void LocalRegistry::WriteConfig() {
  std::string config = "version: 0.1\n"
                       "log:\n  level: info\n"
                       "storage:\n  filesystem:\n    rootdirectory: " + (dir_ / "storage").string() + "\n"
                       "  delete:\n    enabled: true\n"
                       "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n"
                       "  secret: kiln-test-only\n";
  if (options_.tls) {
    config += "  tls:\n    certificate: " + (dir_ / "tls" / "server.crt").string() + "\n    key: " +
              (dir_ / "tls" / "server.key").string() + "\n";
  }
  if (!options_.user.empty()) {
    config += "auth:\n  htpasswd:\n    realm: kiln-test\n    path: " + (dir_ / "htpasswd").string() + "\n";
  }
  WriteFile(dir_ / "config.yml", config);
}

void LocalRegistry::Start() {
  if (pid_ > 0) return;
  std::string config = (dir_ / "config.yml").string();
  std::string log = log_.string();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("LocalRegistry: fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execlp("docker-registry", "docker-registry", "serve", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  WaitReady();
}

void LocalRegistry::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("LocalRegistry: docker-registry exited; see " + log_.string());
    }
    if (LoopbackPortAccepts(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  throw std::runtime_error("LocalRegistry: docker-registry did not listen within 20 s; see " + log_.string());
}

void LocalRegistry::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace kiln::testing
