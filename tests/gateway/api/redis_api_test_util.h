// The HTTP API handlers over a real Redis, for tests that need the whole
// path: a private redis-server, a RedisQueue and a RedisSubmissionStore on it
// (a FakeClock for both), the DefaultSubmissionService with endpoint "ehr",
// and the routes in a TestApi.
#ifndef GENOGATE_TESTS_GATEWAY_API_REDIS_API_TEST_UTIL_H_
#define GENOGATE_TESTS_GATEWAY_API_REDIS_API_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "gateway/api/api_routes.h"
#include "gateway/api/api_test_util.h"
#include "gateway/queue/queue_test_util.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_test_util.h"
#include "testing/redis_server.h"

namespace genogate::gateway::testing {

struct RedisApi {
  std::unique_ptr<genogate::testing::RedisServer> redis;
  FakeClock clock;
  std::unique_ptr<RedisQueue> queue;
  std::unique_ptr<RedisSubmissionStore> store;
  std::unique_ptr<DefaultSubmissionService> service;
  std::unique_ptr<TestApi> api;

  // Builds it all with `options` for the routes (`started` is set when
  // empty); null, after a test failure, when a part cannot be built.
  static std::unique_ptr<RedisApi> Start(
      ApiOptions options = {},
      genogate::testing::RedisServer::Options redis_options = {}) {
    auto out = std::make_unique<RedisApi>();
    out->redis = genogate::testing::RedisServer::Start(redis_options);
    EXPECT_NE(out->redis, nullptr);
    if (out->redis == nullptr) return nullptr;
    out->queue = MakeRedisQueue(*out->redis, QueueOptions{}, &out->clock);
    EXPECT_NE(out->queue, nullptr);
    if (out->queue == nullptr) return nullptr;
    auto store = RedisSubmissionStore::Open(
        *RedisOptions::FromUrl(out->redis->url()), UniquePrefix());
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return nullptr;
    out->store = std::move(store).value();
    SubmissionServiceOptions so;
    so.endpoints = {"ehr"};
    auto service = DefaultSubmissionService::Create(
        so, SharedValidationEnv().validator.get(), out->queue.get(),
        out->store.get(), &out->clock);
    EXPECT_TRUE(service.ok());
    if (!service.ok()) return nullptr;
    out->service = std::move(service).value();
    ApiServices services;
    services.submissions = out->service.get();
    services.validator = SharedValidationEnv().validator.get();
    services.packages = SharedValidationEnv().packages.get();
    services.queue = out->queue.get();
    if (options.started.empty()) options.started = "2026-11-29T12:00:00Z";
    out->api = std::make_unique<TestApi>(ApiRoutes(services, options));
    return out;
  }
};

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_API_REDIS_API_TEST_UTIL_H_
