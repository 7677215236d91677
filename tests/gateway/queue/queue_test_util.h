// Helpers shared by the queue tests: a key ring and a RedisQueue factory.
#ifndef GENOGATE_TESTS_GATEWAY_QUEUE_QUEUE_TEST_UTIL_H_
#define GENOGATE_TESTS_GATEWAY_QUEUE_QUEUE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "gateway/crypto/key_ring.h"
#include "gateway/queue/redis_queue.h"
#include "testing/redis_server.h"

namespace genogate::gateway::testing {

inline std::shared_ptr<const KeyRing> TestKeyRing() {
  Result<KeyRing> r = KeyRing::Parse(
      "active = test-2026\n"
      "test-2026 = "
      "hex:8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff\n");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return std::make_shared<const KeyRing>(std::move(r).value());
}

// A fresh key prefix per call, so tests sharing one redis-server never see
// each other's keys.
inline std::string UniquePrefix() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(++n) + ":";
}

inline std::unique_ptr<RedisQueue> MakeRedisQueue(
    const genogate::testing::RedisServer& server, QueueOptions options,
    const Clock* clock, std::string prefix = UniquePrefix()) {
  RedisQueueOptions o;
  Result<RedisOptions> redis = RedisOptions::FromUrl(server.url());
  EXPECT_TRUE(redis.ok());
  o.redis = *redis;
  o.queue = options;
  o.key_prefix = std::move(prefix);
  o.durability = RedisQueueOptions::Durability::kAof;
  Result<std::unique_ptr<RedisQueue>> q =
      RedisQueue::Create(o, TestKeyRing(), clock);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().ToString());
  return q.ok() ? std::move(q).value() : nullptr;
}

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_QUEUE_QUEUE_TEST_UTIL_H_
