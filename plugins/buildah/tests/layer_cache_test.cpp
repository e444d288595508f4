// Image layers shared through a real registry (docker-registry on loopback): a worker with
// an empty store builds what another built and takes the RUN step's layer from the
// registry instead of running it again.
#include "buildah_fixture.hpp"
#include "layer_cache.hpp"
#include "support/local_registry.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;
using kiln::testing::LocalRegistry;

class LayerCacheTest : public BuildahStepTest {
 protected:
  nlohmann::json ConfigFor(const kiln::testing::BuildahStore& store) {
    nlohmann::json config = store.plugin_config();
    config["tls_verify"] = false;
    config["layer_cache"] = registry_->host() + "/kiln/cache";
    return config;
  }

  /// The diff ids of `image`'s layers in `store`.
  static std::string Layers(const kiln::testing::BuildahStore& store, const std::string& image) {
    std::string out;
    EXPECT_EQ(store.Buildah("inspect --type image " + image, &out), 0) << out;
    return nlohmann::json::parse(out).at("OCIv1").at("rootfs").at("diff_ids").dump();
  }

  std::unique_ptr<LocalRegistry> registry_;
};

TEST_F(LayerCacheTest, ASecondWorkerWithAnEmptyStoreReusesTheLayersFromTheRegistry) {
  ASSERT_TRUE(LocalRegistry::Available());
  registry_ = std::make_unique<LocalRegistry>(dir_.path() / "registry", LocalRegistry::Options{});
  NeedBase();
  // Both workers build FROM one base image, which they pull from the registry.
  const std::string base = registry_->host() + "/kiln-test/busybox:latest";
  Buildah("push --tls-verify=false " + std::string(kBase) + " docker://" + base);
  harness_->plugin_config = ConfigFor(*store_);
  ASSERT_EQ(plugin_.configure(harness_->plugin_config), "");
  const std::string dockerfile = "FROM " + base + "\nRUN date +%s%N > /stamp\nCOPY a /a\n";
  fs::path context = Context("app", dockerfile, {{"a", "x"}});
  StepResult first = Run("build", {{"context", context.string()}, {"network", "host"}});
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_NE(harness_->log_text().find("layer cache: from " + registry_->host() + "/kiln/cache"), std::string::npos);

  kiln::testing::BuildahStore other_store(dir_.path() / "store-b");
  kiln::testing::StepHarness other(dir_.path() / "job-b");
  other.plugin_config = ConfigFor(other_store);
  BuildahPlugin other_plugin;
  ASSERT_EQ(other_plugin.configure(other.plugin_config), "");
  kiln::testing::WriteFile(other.workspace() / "app" / "Dockerfile", dockerfile);
  kiln::testing::WriteFile(other.workspace() / "app" / "a", "x");
  StepResult second = other.run(other_plugin, "build", {{"context", (other.workspace() / "app").string()}, {"network", "host"}});
  ASSERT_TRUE(second.ok()) << second.message << "\n" << other.log_text();

  // The RUN step was not run again: its layer (a fresh timestamp if it had been) is the same.
  EXPECT_EQ(Layers(*store_, first.outputs.at("image_id")), Layers(other_store, second.outputs.at("image_id")))
      << other.log_text();
}

TEST_F(LayerCacheTest, ExplicitCacheNeedsLayersAndHostNetworkUnderChroot) {
  fs::path context = Context("c", "FROM scratch\nCOPY a /a\n", {{"a", "x"}});
  nlohmann::json cache = {{"from", "127.0.0.1:1/kiln/cache"}, {"to", "127.0.0.1:1/kiln/cache"}};
  StepResult result = Run("build", {{"context", context.string()}, {"cache", cache}});
  EXPECT_EQ(result.status, StepResult::Status::terminal);
  EXPECT_NE(result.message.find("network = \"host\""), std::string::npos) << result.message;
  result = Run("build", {{"context", context.string()}, {"cache", cache}, {"layers", false}, {"network", "host"}});
  EXPECT_NE(result.message.find("cache: it needs layers = true"), std::string::npos) << result.message;
}

TEST_F(LayerCacheTest, TheConfiguredCacheIsSkippedAndSaidWhereItCannotWork) {
  nlohmann::json config = store_->plugin_config();
  config["layer_cache"] = "127.0.0.1:1/kiln/cache";
  harness_->plugin_config = config;
  ASSERT_EQ(plugin_.configure(config), "");
  fs::path context = Context("c", "FROM scratch\nCOPY a /a\n", {{"a", "x"}});
  StepResult result = Run("build", {{"context", context.string()}});
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_NE(harness_->log_text().find("not using buildah.layer_cache 127.0.0.1:1/kiln/cache"), std::string::npos)
      << harness_->log_text();
}

TEST(LayerCacheArgs, ParsedAndCheckedAgainstTheConfig) {
  BuildahConfig config;
  config.layer_cache = "registry.example.com/kiln/cache";
  LayerCache cache;
  EXPECT_EQ(ParseLayerCache(nlohmann::json::object(), config, cache), "");
  EXPECT_EQ(cache.from, "registry.example.com/kiln/cache");
  EXPECT_EQ(cache.to, "registry.example.com/kiln/cache");
  EXPECT_FALSE(cache.explicit_);
  EXPECT_EQ(ParseLayerCache({{"cache", false}}, config, cache), "");
  EXPECT_FALSE(cache.enabled());
  EXPECT_EQ(ParseLayerCache({{"cache", {{"from", "r.example.com/a"}}}}, config, cache), "");
  EXPECT_EQ(cache.from, "r.example.com/a");
  EXPECT_EQ(cache.to, "");
  EXPECT_EQ(LayerCacheOptions(cache), (std::vector<std::string>{"--cache-from", "r.example.com/a"}));
  EXPECT_NE(ParseLayerCache({{"cache", {{"from", "r.example.com/a:tag"}}}}, config, cache), "");
  EXPECT_NE(ParseLayerCache({{"cache", {{"form", "r.example.com/a"}}}}, config, cache).find("unknown key 'form'"),
            std::string::npos);
  EXPECT_NE(ParseLayerCache({{"cache", "r.example.com/a"}}, config, cache), "");
}

}  // namespace
}  // namespace kiln::buildah
