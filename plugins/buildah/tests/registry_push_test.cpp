// buildah.push against a real registry (Debian's docker-registry, tests/support/local_registry):
// an image pushed with credentials from a secret, pulled back into a fresh store and run,
// digests equal; and the failures a real registry gives, each classified.
#include <unistd.h>

#include "buildah_fixture.hpp"
#include "support/local_registry.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::LocalRegistry;

constexpr const char* kUser = "ci-bot";
constexpr const char* kPassword = "s3cret-pa55-never-in-argv";

class RegistryPushTest : public BuildahStepTest {
 protected:
  void SetUp() override {
    BuildahStepTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(LocalRegistry::Available()) << "these tests need docker-registry, openssl and htpasswd";
    NeedBase();
    if (HasFatalFailure()) return;
    fs::path context = Context("img", std::string("FROM ") + kBase + "\nCOPY a /a\n", {{"a", "hello from kiln\n"}});
    StepResult built = Run("build", {{"context", context.string()}, {"tags", {"push-me"}}});
    ASSERT_TRUE(built.ok()) << built.message;
    image_ = "localhost/acme/shop:push-me";
  }

  /// A registry with TLS (the test's CA) and basic auth; the plugin trusts the CA through
  /// buildah.cert_dir, and every buildah command line is recorded by a wrapper.
  void Secured() {
    registry_ = std::make_unique<LocalRegistry>(dir_.path() / "registry",
                                                LocalRegistry::Options{true, kUser, kPassword});
    Configure({{"cert_dir", registry_->cert_dir().string()}});
  }
  void Plain() {
    registry_ = std::make_unique<LocalRegistry>(dir_.path() / "registry", LocalRegistry::Options{});
    Configure({{"tls_verify", false}});
  }

  /// Points the plugin at a wrapper that appends its argv to argv_log_ and runs buildah.
  void Configure(const nlohmann::json& extra) {
    fs::path wrapper = dir_.path() / "buildah-wrapper";
    kiln::testing::WriteFile(wrapper, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argv_log_.string() +
                                          "'\nexec buildah \"$@\"\n");
    fs::permissions(wrapper, fs::perms::owner_all);
    nlohmann::json config = store_->plugin_config();
    config["binary"] = wrapper.string();
    config.update(extra);
    harness_->plugin_config = config;
    ASSERT_EQ(plugin_.configure(config), "");
  }

  /// Pulls `reference` into a store of its own, runs `cat /a` in it; returns the digest
  /// that store records for the image, and the file's content in `content`.
  std::string PullIntoFreshStoreAndRun(const std::string& reference, const std::string& options,
                                       std::string* content) {
    kiln::testing::BuildahStore fresh(dir_.path() / "fresh-store");
    std::string output;
    EXPECT_EQ(fresh.Buildah("pull --quiet " + options + " " + reference, &output), 0) << output;
    std::string digest;
    EXPECT_EQ(fresh.Buildah("inspect --type image --format '{{.FromImageDigest}}' " + reference, &digest), 0) << digest;
    std::string container;
    EXPECT_EQ(fresh.Buildah("from --quiet --pull=never " + reference, &container), 0) << container;
    container = container.substr(0, container.find('\n'));
    EXPECT_EQ(fresh.Buildah("run --isolation chroot " + container + " -- cat /a", content), 0) << *content;
    fresh.Buildah("rm " + container);
    return digest.substr(0, digest.find('\n'));
  }

  std::string Everything(const StepResult& result) {
    return result.message + "\n" + result.outputs.dump() + "\n" + harness_->log_text() + "\n" +
           (fs::exists(argv_log_) ? kiln::testing::ReadFile(argv_log_) : std::string());
  }

  std::unique_ptr<LocalRegistry> registry_;
  fs::path argv_log_ = dir_.path() / "buildah-argv.log";
  std::string image_;
};

TEST_F(RegistryPushTest, PushedWithSecretCredentialsPulledBackIntoAFreshStoreAndRun) {
  Secured();
  harness_->set_secret("registry_login", std::string(kUser) + ":" + kPassword);
  const std::string reference = registry_->host() + "/acme/shop:1";
  StepResult result = Run("push", {{"image", image_}, {"destination", reference}, {"credentials", "registry_login"}});
  ASSERT_TRUE(result.ok()) << result.message << "\n" << harness_->log_text();
  std::string pushed = result.outputs.at("digest");
  ASSERT_EQ(pushed.rfind("sha256:", 0), 0u) << pushed;

  std::string content;
  std::string pulled = PullIntoFreshStoreAndRun(
      reference, "--cert-dir " + registry_->cert_dir().string() + " --creds " + kUser + ":" + kPassword, &content);
  EXPECT_EQ(pulled, pushed);
  EXPECT_EQ(content, "hello from kiln\n");

  // The password went to buildah in an auth file only: not on any command line, not in the
  // step's log, message or outputs (what becomes the job's events).
  std::string everything = Everything(result);
  EXPECT_NE(everything.find("--authfile"), std::string::npos) << everything;
  EXPECT_EQ(everything.find(kPassword), std::string::npos) << everything;
}

TEST_F(RegistryPushTest, WithoutAuthOverPlainHttp) {
  Plain();
  const std::string reference = registry_->host() + "/acme/shop:plain";
  StepResult result = Run("push", {{"image", image_}, {"destination", "docker://" + reference}});
  ASSERT_TRUE(result.ok()) << result.message;
  std::string content;
  EXPECT_EQ(PullIntoFreshStoreAndRun(reference, "--tls-verify=false", &content), result.outputs.at("digest"));
  EXPECT_EQ(content, "hello from kiln\n");
}

TEST_F(RegistryPushTest, WrongPasswordIsTerminalAndSaysUnauthorized) {
  Secured();
  harness_->set_secret("registry_login", std::string(kUser) + ":wrong-password-123");
  StepResult result = Run("push", {{"image", image_},
                                   {"destination", registry_->host() + "/acme/shop:1"},
                                   {"credentials", "registry_login"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("unauthorized"), std::string::npos) << result.message;
  EXPECT_EQ(Everything(result).find("wrong-password-123"), std::string::npos) << Everything(result);
}

TEST_F(RegistryPushTest, UntrustedCertificateIsTerminal) {
  Secured();
  Configure(nlohmann::json::object());  // no cert_dir: the test CA is not trusted
  harness_->set_secret("registry_login", std::string(kUser) + ":" + kPassword);
  StepResult result = Run("push", {{"image", image_},
                                   {"destination", registry_->host() + "/acme/shop:1"},
                                   {"credentials", "registry_login"}});
  EXPECT_EQ(result.status, StepResult::Status::terminal) << result.message;
  EXPECT_NE(result.message.find("x509"), std::string::npos) << result.message;
}

TEST_F(RegistryPushTest, MissingRepositoryIsTerminalWhenPulledAndCreatedWhenPushed) {
  Plain();
  // distribution creates a repository on its first push...
  StepResult pushed = Run("push", {{"image", image_}, {"destination", registry_->host() + "/brand/new:1"}});
  EXPECT_TRUE(pushed.ok()) << pushed.message;
  // ...and a build FROM a repository it does not have fails, without retrying.
  fs::path context = Context("from-missing", "FROM " + registry_->host() + "/acme/missing:1\nCOPY a /a\n", {{"a", "x"}});
  StepResult built = Run("build", {{"context", context.string()}});
  EXPECT_EQ(built.status, StepResult::Status::terminal) << built.message;
  EXPECT_NE(built.message.find(registry_->host() + "/acme/missing:1"), std::string::npos) << built.message;
  EXPECT_NE(built.message.find("manifest unknown"), std::string::npos) << built.message;
}

TEST_F(RegistryPushTest, UnreachableRegistryIsRetryable) {
  Plain();
  registry_->Stop();
  StepResult result = Run("push", {{"image", image_}, {"destination", registry_->host() + "/acme/shop:1"}});
  EXPECT_EQ(result.status, StepResult::Status::retryable) << result.message;
  EXPECT_NE(result.message.find("connection refused"), std::string::npos) << result.message;
  registry_->Start();  // and once it is back, the step's retry succeeds
  result = Run("push", {{"image", image_}, {"destination", registry_->host() + "/acme/shop:1"}});
  EXPECT_TRUE(result.ok()) << result.message;
}

}  // namespace
}  // namespace kiln::buildah
