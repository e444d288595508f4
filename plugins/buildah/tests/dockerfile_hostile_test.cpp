// A hostile Dockerfile corpus: each case is refused before buildah sees it, with an error
// naming the line and the option; the benign cases beside them stay accepted, so the
// rules do not refuse ordinary Dockerfiles.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dockerfile.hpp"
#include "run_mounts.hpp"
#include "support/temp_dir.hpp"

namespace kiln::buildah {
namespace {
namespace fs = std::filesystem;

constexpr const char* kSecretValue = "tok-5ecret-v4lue";

bool IsSecretValue(std::string_view value) { return value.find(kSecretValue) != std::string_view::npos; }

struct HostileCase {
  const char* name;
  std::string dockerfile;
  /// Every one of these must be in the error.
  std::vector<std::string> expected;
  std::map<std::string, std::string> build_args = {};
};

std::string Parse(const std::string& text, const std::map<std::string, std::string>& build_args,
                  const fs::path& context = {}) {
  Dockerfile out;
  out.context = context;
  std::string error;
  return ParseDockerfile(text, build_args, IsSecretValue, out, error) ? std::string() : error;
}

const std::vector<HostileCase>& Corpus() {
  static const std::vector<HostileCase> corpus = {
      // CVE-2024-9675: the cache id is joined to buildah's cache directory unchecked.
      {"cache id climbs to the host root", "FROM scratch\nRUN --mount=type=cache,id=../../../..,target=/h cat /h/etc/shadow\n",
       {"line 2:", "'id'", "'..'"}},
      {"cache id climbs in the middle", "FROM scratch\nRUN --mount=type=cache,id=a/../../../b,target=/h true\n",
       {"line 2:", "'id'", "'..'"}},
      {"cache id is absolute", "FROM scratch\nRUN --mount=type=cache,id=/etc,target=/h true\n",
       {"line 2:", "'id'", "absolute"}},
      {"cache id set through a variable", "FROM scratch\nARG ESC=../../..\nRUN --mount=type=cache,id=$ESC,target=/h true\n",
       {"line 3:", "variable in 'id'"}},
      {"bind source climbs out", "FROM scratch\nRUN --mount=type=bind,source=../../etc,target=/h true\n",
       {"line 2:", "'source'", "'..'"}},
      {"bind src spelling climbs out", "FROM scratch\nRUN --mount=src=../..,target=/h true\n",
       {"line 2:", "'source'", "'..'"}},
      {"bind source is absolute", "FROM scratch\nRUN --mount=type=bind,source=/,target=/h true\n",
       {"line 2:", "'source'", "absolute"}},
      {"cache source climbs out of its stage", "FROM scratch AS a\nFROM scratch\nRUN --mount=type=cache,from=a,source=../..,target=/h true\n",
       {"line 3:", "'source'", "'..'"}},
      {"secret id climbs out", "FROM scratch\nRUN --mount=type=secret,id=../../etc/shadow,target=/s true\n",
       {"line 2:", "'id'", "'..'"}},
      {"second of several mounts", "FROM scratch\nRUN --mount=type=cache,target=/ok --mount=type=cache,id=../..,target=/h true\n",
       {"line 2:", "'id'"}},
      {"on a continuation line", "FROM scratch\nRUN echo start && \\\n  true\nRUN \\\n  --mount=type=cache,id=../..,target=/h \\\n  true\n",
       {"line 4:", "'id'"}},
      {"JSON form", "FROM scratch\nRUN --mount=type=cache,id=../..,target=/h [\"cat\", \"/h/etc/shadow\"]\n",
       {"line 2:", "'id'"}},
      {"in a later stage", "FROM scratch AS one\nRUN true\nFROM scratch AS two\nCOPY a /a\nRUN --mount=type=bind,source=..,target=/h true\n",
       {"line 5:", "'source'"}},
      {"lower-case run", "FROM scratch\nrun --mount=type=cache,id=../..,target=/h true\n", {"line 2:", "'id'"}},
      {"ONBUILD carries the escape to the next build", "FROM scratch\nONBUILD RUN --mount=type=cache,id=../..,target=/h true\n",
       {"line 2:", "'id'"}},
      {"target climbs", "FROM scratch\nRUN --mount=type=cache,target=/a/../../h true\n", {"line 2:", "'target'"}},
      {"target relative", "FROM scratch\nRUN --mount=type=cache,target=h true\n", {"line 2:", "'target'"}},
      {"unknown option", "FROM scratch\nRUN --mount=type=bind,target=/h,bind-propagation=shared true\n",
       {"line 2:", "'bind-propagation'"}},
      {"option in capitals", "FROM scratch\nRUN --mount=type=cache,ID=../..,target=/h true\n", {"line 2:", "'ID'"}},
      {"repeated option", "FROM scratch\nRUN --mount=type=cache,id=a,id=../..,target=/h true\n", {"line 2:", "'id' given twice"}},
      {"quoted option", "FROM scratch\nRUN --mount=type=cache,\"id=../..\",target=/h true\n", {"line 2:", "quotes"}},
      {"ssh mount", "FROM scratch\nRUN --mount=type=ssh,target=/s true\n", {"line 2:", "type 'ssh'"}},
      {"unknown type", "FROM scratch\nRUN --mount=type=volume,target=/s true\n", {"line 2:", "type 'volume'"}},
      {"mount without =", "FROM scratch\nRUN --mount type=cache,id=../..,target=/h true\n", {"line 2:", "--mount"}},
      {"other RUN flag", "FROM scratch\nRUN --network=host wget http://example.com\n", {"line 2:", "--network"}},
      {"security flag", "FROM scratch\nRUN --security=insecure true\n", {"line 2:", "--security"}},
      {"--mount after the command begins", "FROM scratch\nRUN true --mount=type=cache,id=../..,target=/h\n",
       {"line 2:", "'--mount' outside the flags"}},
      {"--mount in another instruction", "FROM scratch\nLABEL x=--mount=type=cache,id=../..\n",
       {"line 2:", "'--mount' outside the flags"}},
      {"no target", "FROM scratch\nRUN --mount=type=cache,id=a true\n", {"line 2:", "no target"}},
      {"empty option", "FROM scratch\nRUN --mount=type=cache,,target=/h true\n", {"line 2:", "empty option"}},
      {"from image begins with -", "FROM scratch\nRUN --mount=type=bind,from=-x,target=/h true\n", {"line 2:", "'-'"}},
      // Image names that buildah would read as options.
      {"FROM begins with -", "FROM -rm\n", {"line 1:", "begins with '-'"}},
      {"FROM through an ARG begins with -", "ARG B=--all\nFROM $B\n", {"line 2:", "begins with '-'"}},
      {"COPY --from begins with -", "FROM scratch\nCOPY --from=-q /a /a\n", {"line 2:", "begins with '-'"}},
      // A secret build arg that would be sent to a registry.
      {"secret in FROM with braces", "ARG TOKEN\nFROM 127.0.0.1:5999/x:${TOKEN}\n", {"line 2:", "FROM", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
      {"secret in FROM without braces", "ARG TOKEN\nFROM 127.0.0.1:5999/$TOKEN/x\n", {"line 2:", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
      {"secret in FROM through a default", "ARG TOKEN\nFROM 127.0.0.1:5999/x:${NOPE:-$TOKEN}\n", {"line 2:", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
      {"secret in FROM through another ARG", "ARG TOKEN\nARG T2=pre-${TOKEN}\nFROM 127.0.0.1:5999/x:$T2\n",
       {"line 3:", "T2"}, {{"TOKEN", kSecretValue}}},
      {"secret in FROM through a modifier", "ARG TOKEN\nFROM 127.0.0.1:5999/x:${TOKEN:+yes}\n", {"line 2:", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
      {"secret ARG default", std::string("ARG T=") + kSecretValue + "\nFROM 127.0.0.1:5999/x:$T\n", {"line 2:", "T"}},
      {"secret in --platform", "ARG TOKEN\nFROM --platform=$TOKEN scratch\n", {"line 2:", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
      {"secret in COPY --from", "FROM scratch\nARG TOKEN\nCOPY --from=127.0.0.1:5999/x:$TOKEN /a /a\n",
       {"line 3:", "COPY --from", "TOKEN"}, {{"TOKEN", kSecretValue}}},
      {"secret through ENV in COPY --from", "FROM scratch\nARG TOKEN\nENV IMG=127.0.0.1:5999/x:$TOKEN\nCOPY --from=$IMG /a /a\n",
       {"line 4:", "IMG"}, {{"TOKEN", kSecretValue}}},
      {"secret in a mount's from", "FROM scratch\nARG TOKEN\nRUN --mount=type=bind,from=127.0.0.1:5999/x:$TOKEN,target=/h true\n",
       {"line 3:", "RUN --mount from", "TOKEN"}, {{"TOKEN", kSecretValue}}},
      {"secret in an ADD URL", "FROM scratch\nARG TOKEN\nADD http://127.0.0.1:5999/$TOKEN /a\n", {"line 3:", "ADD", "TOKEN"},
       {{"TOKEN", kSecretValue}}},
  };
  return corpus;
}

TEST(DockerfileHostileCorpus, EachIsRefusedNamingTheLineAndTheOption) {
  for (const HostileCase& hostile : Corpus()) {
    std::string error = Parse(hostile.dockerfile, hostile.build_args);
    EXPECT_FALSE(error.empty()) << hostile.name << ": accepted";
    for (const std::string& part : hostile.expected) {
      EXPECT_NE(error.find(part), std::string::npos) << hostile.name << ": '" << part << "' not in: " << error;
    }
    EXPECT_EQ(error.find(kSecretValue), std::string::npos) << hostile.name << ": the error shows the secret: " << error;
  }
}

TEST(DockerfileHostileCorpus, OrdinaryMountsAndArgsAreAccepted) {
  const std::vector<std::string> benign = {
      "FROM scratch\nRUN --mount=type=cache,target=/root/.npm npm ci\n",
      "FROM scratch\nRUN --mount=type=cache,id=npm,target=/root/.npm,sharing=locked,mode=0755,uid=1000,gid=1000 true\n",
      "FROM scratch\nRUN --mount=type=cache,id=go/build-cache,target=/root/.cache/go-build true\n",
      "FROM scratch AS build\nRUN true\nFROM scratch\nRUN --mount=type=bind,from=build,source=out,target=/in,ro true\n",
      "FROM scratch\nRUN --mount=type=bind,target=/src --mount=type=bind,src=./pkg,dst=/pkg,rw true\n",
      "FROM scratch\nRUN --mount=type=tmpfs,target=/tmp,size=64m [\"true\"]\n",
      "FROM scratch\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc,required=true true\n",
      "FROM scratch\nRUN \\\n  --mount=type=cache,target=/var/cache/apt \\\n  true\n",
      // A secret is fine inside a RUN step: only image names and pulls are refused.
      "FROM scratch\nARG TOKEN\nRUN echo \"$TOKEN\" > /dev/null\n",
      "ARG BASE=scratch\nARG TOKEN\nFROM $BASE\nENV PUBLIC=yes\nCOPY --from=scratch /a /a\n",
  };
  for (const std::string& dockerfile : benign) {
    EXPECT_EQ(Parse(dockerfile, {{"TOKEN", kSecretValue}}), "") << dockerfile;
  }
}

TEST(DockerfileHostileCorpus, ABindSourceMustStayInTheContextThroughSymlinks) {
  kiln::testing::TempDir dir{"kiln-run-mounts"};
  fs::path context = dir.path() / "ctx";
  fs::create_directories(context / "pkg");
  fs::create_symlink("/", context / "root-link");
  fs::create_symlink("../..", context / "pkg" / "up");
  fs::path canonical = fs::canonical(context);

  EXPECT_EQ(Parse("FROM scratch\nRUN --mount=type=bind,source=pkg,target=/p true\n", {}, canonical), "");
  EXPECT_EQ(Parse("FROM scratch\nRUN --mount=type=bind,target=/p true\n", {}, canonical), "");
  for (const std::string source : {"root-link", "root-link/etc", "pkg/up", "pkg/up/x"}) {
    std::string error =
        Parse("FROM scratch\nRUN --mount=type=bind,source=" + source + ",target=/p true\n", {}, canonical);
    EXPECT_NE(error.find("line 2: RUN --mount source"), std::string::npos) << source << ": " << error;
    EXPECT_NE(error.find("outside the build context"), std::string::npos) << source << ": " << error;
  }
  // From a stage, the source is a path in that stage, not in the context.
  EXPECT_EQ(Parse("FROM scratch AS a\nFROM scratch\nRUN --mount=type=bind,from=a,source=root-link,target=/p true\n", {},
                  canonical),
            "");
}

TEST(DockerfileHostileCorpus, AMountsFromImageIsAnExternalImage) {
  Dockerfile out;
  std::string error;
  ASSERT_TRUE(ParseDockerfile("FROM scratch AS a\nFROM scratch\n"
                              "RUN --mount=type=bind,from=a,target=/a --mount=type=bind,from=localhost/tools:1,target=/t true\n",
                              {}, out, error))
      << error;
  EXPECT_EQ(out.external_images, std::vector<std::string>{"localhost/tools:1"});
}

TEST(RunFlags, CountsEveryMountWord) {
  EXPECT_EQ(CountMountWords("RUN --mount=a --MOUNT=b echo --Mount"), 3);
  EXPECT_EQ(CountMountWords("RUN echo mount"), 0);
}

}  // namespace
}  // namespace kiln::buildah
