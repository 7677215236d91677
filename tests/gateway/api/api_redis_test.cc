// The handlers over the real Redis queue and status store: when Redis goes
// down every route that needs it answers 503 with Retry-After (JSON or XML)
// and nothing is accepted; after it comes back a resend with the same
// Idempotency-Key is accepted once.
#include <gtest/gtest.h>

#include "gateway/api/redis_api_test_util.h"

namespace genogate::gateway {
namespace {

using genogate::testing::RedisServer;
using testing::RedisApi;
using testing::SampleLabJson;
using testing::TestApi;

TEST(ApiRedisTest, RedisDownIs503AndAResendAfterwardsIsAcceptedOnce) {
  ApiOptions options;
  options.retry_after = std::chrono::seconds(7);
  // Redis is SIGKILLed right after an accepted submission: only
  // `appendfsync always` (the production default) promises it survives.
  genogate::testing::RedisServer::Options redis_options;
  redis_options.appendfsync = "always";
  std::unique_ptr<RedisApi> env = RedisApi::Start(options, redis_options);
  ASSERT_NE(env, nullptr);
  RedisServer* redis = env->redis.get();
  RedisQueue* queue = env->queue.get();
  const TestApi& api = *env->api;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  const Headers lab = {{"Content-Type", "application/json"},
                       {"Idempotency-Key", "after-outage"}};

  HttpResponse first = api.Call("POST", "/submissions", SampleLabJson(),
                                {{"Content-Type", "application/json"}});
  ASSERT_EQ(first.status, 202);
  const std::string location(first.Header("Location"));

  redis->Kill();
  HttpResponse r = api.Call("POST", "/submissions", SampleLabJson(), lab);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "7");
  EXPECT_NE(r.body.find("\"code\":\"transient\""), std::string::npos);
  Headers xml = lab;
  xml.emplace_back("Accept", "application/fhir+xml");
  r = api.Call("POST", "/submissions", SampleLabJson(), xml);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("<code value=\"transient\"/>"), std::string::npos);
  EXPECT_EQ(api.Call("GET", location).status, 503);
  EXPECT_EQ(api.Call("GET", "/admin/queues").status, 503);
  EXPECT_EQ(api.Call("GET", "/admin/dead-letters?endpoint=ehr").status, 503);

  ASSERT_TRUE(redis->Restart());
  // Connections pooled before the restart may fail once more (503); a
  // resend with the same key then goes through, once.
  r = api.Call("POST", "/submissions", SampleLabJson(), lab);
  if (r.status == 503)
    r = api.Call("POST", "/submissions", SampleLabJson(), lab);
  ASSERT_EQ(r.status, 202) << r.body;
  HttpResponse again = api.Call("POST", "/submissions", SampleLabJson(), lab);
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(again.Header("Location"), r.Header("Location"));
  Result<QueueStats> stats = queue->Stats("ehr");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->ready, 2);  // the first submission and this one
  HttpResponse st = api.Call("GET", location);
  EXPECT_EQ(st.status, 200);
}

}  // namespace
}  // namespace genogate::gateway
