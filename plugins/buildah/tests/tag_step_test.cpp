#include "tag_step.hpp"

#include "buildah_fixture.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;

TEST_F(BuildahStepTest, TagAddsSanitisedTagsInTheJobsRepository) {
  fs::path context = Context("tagme", "FROM scratch\nCOPY a /a\n", {{"a", "a"}});
  StepResult built = Run("build", {{"context", context.string()}});
  ASSERT_TRUE(built.ok()) << built.message;

  StepResult tagged = Run("tag", {{"image", built.outputs.at("image_id")}, {"tags", {"Release/2.0", "stable"}}});
  ASSERT_TRUE(tagged.ok()) << tagged.message;
  EXPECT_EQ(tagged.outputs.at("tags"),
            nlohmann::json::array({"localhost/acme/shop:release-2.0", "localhost/acme/shop:stable"}));
  std::string images = Buildah("images --format '{{.Name}}:{{.Tag}}'");
  EXPECT_NE(images.find("localhost/acme/shop:release-2.0"), std::string::npos) << images;
  EXPECT_NE(images.find("localhost/acme/shop:stable"), std::string::npos) << images;

  StepResult missing = Run("tag", {{"image", "localhost/no/such:image"}, {"tags", {"x"}}});
  EXPECT_EQ(missing.status, StepResult::Status::terminal) << missing.message;
  EXPECT_NE(missing.message.find("buildah tag of localhost/no/such:image failed"), std::string::npos) << missing.message;
  EXPECT_EQ(Run("tag", {{"image", "x"}}).message, "buildah.tag: tags: missing");
}

}  // namespace
}  // namespace kiln::buildah
