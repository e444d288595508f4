// Issue 7, Deliver point 1: the connection authenticates by user and password, by token, or
// over TLS, against a real nats-server that requires it; a wrong secret is a clear error that
// does not show the secret. A user .creds file authenticates against a server in operator
// (JWT) mode.
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "support/nats_server.hpp"
#include "support/temp_dir.hpp"
#include "transport/jetstream_setup.hpp"
#include "transport/nats_connection.hpp"

namespace kiln::testing {
namespace {

TEST(NatsConnectionAuth, UserAndPasswordFromASecretFile) {
  NatsServer server({"--user", "kiln", "--pass", "right-pass-123"});
  TempDir dir{"kiln-nats-auth"};
  const auto secret = dir.path() / "nats-password";
  WriteFile(secret, "right-pass-123");
  NatsConfig nats;
  nats.url = server.url();
  nats.user = "kiln";
  nats.password = "file:" + secret.string();
  auto conn = NatsConnection::Connect(nats, "auth test", nullptr);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ(natsConnection_Status(conn.value()->nc()), NATS_CONN_STATUS_CONNECTED);

  WriteFile(secret, "wrong-pass-456");
  auto refused = NatsConnection::Connect(nats, "auth test", nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("cannot connect"), std::string::npos) << refused.error();
  EXPECT_EQ(refused.error().find("wrong-pass-456"), std::string::npos) << refused.error();

  nats.user.clear();
  nats.password.clear();
  EXPECT_FALSE(NatsConnection::Connect(nats, "auth test", nullptr).ok()) << "the server requires a user";
}

TEST(NatsConnectionAuth, TokenFromTheEnvironment) {
  NatsServer server({"--auth", "tok-0123456789"});
  ::setenv("KILN_TEST_NATS_TOKEN", "tok-0123456789", 1);
  NatsConfig nats;
  nats.url = server.url();
  nats.token = "env:KILN_TEST_NATS_TOKEN";
  auto conn = NatsConnection::Connect(nats, "token test", nullptr);
  ::unsetenv("KILN_TEST_NATS_TOKEN");
  ASSERT_TRUE(conn.ok()) << conn.error();
}

TEST(NatsConnectionAuth, TlsWithTheServersCertificateAsCa) {
  TempDir dir{"kiln-nats-tls"};
  const std::string cert = (dir.path() / "server.pem").string();
  const std::string key = (dir.path() / "server.key").string();
  std::string out;
  ASSERT_EQ(Shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
                  "subjectAltName=IP:127.0.0.1 -keyout '" + key + "' -out '" + cert + "' 2>&1",
                  &out),
            0)
      << out;
  NatsServer server({"--tls", "--tlscert", cert, "--tlskey", key});
  NatsConfig nats;
  nats.url = "tls://127.0.0.1:" + std::to_string(server.port());
  nats.tls_ca = cert;
  auto conn = NatsConnection::Connect(nats, "tls test", nullptr);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ(natsConnection_Status(conn.value()->nc()), NATS_CONN_STATUS_CONNECTED);

  // Without the CA the server's certificate is not trusted.
  nats.tls_ca.clear();
  EXPECT_FALSE(NatsConnection::Connect(nats, "tls test", nullptr).ok());
}

// The operator, accounts and users are test-only keys committed in tests/worker/data (made by
// make_nats_operator.py, which CI does not run): the server trusts the account of user.creds
// and has never heard of the account that signed untrusted.creds.
TEST(NatsConnectionAuth, UserCredsFileAgainstAnOperatorModeServer) {
  const auto data = std::filesystem::path(KILN_SOURCE_DIR) / "tests" / "worker" / "data";
  NatsServer server({"-c", (data / "nats-operator.conf").string()});
  NatsConfig nats;
  nats.url = server.url();
  nats.credentials = (data / "user.creds").string();
  auto conn = NatsConnection::Connect(nats, "creds test", nullptr);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ(natsConnection_Status(conn.value()->nc()), NATS_CONN_STATUS_CONNECTED);
  // JetStream is per account in operator mode: this proves the account's JWT enables it.
  auto streams = EnsureStreams(*conn.value(), nats);
  ASSERT_TRUE(streams.ok()) << streams.error();

  nats.credentials.clear();
  auto anonymous = NatsConnection::Connect(nats, "creds test", nullptr);
  ASSERT_FALSE(anonymous.ok()) << "the server requires a user JWT";

  nats.credentials = (data / "untrusted.creds").string();
  auto untrusted = NatsConnection::Connect(nats, "creds test", nullptr);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.error().find("cannot connect"), std::string::npos) << untrusted.error();
  EXPECT_NE(untrusted.error().find("Authorization Violation"), std::string::npos) << untrusted.error();
  // The client's error is the same as with no credentials; the server's log tells why.
  EXPECT_NE(ReadFile(server.log_file()).find("account missing"), std::string::npos);

  // A missing file is named with its config key, before any connection is tried.
  TempDir dir{"kiln-nats-creds"};
  nats.credentials = (dir.path() / "missing.creds").string();
  auto missing = NatsConnection::Connect(nats, "creds test", nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nats.credentials " + nats.credentials + ": No such file"), std::string::npos)
      << missing.error();
}

}  // namespace
}  // namespace kiln::testing
