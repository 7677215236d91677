#include "gateway/queue/clock.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <set>

namespace genogate::gateway {
namespace {

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock;
  Timestamp t0 = clock.Now();
  EXPECT_EQ(ToUnixMillis(t0), 1767225600000);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1767225601500);
  clock.Set(FromUnixMillis(42));
  EXPECT_EQ(ToUnixMillis(clock.Now()), 42);
}

TEST(ClockTest, MillisRoundTrip) {
  Timestamp t = FromUnixMillis(1767225600123);
  EXPECT_EQ(ToUnixMillis(t), 1767225600123);
  EXPECT_GT(ToUnixMillis(SystemClock::Get()->Now()), 1700000000000);
}

TEST(IdGeneratorTest, RandomIdsAreUuidV4AndUnique) {
  RandomIdGenerator ids;
  const RE2 uuid4(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.NewId();
    EXPECT_TRUE(RE2::FullMatch(id, uuid4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdGeneratorTest, SequentialIdsForTests) {
  SequentialIdGenerator ids("sub-");
  EXPECT_EQ(ids.NewId(), "sub-1");
  EXPECT_EQ(ids.NewId(), "sub-2");
}

}  // namespace
}  // namespace genogate::gateway
