// What the build page needs from a real `kiln gateway` beyond the JSON API: its files with a
// strict policy, a login that gives a session cookie, session requests that cannot be made
// from another site, the builds list filtered and paged, the raw log, and rebuild.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "gateway/session_cookie.hpp"
#include "gateway_fixture.hpp"
#include "state/job_state.hpp"
#include "support/contains.hpp"
#include "transport/job_publisher.hpp"
#include "transport/job_state_store.hpp"

namespace kiln::testing {
namespace {

using std::chrono::system_clock;

TEST(SessionCookie, IsValidForItsTokenUntilItExpires) {
  const auto now = system_clock::now();
  const std::string value = MakeSessionValue("token-a", now, std::chrono::seconds(60));
  EXPECT_TRUE(SessionValueValid(value, "token-a", now));
  EXPECT_FALSE(SessionValueValid(value, "token-b", now)) << "a new API token ends every session";
  EXPECT_FALSE(SessionValueValid(value, "token-a", now + std::chrono::seconds(61))) << "expired";
  EXPECT_FALSE(SessionValueValid(value, "", now)) << "no token configured: no session";
}

TEST(SessionCookie, ATamperedValueIsRefused) {
  const auto now = system_clock::now();
  const std::string value = MakeSessionValue("token-a", now, std::chrono::seconds(60));
  const std::string mac = value.substr(value.find('.'));
  // A later expiry with the old MAC, a changed MAC, and shapes that are not a session.
  EXPECT_FALSE(SessionValueValid("99999999999" + mac, "token-a", now));
  std::string flipped = value;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(SessionValueValid(flipped, "token-a", now));
  for (const char* bad : {"", ".", "abc", "123.", ".abc", "-1.abc", "12 3.abcd"}) {
    EXPECT_FALSE(SessionValueValid(bad, "token-a", now)) << bad;
  }
}

TEST(SessionCookie, CookieHeadersAreReadAndWrittenAsBrowsersDo) {
  EXPECT_EQ(CookieValue("a=1; kiln_session=v.x; b=2", "kiln_session"), "v.x");
  EXPECT_EQ(CookieValue("kiln_session_old=1;kiln_session=2", "kiln_session"), "2");
  EXPECT_EQ(CookieValue("other=1", "kiln_session"), "");
  const std::string set = SessionSetCookie("v", false);
  EXPECT_TRUE(Contains(set, "kiln_session=v;")) << set;
  EXPECT_TRUE(Contains(set, "HttpOnly")) << set;
  EXPECT_TRUE(Contains(set, "SameSite=Strict")) << set;
  EXPECT_FALSE(Contains(set, "Secure")) << set;
  EXPECT_TRUE(Contains(SessionSetCookie("v", true), "; Secure")) << "behind an HTTPS proxy";
  EXPECT_TRUE(Contains(SessionClearCookie(false), "Max-Age=0"));
}

class PageApiTest : public GatewayTest {
 protected:
  httplib::Result Login(const std::string& body, const std::string& content_type = "application/x-www-form-urlencoded",
                        bool csrf_header = true) {
    httplib::Headers headers;
    if (csrf_header) headers.emplace("X-Kiln-Csrf", "1");
    return Client().Post("/login", headers, body, content_type.c_str());
  }

  /// Logs in through the form and returns the Cookie header value a browser would send.
  std::string SessionCookie() {
    auto res = Login(std::string("token=") + kApiToken);
    if (!res || res->status != 204) {
      ADD_FAILURE() << "login failed: " << (res ? res->body : "no answer");
      return "";
    }
    const std::string set = res->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
  }

  httplib::Result SessionPost(const std::string& path, const std::string& cookie, httplib::Headers headers = {}) {
    headers.emplace("Cookie", cookie);
    return Client().Post(path, headers, "", "application/json");
  }

  /// A queued state as a publisher writes it, without a message (the list reads states only).
  void WriteState(const std::string& id, const std::string& repo, const std::string& branch,
                  const std::string& status, const std::string& queued_at) {
    Job job;
    job.id = id;
    job.repo_url = "https://example.invalid/" + repo + ".git";
    job.repo_name = repo;
    job.commit = kCommit;
    job.branch = branch;
    nlohmann::json state = PublishedQueuedState(job, queued_at);
    state["status"] = status;
    std::uint64_t revision = 0;
    ASSERT_EQ(JobStateStore(client_->builds_kv()).Write(id, state, revision), WriteOutcome::ok);
  }

  static std::vector<std::string> Ids(const nlohmann::json& list) {
    std::vector<std::string> ids;
    for (const auto& build : list["builds"]) ids.push_back(build.value("id", ""));
    return ids;
  }
};

TEST_F(PageApiTest, ThePageIsServedFromTheBinaryUnderAStrictPolicy) {
  StartGateway();
  auto icon = Client().Get("/assets/favicon.svg");
  ASSERT_TRUE(icon);
  EXPECT_EQ(icon->status, 200) << icon->body;
  EXPECT_EQ(icon->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_EQ(icon->body, ReadFile(std::filesystem::path(KILN_SOURCE_DIR) / "engine/src/gateway/page/favicon.svg"));
  const std::string policy = icon->get_header_value("Content-Security-Policy");
  EXPECT_TRUE(Contains(policy, "script-src 'self'")) << policy;
  EXPECT_TRUE(Contains(policy, "frame-ancestors 'none'")) << policy;
  EXPECT_FALSE(Contains(policy, "unsafe-inline")) << policy;
  EXPECT_EQ(icon->get_header_value("X-Content-Type-Options"), "nosniff");

  for (const char* path : {"/assets/nothing.js", "/assets/..", "/assets/%2e%2e%2fconfig.yaml"}) {
    auto missing = Client().Get(path);
    ASSERT_TRUE(missing) << path;
    EXPECT_EQ(missing->status, 404) << path << ": " << missing->body;
    EXPECT_TRUE(Json(missing).contains("error")) << missing->body;
  }
  auto deeper = Client().Get("/assets/a/../../etc/passwd");
  ASSERT_TRUE(deeper);
  EXPECT_EQ(deeper->status, 404) << deeper->body;
}

TEST_F(PageApiTest, LoginGivesAnHttpOnlyStrictSessionThatOpensTheApi) {
  StartGateway();
  auto wrong = Login("token=not-the-token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  EXPECT_TRUE(wrong->get_header_value("Set-Cookie").empty());
  EXPECT_TRUE(Contains(Json(wrong).value("error", ""), "not the gateway's API token")) << wrong->body;

  auto no_field = Login("password=x");
  ASSERT_TRUE(no_field);
  EXPECT_EQ(no_field->status, 400) << no_field->body;
  auto cross_site = Login(std::string("token=") + kApiToken, "application/x-www-form-urlencoded", false);
  ASSERT_TRUE(cross_site);
  EXPECT_EQ(cross_site->status, 403) << "a form of another site cannot log a browser in";

  auto json = Login(nlohmann::json({{"token", kApiToken}}).dump(), "application/json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 204) << json->body;

  auto ok = Login(std::string("token=") + kApiToken);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 204) << ok->body;
  const std::string set = ok->get_header_value("Set-Cookie");
  EXPECT_TRUE(Contains(set, "HttpOnly")) << set;
  EXPECT_TRUE(Contains(set, "SameSite=Strict")) << set;
  EXPECT_FALSE(Contains(set, kApiToken)) << "the cookie is not the token: " << set;
  const std::string cookie = set.substr(0, set.find(';'));

  auto list = Client().Get("/builds", {{"Cookie", cookie}});
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << list->body;
  auto tampered = Client().Get("/builds", {{"Cookie", cookie + "0"}});
  ASSERT_TRUE(tampered);
  EXPECT_EQ(tampered->status, 401) << tampered->body;
  auto other_name = Client().Get("/builds", {{"Cookie", "session=" + cookie.substr(cookie.find('=') + 1)}});
  ASSERT_TRUE(other_name);
  EXPECT_EQ(other_name->status, 401) << other_name->body;

  auto logout = Client().Post("/logout", {{"X-Kiln-Csrf", "1"}, {"Cookie", cookie}}, "", "text/plain");
  ASSERT_TRUE(logout);
  EXPECT_EQ(logout->status, 204) << logout->body;
  EXPECT_TRUE(Contains(logout->get_header_value("Set-Cookie"), "Max-Age=0"));
}

TEST_F(PageApiTest, ASessionCannotBeUsedToChangeAnythingFromAnotherSite) {
  StartGateway();
  StartWorker();
  PublishJob("csrf-1", "sleep60");
  ASSERT_FALSE(WaitForStatus("csrf-1", {"running"}).is_null());
  const std::string cookie = SessionCookie();

  auto no_header = SessionPost("/builds/csrf-1/cancel", cookie);
  ASSERT_TRUE(no_header);
  EXPECT_EQ(no_header->status, 403) << no_header->body;
  EXPECT_TRUE(Contains(Json(no_header).value("error", ""), "X-Kiln-Csrf")) << no_header->body;
  auto other_origin =
      SessionPost("/builds/csrf-1/cancel", cookie, {{"X-Kiln-Csrf", "1"}, {"Origin", "https://evil.example"}});
  ASSERT_TRUE(other_origin);
  EXPECT_EQ(other_origin->status, 403) << other_origin->body;
  EXPECT_TRUE(Contains(Json(other_origin).value("error", ""), "evil.example")) << other_origin->body;
  EXPECT_EQ(State("csrf-1")->state["status"], "running") << "a refused request cancels nothing";

  const std::string own_origin = "http://127.0.0.1:" + std::to_string(port_);
  auto page = SessionPost("/builds/csrf-1/cancel", cookie, {{"X-Kiln-Csrf", "1"}, {"Origin", own_origin}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 202) << page->body;
  EXPECT_EQ(WaitForStatus("csrf-1", {"cancelled", "failed", "dead", "succeeded"}).value("status", ""), "cancelled");
}

TEST_F(PageApiTest, TheListIsFilteredAndPagedNewestFirst) {
  StartGateway();
  WriteState("list-1", "acme/shop", "main", "succeeded", "2026-12-01T10:00:01.000Z");
  WriteState("list-2", "acme/shop", "dev", "failed", "2026-12-01T10:00:02.000Z");
  WriteState("list-3", "acme/blog", "main", "failed", "2026-12-01T10:00:03.000Z");
  WriteState("list-4", "acme/shop", "main", "failed", "2026-12-01T10:00:04.000Z");
  WriteState("list-5", "acme/shop", "main", "running", "2026-12-01T10:00:05.000Z");

  auto shop = Json(Query("/builds?repo=acme/shop"));
  EXPECT_EQ(Ids(shop), (std::vector<std::string>{"list-5", "list-4", "list-2", "list-1"})) << shop.dump();
  EXPECT_EQ(shop["more"], false);
  auto failed_main = Json(Query("/builds?status=failed&branch=main"));
  EXPECT_EQ(Ids(failed_main), (std::vector<std::string>{"list-4", "list-3"})) << failed_main.dump();

  auto first = Json(Query("/builds?repo=acme%2Fshop&limit=2"));
  EXPECT_EQ(Ids(first), (std::vector<std::string>{"list-5", "list-4"})) << first.dump();
  EXPECT_EQ(first["more"], true);
  auto second = Json(Query("/builds?repo=acme%2Fshop&limit=2&before=list-4"));
  EXPECT_EQ(Ids(second), (std::vector<std::string>{"list-2", "list-1"})) << second.dump();
  EXPECT_EQ(second["more"], false);

  for (const char* bad : {"/builds?status=done", "/builds?limit=0", "/builds?before=bad.id", "/builds?before=nope"}) {
    auto res = Query(bad);
    ASSERT_TRUE(res) << bad;
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
    EXPECT_FALSE(Json(res).value("error", "").empty()) << res->body;
  }
}

TEST_F(PageApiTest, TheRawLogIsTheWholeLogAsWritten) {
  WritePipeline("lines", "kiln.step(\"print\", function()\n"
                         "  kiln.exec{ cmd = { \"sh\", \"-c\", \"for i in $(seq 1 3000); do echo \\\"line $i\\\"; done; "
                         "printf '\\\\033[31mred\\\\033[0m\\\\n'\" } }\n"
                         "end)\n");
  StartGateway();
  StartWorker();
  PublishJob("raw-1", "lines");
  ASSERT_EQ(WaitForStatus("raw-1", {"succeeded", "failed", "dead"}).value("status", ""), "succeeded");

  auto raw = Query("/builds/raw-1/logs/raw");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  EXPECT_EQ(raw->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_TRUE(Contains(raw->get_header_value("Content-Disposition"), "raw-1.log"));
  std::string expected;
  for (int i = 1; i <= 3000; ++i) expected += "line " + std::to_string(i) + "\n";
  expected += "\x1b[31mred\x1b[0m\n";
  EXPECT_TRUE(Contains(raw->body, expected)) << "every line, escapes kept; got " << raw->body.size() << " bytes";

  auto none = Query("/builds/raw-none/logs/raw");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404) << none->body;
  auto anonymous = Query("/builds/raw-1/logs/raw", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(PageApiTest, TheLogsTailIsItsLastChunksNumberedAsTheStreamNumbersThem) {
  // Two jobs at once, 30,000 lines of 100 bytes each: a dozen chunks or so each (cut at
  // 256 KiB, 4096 lines or 250 ms), interleaved in the logs stream, so a tail is read from a
  // window of stream sequences that holds the other job's chunks too.
  WritePipeline("long", "kiln.step(\"print\", function()\n"
                        "  kiln.exec{ cmd = { \"sh\", \"-c\", \"seq -f 'line %05g of ninety bytes and then some "
                        "padding to make the line one hundred bytes long, more or less...' 1 30000\" } }\n"
                        "end)\n");
  StartGateway();
  StartWorker();
  PublishJob("tail-1", "long");
  PublishJob("tail-2", "long");
  for (const char* id : {"tail-1", "tail-2"}) {
    ASSERT_EQ(WaitForStatus(id, {"succeeded", "failed", "dead"}).value("status", ""), "succeeded") << id;
  }
  auto line_text = [](int i) {
    char number[8];
    std::snprintf(number, sizeof number, "%05d", i);
    return std::string("line ") + number +
           " of ninety bytes and then some padding to make the line one hundred bytes long, more or less...\n";
  };

  for (const std::string id : {"tail-1", "tail-2"}) {
    SCOPED_TRACE(id);
    auto small = Query("/builds/" + id + "/logs/tail?max_bytes=1000");
    ASSERT_TRUE(small);
    ASSERT_EQ(small->status, 200) << small->body.substr(0, 300);
    auto tail = Json(small);
    EXPECT_EQ(tail.value("lines", 0), 30000);
    const int first = tail.value("first_line", 0);
    EXPECT_GT(first, 1) << "a part, not the whole log";
    ASSERT_FALSE(tail["events"].empty());
    std::string text;
    int next_line = first;
    std::string last_id;
    for (const auto& event : tail["events"]) {
      EXPECT_EQ(event["data"].value("line", 0), next_line) << event.dump().substr(0, 200);
      const std::string chunk = event["data"].value("text", "");
      next_line += static_cast<int>(std::count(chunk.begin(), chunk.end(), '\n'));
      text += chunk;
      last_id = event.value("id", "");
    }
    std::string expected;
    for (int i = first; i <= 30000; ++i) expected += line_text(i);
    EXPECT_TRUE(text == expected) << "the lines from first_line to the end, in order; got " << text.size()
                                  << " bytes from line " << first;
    EXPECT_TRUE(Contains(last_id, ":30000")) << last_id;

    // The whole log when it is smaller than max_bytes (read from the start: the same ids).
    auto whole = Json(Query("/builds/" + id + "/logs/tail?max_bytes=8388608"));
    EXPECT_EQ(whole.value("first_line", 0), 1);
    ASSERT_FALSE(whole["events"].empty());
    EXPECT_EQ(whole["events"].back().value("id", ""), last_id);
    // The default keeps at least 256 KiB: more than the small tail, less than the 3 MB here.
    auto by_default = Json(Query("/builds/" + id + "/logs/tail"));
    EXPECT_LT(by_default.value("first_line", 0), first);
    EXPECT_GT(by_default.value("first_line", 0), 1);
    std::string default_text;
    for (const auto& event : by_default["events"]) default_text += event["data"].value("text", "");
    EXPECT_GE(default_text.size(), 256u * 1024);
    EXPECT_TRUE(Contains(default_text, line_text(30000)));
  }

  for (const char* bad : {"0", "x", "8388609", "-1"}) {
    auto refused = Query(std::string("/builds/tail-1/logs/tail?max_bytes=") + bad);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400) << bad;
    EXPECT_TRUE(Contains(Json(refused).value("error", ""), "max_bytes")) << refused->body;
  }
  auto none = Query("/builds/tail-none/logs/tail");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404) << none->body;
  auto anonymous = Query("/builds/tail-1/logs/tail", "");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(PageApiTest, ARebuildRunsTheSameJobUnderANewId) {
  StartGateway();
  StartWorker();
  nlohmann::json job = nlohmann::json::parse(JobBody("rebuild-1", "noop"));
  job["env"] = {{"CYPRESS_INSTALL_BINARY", "0"}};
  job["trusted"] = false;
  PublishRaw(job.dump(), "rebuild-1");
  ASSERT_EQ(WaitForStatus("rebuild-1", {"succeeded", "failed", "dead"}).value("status", ""), "succeeded");

  httplib::Headers auth = {{"Authorization", std::string("Bearer ") + kApiToken}};
  auto res = Client().Post("/builds/rebuild-1/rebuild", auth, "", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  const std::string id = Json(res).value("job", "");
  ASSERT_TRUE(IsValidJobId(id)) << res->body;
  EXPECT_NE(id, "rebuild-1");
  auto again = WaitForStatus(id, {"succeeded", "failed", "dead"});
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again["status"], "succeeded");
  EXPECT_EQ(again["commit"], kCommit);
  EXPECT_EQ(again["branch"], "main");
  EXPECT_EQ(again["pipeline"], "noop");
  EXPECT_EQ(again["env"], job["env"]);
  EXPECT_EQ(again.value("trusted", true), false) << "a fork's job stays untrusted when rebuilt";

  PublishJob("rebuild-running", "sleep60");
  ASSERT_FALSE(WaitForStatus("rebuild-running", {"running"}).is_null());
  auto running = Client().Post("/builds/rebuild-running/rebuild", auth, "", "application/json");
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, 409) << running->body;
  auto missing = Client().Post("/builds/rebuild-none/rebuild", auth, "", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
}

TEST_F(PageApiTest, ABuildWhoseUrlHadCredentialsIsNotRebuiltWithoutThem) {
  StartGateway();
  Job job;
  job.id = "rebuild-creds";
  job.repo_url = "https://user:secret@example.invalid/acme/shop.git";
  job.commit = kCommit;
  nlohmann::json state = PublishedQueuedState(job, "2026-12-01T10:00:00.000Z");
  state["status"] = "failed";
  std::uint64_t revision = 0;
  ASSERT_EQ(JobStateStore(client_->builds_kv()).Write(job.id, state, revision), WriteOutcome::ok);
  auto res = Client().Post("/builds/rebuild-creds/rebuild", {{"Authorization", std::string("Bearer ") + kApiToken}},
                           "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422) << res->body;
  EXPECT_TRUE(Contains(Json(res).value("error", ""), "credentials")) << res->body;
}

}  // namespace
}  // namespace kiln::testing
