#include "label_instruction.hpp"

#include <gtest/gtest.h>

#include "buildah_fixture.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;

TEST(LabelInstruction, AppendedToTheLastStage) {
  auto out = WithLabelInstruction("FROM a AS build\nRUN x\nFROM b\nCOPY --from=build /x /x\n", "",
                                  {{"k", "v"}, {"org.opencontainers.image.revision", "abc"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "FROM a AS build\nRUN x\nFROM b\nCOPY --from=build /x /x\n"
                  "LABEL \"k\"=\"v\" \"org.opencontainers.image.revision\"=\"abc\"\n");
}

TEST(LabelInstruction, AtTheEndOfTheTargetStageByNameOrIndex) {
  const std::string text = "FROM a AS Build\nRUN x \\\n  FROM y\n# comment\n\nFROM b\nRUN z\n";
  auto by_name = WithLabelInstruction(text, "build", {{"k", "v"}});
  ASSERT_TRUE(by_name);
  // "FROM y" continues the RUN line: the next stage begins at line 6.
  EXPECT_EQ(*by_name, "FROM a AS Build\nRUN x \\\n  FROM y\n# comment\n\nLABEL \"k\"=\"v\"\nFROM b\nRUN z\n");
  EXPECT_EQ(WithLabelInstruction(text, "0", {{"k", "v"}}), by_name);
  EXPECT_FALSE(WithLabelInstruction(text, "nope", {{"k", "v"}}));
}

TEST(LabelInstruction, ValuesAreQuotedSoTheyStayExactlyAsGiven) {
  EXPECT_EQ(QuotedWord("a \"b\" $HOME \\ c", '\\'), "\"a \\\"b\\\" \\$HOME \\\\ c\"");
  EXPECT_EQ(QuotedWord("a\"$`", '`'), "\"a`\"`$``\"");
  auto out = WithLabelInstruction("# escape=`\nFROM a\n", "", {{"k", "$x"}});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "# escape=`\nFROM a\nLABEL \"k\"=\"`$x\"\n");
}

TEST(LabelInstruction, RefusedWhereItCannotBePlacedSafely) {
  EXPECT_FALSE(WithLabelInstruction("FROM a\n", "", {{"k", "line\nRUN evil"}}));
  EXPECT_FALSE(WithLabelInstruction("FROM a\nRUN x \\\n", "", {{"k", "v"}}));
  EXPECT_FALSE(WithLabelInstruction("# no stage\n", "", {{"k", "v"}}));
}

class LabelStepTest : public BuildahStepTest {};

TEST_F(LabelStepTest, AllLabelsCostOneStepAndKeepTheirValues) {
  fs::path context = Context("labels", "FROM scratch\nCOPY a /a\n", {{"a", "x"}});
  const std::string odd = "quote \" dollar $HOME back \\ end";
  StepResult built = Run("build", {{"context", context.string()}, {"labels", {{"team", "shop"}, {"odd", odd}}}});
  ASSERT_TRUE(built.ok()) << built.message;
  const std::string image = built.outputs.at("image_id");
  // History: the COPY, then one LABEL step (buildah 1.28 made one step per --label: 6 here).
  std::string history = Buildah("inspect --type image --format '{{len .Docker.History}}' " + image);
  EXPECT_EQ(history.substr(0, history.find('\n')), "2");
  nlohmann::json parsed = nlohmann::json::parse(Buildah("inspect --type image " + image)).at("OCIv1").at("config").at("Labels");
  EXPECT_EQ(parsed.at("odd"), odd);
  EXPECT_EQ(parsed.at("team"), "shop");
  EXPECT_EQ(parsed.at("org.opencontainers.image.revision"), harness_->job.at("commit"));
  EXPECT_TRUE(parsed.contains("org.opencontainers.image.created"));
  EXPECT_TRUE(parsed.contains("io.kiln.build-key"));
}

TEST_F(LabelStepTest, TheTargetStageGetsTheLabels) {
  fs::path context = Context("target", "FROM scratch AS first\nCOPY a /a\nFROM scratch\nCOPY b /b\n",
                             {{"a", "x"}, {"b", "y"}});
  StepResult built = Run("build", {{"context", context.string()}, {"target", "first"}, {"labels", {{"t", "1"}}}});
  ASSERT_TRUE(built.ok()) << built.message;
  const std::string image = built.outputs.at("image_id");
  nlohmann::json labels = nlohmann::json::parse(Buildah("inspect --type image " + image)).at("OCIv1").at("config").at("Labels");
  EXPECT_EQ(labels.at("t"), "1") << labels.dump();
  std::string history = Buildah("inspect --type image --format '{{len .Docker.History}}' " + image);
  EXPECT_EQ(history.substr(0, history.find('\n')), "2");
}

}  // namespace
}  // namespace kiln::buildah
