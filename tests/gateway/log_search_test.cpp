// GET /builds/{id}/logs/search end to end: a real nats-server, worker and `kiln gateway`,
// searching a stored log the way a page would to jump to a line it has not rendered.
#include "gateway/log_search.hpp"
#include "gateway_fixture.hpp"
#include "support/contains.hpp"

namespace kiln::testing {
namespace {

// 3000 numbered lines, every 700th an error in colour, one line of 150,000 bytes (longer
// than a chunk) that ends in a word found nowhere else, then a failing step.
constexpr const char* kLongLog = R"(
kiln.step("count", function()
  kiln.exec { cmd = { "sh", "-c", [[
for i in $(seq 1 3000); do
  if [ $((i % 700)) -eq 0 ]; then printf '\033[31mERROR\033[0m at %d\n' $i; else echo "line $i"; fi
done
head -c 150000 /dev/zero | tr '\0' x; echo needle-at-the-end
echo after the long line
]] } }
end)
kiln.step("fail", function() kiln.exec { cmd = { "sh", "-c", "echo boom" } }; error("failing on purpose") end)
)";

class LogSearchTest : public GatewayTest {
 protected:
  nlohmann::json Search(const std::string& id, const std::string& query, int* status = nullptr) {
    auto res = Query("/builds/" + id + "/logs/search?" + query);
    if (status != nullptr) *status = res ? res->status : 0;
    return Json(res);
  }
};

TEST_F(LogSearchTest, FindsLinesOfTheWholeLogByNumberWithPaging) {
  WritePipeline("Codertocat/Hello-World", kLongLog);
  StartWorker();
  StartGateway();
  auto res = Deliver("push", "search-1", BranchPush());
  ASSERT_TRUE(res && res->status == 202) << (res ? res->body : "no answer");
  const std::string id = Json(res).value("job", "");
  ASSERT_FALSE(WaitForStatus(id, {"failed", "dead"}).is_null());

  int status = 0;
  auto found = Search(id, "q=error", &status);
  ASSERT_EQ(status, 200) << found.dump();
  ASSERT_EQ(found["matches"].size(), 4u) << found.dump();  // lines 700, 1400, 2100, 2800
  EXPECT_FALSE(found.value("more", true));
  // The numbers are the log's own: the first line of the job's log is line 1 and each
  // echo is one line, so "ERROR at N" is some line >= N; they are in order and distinct.
  std::uint64_t previous = 0;
  for (const auto& match : found["matches"]) {
    EXPECT_EQ(match.value("step", ""), "count");
    EXPECT_EQ(match.value("text", "").rfind("ERROR at ", 0), 0u) << "escapes removed: " << match.dump();
    EXPECT_GT(match.value("line", 0u), previous);
    previous = match.value("line", 0u);
  }
  const std::uint64_t first_error = found["matches"][0].value("line", 0u);
  // Line numbers agree with the log: line 1 of "count" is "line 1", so line 700 is 700 lines on.
  auto line699 = Search(id, "q=line%20699");
  ASSERT_FALSE(line699["matches"].empty()) << line699.dump();
  EXPECT_EQ(line699["matches"][0].value("line", 0u) + 1, first_error) << line699.dump();

  // Paging: two at a time, then from after the last one.
  auto page1 = Search(id, "q=ERROR&limit=2");
  ASSERT_EQ(page1["matches"].size(), 2u) << page1.dump();
  EXPECT_TRUE(page1.value("more", false));
  auto page2 = Search(id, "q=ERROR&limit=2&after=" + std::to_string(page1["matches"][1].value("line", 0u)));
  ASSERT_EQ(page2["matches"].size(), 2u) << page2.dump();
  EXPECT_TRUE(page2.value("more", false)) << "stopped at the limit: it does not read on to know";
  EXPECT_EQ(page2["matches"][1], found["matches"][3]);
  auto page3 = Search(id, "q=ERROR&limit=2&after=" + std::to_string(page2["matches"][1].value("line", 0u)));
  EXPECT_TRUE(page3["matches"].empty()) << page3.dump();
  EXPECT_FALSE(page3.value("more", true));
  // The first of many: found without reading the rest of the log.
  auto first_only = Search(id, "q=ERROR&limit=1");
  ASSERT_EQ(first_only["matches"].size(), 1u);
  EXPECT_EQ(first_only["matches"][0], found["matches"][0]);
  EXPECT_TRUE(first_only.value("more", false));
  EXPECT_LT(first_only.value("lines_searched", 0u), found.value("lines_searched", 0u));

  // The line longer than a chunk is one line, searched whole; its text comes back cut.
  auto needle = Search(id, "q=needle-at-the-end");
  ASSERT_EQ(needle["matches"].size(), 1u) << needle.dump().substr(0, 500);
  EXPECT_LE(needle["matches"][0].value("text", "").size(), kMaxMatchBytes);
  auto after_long = Search(id, "q=after%20the%20long%20line");
  ASSERT_EQ(after_long["matches"].size(), 1u);
  EXPECT_EQ(after_long["matches"][0].value("line", 0u), needle["matches"][0].value("line", 0u) + 1);
  // The failing step's output is searched too.
  auto boom = Search(id, "q=boom");
  ASSERT_EQ(boom["matches"].size(), 1u) << boom.dump();
  EXPECT_EQ(boom["matches"][0].value("step", ""), "fail");
}

TEST_F(LogSearchTest, BadQueriesUnknownJobsAndNoTokenAreRefusedWithAReason) {
  StartGateway();
  int status = 0;
  auto missing_q = Search("some-job", "", &status);
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(Contains(missing_q.value("error", ""), "q:")) << missing_q.dump();
  Search("some-job", "q=" + std::string(kMaxQueryBytes + 1, 'a'), &status);
  EXPECT_EQ(status, 400);
  auto bad_after = Search("some-job", "q=x&after=ten", &status);
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(Contains(bad_after.value("error", ""), "after")) << bad_after.dump();
  Search("some-job", "q=x&limit=0", &status);
  EXPECT_EQ(status, 400);
  auto unknown = Search("no-such-job", "q=x", &status);
  EXPECT_EQ(status, 404) << unknown.dump();
  auto no_token = Query("/builds/no-such-job/logs/search?q=x", "");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
}

}  // namespace
}  // namespace kiln::testing
