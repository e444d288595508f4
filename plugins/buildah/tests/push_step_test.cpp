#include "push_step.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "buildah_fixture.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::ReadFile;

/// A registry stand-in on 127.0.0.1 that answers every request with one status, and keeps
/// the Authorization headers it was sent (plain HTTP: pushes use tls_verify = false).
class FixedStatusRegistry {
 public:
  explicit FixedStatusRegistry(int status) : status_(status) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 16) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FixedStatusRegistry() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> authorizations() {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd waiting{fd_, POLLIN, 0};
      if (::poll(&waiting, 1, 100) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd reading{client, POLLIN, 0};
        if (::poll(&reading, 1, 5000) <= 0) break;
        ssize_t n = ::read(client, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
        if (request[0] < 'A' || request[0] > 'Z') break;  // a TLS hello: buildah tries https first
      }
      if (request.empty() || request[0] < 'A' || request[0] > 'Z') {
        ::close(client);
        continue;
      }
      auto header = request.find("\r\nAuthorization: ");
      if (header != std::string::npos) {
        auto end = request.find("\r\n", header + 2);
        std::lock_guard lock(mutex_);
        authorizations_.push_back(request.substr(header + 17, end - header - 17));
      }
      std::string reason = status_ == 401 ? "Unauthorized" : "Service Unavailable";
      std::string response = "HTTP/1.1 " + std::to_string(status_) + " " + reason + "\r\n";
      if (status_ == 401) response += "WWW-Authenticate: Basic realm=\"kiln-test\"\r\n";
      response += "Docker-Distribution-Api-Version: registry/2.0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)::write(client, response.data(), response.size());
      ::close(client);
    }
  }

  int status_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::thread thread_;
};

class PushStepTest : public BuildahStepTest {
 protected:
  void SetUp() override {
    BuildahStepTest::SetUp();
    if (HasFatalFailure()) return;
    fs::path context = Context("img", "FROM scratch\nCOPY a /a\n", {{"a", "payload"}});
    StepResult built = Run("build", {{"context", context.string()}, {"tags", {"push-me"}}});
    ASSERT_TRUE(built.ok()) << built.message;
    image_ = "localhost/acme/shop:push-me";
    digest_ = built.outputs.at("digest");
  }

  /// The plugin, reconfigured to speak plain HTTP to the loopback registry.
  void WithoutTls() {
    nlohmann::json config = store_->plugin_config();
    config["tls_verify"] = false;
    ASSERT_EQ(plugin_.configure(config), "");
  }

  std::string image_;
  std::string digest_;
};

TEST_F(PushStepTest, ToAnOciArchive) {
  fs::path archive = harness_->workspace() / "out" / "image.tar";
  fs::create_directories(archive.parent_path());
  StepResult result = Run("push", {{"image", image_}, {"destination", "oci-archive:" + archive.string() + ":v1"}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.outputs.at("digest").get<std::string>().rfind("sha256:", 0), 0u) << result.outputs.dump();
  std::string listing;
  ASSERT_EQ(kiln::testing::Shell("tar tf '" + archive.string() + "'", &listing), 0) << listing;
  EXPECT_NE(listing.find("index.json"), std::string::npos) << listing;
  EXPECT_NE(listing.find("oci-layout"), std::string::npos) << listing;
}

TEST_F(PushStepTest, ToADirectory) {
  fs::path dir = harness_->workspace() / "dir-image";
  StepResult result = Run("push", {{"image", image_}, {"destination", "dir:" + dir.string()}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_TRUE(fs::exists(dir / "manifest.json"));
  std::string digest = result.outputs.at("digest");
  EXPECT_TRUE(fs::exists(dir / digest.substr(7)) || !digest.empty());
}

TEST_F(PushStepTest, RegistryUnavailableIsRetryable) {
  WithoutTls();
  FixedStatusRegistry registry(503);
  StepResult result = Run("push", {{"image", image_}, {"destination", registry.host() + "/acme/shop:1"}});
  EXPECT_EQ(result.status, StepResult::Status::retryable) << result.message;
  EXPECT_NE(result.message.find("docker://" + registry.host() + "/acme/shop:1"), std::string::npos) << result.message;
}

TEST_F(PushStepTest, NothingListeningIsRetryable) {
  WithoutTls();
  int port;
  {
    FixedStatusRegistry closed(503);  // a port that was free a moment ago and is closed now
    port = std::stoi(closed.host().substr(10));
  }
  StepResult result =
      Run("push", {{"image", image_}, {"destination", "docker://127.0.0.1:" + std::to_string(port) + "/a/b:1"}});
  EXPECT_EQ(result.status, StepResult::Status::retryable) << result.message;
}

TEST_F(PushStepTest, CredentialsGoThroughAnAuthFileAndNeverIntoMessagesOrLogs) {
  WithoutTls();
  const std::string password = "pa55-w0rd-never-logged";
  harness_->set_secret("registry_token", "ci-bot:" + password);
  FixedStatusRegistry registry(401);
  StepResult result = Run("push", {{"image", image_},
                                   {"destination", registry.host() + "/acme/shop:1"},
                                   {"credentials", "registry_token"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;  // auth errors are not retried
  EXPECT_NE(result.message.find("unauthorized"), std::string::npos) << result.message;

  // buildah presented the credentials it was given...
  std::vector<std::string> seen = registry.authorizations();
  ASSERT_FALSE(seen.empty());
  std::string decoded;
  kiln::testing::Shell("printf %s '" + seen.front().substr(6) + "' | base64 -d", &decoded);
  EXPECT_EQ(seen.front().rfind("Basic ", 0), 0u) << seen.front();
  EXPECT_EQ(decoded, "ci-bot:" + password);
  // ...and they are nowhere else: not in the message, the log, or a file left behind.
  EXPECT_EQ(result.message.find(password), std::string::npos);
  EXPECT_EQ(harness_->log_text().find(password), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(harness_->workspace())) {
    EXPECT_EQ(entry.path().filename().string().find("registry-auth"), std::string::npos) << entry.path();
  }
}

TEST_F(PushStepTest, CredentialsAsUsernameAndSecret) {
  WithoutTls();
  harness_->set_secret("token_only", "tok-123456789");
  FixedStatusRegistry registry(401);
  StepResult result = Run("push", {{"image", image_},
                                   {"destination", registry.host() + "/acme/shop:1"},
                                   {"credentials", {{"username", "robot"}, {"secret", "token_only"}}}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  ASSERT_FALSE(registry.authorizations().empty());
  std::string decoded;
  kiln::testing::Shell("printf %s '" + registry.authorizations().front().substr(6) + "' | base64 -d", &decoded);
  EXPECT_EQ(decoded, "robot:tok-123456789");
}

TEST_F(PushStepTest, UnknownSecretOrBadArgumentsAreTerminal) {
  StepResult result = Run("push", {{"image", image_}, {"destination", "localhost:1/a:b"}, {"credentials", "nope"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_EQ(result.message, "buildah.push: credentials: no secret named 'nope' is configured");
  EXPECT_EQ(Run("push", {{"image", image_}}).message, "buildah.push: destination: missing");
  harness_->set_secret("no_colon", "justatoken123");
  result = Run("push", {{"image", image_}, {"destination", "localhost:1/a:b"}, {"credentials", "no_colon"}});
  EXPECT_NE(result.message.find("must hold 'user:password'"), std::string::npos) << result.message;
  EXPECT_EQ(result.message.find("justatoken123"), std::string::npos) << result.message;
}

TEST(RegistryHost, FromTheReference) {
  EXPECT_EQ(RegistryHost("registry.example.com:5000/a/b:t"), "registry.example.com:5000");
  EXPECT_EQ(RegistryHost("localhost/a"), "localhost");
  EXPECT_EQ(RegistryHost("acme/shop:1"), "docker.io");
  EXPECT_EQ(RegistryHost("shop"), "docker.io");
  EXPECT_EQ(WithTransport("oci-archive:/x.tar"), "oci-archive:/x.tar");
  EXPECT_EQ(WithTransport("ghcr.io/a/b:1"), "docker://ghcr.io/a/b:1");
}

}  // namespace
}  // namespace kiln::buildah
