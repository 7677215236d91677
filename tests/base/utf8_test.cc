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

std::string Encode(char32_t cp) {
  std::string out;
  AppendUtf8(out, cp);
  return out;
}

TEST(Utf8Test, AppendUtf8EncodesEachLengthAtItsBounds) {
  EXPECT_EQ(Encode(0), std::string(1, '\0'));
  EXPECT_EQ(Encode(U'A'), "A");
  EXPECT_EQ(Encode(0x7F), "\x7F");
  EXPECT_EQ(Encode(0x80), "\xC2\x80");
  EXPECT_EQ(Encode(U'\u00FC'), "\xC3\xBC");  // ü
  EXPECT_EQ(Encode(0x7FF), "\xDF\xBF");
  EXPECT_EQ(Encode(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(Encode(U'\u20AC'), "\xE2\x82\xAC");  // €
  EXPECT_EQ(Encode(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(Encode(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(Encode(U'\U0001F9EC'), "\xF0\x9F\xA7\xAC");  // 🧬
  EXPECT_EQ(Encode(0x10FFFF), "\xF4\x8F\xBF\xBF");
  // Appends: what is there stays.
  std::string s = "x";
  AppendUtf8(s, 0xE9);
  EXPECT_EQ(s, "x\xC3\xA9");
  // A surrogate is encoded as given, which is not well-formed UTF-8.
  EXPECT_EQ(Encode(0xD800), "\xED\xA0\x80");
  EXPECT_FALSE(IsValidUtf8(Encode(0xD800)));
}

// Every Unicode scalar value encodes to well-formed UTF-8 of the length
// RFC 3629 gives, and the validator agrees with the encoder on all of them.
TEST(Utf8Test, AppendUtf8WritesWellFormedTextForEveryScalarValue) {
  std::string all;
  size_t expected = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    size_t before = all.size();
    AppendUtf8(all, cp);
    size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    ASSERT_EQ(all.size() - before, len) << static_cast<uint32_t>(cp);
    expected += len;
  }
  EXPECT_EQ(all.size(), expected);
  EXPECT_EQ(FindInvalidUtf8(all), all.size());
}

}  // namespace
}  // namespace genogate
