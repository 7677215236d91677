#include "mappers/hl7v2/mllp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace genogate::mappers::hl7v2 {
namespace {

std::vector<MllpEvent> Drain(MllpDecoder& d) {
  std::vector<MllpEvent> out;
  while (auto e = d.Next()) out.push_back(std::move(*e));
  return out;
}

std::string Frame(const std::string& m) { return *MllpEncode(m); }

TEST(MllpTest, EncodeWrapsAndRefusesControlBytes) {
  Result<std::string> f = MllpEncode("MSH|^~\\&\r");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, "\x0bMSH|^~\\&\r\x1c\r");
  EXPECT_FALSE(MllpEncode(std::string("a\x1c") + "b").ok());
  EXPECT_FALSE(MllpEncode(std::string("a\x0b") + "b").ok());
}

TEST(MllpTest, DecodesBackToBackFramesFedByteByByte) {
  std::string stream = Frame("one\r") + Frame("two\r") + Frame("");
  MllpDecoder d;
  for (char c : stream) d.Feed(std::string_view(&c, 1));
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].payload, "one\r");
  EXPECT_EQ(ev[0].offset, 0u);
  EXPECT_EQ(ev[1].payload, "two\r");
  EXPECT_EQ(ev[1].offset, 7u);
  EXPECT_EQ(ev[2].kind, MllpEvent::kMessage);
  EXPECT_EQ(ev[2].payload, "");
  EXPECT_FALSE(d.in_frame());
  EXPECT_EQ(d.bytes_consumed(), stream.size());
}

TEST(MllpTest, EverySplitPointGivesTheSameMessages) {
  std::string stream = "xx" + Frame("MSH|a\rPID|1\r") + Frame("MSH|b\r");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    MllpDecoder d;
    d.Feed(std::string_view(stream).substr(0, cut));
    d.Feed(std::string_view(stream).substr(cut));
    d.Finish();
    std::vector<MllpEvent> ev = Drain(d);
    ASSERT_EQ(ev.size(), 3u) << cut;
    EXPECT_EQ(ev[0].kind, MllpEvent::kBytesOutsideFrame);
    EXPECT_EQ(ev[0].length, 2u);
    EXPECT_EQ(ev[1].payload, "MSH|a\rPID|1\r");
    EXPECT_EQ(ev[2].payload, "MSH|b\r");
  }
}

TEST(MllpTest, StrayBytesAreOneEventPerRun) {
  MllpDecoder d;
  d.Feed("abc");
  d.Feed("de");
  EXPECT_TRUE(Drain(d).empty());  // the run is still open
  d.Feed(Frame("m"));
  d.Feed("\r\n");
  d.Finish();
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kBytesOutsideFrame);
  EXPECT_EQ(ev[0].length, 5u);
  EXPECT_EQ(ev[1].payload, "m");
  EXPECT_EQ(ev[2].kind, MllpEvent::kBytesOutsideFrame);
  EXPECT_EQ(ev[2].offset, 9u);
  EXPECT_EQ(ev[2].length, 2u);
}

TEST(MllpTest, WhitespaceBetweenFramesCanBeIgnored) {
  MllpOptions o;
  o.ignore_whitespace_between_frames = true;
  MllpDecoder d(o);
  d.Feed(Frame("a") + "\r\n" + Frame("b") + "\n");
  d.Finish();
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].payload, "a");
  EXPECT_EQ(ev[1].payload, "b");
}

TEST(MllpTest, OversizeFrameIsSkippedAndDecodingResumes) {
  MllpOptions o;
  o.max_message_bytes = 8;
  MllpDecoder d(o);
  d.Feed(std::string("\x0b") + "0123456789");
  d.Feed("abcdef\x1c\r");
  d.Feed(Frame("12345678"));  // exactly the limit is fine
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kOversize);
  EXPECT_EQ(ev[0].offset, 0u);
  EXPECT_EQ(ev[1].kind, MllpEvent::kMessage);
  EXPECT_EQ(ev[1].payload, "12345678");
}

TEST(MllpTest, OversizeFrameWithoutEndResyncsOnNextStart) {
  MllpOptions o;
  o.max_message_bytes = 4;
  MllpDecoder d(o);
  d.Feed(std::string("\x0b") + "toolongtoolong" + Frame("ok"));
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kOversize);
  EXPECT_EQ(ev[1].payload, "ok");
}

TEST(MllpTest, FinishReportsTruncatedFrameWithItsPartialPayload) {
  MllpDecoder d;
  d.Feed(std::string("\x0b") + "MSH|^~\\&|A|B");
  EXPECT_TRUE(d.in_frame());
  EXPECT_TRUE(Drain(d).empty());
  d.Finish();
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kTruncated);
  EXPECT_EQ(ev[0].payload, "MSH|^~\\&|A|B");
  EXPECT_FALSE(d.in_frame());
  // The decoder is usable again.
  d.Feed(Frame("x"));
  ev = Drain(d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "x");
}

TEST(MllpTest, EndBlockWithoutCrDropsTheFrame) {
  MllpDecoder d;
  d.Feed(std::string("\x0b") + "abc\x1c" + Frame("def"));
  std::vector<MllpEvent> ev = Drain(d);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kBadEndBlock);
  EXPECT_EQ(ev[1].payload, "def");  // the 0x0B after 0x1C starts a frame
}

TEST(MllpTest, FramingProblemsRejectTheMessage) {
  MllpEvent e;
  e.kind = MllpEvent::kOversize;
  e.detail = "too big";
  Problem p = MllpProblem(e);
  EXPECT_TRUE(p.rejects_message);
  EXPECT_EQ(p.code, Hl7Error::kValueTooLong);
  e.kind = MllpEvent::kTruncated;
  EXPECT_EQ(MllpProblem(e).code, Hl7Error::kSegmentSequence);
}

}  // namespace
}  // namespace genogate::mappers::hl7v2
