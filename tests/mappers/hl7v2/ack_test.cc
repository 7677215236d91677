#include "mappers/hl7v2/ack.h"

#include <gtest/gtest.h>

#include <string>

namespace genogate::mappers::hl7v2 {
namespace {

constexpr char kHeader[] =
    "MSH|^~\\&|LABAPP|LABFAC|GGAPP|GGFAC|20240101||ORU^R01^ORU_R01|CTRL-9|T|"
    "2.5.1\r";

AckOptions Options() {
  AckOptions o;
  o.control_id = "A-77";
  o.timestamp = "20240101120000+0000";
  return o;
}

TEST(AckV2Test, AcceptSwapsSenderAndReceiver) {
  OruReadResult r = ReadOruR01(std::string(kHeader) +
                               "PID|1||P1^^^H^MR\r"
                               "OBR|1||A1|51969-4^^LN|||||||||||||||||||||F\r"
                               "OBX|1|CWE|48004-6^^LN|1|c.1A>G^^HGVS\r");
  ASSERT_FALSE(r.has_errors());
  EXPECT_EQ(BuildAck(r, Options()),
            "MSH|^~\\&|GGAPP|GGFAC|LABAPP|LABFAC|20240101120000+0000||"
            "ACK^R01^ACK|A-77|T|2.5.1\r"
            "MSA|AA|CTRL-9\r");
}

TEST(AckV2Test, KeepsTheMessagesEncodingCharacters) {
  Result<Message> m =
      ParseEr7("MSH#:*!@%#APP#FAC#R#RF#2024##ORU:R01#C1#P#2.7.1\r");
  ASSERT_TRUE(m.ok());
  Problem p;
  p.where = m->Find("MSH")->Where(9, 1);
  p.code = Hl7Error::kDataType;
  p.reason = "a#b:c*d!e@f";
  EXPECT_EQ(BuildAck(&*m, {p}, Options()),
            "MSH#:*!@%#R#RF#APP#FAC#20240101120000+0000##ACK:R01:ACK#A-77#P#"
            "2.7.1\r"
            "MSA#AE#C1\r"
            "ERR##MSH:1:9:1:1#102:Data type error:HL70357#E####MSH !F!1 (line "
            "1), field 9, component 1!S! a!F!b!S!c!R!d!E!e!T!f\r");
}

TEST(AckV2Test, WarningsAloneStillAccept) {
  Problem w;
  w.where.segment = "OBX";
  w.where.sequence = 2;
  w.where.field = 5;
  w.where.repetition = 3;
  w.severity = ProblemSeverity::kWarning;
  w.code = Hl7Error::kDataType;
  w.reason = "note";
  EXPECT_EQ(DecideAck({w}), AckCode::kAccept);
  Result<Message> m = ParseEr7(kHeader);
  ASSERT_TRUE(m.ok());
  std::string ack = BuildAck(&*m, {w}, Options());
  EXPECT_NE(ack.find("MSA|AA|CTRL-9\r"), std::string::npos);
  EXPECT_NE(ack.find("ERR||OBX^2^5^3|102^Data type error^HL70357|W||||OBX #2, "
                     "field 5, repetition 3: note\r"),
            std::string::npos)
      << ack;
  Problem e = w;
  e.severity = ProblemSeverity::kError;
  EXPECT_EQ(DecideAck({w, e}), AckCode::kError);
  e.rejects_message = true;
  EXPECT_EQ(DecideAck({w, e}), AckCode::kReject);
}

TEST(AckV2Test, ManyProblemsAreCappedWithASummary) {
  Result<Message> m = ParseEr7(kHeader);
  ASSERT_TRUE(m.ok());
  std::vector<Problem> many(10);
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].where.segment = "OBX";
    many[i].where.sequence = i + 1;
    many[i].code = Hl7Error::kDataType;
    many[i].reason = "bad";
  }
  AckOptions o = Options();
  o.max_err_segments = 3;
  std::string ack = BuildAck(&*m, many, o);
  size_t errs = 0;
  for (size_t p = ack.find("\rERR|"); p != std::string::npos;
       p = ack.find("\rERR|", p + 1)) {
    ++errs;
  }
  EXPECT_EQ(errs, 3u);
  EXPECT_NE(ack.find("8 more problems; the first: OBX #3: bad"),
            std::string::npos)
      << ack;
}

TEST(AckV2Test, GenericHeaderForNoMessage) {
  AckOptions o = Options();
  o.application = "GG|X";  // escaped, not breaking the field
  o.facility = "F";
  EXPECT_EQ(BuildAck(nullptr, {}, o, "C-1"),
            "MSH|^~\\&|GG\\F\\X|F|||20240101120000+0000||ACK^R01^ACK|A-77|P|"
            "2.5.1\r"
            "MSA|AR|C-1\r");
  // A fallback id that is not plain text is not echoed.
  EXPECT_NE(BuildAck(nullptr, {}, o, "C|1").find("MSA|AR|\r"),
            std::string::npos);
}

TEST(AckV2Test, SalvagesControlIdFromAnUnparsableHeader) {
  EXPECT_EQ(SalvageControlId("MSH|^~|A|B|C|D|E||ORU^R01|ID-5|P|2.5\r"), "ID-5");
  EXPECT_EQ(SalvageControlId("PID|1\nMSH|^~\\&|A|B|C|D|E||ORU|ID-6|P\n"),
            "ID-6");
  EXPECT_EQ(SalvageControlId("MSH|^~|A|B\r"), "");
  EXPECT_EQ(SalvageControlId("garbage"), "");
  EXPECT_EQ(SalvageControlId("MSH|^~|A|B|C|D|E||ORU|I\x01|P\r"), "");
}

}  // namespace
}  // namespace genogate::mappers::hl7v2
