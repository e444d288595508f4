// The gateway: section (kiln gateway): defaults, every key read, and the errors that name
// the key.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config_test_util.hpp"
#include "support/contains.hpp"

namespace kiln {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::LoadYaml;
using testing::MapEnv;
using testing::TempDir;

using testing::Contains;

TEST(GatewayConfig, DefaultsIgnoreTagsAndDeletionsAndRememberDeliveriesForAWeek) {
  auto loaded = LoadConfig(std::nullopt, MapEnv());
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const GatewayConfig& g = loaded.value().gateway;
  EXPECT_EQ(g.address, "0.0.0.0");
  EXPECT_EQ(g.port, 8080);
  EXPECT_EQ(g.webhook_secret, "");
  EXPECT_EQ(g.api_token, "");
  EXPECT_EQ(g.delivery_ttl, hours(7 * 24));
  EXPECT_EQ(g.tag_pushes, "ignore");
  EXPECT_EQ(g.branch_deletions, "ignore");
}

TEST(GatewayConfig, ReadsEveryKeyFromAFileAndTheEnvironment) {
  TempDir dir;
  auto loaded = LoadYaml(dir,
                         "gateway:\n"
                         "  address: 127.0.0.1\n"
                         "  port: 9090\n"
                         "  webhook_secret: \"env:GITHUB_WEBHOOK_SECRET\"\n"
                         "  api_token: \"file:/run/secrets/kiln-api\"\n"
                         "  delivery_ttl: 72h\n"
                         "  tag_pushes: build\n"
                         "  branch_deletions: build\n",
                         {{"GATEWAY_PORT", "9191"}, {"GATEWAY_DELIVERY_TTL", "10m"}});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const GatewayConfig& g = loaded.value().gateway;
  EXPECT_EQ(g.address, "127.0.0.1");
  EXPECT_EQ(g.port, 9191);
  EXPECT_EQ(g.webhook_secret, "env:GITHUB_WEBHOOK_SECRET");
  EXPECT_EQ(g.api_token, "file:/run/secrets/kiln-api");
  EXPECT_EQ(g.delivery_ttl, minutes(10));
  EXPECT_EQ(g.tag_pushes, "build");
  EXPECT_EQ(g.branch_deletions, "build");
}

TEST(GatewayConfig, TheHttpLimitsHaveDefaultsAndAreRead) {
  auto defaults = LoadConfig(std::nullopt, MapEnv());
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  const GatewayConfig& d = defaults.value().gateway;
  EXPECT_EQ(d.max_body, 25u * 1024 * 1024);
  EXPECT_FALSE(d.allow_compressed_bodies);
  EXPECT_EQ(d.header_timeout, seconds(10));
  EXPECT_EQ(d.request_timeout, seconds(60));
  EXPECT_EQ(d.idle_timeout, seconds(60));
  EXPECT_EQ(d.max_connections, 1024u);
  EXPECT_EQ(d.max_connections_per_address, 64u);

  TempDir dir;
  auto loaded = LoadYaml(dir,
                         "gateway:\n"
                         "  max_body: 1MiB\n"
                         "  allow_compressed_bodies: true\n"
                         "  header_timeout: 2s\n"
                         "  request_timeout: 30s\n"
                         "  idle_timeout: 5s\n"
                         "  max_connections: 100\n",
                         {{"GATEWAY_MAX_CONNECTIONS_PER_ADDRESS", "8"}});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const GatewayConfig& g = loaded.value().gateway;
  EXPECT_EQ(g.max_body, 1024u * 1024);
  EXPECT_TRUE(g.allow_compressed_bodies);
  EXPECT_EQ(g.header_timeout, seconds(2));
  EXPECT_EQ(g.request_timeout, seconds(30));
  EXPECT_EQ(g.idle_timeout, seconds(5));
  EXPECT_EQ(g.max_connections, 100u);
  EXPECT_EQ(g.max_connections_per_address, 8u);
}

TEST(GatewayConfig, ADeliveryTtlShorterThanTheDuplicateWindowIsAnError) {
  TempDir dir;
  auto loaded = LoadYaml(dir, "gateway:\n  delivery_ttl: 90s\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "gateway.delivery_ttl")) << loaded.error();
  EXPECT_TRUE(Contains(loaded.error(), "at least 2m")) << loaded.error();
  EXPECT_TRUE(Contains(loaded.error(), "line 2")) << loaded.error();
}

TEST(GatewayConfig, BadValuesNameTheirKey) {
  TempDir dir;
  struct Case {
    std::string yaml, key, says;
  };
  for (const Case& c : std::vector<Case>{
           {"gateway:\n  tag_pushes: always\n", "gateway.tag_pushes", "ignore, build"},
           {"gateway:\n  branch_deletions: yes\n", "gateway.branch_deletions", "ignore, build"},
           {"gateway:\n  port: 0\n", "gateway.port", "between 1 and 65535"},
           {"gateway:\n  port: 70000\n", "gateway.port", "between 1 and 65535"},
           {"gateway:\n  address: \"\"\n", "gateway.address", "must not be empty"},
           {"gateway:\n  webhook_secret: hunter2\n", "gateway.webhook_secret", "env:"},
           {"gateway:\n  delivery_ttl: soon\n", "gateway.delivery_ttl", "duration"},
           {"gateway:\n  listen: \":8080\"\n", "gateway", "listen"},
           {"gateway:\n  max_body: 10\n", "gateway.max_body", "at least"},
           {"gateway:\n  header_timeout: 0s\n", "gateway.header_timeout", "greater than 0"},
           {"gateway:\n  max_connections: 0\n", "gateway.max_connections", ""},
           {"gateway:\n  allow_compressed_bodies: maybe\n", "gateway.allow_compressed_bodies", ""},
       }) {
    auto loaded = LoadYaml(dir, c.yaml);
    ASSERT_FALSE(loaded.ok()) << c.yaml;
    EXPECT_TRUE(Contains(loaded.error(), c.key)) << c.yaml << " -> " << loaded.error();
    EXPECT_TRUE(Contains(loaded.error(), c.says)) << c.yaml << " -> " << loaded.error();
  }
}

TEST(GatewayConfig, ASecretPastedInPlaceOfItsReferenceIsNotRepeated) {
  TempDir dir;
  auto loaded = LoadYaml(dir, "gateway:\n  api_token: s3cr3t-token-value\n");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(loaded.error(), "gateway.api_token")) << loaded.error();
  EXPECT_FALSE(Contains(loaded.error(), "s3cr3t-token-value")) << loaded.error();
}

}  // namespace
}  // namespace kiln
