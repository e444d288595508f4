// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on a free
// 127.0.0.1 port, storing under a temp dir, started and stopped by the test.
//
// Two shapes, chosen by Options:
//  - plain: HTTP, no auth (clients need --tls-verify=false);
//  - secured: TLS with a certificate for 127.0.0.1 signed by a CA the fixture makes with the
//    openssl CLI, and htpasswd (bcrypt) basic auth for one user. Clients trust the CA
//    through cert_dir() (buildah/skopeo --cert-dir), never through the system's trust.
// Stop() leaves the port closed (an unreachable registry); Start() brings it back on the
// same port with the same content.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace kiln::testing {

class LocalRegistry {
 public:
  struct Options {
    bool tls = false;
    /// Basic auth for this user (needs tls: distribution refuses htpasswd over plain HTTP).
    std::string user;
    std::string password;
  };

  /// Makes the certificates and htpasswd file in `dir` and starts the registry; throws
  /// std::runtime_error naming the log when it does not come up within 20 s.
  LocalRegistry(std::filesystem::path dir, Options options);
  ~LocalRegistry();
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  void Start();
  void Stop();

  /// "127.0.0.1:<port>": the host part of image references.
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  /// A directory holding ca.crt, for --cert-dir (empty without TLS).
  std::filesystem::path cert_dir() const { return options_.tls ? dir_ / "certs.d" : std::filesystem::path(); }
  const std::filesystem::path& log_file() const { return log_; }
  /// The registry's blob and manifest store (to measure what a push or a cache costs).
  std::filesystem::path storage() const { return dir_ / "storage"; }

  /// True when docker-registry, openssl and htpasswd are installed.
  static bool Available();

 private:
  void MakeCertificates();
  void WriteConfig();
  void WaitReady();

  std::filesystem::path dir_;
  Options options_;
  std::filesystem::path log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace kiln::testing
