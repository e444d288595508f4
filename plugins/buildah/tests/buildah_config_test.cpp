#include "buildah_config.hpp"

#include <gtest/gtest.h>

#include "buildah_cli.hpp"

namespace kiln::buildah {
namespace {

TEST(BuildahConfig, NullSectionGivesDefaultsThatWorkAsRootOnDebian) {
  BuildahConfig config;
  config.isolation = "changed";
  ASSERT_EQ(ParseBuildahConfig(nullptr, config), "");
  EXPECT_EQ(config.isolation, "chroot");
  EXPECT_EQ(config.storage_driver, "vfs");
  EXPECT_EQ(config.root, "/var/lib/kiln/containers/storage");
  EXPECT_EQ(config.runroot, "/run/kiln/containers");
  EXPECT_EQ(config.repository, "localhost/{repo}");
  EXPECT_TRUE(config.tls_verify);
}

TEST(BuildahConfig, ReadsEveryKey) {
  BuildahConfig config;
  nlohmann::json section = {{"binary", "/usr/bin/buildah"}, {"root", "/srv/images"},
                            {"runroot", "/run/images"},     {"storage_driver", "overlay"},
                            {"isolation", "oci"},            {"repository", "registry.example.com:5000/{repo}"},
                            {"tls_verify", false},           {"unshare", "/usr/bin/unshare"}};
  ASSERT_EQ(ParseBuildahConfig(section, config), "");
  EXPECT_EQ(config.binary, "/usr/bin/buildah");
  EXPECT_EQ(config.root, "/srv/images");
  EXPECT_EQ(config.runroot, "/run/images");
  EXPECT_EQ(config.storage_driver, "overlay");
  EXPECT_EQ(config.isolation, "oci");
  EXPECT_EQ(config.repository, "registry.example.com:5000/{repo}");
  EXPECT_FALSE(config.tls_verify);
  EXPECT_EQ(config.unshare, "/usr/bin/unshare");
}

struct BadCase {
  nlohmann::json section;
  std::string expected;
};

TEST(BuildahConfig, ErrorsNameTheKey) {
  std::vector<BadCase> cases = {
      {{{"isolation", "vm"}}, "buildah.isolation: must be one of chroot, oci, rootless, got 'vm'"},
      {{{"storage_driver", "btrfs"}}, "buildah.storage_driver: must be one of vfs, overlay, got 'btrfs'"},
      {{{"root", "relative/dir"}}, "buildah.root: must be an absolute path, got 'relative/dir'"},
      {{{"runroot", 5}}, "buildah.runroot: must be a string, got 5"},
      {{{"root", ""}}, "buildah.root: must not be empty"},
      {{{"tls_verify", "yes"}}, "buildah.tls_verify: must be true or false, got \"yes\""},
      {{{"layers", true}}, "buildah.layers: unknown key"},
      {{{"root", "/a"}, {"runroot", "/a"}}, "buildah.runroot: must differ from buildah.root ('/a')"},
      {{{"repository", "Local Host/{repo}"}}, "buildah.repository: 'Local Host/acme/shop' is not a valid image repository (with {repo} = acme/shop)"},
      {nlohmann::json::array({1}), "buildah: must be a mapping, got [1]"},
      {{{"cert_dir", "certs"}}, "buildah.cert_dir: must be an absolute path, got 'certs'"},
      {{{"layer_cache", "r.example.com/cache:v1"}},
       "buildah.layer_cache: must be a registry repository without tag or digest (registry.example.com/kiln/cache), "
       "got 'r.example.com/cache:v1'"},
  };
  for (const auto& bad : cases) {
    BuildahConfig config;
    EXPECT_EQ(ParseBuildahConfig(bad.section, config), bad.expected) << bad.section.dump();
  }
}

TEST(BuildahConfig, RegistryKeys) {
  BuildahConfig config;
  ASSERT_EQ(ParseBuildahConfig({{"cert_dir", "/etc/kiln/registry-ca"}, {"layer_cache", "registry.internal:5000/kiln/cache"}},
                               config),
            "");
  EXPECT_EQ(config.cert_dir, "/etc/kiln/registry-ca");
  EXPECT_EQ(config.layer_cache, "registry.internal:5000/kiln/cache");
  EXPECT_EQ(RegistryOptions(config), (std::vector<std::string>{"--cert-dir", "/etc/kiln/registry-ca"}));
  config.tls_verify = false;
  EXPECT_EQ(RegistryOptions(config), (std::vector<std::string>{"--tls-verify=false", "--cert-dir", "/etc/kiln/registry-ca"}));
}

TEST(BuildahConfig, ARejectedSectionLeavesTheOutputUntouched) {
  BuildahConfig config;
  config.root = "/kept";
  EXPECT_NE(ParseBuildahConfig({{"root", "/new"}, {"isolation", "bad"}}, config), "");
  EXPECT_EQ(config.root, "/kept");
}

}  // namespace
}  // namespace kiln::buildah
