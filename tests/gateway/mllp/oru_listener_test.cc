// The product path on loopback: MllpListener + OruHandler + BundleQueueSink
// (the shared builder, the real validator with the IG packages, a
// MemoryQueue or a real redis-server). Every malformed message of
// tests/data/hl7v2/malformed gets its AE / AR with the expected first ERR;
// good messages get AA and exactly one job per report; a resent control id
// gets AA again without being mapped or enqueued twice.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateway/mllp/mllp_client.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/mllp_test_util.h"
#include "gateway/mllp/oru_handler.h"
#include "gateway/mllp/queue_sink.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using testing::Frame;
using testing::RawMllp;
using testing::SegmentsOf;

std::string DataFile(const std::string& name) {
  return genogate::testing::ReadTestFile(genogate::testing::DataDir() +
                                         "/hl7v2/" + name);
}

// A listener with the product handler in front of `queue`.
class Stack {
 public:
  explicit Stack(DeliveryQueue* queue,
                 size_t max_message_bytes = mappers::hl7v2::kMaxMessageBytes) {
    const genogate::testing::ValidationEnv& env =
        genogate::testing::SharedValidationEnv();
    BundleQueueSinkOptions so;
    so.endpoints = {"ehr"};
    sink_ = std::make_unique<BundleQueueSink>(env.schema.get(),
                                              env.validator.get(), queue, so);
    handler_ =
        std::make_unique<OruHandler>(sink_.get(), OruHandlerOptions(), &clock_);
    MllpListenerOptions lo;
    lo.host = "127.0.0.1";
    lo.port = 0;
    lo.max_message_bytes = max_message_bytes;
    auto l = MllpListener::Start(lo, handler_.get());
    EXPECT_TRUE(l.ok()) << l.error().ToString();
    if (l.ok()) listener_ = std::move(l).value();
  }

  int port() const { return listener_ ? listener_->port() : 0; }
  BundleQueueSink& sink() { return *sink_; }
  OruHandler& handler() { return *handler_; }

  // Sends one message with MllpClient; the ACK, or "" on failure.
  std::string Send(const std::string& message) {
    MllpClientOptions c;
    c.host = "127.0.0.1";
    c.port = static_cast<uint16_t>(port());
    c.timeout = std::chrono::seconds(60);
    auto client = MllpClient::Connect(c);
    EXPECT_TRUE(client.ok()) << client.error().ToString();
    if (!client.ok()) return "";
    Result<std::string> ack = (*client)->Send(message);
    EXPECT_TRUE(ack.ok()) << ack.error().ToString();
    return ack.ok() ? *ack : "";
  }

 private:
  FakeClock clock_;
  std::unique_ptr<BundleQueueSink> sink_;
  std::unique_ptr<OruHandler> handler_;
  std::unique_ptr<MllpListener> listener_;
};

class OruListenerTest : public ::testing::Test {
 protected:
  void SetUp() override { stack_ = std::make_unique<Stack>(&queue_); }
  int64_t Ready() { return queue_.Stats("ehr")->ready; }

  MemoryQueue queue_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(OruListenerTest, GoodMessagesAreAcceptedAndEnqueued) {
  struct Good {
    const char* file;
    const char* msa;
    const char* version;
  };
  int64_t jobs = 0;
  for (const Good& g :
       {Good{"brca1_germline_two_variants.hl7", "MSA|AA|MSG00001", "2.5.1"},
        Good{"somatic_braf_v271.hl7", "MSA|AA|", "2.7.1"},
        Good{"cnv_pmp22_v231.hl7", "MSA|AA|", "2.3.1"}}) {
    std::string ack = stack_->Send(DataFile(g.file));
    std::vector<std::string> segs = SegmentsOf(ack);
    ASSERT_GE(segs.size(), 2u) << g.file << ": " << ack;
    EXPECT_EQ(segs[1].substr(0, std::string(g.msa).size()), g.msa)
        << g.file << ": " << ack;
    // The ACK header: ACK^R01^ACK, the sender's version, the fake clock.
    EXPECT_NE(segs[0].find("|20260101000000+0000||ACK^R01^ACK|GG"),
              std::string::npos)
        << segs[0];
    EXPECT_EQ(segs[0].substr(segs[0].rfind('|') + 1), g.version);
    for (size_t i = 2; i < segs.size(); ++i) {
      EXPECT_EQ(segs[i].find("|E|"), std::string::npos) << segs[i];
    }
    EXPECT_EQ(Ready(), ++jobs) << g.file;
  }
  auto claimed = queue_.Claim("ehr", "test", 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  const Job& job = (*claimed)[0];
  EXPECT_EQ(job.id.substr(0, 3), "v2-");
  EXPECT_EQ(job.metadata.at("source"), "hl7v2");
  EXPECT_EQ(job.metadata.at("content-type"), "application/fhir+json");
  // The payload is a transaction Bundle that validates without errors.
  const genogate::testing::ValidationEnv& env =
      genogate::testing::SharedValidationEnv();
  for (const Job& j : *claimed) {
    EXPECT_NE(j.payload.find("\"type\":\"transaction\""), std::string::npos);
    Result<IssueList> issues = env.validator->ValidateText(j.payload);
    ASSERT_TRUE(issues.ok());
    EXPECT_FALSE(issues->HasErrors()) << issues->ToText();
  }
  EXPECT_EQ(stack_->handler().counts().accepted, 3u);
}

// The malformed corpus: expected MSA and first ERR up to ERR-4.
struct Case {
  const char* file;
  const char* msa;
  const char* err;  // "<ERR-2>|<ERR-3 code>"
};

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      {"no_msh.hl7", "MSA|AR|", "MSH^1|100"},
      {"msh_not_first.hl7", "MSA|AR|BAD-02", "MSH^1|100"},
      {"encoding_chars_too_short.hl7", "MSA|AR|BAD-03", "MSH^1^2^1|102"},
      {"encoding_chars_repeated.hl7", "MSA|AR|BAD-04", "MSH^1^2^1|102"},
      {"unsupported_message_type.hl7", "MSA|AR|BAD-05", "MSH^1^9^1^1|200"},
      {"unsupported_event.hl7", "MSA|AR|BAD-06", "MSH^1^9^1^2|201"},
      {"unsupported_version.hl7", "MSA|AR|BAD-07", "MSH^1^12^1^1|203"},
      {"missing_control_id.hl7", "MSA|AR|", "MSH^1^10^1|101"},
      {"bad_processing_id.hl7", "MSA|AR|BAD-09", "MSH^1^11^1^1|202"},
      {"nm_not_a_number.hl7", "MSA|AE|BAD-10", "OBX^3^5^1|102"},
      {"unknown_value_type.hl7", "MSA|AE|BAD-11", "OBX^2^2^1|103"},
      {"missing_obx3.hl7", "MSA|AE|BAD-12", "OBX^2^3^1|101"},
      {"missing_obx2.hl7", "MSA|AE|BAD-13", "OBX^2^2^1|101"},
      {"bad_sub_id.hl7", "MSA|AE|BAD-14", "OBX^2^4^1|102"},
      {"obx_before_obr.hl7", "MSA|AE|BAD-15", "OBX^1|100"},
      {"broken_escape.hl7", "MSA|AE|BAD-16", "OBX^2^5^1|102"},
      {"bad_hex_escape.hl7", "MSA|AE|BAD-17", "OBX^2^5^1|102"},
      {"nr_component_not_a_number.hl7", "MSA|AE|BAD-18", "OBX^3^5^1^2|102"},
      {"start_end_as_string.hl7", "MSA|AE|BAD-19", "OBX^3^5^1|102"},
      {"duplicate_obx.hl7", "MSA|AE|BAD-20", "OBX^3^4^1|205"},
      {"missing_pid.hl7", "MSA|AE|BAD-21", "PID^1|100"},
      {"no_obr.hl7", "MSA|AE|BAD-22", "OBR^1|100"},
      {"bad_result_status.hl7", "MSA|AE|BAD-23", "OBR^1^25^1|103"},
      {"unknown_coordinate_system.hl7", "MSA|AE|BAD-24", "OBX^3^5^1|103"},
      {"bad_observation_datetime.hl7", "MSA|AE|BAD-25", "OBR^1^7^1^1|102"},
      {"cne_without_code.hl7", "MSA|AE|BAD-26", "OBX^3^5^1^1|101"},
      {"orc_without_obr.hl7", "MSA|AE|BAD-27", "ORC^1|100"},
      {"missing_accession.hl7", "MSA|AE|BAD-28", "OBR^1^3^1|101"},
      {"bad_segment_id.hl7", "MSA|AE|BAD-29", "|100"},
      {"allele_frequency_out_of_range.hl7", "MSA|AE|BAD-30", "OBX^3^5^1|102"},
      {"variant_without_position.hl7", "MSA|AE|BAD-32", "OBX^1^4^1|101"},
  };
  return *cases;
}

class MalformedOverMllpTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    queue_ = new MemoryQueue();
    stack_ = new Stack(queue_);
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete queue_;
  }
  static MemoryQueue* queue_;
  static Stack* stack_;
};
MemoryQueue* MalformedOverMllpTest::queue_ = nullptr;
Stack* MalformedOverMllpTest::stack_ = nullptr;

TEST_P(MalformedOverMllpTest, GetsTheExpectedAckAndNothingIsEnqueued) {
  const Case& c = GetParam();
  std::string ack = stack_->Send(DataFile(std::string("malformed/") + c.file));
  std::vector<std::string> segs = SegmentsOf(ack);
  ASSERT_GE(segs.size(), 3u) << ack;
  EXPECT_EQ(segs[1], c.msa) << ack;
  // ERR-2 location and the table 0357 code, severity E, and a text.
  std::string err = c.err;
  std::string erl = err.substr(0, err.find('|'));
  std::string code = err.substr(err.find('|') + 1);
  std::vector<std::string> f;
  size_t start = 0;
  while (true) {
    size_t bar = segs[2].find('|', start);
    f.push_back(segs[2].substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  ASSERT_GE(f.size(), 9u) << segs[2];
  EXPECT_EQ(f[0], "ERR");
  EXPECT_EQ(f[2], erl) << segs[2];
  EXPECT_EQ(f[3].substr(0, code.size() + 1), code + "^") << segs[2];
  EXPECT_EQ(f[4], "E");
  EXPECT_FALSE(f[8].empty()) << "ERR-8 says what is wrong: " << segs[2];
  EXPECT_EQ(segs[2].find("Doe"), std::string::npos);  // no patient data
  EXPECT_EQ(queue_->Stats("ehr")->ready, 0);
}

INSTANTIATE_TEST_SUITE_P(Corpus, MalformedOverMllpTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           std::string n = p.param.file;
                           return n.substr(0, n.find('.'));
                         });

TEST(MalformedOverMllpCorpusTest, EveryMessageFileHasACase) {
  std::set<std::string> listed;
  for (const Case& c : Cases()) listed.insert(c.file);
  listed.insert("nm_not_a_number_v23.hl7");  // OldVersionsGetErr1 below
  for (const auto& e : std::filesystem::directory_iterator(
           genogate::testing::DataDir() + "/hl7v2/malformed")) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".hl7")) {
      EXPECT_TRUE(listed.count(name)) << name;
    }
  }
}

TEST_F(OruListenerTest, OldVersionsGetErr1AndMsa3) {
  std::string ack = stack_->Send(DataFile("malformed/nm_not_a_number_v23.hl7"));
  std::vector<std::string> segs = SegmentsOf(ack);
  ASSERT_EQ(segs.size(), 3u) << ack;
  EXPECT_EQ(segs[1].substr(0, 21), "MSA|AE|BAD-31|OBX #3 ");
  EXPECT_EQ(segs[2], "ERR|OBX^3^5^102&Data type error&HL70357");
}

// MLLP byte streams with framing defects, through the real handler.
TEST_F(OruListenerTest, FramingDefectsGetAR) {
  struct Stream {
    const char* file;
    std::vector<std::string> msa;  // the ACKs' MSA segments, in order
  };
  for (const Stream& s : {
           Stream{"truncated_frame.mllp", {"MSA|AR|FRAME-1"}},
           Stream{"bytes_outside_frame.mllp", {"MSA|AR|", "MSA|AA|FRAME-1"}},
           Stream{"bad_end_block.mllp", {"MSA|AR|FRAME-1", "MSA|AR|"}},
           Stream{"start_block_inside_frame.mllp",
                  {"MSA|AR|", "MSA|AA|FRAME-1"}},
       }) {
    RawMllp c(stack_->port());
    ASSERT_TRUE(c.Write(DataFile(std::string("malformed/") + s.file)));
    c.HalfClose();
    std::vector<std::string> acks = c.ReadFrames(s.msa.size() + 1);
    ASSERT_EQ(acks.size(), s.msa.size()) << s.file;
    for (size_t i = 0; i < acks.size(); ++i) {
      std::vector<std::string> segs = SegmentsOf(acks[i]);
      ASSERT_GE(segs.size(), 2u);
      EXPECT_EQ(segs[1], s.msa[i]) << s.file << " #" << i;
      if (s.msa[i].substr(4, 2) == "AR") {
        ASSERT_EQ(segs.size(), 3u) << acks[i];
        EXPECT_EQ(segs[2].substr(0, 44),
                  "ERR|||100^Segment sequence error^HL70357|E||")
            << segs[2];
      }
    }
    EXPECT_TRUE(c.closed()) << s.file;
  }
}

TEST(OruOversizeTest, OversizeMessageGetsARWithCode104) {
  MemoryQueue queue;
  Stack stack(&queue, 64 * 1024);
  std::string big = DataFile("brca1_germline_two_variants.hl7");
  std::string nte = "NTE|1|L|" + std::string(70 * 1024, 'x') + "\n";
  big.insert(big.find("OBX|"), nte);
  RawMllp c(stack.port());
  ASSERT_TRUE(c.Write(Frame(big)));
  std::vector<std::string> acks = c.ReadFrames(1);
  ASSERT_EQ(acks.size(), 1u);
  std::vector<std::string> segs = SegmentsOf(acks[0]);
  ASSERT_EQ(segs.size(), 3u) << acks[0];
  EXPECT_EQ(segs[1], "MSA|AR|");
  EXPECT_EQ(segs[2].substr(0, 34), "ERR|||104^Value too long^HL70357|E");
  EXPECT_NE(segs[2].find("65536"), std::string::npos) << segs[2];
  // The connection stays usable.
  ASSERT_TRUE(c.Write(Frame(DataFile("cnv_pmp22_v231.hl7"))));
  acks = c.ReadFrames(1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(SegmentsOf(acks[0])[1].substr(0, 7), "MSA|AA|");
  EXPECT_EQ(queue.Stats("ehr")->ready, 1);
}

TEST_F(OruListenerTest, ValidationErrorsGiveAEWithTheReportsObr) {
  std::string msg = DataFile("brca1_germline_two_variants.hl7");
  const std::string good = "69551-0^Genomic alt allele [ID]^LN|1|TG|";
  ASSERT_NE(msg.find(good), std::string::npos);
  msg.replace(msg.find(good), good.size(),
              "69551-0^Genomic alt allele [ID]^LN|1|TQ|");
  std::string ack = stack_->Send(msg);
  std::vector<std::string> segs = SegmentsOf(ack);
  ASSERT_GE(segs.size(), 3u) << ack;
  EXPECT_EQ(segs[1], "MSA|AE|MSG00001");
  bool found = false;
  for (size_t i = 2; i < segs.size(); ++i) {
    if (segs[i].find("gg-allele-chars") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(segs[i].substr(0, 50),
              "ERR||OBR^1|102^Data type error^HL70357|E||||OBR #1")
        << segs[i];
    EXPECT_NE(segs[i].find("mapped FHIR Bundle.entry["), std::string::npos);
  }
  EXPECT_TRUE(found) << ack;
  EXPECT_EQ(Ready(), 0);
  EXPECT_EQ(stack_->handler().counts().errors, 1u);
}

class OruRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = genogate::testing::RedisServer::Start();
    ASSERT_NE(redis_, nullptr);
    queue_ = testing::MakeRedisQueue(*redis_, {}, nullptr);
    ASSERT_NE(queue_, nullptr);
    stack_ = std::make_unique<Stack>(queue_.get());
  }
  std::unique_ptr<genogate::testing::RedisServer> redis_;
  std::unique_ptr<RedisQueue> queue_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(OruRedisTest, ResentControlIdIsAcknowledgedAgainButNotProcessedTwice) {
  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  std::string first = stack_->Send(msg);
  ASSERT_EQ(SegmentsOf(first).size(), 2u) << first;
  EXPECT_EQ(SegmentsOf(first)[1], "MSA|AA|MSG00001");
  EXPECT_EQ(stack_->sink().reports_mapped(), 1u);
  EXPECT_EQ(queue_->Stats("ehr")->ready, 1);

  // The same message again (a new connection, as after a lost ACK): the
  // same answer, nothing mapped, nothing enqueued.
  std::string again = stack_->Send(msg);
  std::vector<std::string> a = SegmentsOf(again), b = SegmentsOf(first);
  ASSERT_EQ(a.size(), b.size()) << again;
  EXPECT_EQ(a[1], b[1]);
  EXPECT_EQ(stack_->sink().reports_mapped(), 1u);
  EXPECT_EQ(queue_->Stats("ehr")->ready, 1);
  EXPECT_EQ(stack_->handler().counts().duplicates, 1u);
  EXPECT_EQ(stack_->handler().counts().accepted, 2u);

  // Another control id from the same sender is a new message.
  std::string other = msg;
  other.replace(other.find("|MSG00001|"), 10, "|MSG00002|");
  EXPECT_EQ(SegmentsOf(stack_->Send(other))[1], "MSA|AA|MSG00002");
  EXPECT_EQ(stack_->sink().reports_mapped(), 2u);
  // Same accession and MSH-7: the second job is an equal version of the
  // same report (kept; delivered after the first).
  auto stats = queue_->Stats("ehr");
  EXPECT_EQ(stats->ready, 2);
}

TEST_F(OruRedisTest, QueueUnavailableGivesARAndAResendIsAccepted) {
  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  redis_->Kill();
  std::string ack = stack_->Send(msg);
  std::vector<std::string> segs = SegmentsOf(ack);
  ASSERT_EQ(segs.size(), 3u) << ack;
  EXPECT_EQ(segs[1].substr(0, 7), "MSA|AR|");
  EXPECT_EQ(
      segs[2].rfind("ERR|||207^Application internal error^HL70357|E||||", 0),
      0u)
      << segs[2];
  EXPECT_NE(segs[2].find("send it again later"), std::string::npos);
  ASSERT_TRUE(redis_->Restart());
  segs = SegmentsOf(stack_->Send(msg));
  ASSERT_GE(segs.size(), 2u);
  EXPECT_EQ(segs[1].substr(0, 7), "MSA|AA|");
  EXPECT_EQ(queue_->Stats("ehr")->ready, 1);
}

TEST(OruHandlerTest, IdempotencyKeyAndIssueMapping) {
  mappers::hl7v2::OruReadResult r =
      mappers::hl7v2::ReadOruR01(DataFile("brca1_germline_two_variants.hl7"));
  ASSERT_TRUE(r.message.has_value());
  EXPECT_EQ(OruIdempotencyKey(*r.message),
            "hl7v2|GENELAB|GENELAB^2.16.840.1.113883.3.999.1^ISO|MSG00001");
  SubmissionIssue si;
  si.report = 0;
  si.issue.severity = Severity::kWarning;
  si.issue.type = "required";
  si.issue.location = "Bundle.entry[1].resource";
  si.issue.message = "minimum required = 1";
  mappers::hl7v2::Problem p = ProblemFromIssue(si, r);
  EXPECT_EQ(p.code, mappers::hl7v2::Hl7Error::kRequiredFieldMissing);
  EXPECT_EQ(p.severity, mappers::hl7v2::ProblemSeverity::kWarning);
  EXPECT_EQ(p.where.segment, "OBR");
  EXPECT_EQ(p.where.sequence, 1u);
  EXPECT_EQ(p.reason,
            "mapped FHIR Bundle.entry[1].resource: minimum required = 1");
  si.report = -1;
  si.issue.type = "code-invalid";
  EXPECT_EQ(ProblemFromIssue(si, r).code,
            mappers::hl7v2::Hl7Error::kTableValueNotFound);
  EXPECT_EQ(ProblemFromIssue(si, r).where.segment, "");
}

TEST(Hl7TimeTest, DtmToUnixMillis) {
  EXPECT_EQ(Hl7TimeToUnixMillis("19700101000000+0000"), 0);
  EXPECT_EQ(Hl7TimeToUnixMillis("19700101010000+0100"), 0);
  EXPECT_EQ(Hl7TimeToUnixMillis("197001010000"), 0);
  EXPECT_EQ(Hl7TimeToUnixMillis("19700102"), 86400000);
  EXPECT_EQ(Hl7TimeToUnixMillis("19700101000001.5-0000"), 1500);
  EXPECT_EQ(Hl7TimeToUnixMillis("20240315103000+0100"), 1710495000000);
  for (const char* bad : {"", "abc", "2024031", "20241315", "2024+01"}) {
    EXPECT_FALSE(Hl7TimeToUnixMillis(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace genogate::gateway
