#include <gtest/gtest.h>

#include <string>

#include "config_test_util.hpp"
#include "secrets/secret_store.hpp"

namespace kiln {
namespace {

using testing::LoadYaml;
using testing::TempDir;

TEST(SecretSpec, AcceptsEnvAndFileReferences) {
  for (const std::string spec : {"env:REGISTRY_TOKEN", "env:_x1", "env:a", "file:/run/secrets/deploy",
                                 "file:relative/key", "file:./k"}) {
    auto valid = SecretStore::ValidateSpec(spec);
    EXPECT_TRUE(valid.ok()) << spec << ": " << (valid.ok() ? "" : valid.error());
  }
}

TEST(SecretSpec, RefusesOtherFormsWithoutRepeatingThem) {
  // The last ones look like a secret pasted in place of its reference.
  for (const std::string spec : {"", "env:", "env:1ABC", "env:A-B", "env:A B", "file:", "ENV:X", "vault:x",
                                 "ghp_s3cr3tTok3nValue", "file:/a\nb", "hunter2-password"}) {
    auto valid = SecretStore::ValidateSpec(spec);
    ASSERT_FALSE(valid.ok()) << "accepted '" << spec << "'";
    if (spec.size() > 5) {
      EXPECT_EQ(valid.error().find(spec), std::string::npos) << valid.error();
    }
  }
}

TEST(SecretsSection, LoadsNamesAndSpecs) {
  TempDir dir;
  auto config = LoadYaml(dir, R"(secrets:
  registry_token: "env:REGISTRY_TOKEN"
  deploy_key: "file:/run/secrets/deploy"
  GH-token: env:GH_TOKEN
)");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->secrets.size(), 3u);
  EXPECT_EQ(config->secrets.at("registry_token"), "env:REGISTRY_TOKEN");
  EXPECT_EQ(config->secrets.at("deploy_key"), "file:/run/secrets/deploy");
  EXPECT_EQ(config->secrets.at("GH-token"), "env:GH_TOKEN");
}

TEST(SecretsSection, APastedSecretIsRefusedAndNeverEchoed) {
  TempDir dir;
  auto config = LoadYaml(dir, "secrets:\n  registry_token: ghp_Zx81kP0wQq7mTOKEN\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("secrets.registry_token"), std::string::npos) << config.error();
  EXPECT_NE(config.error().find("line 2"), std::string::npos) << config.error();
  EXPECT_EQ(config.error().find("ghp_Zx81kP0wQq7mTOKEN"), std::string::npos) << config.error();
}

TEST(SecretsSection, ANonScalarSpecIsRefusedWithoutItsValue) {
  TempDir dir;
  auto config = LoadYaml(dir, "secrets:\n  token: [ghp_Zx81kP0wQq7mTOKEN]\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("secrets.token: expected 'env:VARIABLE' or 'file:PATH', got a list"),
            std::string::npos)
      << config.error();
  EXPECT_EQ(config.error().find("ghp_Zx81kP0wQq7mTOKEN"), std::string::npos) << config.error();
}

TEST(SecretsSection, BadNamesAndNonMapSectionsAreErrors) {
  TempDir dir;
  auto bad_name = LoadYaml(dir, "secrets:\n  \"bad name\": env:X\n");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.error().find("'bad name' is not a valid secret name"), std::string::npos) << bad_name.error();

  auto not_map = LoadYaml(dir, "secrets: [env:X]\n");
  ASSERT_FALSE(not_map.ok());
  EXPECT_NE(not_map.error().find("secrets: expected a map"), std::string::npos) << not_map.error();
}

TEST(SecretsSection, EnvironmentOverridesAConfiguredReference) {
  TempDir dir;
  auto config = LoadYaml(dir, "secrets:\n  registry_token: env:REGISTRY_TOKEN\n",
                         {{"SECRETS_REGISTRY_TOKEN", "file:/run/secrets/token"}});
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->secrets.at("registry_token"), "file:/run/secrets/token");

  auto bad = LoadYaml(dir, "secrets:\n  registry_token: env:REGISTRY_TOKEN\n",
                      {{"SECRETS_REGISTRY_TOKEN", "ghp_Zx81kP0wQq7mTOKEN"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("secrets.registry_token"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("SECRETS_REGISTRY_TOKEN"), std::string::npos) << bad.error();
  EXPECT_EQ(bad.error().find("ghp_Zx81kP0wQq7mTOKEN"), std::string::npos) << bad.error();
}

TEST(SecretsSection, NatsPasswordAndTokenTakeReferencesOnly) {
  TempDir dir;
  auto good = LoadYaml(dir, "nats:\n  password: env:NATS_PASS\n  token: file:/run/nats-token\n");
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good->nats.password, "env:NATS_PASS");
  EXPECT_EQ(good->nats.token, "file:/run/nats-token");

  auto pasted = LoadYaml(dir, "nats:\n  password: s3cretPassw0rd\n");
  ASSERT_FALSE(pasted.ok());
  EXPECT_NE(pasted.error().find("nats.password"), std::string::npos) << pasted.error();
  EXPECT_EQ(pasted.error().find("s3cretPassw0rd"), std::string::npos) << pasted.error();
}

}  // namespace
}  // namespace kiln
