// package.json's packageManager as Corepack reads it, and bad values named.
#include "package_manager_pin.hpp"

#include <gtest/gtest.h>

namespace kiln::nx {
namespace {

std::optional<PackageManagerPin> Pin(const std::string& package_json) {
  auto parsed = ParsePackageManagerPin(package_json);
  EXPECT_TRUE(std::holds_alternative<std::optional<PackageManagerPin>>(parsed)) << std::get<std::string>(parsed);
  return std::holds_alternative<std::optional<PackageManagerPin>>(parsed) ? std::get<0>(parsed) : std::nullopt;
}

std::string Error(const std::string& package_json) {
  auto parsed = ParsePackageManagerPin(package_json);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

TEST(PackageManagerPin, NameAndVersionWithOrWithoutHash) {
  auto yarn = Pin(R"({ "packageManager": "yarn@4.15.0" })");
  ASSERT_TRUE(yarn);
  EXPECT_EQ(yarn->name, "yarn");
  EXPECT_EQ(yarn->version, "4.15.0");
  auto pnpm = Pin(R"({ "packageManager": "pnpm@9.15.9+sha512.68046141893c66fad01c079231128e9afb89ef87e2691d69e4d40eee228988295fd4682181bae55b58418c3a253bde65a505ec7c5f9403ece5cc3cd37dcf2531" })");
  ASSERT_TRUE(pnpm);
  EXPECT_EQ(pnpm->name, "pnpm");
  EXPECT_EQ(pnpm->version, "9.15.9");
  EXPECT_EQ(pnpm->spec.rfind("pnpm@9.15.9+sha512.", 0), 0u);
  auto npm = Pin(R"({ "packageManager": "npm@10.9.2" })");
  ASSERT_TRUE(npm);
  EXPECT_EQ(npm->name, "npm");
  auto pre = Pin(R"({ "packageManager": "yarn@4.0.0-rc.53" })");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->version, "4.0.0-rc.53");
}

TEST(PackageManagerPin, NoFieldMeansTheLockfileDecides) {
  EXPECT_FALSE(Pin(R"({ "name": "x" })"));
  EXPECT_FALSE(Pin(R"({ "packageManager": null })"));
  EXPECT_FALSE(Pin("not json"));  // the install itself then says what is wrong with package.json
}

TEST(PackageManagerPin, BunIsLeftToPathWithAWarning) {
  std::string ignored;
  auto parsed = ParsePackageManagerPin(R"({ "packageManager": "bun@1.2.0" })", &ignored);
  ASSERT_TRUE(std::holds_alternative<std::optional<PackageManagerPin>>(parsed));
  EXPECT_FALSE(std::get<0>(parsed));
  EXPECT_NE(ignored.find("bun@1.2.0"), std::string::npos) << ignored;
}

TEST(PackageManagerPin, BadValuesAreErrorsNamingThem) {
  EXPECT_NE(Error(R"({ "packageManager": "yarn" })").find("'yarn'"), std::string::npos);
  EXPECT_NE(Error(R"({ "packageManager": "yarn@latest" })").find("'yarn@latest'"), std::string::npos);
  EXPECT_NE(Error(R"({ "packageManager": "deno@2.0.0" })").find("'deno@2.0.0'"), std::string::npos);
  EXPECT_NE(Error(R"({ "packageManager": "yarn@4.1.0 --registry=x" })").find("not <npm|pnpm|yarn>@<version>"),
            std::string::npos);
  EXPECT_NE(Error(R"({ "packageManager": "yarn@https://example.com/yarn.js" })").find("yarn@https"), std::string::npos);
  EXPECT_NE(Error(R"({ "packageManager": 4 })").find("must be a string"), std::string::npos);
}

}  // namespace
}  // namespace kiln::nx
