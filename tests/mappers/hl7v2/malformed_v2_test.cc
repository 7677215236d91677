// The malformed-message corpus in tests/data/hl7v2/malformed/: each message
// must give the expected ACK code and, as its first ERR segment, the expected
// location (ERR-2), table 0357 code (ERR-3) and severity (ERR-4).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/mllp.h"
#include "mappers/hl7v2/oru_r01.h"
#include "testing/test_env.h"

namespace genogate::mappers::hl7v2 {
namespace {

struct Case {
  const char* file;
  const char* msa;  // "MSA|AE|BAD-10"
  size_t err_count;
};

constexpr char k100[] = "100^Segment sequence error^HL70357";
constexpr char k101[] = "101^Required field missing^HL70357";
constexpr char k102[] = "102^Data type error^HL70357";
constexpr char k103[] = "103^Table value not found^HL70357";

std::string Err(const std::string& erl, const std::string& code) {
  return "ERR||" + erl + "|" + code + "|E";
}

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // Unreadable or unsupported header: AR.
      {"no_msh.hl7", "MSA|AR|", 1},
      {"msh_not_first.hl7", "MSA|AR|BAD-02", 1},
      {"encoding_chars_too_short.hl7", "MSA|AR|BAD-03", 1},
      {"encoding_chars_repeated.hl7", "MSA|AR|BAD-04", 1},
      {"unsupported_message_type.hl7", "MSA|AR|BAD-05", 1},
      {"unsupported_event.hl7", "MSA|AR|BAD-06", 1},
      {"unsupported_version.hl7", "MSA|AR|BAD-07", 1},
      {"missing_control_id.hl7", "MSA|AR|", 1},
      {"bad_processing_id.hl7", "MSA|AR|BAD-09", 1},
      // Content: AE.
      {"nm_not_a_number.hl7", "MSA|AE|BAD-10", 1},
      {"unknown_value_type.hl7", "MSA|AE|BAD-11", 1},
      {"missing_obx3.hl7", "MSA|AE|BAD-12", 1},
      {"missing_obx2.hl7", "MSA|AE|BAD-13", 1},
      {"bad_sub_id.hl7", "MSA|AE|BAD-14", 1},
      {"obx_before_obr.hl7", "MSA|AE|BAD-15", 1},
      {"broken_escape.hl7", "MSA|AE|BAD-16", 1},
      {"bad_hex_escape.hl7", "MSA|AE|BAD-17", 1},
      {"nr_component_not_a_number.hl7", "MSA|AE|BAD-18", 1},
      {"start_end_as_string.hl7", "MSA|AE|BAD-19", 1},
      {"duplicate_obx.hl7", "MSA|AE|BAD-20", 1},
      {"missing_pid.hl7", "MSA|AE|BAD-21", 1},
      {"no_obr.hl7", "MSA|AE|BAD-22", 1},
      {"bad_result_status.hl7", "MSA|AE|BAD-23", 1},
      {"unknown_coordinate_system.hl7", "MSA|AE|BAD-24", 1},
      {"bad_observation_datetime.hl7", "MSA|AE|BAD-25", 1},
      {"cne_without_code.hl7", "MSA|AE|BAD-26", 1},
      {"orc_without_obr.hl7", "MSA|AE|BAD-27", 3},
      {"missing_accession.hl7", "MSA|AE|BAD-28", 1},
      {"bad_segment_id.hl7", "MSA|AE|BAD-29", 1},
      {"allele_frequency_out_of_range.hl7", "MSA|AE|BAD-30", 1},
      {"variant_without_position.hl7", "MSA|AE|BAD-32", 1},
  };
  return *cases;
}

// The expected first ERR (up to ERR-4) per file.
std::string ExpectedErr(const std::string& file) {
  static const std::map<std::string, std::string> kErr = {
      {"no_msh.hl7", Err("MSH^1", k100)},
      {"msh_not_first.hl7", Err("MSH^1", k100)},
      {"encoding_chars_too_short.hl7", Err("MSH^1^2^1", k102)},
      {"encoding_chars_repeated.hl7", Err("MSH^1^2^1", k102)},
      {"unsupported_message_type.hl7",
       Err("MSH^1^9^1^1", "200^Unsupported message type^HL70357")},
      {"unsupported_event.hl7",
       Err("MSH^1^9^1^2", "201^Unsupported event code^HL70357")},
      {"unsupported_version.hl7",
       Err("MSH^1^12^1^1", "203^Unsupported version id^HL70357")},
      {"missing_control_id.hl7", Err("MSH^1^10^1", k101)},
      {"bad_processing_id.hl7",
       Err("MSH^1^11^1^1", "202^Unsupported processing id^HL70357")},
      {"nm_not_a_number.hl7", Err("OBX^3^5^1", k102)},
      {"unknown_value_type.hl7", Err("OBX^2^2^1", k103)},
      {"missing_obx3.hl7", Err("OBX^2^3^1", k101)},
      {"missing_obx2.hl7", Err("OBX^2^2^1", k101)},
      {"bad_sub_id.hl7", Err("OBX^2^4^1", k102)},
      {"obx_before_obr.hl7", Err("OBX^1", k100)},
      {"broken_escape.hl7", Err("OBX^2^5^1", k102)},
      {"bad_hex_escape.hl7", Err("OBX^2^5^1", k102)},
      {"nr_component_not_a_number.hl7", Err("OBX^3^5^1^2", k102)},
      {"start_end_as_string.hl7", Err("OBX^3^5^1", k102)},
      {"duplicate_obx.hl7",
       Err("OBX^3^4^1", "205^Duplicate key identifier^HL70357")},
      {"missing_pid.hl7", Err("PID^1", k100)},
      {"no_obr.hl7", Err("OBR^1", k100)},
      {"bad_result_status.hl7", Err("OBR^1^25^1", k103)},
      {"unknown_coordinate_system.hl7", Err("OBX^3^5^1", k103)},
      {"bad_observation_datetime.hl7", Err("OBR^1^7^1^1", k102)},
      {"cne_without_code.hl7", Err("OBX^3^5^1^1", k101)},
      {"orc_without_obr.hl7", Err("ORC^1", k100)},
      {"missing_accession.hl7", Err("OBR^1^3^1", k101)},
      {"bad_segment_id.hl7", Err("", k100)},
      {"allele_frequency_out_of_range.hl7", Err("OBX^3^5^1", k102)},
      {"variant_without_position.hl7", Err("OBX^1^4^1", k101)},
  };
  auto it = kErr.find(file);
  return it == kErr.end() ? "" : it->second;
}

std::vector<std::string> Segments(const std::string& ack) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < ack.size()) {
    size_t end = ack.find('\r', start);
    EXPECT_NE(end, std::string::npos) << "ACK segments end with CR";
    if (end == std::string::npos) end = ack.size();
    out.push_back(ack.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string Dir() { return genogate::testing::DataDir() + "/hl7v2/malformed/"; }

AckOptions Options() {
  AckOptions o;
  o.control_id = "ACK-1";
  o.timestamp = "20240315103001+0100";
  return o;
}

class MalformedV2Test : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedV2Test, GivesExpectedAckAndErr) {
  const Case& c = GetParam();
  std::string text = genogate::testing::ReadTestFile(Dir() + c.file);
  OruReadResult r = ReadOruR01(text);
  std::string ack = BuildAck(r, Options());
  std::vector<std::string> segs = Segments(ack);
  ASSERT_GE(segs.size(), 3u) << ack;
  EXPECT_EQ(segs[0].substr(0, 9), "MSH|^~\\&|");
  EXPECT_NE(segs[0].find("|ACK^R01^ACK|ACK-1|"), std::string::npos) << segs[0];
  EXPECT_EQ(segs[1], c.msa);
  EXPECT_EQ(segs.size() - 2, c.err_count) << ack;
  std::string want = ExpectedErr(c.file);
  ASSERT_FALSE(want.empty()) << "no expected ERR for " << c.file;
  EXPECT_EQ(segs[2].substr(0, want.size() + 1), want + "|") << segs[2];
  // ERR-8 names the place in words and never quotes patient data.
  EXPECT_EQ(segs[2].find("Doe"), std::string::npos);
  EXPECT_EQ(segs[2].find("MRN1"), std::string::npos);
  EXPECT_EQ(r.rejected(), std::string(c.msa).substr(4, 2) == "AR");
  EXPECT_TRUE(r.has_errors());
  if (r.rejected()) {
    EXPECT_TRUE(r.reports.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, MalformedV2Test, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string n = p.param.file;
                           n = n.substr(0, n.find('.'));
                           return n;
                         });

TEST(MalformedV2CorpusTest, EveryFileHasACase) {
  std::set<std::string> listed;
  for (const Case& c : Cases()) listed.insert(c.file);
  listed.insert("nm_not_a_number_v23.hl7");  // see Ack test below
  size_t mllp = 0;
  for (const auto& e : std::filesystem::directory_iterator(Dir())) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".mllp")) {
      ++mllp;
      continue;
    }
    EXPECT_TRUE(listed.count(name)) << name << " has no expected ACK";
  }
  EXPECT_GE(listed.size() + mllp, 20u);
}

TEST(MalformedV2CorpusTest, OldVersionsGetErr1AndMsa3) {
  std::string text =
      genogate::testing::ReadTestFile(Dir() + "nm_not_a_number_v23.hl7");
  std::string ack = BuildAck(ReadOruR01(text), Options());
  EXPECT_EQ(ack,
            "MSH|^~\\&|GENOGATE|HOSP|GENELAB|GENELAB|20240315103001+0100||"
            "ACK^R01^ACK|ACK-1|P|2.3\r"
            "MSA|AE|BAD-31|OBX #3 (line 6), field 5: \"abc\" is not a number "
            "(OBX-2 is NM)\r"
            "ERR|OBX^3^5^102&Data type error&HL70357\r");
}

TEST(MalformedV2CorpusTest, FullAckForANonNumericNm) {
  std::string text =
      genogate::testing::ReadTestFile(Dir() + "nm_not_a_number.hl7");
  std::string ack = BuildAck(ReadOruR01(text), Options());
  EXPECT_EQ(ack,
            "MSH|^~\\&|GENOGATE|HOSP|GENELAB|GENELAB|20240315103001+0100||"
            "ACK^R01^ACK|ACK-1|P|2.5.1\r"
            "MSA|AE|BAD-10\r"
            "ERR||OBX^3^5^1|102^Data type error^HL70357|E||||OBX #3 (line 6), "
            "field 5: \"abc\" is not a number (OBX-2 is NM)\r");
}

TEST(MalformedV2CorpusTest, GarbageGetsAGenericReject) {
  std::string text = genogate::testing::ReadTestFile(Dir() + "no_msh.hl7");
  std::string ack = BuildAck(ReadOruR01(text), Options());
  EXPECT_EQ(ack,
            "MSH|^~\\&|GENOGATE||||20240315103001+0100||ACK^R01^ACK|ACK-1|P|"
            "2.5.1\r"
            "MSA|AR|\r"
            "ERR||MSH^1|100^Segment sequence error^HL70357|E||||MSH #1: no MSH "
            "segment: this is not an HL7 v2 ER7 message\r");
}

// Framing problems, decoded from MLLP byte streams.
std::vector<MllpEvent> Decode(const std::string& file, MllpOptions o = {}) {
  std::string bytes = genogate::testing::ReadTestFile(Dir() + file);
  MllpDecoder d(o);
  d.Feed(bytes);
  d.Finish();
  std::vector<MllpEvent> out;
  while (auto e = d.Next()) out.push_back(std::move(*e));
  return out;
}

TEST(MalformedV2CorpusTest, TruncatedFrameIsRejectedNamingItsControlId) {
  std::vector<MllpEvent> ev = Decode("truncated_frame.mllp");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kTruncated);
  std::vector<std::string> segs = Segments(BuildFramingAck(ev[0], Options()));
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[1], "MSA|AR|FRAME-1");
  EXPECT_EQ(segs[2].substr(0, 44),
            "ERR|||100^Segment sequence error^HL70357|E||");
}

TEST(MalformedV2CorpusTest, BytesOutsideFrameAreReportedAndTheFrameRead) {
  std::vector<MllpEvent> ev = Decode("bytes_outside_frame.mllp");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kBytesOutsideFrame);
  EXPECT_EQ(ev[0].offset, 0u);
  EXPECT_EQ(ev[0].length, 16u);
  EXPECT_EQ(ev[0].detail.find("GET"), std::string::npos);  // nothing quoted
  EXPECT_EQ(Segments(BuildFramingAck(ev[0], Options()))[1], "MSA|AR|");
  ASSERT_EQ(ev[1].kind, MllpEvent::kMessage);
  OruReadResult r = ReadOruR01(ev[1].payload);
  EXPECT_EQ(Segments(BuildAck(r, Options()))[1], "MSA|AA|FRAME-1");
}

TEST(MalformedV2CorpusTest, BadEndBlockDropsTheFrame) {
  std::vector<MllpEvent> ev = Decode("bad_end_block.mllp");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kBadEndBlock);
  EXPECT_EQ(Segments(BuildFramingAck(ev[0], Options()))[1], "MSA|AR|FRAME-1");
  EXPECT_EQ(ev[1].kind, MllpEvent::kBytesOutsideFrame);  // the stray 'X'
  EXPECT_EQ(ev[1].length, 1u);
}

TEST(MalformedV2CorpusTest, StartBlockInsideFrameTruncatesIt) {
  std::vector<MllpEvent> ev = Decode("start_block_inside_frame.mllp");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kTruncated);
  EXPECT_EQ(ev[0].length, 40u);
  ASSERT_EQ(ev[1].kind, MllpEvent::kMessage);
  EXPECT_EQ(ev[1].offset, 41u);
}

TEST(MalformedV2CorpusTest, OversizeFrameIsRejectedAndTheNextOneRead) {
  std::string good = genogate::testing::ReadTestFile(
      genogate::testing::DataDir() + "/hl7v2/cnv_pmp22_v231.hl7");
  std::string stream = std::string(1, kMllpStart) + std::string(5000, 'A') +
                       kMllpEnd + kMllpCr + *MllpEncode(good);
  MllpOptions o;
  o.max_message_bytes = 4096;
  MllpDecoder d(o);
  d.Feed(stream);
  std::vector<MllpEvent> ev;
  while (auto e = d.Next()) ev.push_back(std::move(*e));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, MllpEvent::kOversize);
  std::vector<std::string> segs = Segments(BuildFramingAck(ev[0], Options()));
  EXPECT_EQ(segs[1], "MSA|AR|");
  EXPECT_EQ(segs[2].substr(0, 34), "ERR|||104^Value too long^HL70357|E");
  ASSERT_EQ(ev[1].kind, MllpEvent::kMessage);
  EXPECT_EQ(ev[1].payload, good);
}

}  // namespace
}  // namespace genogate::mappers::hl7v2
