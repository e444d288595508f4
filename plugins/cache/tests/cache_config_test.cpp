#include "cache_config.hpp"

#include <gtest/gtest.h>

namespace kiln::cache {
namespace {

TEST(CacheConfigTest, SizesTakeBinaryAndDecimalUnits) {
  std::uint64_t bytes = 0;
  ASSERT_TRUE(ParseSize("10GiB", &bytes));
  EXPECT_EQ(bytes, 10ULL << 30);
  ASSERT_TRUE(ParseSize("10G", &bytes));
  EXPECT_EQ(bytes, 10ULL << 30);
  ASSERT_TRUE(ParseSize("500MB", &bytes));
  EXPECT_EQ(bytes, 500000000ULL);
  ASSERT_TRUE(ParseSize("1.5 KiB", &bytes));
  EXPECT_EQ(bytes, 1536ULL);
  ASSERT_TRUE(ParseSize("4096", &bytes));
  EXPECT_EQ(bytes, 4096ULL);
  for (const char* bad : {"", "ten", "10XB", "-1G", "G", "1e3", "99999999TiB"}) {
    EXPECT_FALSE(ParseSize(bad, &bytes)) << bad;
  }
}

TEST(CacheConfigTest, DurationsTakeSecondsToWeeks) {
  std::chrono::seconds d{};
  ASSERT_TRUE(ParseDuration("14d", &d));
  EXPECT_EQ(d.count(), 14 * 86400);
  ASSERT_TRUE(ParseDuration("90", &d));
  EXPECT_EQ(d.count(), 90);
  ASSERT_TRUE(ParseDuration("5m", &d));
  EXPECT_EQ(d.count(), 300);
  ASSERT_TRUE(ParseDuration("2w", &d));
  EXPECT_EQ(d.count(), 14 * 86400);
  for (const char* bad : {"", "soon", "5y", "-3d"}) EXPECT_FALSE(ParseDuration(bad, &d)) << bad;
}

TEST(CacheConfigTest, AcceptsTheDocumentedSection) {
  CacheConfig config;
  ASSERT_EQ(ParseCacheConfig({{"max_size", "10GiB"}, {"max_age", "14d"}, {"copy_threads", 2}, {"durable", true}}, &config),
            "");
  EXPECT_EQ(*config.max_size, 10ULL << 30);
  EXPECT_EQ(config.max_age->count(), 14 * 86400);
  EXPECT_EQ(config.copy_threads, 2u);
  EXPECT_TRUE(config.durable);
  // Environment overrides arrive as strings.
  ASSERT_EQ(ParseCacheConfig({{"max_size", "1073741824"}, {"copy_threads", "3"}, {"durable", "false"}}, &config), "");
  EXPECT_EQ(*config.max_size, 1ULL << 30);
  EXPECT_EQ(config.copy_threads, 3u);
  ASSERT_EQ(ParseCacheConfig(nullptr, &config), "");
  EXPECT_FALSE(config.max_size.has_value());
  EXPECT_TRUE(config.overlay_restore);
  ASSERT_EQ(ParseCacheConfig({{"restore", "copy"}}, &config), "");
  EXPECT_FALSE(config.overlay_restore);
}

TEST(CacheConfigTest, ErrorsNameTheKey) {
  CacheConfig config;
  EXPECT_NE(ParseCacheConfig({{"max_size", "ten"}}, &config).find("cache.max_size"), std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"max_age", "forever"}}, &config).find("cache.max_age"), std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"max_age", -5}}, &config).find("cache.max_age"), std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"copy_threads", 1000}}, &config).find("cache.copy_threads"), std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"durable", "yes"}}, &config).find("cache.durable"), std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"restore", "mount"}}, &config).find("cache.restore: must be \"auto\" or \"copy\""),
            std::string::npos);
  EXPECT_NE(ParseCacheConfig({{"maxsize", "1G"}}, &config).find("cache.maxsize: unknown key"), std::string::npos);
  EXPECT_NE(ParseCacheConfig("10GiB", &config).find("cache: must be a mapping"), std::string::npos);
}

}  // namespace
TEST(CacheConfigTest, RemoteTakesARegistryPathASecretAndTls) {
  CacheConfig config;
  ASSERT_EQ(ParseCacheConfig({{"remote",
                               {{"registry", "127.0.0.1:5000/kiln-cache"},
                                {"secret", "cache-registry"},
                                {"tls_verify", false},
                                {"cert_dir", "/etc/kiln/ca"},
                                {"timeout", "2m"}}}},
                             &config),
            "");
  EXPECT_TRUE(config.remote.enabled());
  EXPECT_EQ(config.remote.host(), "127.0.0.1:5000");
  EXPECT_EQ(config.remote.secret, "cache-registry");
  EXPECT_FALSE(config.remote.tls_verify);
  EXPECT_EQ(config.remote.timeout.count(), 120);
  ASSERT_EQ(ParseCacheConfig(nlohmann::json::object(), &config), "");
  EXPECT_FALSE(config.remote.enabled());
}

TEST(CacheConfigTest, RemoteRejectsWhatNamesNoRegistryRepository) {
  CacheConfig config;
  const struct {
    nlohmann::json remote;
    const char* names;
  } cases[] = {
      {{{"secret", "s"}}, "cache.remote.registry: missing"},
      {{{"registry", "https://r.example/c"}}, "cache.remote.registry"},
      {{{"registry", "r.example/Upper"}}, "cache.remote.registry"},
      {{{"registry", "r.example/a//b"}}, "cache.remote.registry"},
      {{{"registry", "r.example/c"}, {"secret", ""}}, "cache.remote.secret"},
      {{{"registry", "r.example/c"}, {"cert_dir", "relative"}}, "cache.remote.cert_dir"},
      {{{"registry", "r.example/c"}, {"timeout", 0}}, "cache.remote.timeout"},
      {{{"registry", "r.example/c"}, {"bucket", "x"}}, "cache.remote.bucket: unknown key"},
      {"r.example/c", "cache.remote: must be a mapping"},
  };
  for (const auto& c : cases) {
    const std::string error = ParseCacheConfig({{"remote", c.remote}}, &config);
    EXPECT_NE(error.find(c.names), std::string::npos) << c.remote.dump() << " -> " << error;
  }
}

}  // namespace kiln::cache
