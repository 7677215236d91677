// The builder's compact per-variant state: keys come back whether held in
// memory or spilled to the temporary file, repeats get "#n" whether the
// variants come sorted or not (and when the order breaks after a spill),
// memory stays bounded for sorted input, and the result log replays what
// was added across its spill boundary.
#include "mappers/common/internal/variant_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace genogate::mappers::internal {
namespace {

class VariantKeysSpillTest : public ::testing::TestWithParam<size_t> {};

TEST_P(VariantKeysSpillTest, UnsortedKeysComeBackAndRepeatsAreNumbered) {
  VariantKeys keys(GetParam());
  std::vector<std::string> expected;
  // Chromosomes interleaved: not sorted from the 24th variant on.
  for (int i = 0; i < 30000; ++i) {
    const std::string chrom = std::to_string(i % 23);
    std::string key =
        chrom + ":" + std::to_string(i) + ":A:" + std::string(1 + i % 7, 'G');
    Result<std::string> added = keys.Add(key, chrom, i);
    ASSERT_TRUE(added.ok());
    EXPECT_EQ(*added, key);
    expected.push_back(key);
  }
  // Repeats of an early key, and a key longer than the read window.
  for (int n = 2; n <= 4; ++n) {
    Result<std::string> again = keys.Add(expected[7], "7", 7);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, expected[7] + "#" + std::to_string(n));
    expected.push_back(*again);
  }
  const std::string long_key = "1:5:A:" + std::string(size_t{2} << 20, 'T');
  ASSERT_TRUE(keys.Add(long_key, "1", 5).ok());
  expected.push_back(long_key);
  ASSERT_TRUE(keys.Add("after:long", "after", -1).ok());
  expected.push_back("after:long");
  ASSERT_EQ(keys.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(keys.Get(i), expected[i]) << i;
  }
  EXPECT_TRUE(keys.status().ok());
}

TEST_P(VariantKeysSpillTest, OrderBreakingAfterASpillKeepsRepeatNumbers) {
  VariantKeys keys(GetParam());
  std::vector<std::string> expected;
  auto add = [&](const std::string& chrom, int64_t pos, std::string want) {
    Result<std::string> added =
        keys.Add(chrom + ":" + std::to_string(pos) + ":C:T", chrom, pos);
    ASSERT_TRUE(added.ok());
    EXPECT_EQ(*added, want);
    expected.push_back(want);
  };
  // Sorted, with repeats at the same locus.
  for (int64_t pos = 1; pos <= 5000; ++pos) {
    add("1", pos, "1:" + std::to_string(pos) + ":C:T");
    if (pos % 1000 == 0) add("1", pos, "1:" + std::to_string(pos) + ":C:T#2");
  }
  add("2", 1, "2:1:C:T");
  // Back to chromosome 1: out of order; repeats counted over everything.
  add("1", 1000, "1:1000:C:T#3");
  add("1", 17, "1:17:C:T#2");
  add("2", 1, "2:1:C:T#2");
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(keys.Get(i), expected[i]) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Thresholds, VariantKeysSpillTest,
                         ::testing::Values(size_t{65536}, size_t{1000},
                                           size_t{1}));

TEST(VariantKeysTest, MemoryStaysBoundedForSortedVariants) {
  VariantKeys keys(4096);
  size_t at_100k = 0;
  for (int i = 0; i < 400000; ++i) {
    const std::string chrom = std::to_string(1 + i / 100000);
    const int64_t pos = 100000 + 37 * (i % 100000);
    ASSERT_TRUE(
        keys.Add(chrom + ":" + std::to_string(pos) + ":C:T", chrom, pos).ok());
    if (i == 99999) at_100k = keys.MemoryBytes();
  }
  EXPECT_GT(keys.spilled(), 390000u);
  // 4096 keys of ~14 bytes and their offsets, the windows: well under
  // 2 MiB, and no more for 400k variants than for 100k.
  EXPECT_LT(keys.MemoryBytes(), size_t{2} << 20);
  EXPECT_LE(keys.MemoryBytes(), at_100k + 4096);
  EXPECT_EQ(keys.Get(123456),
            "2:" + std::to_string(100000 + 37 * 23456) + ":C:T");
}

TEST(ResultLogTest, ReplaysVariantsAndPhasesInOrder) {
  for (size_t spill_after : {size_t{65536}, size_t{2}, size_t{1}}) {
    ResultLog log(spill_after);
    log.AddVariant(1, 2);
    log.AddPhase(0, 1);
    log.AddVariant(70, uint64_t{1} << 30);  // beyond the one-word form
    log.AddVariant(0, 0);
    std::vector<std::string> seen;
    log.ForEach(
        [&](size_t v, uint64_t impl, uint64_t cons) {
          seen.push_back("v" + std::to_string(v) + ":" + std::to_string(impl) +
                         "/" + std::to_string(cons));
        },
        [&](uint32_t a, uint32_t b) {
          seen.push_back("p" + std::to_string(a) + "-" + std::to_string(b));
        });
    EXPECT_TRUE(log.status().ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"v0:1/2", "p0-1",
                                              "v1:70/1073741824", "v2:0/0"}))
        << spill_after;
  }
}

}  // namespace
}  // namespace genogate::mappers::internal
