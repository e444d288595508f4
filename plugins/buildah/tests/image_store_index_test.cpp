// The store's image list read from its file: the same ids and digests buildah reports, and
// no answer at all (so the caller asks buildah) where the file cannot be trusted.
#include <gtest/gtest.h>

#include <filesystem>

#include "buildah_fixture.hpp"
#include "image_store_index.hpp"

namespace kiln::buildah {
namespace {

namespace fs = std::filesystem;
using kiln::testing::WriteFile;

class ImageStoreIndexTest : public BuildahStepTest {
 protected:
  BuildahConfig Config() {
    BuildahConfig config;
    EXPECT_EQ(ParseBuildahConfig(store_->plugin_config(), config), "");
    return config;
  }
  fs::path ImagesFile() { return store_->root() / "vfs-images" / "images.json"; }
};

TEST_F(ImageStoreIndexTest, AnswersWhatBuildahInspectAnswers) {
  NeedBase();
  const nlohmann::json inspected = nlohmann::json::parse(Buildah(std::string("inspect --type image ") + kBase));
  const std::string id = inspected.at("FromImageID");
  const ImageStoreIndex index = ImageStoreIndex::Load(Config());
  ASSERT_TRUE(index.loaded());
  EXPECT_EQ(index.IdOf(kBase), id);
  EXPECT_EQ(index.IdOf("localhost/kiln-test/busybox"), id);  // no tag: ":latest"
  EXPECT_TRUE(index.Has(id));
  EXPECT_EQ(index.DigestOf(id), inspected.at("FromImageDigest").get<std::string>());
  EXPECT_EQ(index.IdOf("localhost/kiln-test/busybox:other"), std::nullopt);
  EXPECT_EQ(index.DigestOf(std::string(64, 'a')), std::nullopt);
  // A short name is buildah's to resolve (registries.conf): not answered here.
  EXPECT_EQ(index.IdOf("busybox"), std::nullopt);
  EXPECT_EQ(index.IdOf("kiln-test/busybox:latest"), std::nullopt);
}

TEST_F(ImageStoreIndexTest, AFileItCannotTrustAnswersNothing) {
  NeedBase();
  BuildahConfig config = Config();
  const std::string original = kiln::testing::ReadFile(ImagesFile());
  for (const std::string& text : {std::string("not json"), std::string("{\"id\": 1}"),
                                  std::string("[{\"names\": [\"localhost/x:1\"]}]"),
                                  std::string("[{\"id\": \"../../etc\", \"names\": [\"localhost/x:1\"]}]")}) {
    WriteFile(ImagesFile(), text);
    const ImageStoreIndex index = ImageStoreIndex::Load(config);
    EXPECT_FALSE(index.loaded()) << text;
    EXPECT_EQ(index.IdOf("localhost/x:1"), std::nullopt) << text;
  }
  WriteFile(ImagesFile(), original);
  config.root = (dir_.path() / "no-store").string();
  EXPECT_FALSE(ImageStoreIndex::Load(config).loaded());
}

TEST_F(ImageStoreIndexTest, BuildRecordsHoldOnlyImageIds) {
  const BuildahConfig config = Config();
  const std::string key(64, 'b');
  EXPECT_EQ(RecordedBuild(config, key), std::nullopt);
  const std::string id(64, 'c');
  ASSERT_EQ(RecordBuild(config, key, id), "");
  EXPECT_EQ(RecordedBuild(config, key), id);
  WriteFile(store_->root() / "kiln-build-keys" / key, "$(rm -rf /)\n");
  EXPECT_EQ(RecordedBuild(config, key), std::nullopt);
}

}  // namespace
}  // namespace kiln::buildah
