// The builder's compact per-variant state: keys survive chunk boundaries
// and very long alleles, repeats get "#n", memory stays near the key bytes,
// and the result log replays what was added.
#include "mappers/common/internal/variant_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace genogate::mappers::internal {
namespace {

TEST(VariantKeysTest, KeysComeBackAcrossChunksAndRepeatsAreNumbered) {
  VariantKeys keys;
  std::vector<std::string> expected;
  // ~3 MiB of keys: several 1 MiB chunks, keys ending at odd offsets.
  for (int i = 0; i < 150000; ++i) {
    std::string key = std::to_string(i % 23) + ":" + std::to_string(i) +
                      ":A:" + std::string(1 + i % 7, 'G');
    Result<std::string> added = keys.Add(key);
    ASSERT_TRUE(added.ok());
    EXPECT_EQ(*added, key);
    expected.push_back(key);
  }
  // Repeats of an early key, and a key as long as two chunks.
  for (int n = 2; n <= 4; ++n) {
    Result<std::string> again = keys.Add(expected[7]);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, expected[7] + "#" + std::to_string(n));
    expected.push_back(*again);
  }
  const std::string long_key = "1:5:A:" + std::string(size_t{2} << 20, 'T');
  ASSERT_TRUE(keys.Add(long_key).ok());
  expected.push_back(long_key);
  ASSERT_TRUE(keys.Add("after:long").ok());
  expected.push_back("after:long");
  ASSERT_EQ(keys.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(keys.Get(i), expected[i]) << i;
  }
}

TEST(VariantKeysTest, MemoryStaysNearTheKeyBytes) {
  VariantKeys keys;
  size_t key_bytes = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string key = "7:" + std::to_string(100000 + 37 * i) + ":C:T";
    key_bytes += key.size();
    ASSERT_TRUE(keys.Add(std::move(key)).ok());
  }
  // Keys + 1 length byte, 4-byte index, <= 2 slots of 5 bytes, plus the
  // last chunk's slack.
  EXPECT_LT(keys.MemoryBytes(), key_bytes + 200000 * (1 + 4 + 10) + (2 << 20));
}

TEST(ResultLogTest, ReplaysVariantsAndPhasesInOrder) {
  ResultLog log;
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
  EXPECT_EQ(seen, (std::vector<std::string>{"v0:1/2", "p0-1",
                                            "v1:70/1073741824", "v2:0/0"}));
}

}  // namespace
}  // namespace genogate::mappers::internal
