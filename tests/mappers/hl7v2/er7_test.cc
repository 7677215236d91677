#include "mappers/hl7v2/er7.h"

#include <gtest/gtest.h>

#include <string>

namespace genogate::mappers::hl7v2 {
namespace {

constexpr char kSimple[] =
    "MSH|^~\\&|SND|FAC|RCV|RFAC|20240101120000+0000||ORU^R01^ORU_R01|C1|P|"
    "2.5.1\r"
    "PID|1||A1^^^H1^MR~B2^^^H2&1.2.3&ISO^PI||Doe^Jane\r"
    "OBX|1|ST|1234-5^Thing^LN|1|a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\r"
    "OBX|2|CWE|48018-6^Gene^LN|2|HGNC:1100^BRCA1^HGNC~HGNC:1101^BRCA2^HGNC\r";

Message MustParse(std::string_view text) {
  Result<Message> m = ParseEr7(text);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().ToString());
  return std::move(m).value();
}

TEST(Er7Test, MshFieldsAreNumberedAsHl7Counts) {
  Message m = MustParse(kSimple);
  const Segment* msh = m.Find("MSH");
  ASSERT_NE(msh, nullptr);
  EXPECT_EQ(msh->Field(1).raw(), "|");
  EXPECT_EQ(msh->Field(2).raw(), "^~\\&");
  EXPECT_EQ(msh->Field(2).Value(), "^~\\&");  // never unescaped
  EXPECT_EQ(msh->Field(2).ComponentCount(), 1u);
  EXPECT_EQ(msh->Field(3).Value(), "SND");
  EXPECT_EQ(m.Get("MSH-9.1"), "ORU");
  EXPECT_EQ(m.Get("MSH-9.2"), "R01");
  EXPECT_EQ(m.Get("MSH-9.3"), "ORU_R01");
  EXPECT_EQ(m.Get("MSH-10"), "C1");
  EXPECT_EQ(m.Get("MSH-12"), "2.5.1");
  EXPECT_EQ(msh->FieldCount(), 12u);
}

TEST(Er7Test, RepetitionsComponentsAndSubcomponents) {
  Message m = MustParse(kSimple);
  EXPECT_EQ(m.Get("PID-3"), "A1^^^H1^MR~B2^^^H2&1.2.3&ISO^PI");
  EXPECT_EQ(m.Get("PID-3.1"), "A1");  // first repetition implied
  EXPECT_EQ(m.Get("PID-3(2).1"), "B2");
  EXPECT_EQ(m.Get("PID-3(2).4"), "H2&1.2.3&ISO");
  EXPECT_EQ(m.Get("PID-3(2).4.2"), "1.2.3");
  EXPECT_EQ(m.Get("PID-3(2).4.3"), "ISO");
  EXPECT_EQ(m.Get("PID-3(2).5"), "PI");
  EXPECT_EQ(m.Get("PID-3(3).1"), "");
  EXPECT_EQ(m.Get("PID-5.2"), "Jane");
  const Segment* pid = m.Find("PID");
  Element f = pid->Field(3);
  EXPECT_EQ(f.RepetitionCount(), 2u);
  EXPECT_EQ(f.Repetition(2).ComponentCount(), 5u);
  EXPECT_EQ(f.Repetition(2).Component(4).SubcomponentCount(), 3u);
  EXPECT_EQ(f.Repetition(2).Component(4).Sub(1).Value(), "H2");
  // Level mismatches are empty, not garbage.
  EXPECT_TRUE(f.Repetition(2).Repetition(1).empty());
  EXPECT_TRUE(f.Repetition(1).Component(1).Component(1).empty());
  EXPECT_TRUE(pid->Field(99).empty());
}

TEST(Er7Test, SegmentOccurrenceAndPaths) {
  Message m = MustParse(kSimple);
  EXPECT_EQ(m.Count("OBX"), 2u);
  ASSERT_NE(m.Find("OBX", 2), nullptr);
  EXPECT_EQ(m.Find("OBX", 2)->sequence(), 2u);
  EXPECT_EQ(m.Find("OBX", 2)->line(), 4u);
  EXPECT_EQ(m.Find("OBX", 3), nullptr);
  EXPECT_EQ(m.Get("OBX(2)-5(2).2"), "BRCA2");
  EXPECT_EQ(m.Get("OBX(2)-4"), "2");
  EXPECT_FALSE(m.At("OBX(3)-5").has_value());
  EXPECT_FALSE(m.At("OBX-").has_value());
  EXPECT_FALSE(m.At("obx-5").has_value());
  EXPECT_FALSE(m.At("OBX-5.x").has_value());
  EXPECT_FALSE(m.At("OBX(0)-5").has_value());
}

TEST(Er7Test, UnescapesOnAccess) {
  Message m = MustParse(kSimple);
  Element v = m.Find("OBX")->Field(5);
  EXPECT_EQ(v.raw(), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
  EscapeStatus st = EscapeStatus::kUnknownSequence;
  EXPECT_EQ(v.Value(&st), "a|b^c&d~e\\f");
  EXPECT_EQ(st, EscapeStatus::kOk);
  // An escaped delimiter does not split.
  EXPECT_EQ(v.ComponentCount(), 1u);
}

TEST(Er7Test, EscapeSequences) {
  Delimiters d;
  auto un = [&d](std::string_view raw, EscapeStatus* st = nullptr) {
    std::string out;
    EscapeStatus s = Unescape(raw, d, &out);
    if (st != nullptr) *st = s;
    return out;
  };
  EXPECT_EQ(un("line1\\.br\\line2"), "line1\nline2");
  EXPECT_EQ(un("a\\.sp 2\\b"), "a\n\nb");
  EXPECT_EQ(un("a\\.sp\\b"), "a\nb");
  EXPECT_EQ(un("\\X414243\\"), "ABC");
  EXPECT_EQ(un("\\H\\bold\\N\\"), "bold");
  EXPECT_EQ(un("\\.in+4\\x"), "x");
  EXPECT_EQ(un("keep \\Zlocal\\ \\C2842\\"), "keep \\Zlocal\\ \\C2842\\");
  EscapeStatus st;
  EXPECT_EQ(un("a\\Q\\b", &st), "a\\Q\\b");
  EXPECT_EQ(st, EscapeStatus::kUnknownSequence);
  EXPECT_EQ(un("c.5266dup\\F", &st), "c.5266dup\\F");
  EXPECT_EQ(st, EscapeStatus::kUnterminated);
  EXPECT_EQ(un("\\X4\\", &st), "\\X4\\");
  EXPECT_EQ(st, EscapeStatus::kBadHex);
  EXPECT_EQ(un("\\XZZ\\", &st), "\\XZZ\\");
  EXPECT_EQ(st, EscapeStatus::kBadHex);
  EXPECT_EQ(un("\\\\", &st), "\\\\");
  EXPECT_EQ(st, EscapeStatus::kUnknownSequence);
  // \P\ only means something with a truncation character.
  EXPECT_EQ(un("a\\P\\b", &st), "a\\P\\b");
  d.truncation = '#';
  EXPECT_EQ(un("a\\P\\b", &st), "a#b");
  EXPECT_EQ(st, EscapeStatus::kOk);
}

TEST(Er7Test, EscapeRoundTrips) {
  Delimiters d;
  std::string text = "a|b^c&d~e\\f\r\ng\x01h";
  std::string esc = Escape(text, d);
  EXPECT_EQ(esc, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X01\\h");
  std::string back;
  EXPECT_EQ(Unescape(esc, d, &back), EscapeStatus::kOk);
  EXPECT_EQ(back, "a|b^c&d~e\\f\ng\x01h");
}

TEST(Er7Test, CustomDelimitersAndTruncationCharacter) {
  Message m = MustParse(
      "MSH#:*!@%#S#F#R#RF#2024##ORU:R01#X#P#2.7.1\n"
      "OBX#1#ST#1:T:LN#1#x!F!y*z:w@v\n");
  const Delimiters& d = m.delimiters();
  EXPECT_EQ(d.field, '#');
  EXPECT_EQ(d.component, ':');
  EXPECT_EQ(d.repetition, '*');
  EXPECT_EQ(d.escape, '!');
  EXPECT_EQ(d.subcomponent, '@');
  EXPECT_EQ(d.truncation, '%');
  EXPECT_EQ(d.EncodingCharacters(), ":*!@%");
  EXPECT_EQ(m.Get("MSH-1"), "#");
  EXPECT_EQ(m.Get("MSH-9.2"), "R01");
  EXPECT_EQ(m.Get("OBX-5(1)"), "x#y");
  EXPECT_EQ(m.Get("OBX-5(2).1"), "z");
  EXPECT_EQ(m.Get("OBX-5(2).2.2"), "v");
}

TEST(Er7Test, ToleratesLfCrLfAndBlankLines) {
  std::string cr = kSimple;
  std::string lf = cr, crlf;
  for (char& c : lf) {
    if (c == '\r') c = '\n';
  }
  for (char c : cr) {
    crlf += c;
    if (c == '\r') crlf += '\n';
  }
  for (const std::string& t : {cr, lf, crlf, "\r\n\n" + crlf + "\n\n"}) {
    Message m = MustParse(t);
    ASSERT_EQ(m.segments().size(), 4u);
    EXPECT_EQ(m.Get("OBX(2)-5(2).2"), "BRCA2");
    EXPECT_EQ(m.Find("OBX", 2)->line(), 4u);
    EXPECT_TRUE(m.problems().empty());
  }
}

TEST(Er7Test, MessageStaysValidAfterMove) {
  // Small text would sit in the std::string's inline buffer.
  Message a = MustParse("MSH|^~\\&|A\rPID|1||X\r");
  Message b = std::move(a);
  EXPECT_EQ(b.Get("PID-3"), "X");
  EXPECT_EQ(b.Get("MSH-3"), "A");
}

TEST(Er7Test, RejectsTextWithoutMsh) {
  std::vector<Problem> fatal;
  Result<Message> m = ParseEr7("hello world\r", {}, &fatal);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidInput);
  ASSERT_EQ(fatal.size(), 1u);
  EXPECT_TRUE(fatal[0].rejects_message);
  EXPECT_EQ(fatal[0].code, Hl7Error::kSegmentSequence);
}

TEST(Er7Test, RejectsMshNotFirstNamingTheLine) {
  std::vector<Problem> fatal;
  Result<Message> m = ParseEr7("PID|1||X\rMSH|^~\\&|A|B\r", {}, &fatal);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("line 2"), std::string::npos);
  ASSERT_EQ(fatal.size(), 1u);
  EXPECT_EQ(fatal[0].where.line, 2u);
}

TEST(Er7Test, RejectsBadEncodingCharacters) {
  for (const char* text : {"MSH|^~\\|A\r", "MSH|^~\\&&|A\r", "MSH|^^\\&|A\r",
                           "MSH|^~a&|A\r", "MSH", "MSHA^~\\&|", "MSH|"}) {
    std::vector<Problem> fatal;
    Result<Message> m = ParseEr7(text, {}, &fatal);
    EXPECT_FALSE(m.ok()) << text;
    ASSERT_EQ(fatal.size(), 1u) << text;
    EXPECT_EQ(fatal[0].code, Hl7Error::kDataType) << text;
    EXPECT_EQ(fatal[0].where.segment, "MSH");
  }
}

TEST(Er7Test, LimitsAreErrors) {
  ParseOptions o;
  o.max_bytes = 10;
  Result<Message> m = ParseEr7("MSH|^~\\&|0123456789", o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kLimitExceeded);
  o = ParseOptions();
  o.max_segments = 2;
  m = ParseEr7("MSH|^~\\&\rPID|1\rOBR|1\r", o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kLimitExceeded);
}

TEST(Er7Test, MalformedSegmentIdIsAProblemNotAFailure) {
  Result<Message> m = ParseEr7("MSH|^~\\&|A\rpid|1|Smith\rOBR|1\r");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->problems().size(), 1u);
  const Problem& p = m->problems()[0];
  EXPECT_EQ(p.where.line, 2u);
  EXPECT_EQ(p.where.segment, "");
  EXPECT_EQ(p.reason.find("Smith"), std::string::npos);  // no content quoted
  EXPECT_EQ(m->segments().size(), 2u);
  EXPECT_EQ(m->Find("OBR")->line(), 3u);
}

}  // namespace
}  // namespace genogate::mappers::hl7v2
