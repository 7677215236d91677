#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace genogate {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII text that is longer than eight bytes"));
  EXPECT_TRUE(
      IsValidUtf8("Gr\xC3\xBC\xC3\x9F"
                  "e \xE2\x82\xAC \xF0\x9F\xA7\xAC"));  // ü ß € 🧬
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF
}

TEST(Utf8Test, FindsTheFirstBadSequence) {
  EXPECT_EQ(FindInvalidUtf8("abc\xFF"
                            "def"),
            3u);
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xC3"), 10u);   // truncated at end
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(FindInvalidUtf8("ok \xED\xA0\x80"), 3u);   // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82"
                            "A"),
            0u);  // bad continuation
  EXPECT_EQ(FindInvalidUtf8(std::string("12345678\x80", 9)), 8u);
}

}  // namespace
}  // namespace genogate
