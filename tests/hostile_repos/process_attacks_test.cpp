// Repositories whose code goes after the worker's secrets, files, processes and network from
// inside a job (kiln.exec of the repository's attack.sh, as an install script or a committed
// tool would run). Each one is contained by the job sandbox and the worker goes on serving.
#include "hostile_repos/hostile_repo_fixture.hpp"

namespace kiln::testing {
namespace {

TEST_F(HostileRepoTest, ReadingEveryProcessEnvironmentFindsNoSecret) {
  StartWorker();
  auto run = Attack("proc-environ", {{"attack.sh",
                                      "for f in /proc/*/environ; do tr '\\0' '\\n' < $f | rev; done\n"
                                      "ls /proc | grep -c '^[0-9]' | sed 's/^/processes seen: /'\n"
                                      "env | rev\n"}});
  ExpectNothingLeaked(run);
  ExpectSaid(run, "processes seen: ");
  ExpectStillServing();
}

TEST_F(HostileRepoTest, TheConfigAndFileSecretsAreNotReadable) {
  StartWorker();
  auto run = Attack("config-and-secrets",
                    {{"attack.sh", "rev < '" + config_path() + "' && echo read-config\n" +
                                       "rev < '" + (dir_.path() / "secrets" / "deploy_token").string() +
                                       "' && echo read-secret\n" + "rev < /etc/shadow && echo read-shadow\n" +
                                       "ls /etc/kiln 2>&1 | rev\n"}});
  ExpectNothingLeaked(run);
  EXPECT_EQ(run.said.find("read-config"), std::string::npos) << run.said;
  EXPECT_EQ(run.said.find("read-secret"), std::string::npos) << run.said;
  EXPECT_EQ(run.said.find("read-shadow"), std::string::npos) << run.said;
  ExpectStillServing();
}

TEST_F(HostileRepoTest, AnotherJobsWorkspaceIsNotVisible) {
  StartWorker();
  const auto other = dir_.path() / "work" / "ws" / "other-job";
  WriteFile(other / "checkout" / "credentials.txt", std::string("other-") + kFileSecret);
  auto run = Attack("other-workspace", {{"attack.sh", "ls -a .. ../.. | sed 's/^/listed: /'\n"
                                                      "cat ../other-job/checkout/credentials.txt | rev\n"
                                                      "cat ../../ws/other-job/checkout/credentials.txt | rev\n"}});
  ExpectNothingLeaked(run);
  EXPECT_EQ(run.said.find("listed: other-job"), std::string::npos) << run.said;
  ExpectSaid(run, "listed: hostile-other-workspace");  // its own, and nothing beside it
  ExpectStillServing();
}

TEST_F(HostileRepoTest, WritesOutsideTheWorkspaceGoNowhere) {
  StartWorker();
  const auto root = dir_.path();
  auto run = Attack("write-outside",
                    {{"attack.sh", "for target in '" + (root / "escaped").string() + "' '" +
                                       (root / "work" / "ws" / "escaped").string() + "' '" +
                                       (root / "work" / "code" / "escaped").string() + "' '" +
                                       (root / "work" / "deps" / "escaped").string() + "' '" +
                                       (root / "pipelines" / "default.lua").string() +
                                       "' /usr/local/bin/nx /etc/cron.d/kiln /root/.bashrc /escaped; do\n"
                                       "  echo pwned > \"$target\" 2>/dev/null && echo \"wrote $target\"\n"
                                       "done\n"
                                       "echo attempted\n"}});
  ExpectSaid(run, "attempted");
  EXPECT_EQ(run.said.find("wrote "), std::string::npos) << run.said;
  for (const auto& path : {root / "escaped", root / "work" / "ws" / "escaped", root / "work" / "code" / "escaped",
                           root / "work" / "deps" / "escaped", root / "pipelines" / "default.lua"}) {
    EXPECT_FALSE(std::filesystem::exists(path)) << path;
  }
  EXPECT_FALSE(std::filesystem::exists("/usr/local/bin/nx"));
  EXPECT_FALSE(std::filesystem::exists("/etc/cron.d/kiln"));
  ExpectStillServing();
}

TEST_F(HostileRepoTest, NatsAndTheMetricsPortAreUnreachableWithoutNetwork) {
  StartWorker();
  const std::string nats_port = server_.url().substr(server_.url().rfind(':') + 1);
  auto run = Attack("loopback-none",
                    {{"attack.sh", "for port in " + nats_port + " " + std::to_string(metrics_port_) + "; do\n"
                                   "  (echo 'PUB builds.jobs 2' > /dev/tcp/127.0.0.1/$port) 2>/dev/null"
                                   " && echo \"reached $port\" || echo \"refused $port\"\n"
                                   "done\n"}});
  ExpectSaid(run, "refused " + nats_port);
  ExpectSaid(run, "refused " + std::to_string(metrics_port_));
  EXPECT_EQ(run.said.find("reached"), std::string::npos) << run.said;
  ExpectStillServing();
}

TEST_F(HostileRepoTest, NatsAndTheMetricsPortAreUnreachableWithEgress) {
  StartWorker();
  const std::string nats_port = server_.url().substr(server_.url().rfind(':') + 1);
  auto run = Attack("loopback-egress",
                    {{"attack.sh", "for port in " + nats_port + " " + std::to_string(metrics_port_) + "; do\n"
                                   "  for host in 127.0.0.1 10.0.2.2; do\n"
                                   "    (echo 'PUB builds.jobs 2' > /dev/tcp/$host/$port) 2>/dev/null"
                                   " && echo \"reached $host:$port\" || echo \"refused $host:$port\"\n"
                                   "  done\n"
                                   "done\n"}},
                    "attack", {{"NETWORK", "egress"}});
  ExpectSaid(run, "refused 127.0.0.1:" + nats_port);
  ExpectSaid(run, "refused 10.0.2.2:" + std::to_string(metrics_port_));
  EXPECT_EQ(run.said.find("reached"), std::string::npos) << run.said;
  ExpectStillServing();
}

TEST_F(HostileRepoTest, TheWorkersDescriptorsAreNotInherited) {
  StartWorker();
  auto run = Attack("inherited-fds", {{"attack.sh", "for fd in /proc/self/fd/*; do"
                                                    " echo \"fd $(basename $fd) -> $(readlink $fd)\"; done\n"}});
  EXPECT_EQ(run.said.find("socket:"), std::string::npos) << run.said;
  ExpectSaid(run, "fd 0 ->");
  ExpectStillServing();
}

TEST_F(HostileRepoTest, TheWorkerCannotBeSignalledOrTraced) {
  auto& worker = StartWorker();
  const std::string pid = std::to_string(worker.pid());
  auto run = Attack("signal-worker", {{"attack.sh", "kill -9 " + pid + " 2>&1; kill -9 -1 2>&1\n"
                                                    "cat /proc/" + pid + "/environ 2>&1 | rev\n"
                                                    "ls /proc/" + pid + "/root/ 2>&1 | head -3\n"
                                                    "echo uid=$(id -u)\n"}});
  ExpectNothingLeaked(run);
  EXPECT_EQ(run.said.find("uid=0"), std::string::npos) << run.said;
  ExpectSaid(run, "uid=");
  EXPECT_EQ(worker.Wait(std::chrono::milliseconds(10)), -1) << "the worker died";
  ExpectStillServing();
}

TEST_F(HostileRepoTest, CachesMirrorsAndTheImageStoreAreNotVisible) {
  StartWorker();
  const auto root = dir_.path() / "work";
  auto run = Attack("kiln-state", {{"attack.sh", "for d in '" + (root / "code").string() + "' '" +
                                                     (root / "deps").string() +
                                                     "' /var/lib/containers /var/lib/kiln /var/cache/kiln /run; do\n"
                                                     "  ls \"$d\" >/dev/null 2>&1 && echo \"listed $d\" || echo \"hidden $d\"\n"
                                                     "done\n"}});
  EXPECT_EQ(run.said.find("listed "), std::string::npos) << run.said;
  ExpectSaid(run, "hidden " + (root / "code").string());
  ExpectStillServing();
}

TEST_F(HostileRepoTest, SymlinksInTheCheckoutLeadNowhereOutside) {
  StartWorker();
  auto run = Attack("symlinks",
                    {{"attack.sh", "cat token-link config-link 2>&1 | rev; ls work-link/ 2>&1\n"
                                   "echo pwned > work-link/escaped 2>/dev/null && echo wrote-through-link\n"}},
                    "attack", nlohmann::json::object(), [this](const std::filesystem::path& tree) {
                      std::filesystem::create_symlink(dir_.path() / "secrets" / "deploy_token", tree / "token-link");
                      std::filesystem::create_symlink(config_path(), tree / "config-link");
                      std::filesystem::create_symlink(dir_.path() / "work", tree / "work-link");
                    });
  ExpectNothingLeaked(run);
  EXPECT_EQ(run.said.find("wrote-through-link"), std::string::npos) << run.said;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "work" / "escaped"));
  ExpectStillServing();
}

TEST_F(HostileRepoTest, ADaemonLeftBehindEndsWithItsStep) {
  StartWorker();
  auto run = Attack("daemon", {{"attack.sh", "setsid nohup sleep 777 >/dev/null 2>&1 &\n"
                                             "(setsid sh -c 'sleep 778' &) ; echo daemons-started\n"}});
  ExpectSaid(run, "daemons-started");
  EXPECT_EQ(status(run), "succeeded") << run.said;
  std::string left;
  Shell("ps -eo args= | grep -E '^sleep 77[78]' || true", &left);
  EXPECT_EQ(left, "") << "a daemon outlived its job";
  ExpectStillServing();
}

TEST_F(HostileRepoTest, AForkBombEndsWithItsStepAndTheWorkerServesOn) {
  WriteHostileConfig("sandbox: { max_processes: 256 }\n");
  StartWorker();
  auto run = Attack("fork-bomb", {{"attack.sh", "bomb() { bomb | bomb & }; bomb; sleep 30\n"}}, "attack",
                    {{"TIMEOUT", "5s"}});
  EXPECT_NE(status(run), "succeeded") << run.said;
  ExpectStillServing();
}

TEST_F(HostileRepoTest, ADiskFillerFailsAtTheQuotaAndTheWorkerServesOn) {
  WriteHostileConfig("sandbox: { disk_quota: 64MiB }\n");
  StartWorker();
  auto run = Attack("disk-filler", {{"attack.sh", "i=0; while head -c 8388608 /dev/zero > fill.$i; do i=$((i+1)); done\n"
                                                  "echo filler-ended\n"}});
  ExpectSaid(run, "disk quota");
  ExpectSaid(run, "sandbox.disk_quota");
  ExpectStillServing();
}

TEST_F(HostileRepoTest, NoPrivilegeToGain) {
  StartWorker();
  auto run = Attack("privileges", {{"attack.sh", "unshare -r true 2>&1 && echo new-userns\n"
                                                 "mount -t tmpfs none /tmp 2>&1 && echo mounted\n"
                                                 "su -c id 2>&1 </dev/null; sudo -n id 2>&1\n"
                                                 "grep -E 'Cap(Eff|Prm)|NoNewPrivs' /proc/self/status\n"}});
  EXPECT_EQ(run.said.find("new-userns"), std::string::npos) << run.said;
  EXPECT_EQ(run.said.find("mounted"), std::string::npos) << run.said;
  EXPECT_EQ(run.said.find("uid=0"), std::string::npos) << run.said;
  ExpectSaid(run, "CapEff:\t0000000000000000");  // the build log keeps the tab as written
  ExpectStillServing();
}

}  // namespace
}  // namespace kiln::testing
