// MLLP in front of the gateway's SubmissionService (ServiceSink): the path
// `genogate serve` uses. Real listener on loopback, real validator, the
// in-memory queue and submission store.
#include "gateway/mllp/service_sink.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/mllp/mllp_client.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/mllp_test_util.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/security/access_control.h"
#include "gateway/security/test_keys.h"
#include "gateway/submission/submission_store.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using testing::SegmentsOf;

std::string DataFile(const std::string& name) {
  return genogate::testing::ReadTestFile(genogate::testing::DataDir() +
                                         "/hl7v2/" + name);
}

class ServiceSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SubmissionServiceOptions so;
    so.endpoints = {"ehr"};
    so.audit = &audit_;
    auto service = DefaultSubmissionService::Create(
        so, genogate::testing::SharedValidationEnv().validator.get(), &queue_,
        &store_);
    ASSERT_TRUE(service.ok()) << service.error().ToString();
    service_ = std::move(service).value();
    sink_ = std::make_unique<ServiceSink>(service_.get());
    handler_ = std::make_unique<OruHandler>(sink_.get(), OruHandlerOptions());
    MllpListenerOptions lo;
    lo.port = 0;
    auto l = MllpListener::Start(lo, handler_.get());
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    listener_ = std::move(l).value();
  }

  std::vector<std::string> Send(const std::string& message) {
    MllpClientOptions c;
    c.host = "127.0.0.1";
    c.port = listener_->port();
    c.timeout = std::chrono::seconds(60);
    auto client = MllpClient::Connect(c);
    EXPECT_TRUE(client.ok());
    if (!client.ok()) return {};
    Result<std::string> ack = (*client)->Send(message);
    EXPECT_TRUE(ack.ok()) << ack.error().ToString();
    return ack.ok() ? SegmentsOf(*ack) : std::vector<std::string>{};
  }

  MemoryQueue queue_;
  MemorySubmissionStore store_;
  MemoryAuditSink audit_;
  std::unique_ptr<DefaultSubmissionService> service_;
  std::unique_ptr<ServiceSink> sink_;
  std::unique_ptr<OruHandler> handler_;
  std::unique_ptr<MllpListener> listener_;
};

TEST_F(ServiceSinkTest, AcceptedOnceAndAcknowledgedAgainOnResend) {
  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  std::vector<std::string> first = Send(msg);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1], "MSA|AA|MSG00001");
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
  std::vector<std::string> again = Send(msg);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1], first[1]);
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
  EXPECT_EQ(handler_->counts().duplicates, 1u);
  // The queued Bundle validates.
  auto jobs = queue_.Claim("ehr", "t", 5);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  auto issues =
      genogate::testing::SharedValidationEnv().validator->ValidateText(
          (*jobs)[0].payload);
  ASSERT_TRUE(issues.ok());
  EXPECT_FALSE(issues->HasErrors()) << issues->ToText();
}

TEST_F(ServiceSinkTest, ControlIdReusedForAnotherMessageGetsAE205) {
  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  ASSERT_EQ(Send(msg)[1], "MSA|AA|MSG00001");
  std::string changed = msg;
  changed.replace(changed.find("|57|"), 4, "|58|");  // a read depth
  std::vector<std::string> segs = Send(changed);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[1], "MSA|AE|MSG00001");
  EXPECT_EQ(segs[2].rfind("ERR||MSH^1^10^1|205^Duplicate key identifier^"
                          "HL70357|E||||",
                          0),
            0u)
      << segs[2];
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
}

TEST_F(ServiceSinkTest, ValidationErrorsGiveAE) {
  std::string msg = DataFile("brca1_germline_two_variants.hl7");
  const std::string good = "69551-0^Genomic alt allele [ID]^LN|1|TG|";
  msg.replace(msg.find(good), good.size(),
              "69551-0^Genomic alt allele [ID]^LN|1|TQ|");
  std::vector<std::string> segs = Send(msg);
  ASSERT_GE(segs.size(), 3u);
  EXPECT_EQ(segs[1], "MSA|AE|MSG00001");
  bool found = false;
  for (size_t i = 2; i < segs.size(); ++i) {
    if (segs[i].find("gg-allele-chars") != std::string::npos) {
      found = true;
      EXPECT_EQ(segs[i].rfind("ERR||OBR^1|102^", 0), 0u) << segs[i];
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(queue_.Stats("ehr")->ready, 0);
}

TEST_F(ServiceSinkTest, EachMessageLeavesOneAuditRecord) {
  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  ASSERT_EQ(Send(msg)[1], "MSA|AA|MSG00001");
  ASSERT_EQ(Send(msg)[1], "MSA|AA|MSG00001");  // resent: a duplicate
  std::string invalid = msg;
  const std::string good = "69551-0^Genomic alt allele [ID]^LN|1|TG|";
  invalid.replace(invalid.find(good), good.size(),
                  "69551-0^Genomic alt allele [ID]^LN|1|TQ|");
  invalid.replace(invalid.find("MSG00001"), 8, "MSG00002");
  ASSERT_EQ(Send(invalid)[1], "MSA|AE|MSG00002");

  std::vector<AuditRecord> records = audit_.records();
  ASSERT_EQ(records.size(), 3u);
  for (const AuditRecord& r : records) {
    EXPECT_EQ(r.operation, "MLLP ORU^R01");
    EXPECT_EQ(r.source_address.rfind("127.0.0.1:", 0), 0u) << r.source_address;
    EXPECT_EQ(r.patient_value, "MRN12345");
    EXPECT_FALSE(r.patient_system.empty());
    EXPECT_EQ(r.endpoint, "");
  }
  EXPECT_EQ(records[0].action, AuditAction::kSubmission);
  EXPECT_EQ(records[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(records[0].request_id, "MSG00001");
  EXPECT_FALSE(records[0].submission_id.empty());
  EXPECT_EQ(records[1].action, AuditAction::kSubmission);
  EXPECT_EQ(records[1].submission_id, records[0].submission_id);
  EXPECT_NE(records[1].outcome_text.find("duplicate"), std::string::npos);
  EXPECT_EQ(records[2].action, AuditAction::kValidationFailure);
  EXPECT_EQ(records[2].outcome, AuditOutcome::kMinorFailure);
  EXPECT_EQ(records[2].request_id, "MSG00002");
  EXPECT_TRUE(records[2].submission_id.empty());
}

TEST_F(ServiceSinkTest, StoreUnavailableGivesAR) {
  store_.SetUnavailable(true);
  std::vector<std::string> segs =
      Send(DataFile("brca1_germline_two_variants.hl7"));
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[1], "MSA|AR|MSG00001");
  EXPECT_NE(segs[2].find("send it again later"), std::string::npos);
  store_.SetUnavailable(false);
  EXPECT_EQ(Send(DataFile("brca1_germline_two_variants.hl7"))[1],
            "MSA|AA|MSG00001");
}

// With an Authenticator, the client certificate decides who submits: a
// certificate mapped (security.mtls) to a lab caller submits as that lab
// (the submission's owner); an unmapped one, or one mapped to a caller
// without the lab role, is refused with a "security" issue (ACK AE) and
// nothing is stored or queued.
TEST_F(ServiceSinkTest, ClientCertificatesMapToTheirLabOrAreRefused) {
  FakeClock clock;
  SecurityConfig sc;
  MtlsEntry lab_b;
  lab_b.subject = "CN=lab-b,O=Lab B,C=GB";
  lab_b.grant = {"lab-b-analyser", {"lab"}, "lab-b"};
  MtlsEntry ops;
  ops.subject = "CN=ops,O=Hospital,C=GB";
  ops.grant = {"ops", {"admin"}, ""};
  sc.mtls = {lab_b, ops};
  auto auth = Authenticator::Create(sc, &clock, nullptr);
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  ServiceSink sink(service_.get(), auth->get());

  const std::string msg = DataFile("brca1_germline_two_variants.hl7");
  mappers::hl7v2::OruReadResult read = mappers::hl7v2::ReadOruR01(msg, {});
  ASSERT_TRUE(read.message.has_value());
  std::unique_ptr<testing::TestKey> key = testing::MakeEcKey("cert");
  auto submit = [&](const std::string& der, const std::string& control) {
    MllpPeer peer;
    peer.address = "127.0.0.1:40000";
    peer.tls = true;
    peer.client_cert_der = der;
    return sink.Submit(OruSubmission{read, msg, "hl7v2|test|" + control, peer});
  };

  Result<SubmissionOutcome> ok =
      submit(testing::SelfSignedDer(*key, "lab-b", "Lab B", ""), "1");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  ASSERT_EQ(ok->kind, SubmissionOutcome::Kind::kAccepted);
  ASSERT_EQ(ok->submission_ids.size(), 1u);
  Result<SubmissionRecord> rec = store_.Get(ok->submission_ids[0]);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->lab, "lab-b");
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);

  for (const std::string& der :
       {testing::SelfSignedDer(*key, "lab-x", "Lab X", ""),
        testing::SelfSignedDer(*key, "ops", "Hospital", ""),
        std::string("not a certificate")}) {
    Result<SubmissionOutcome> refused = submit(der, "2");
    ASSERT_TRUE(refused.ok()) << refused.error().ToString();
    EXPECT_EQ(refused->kind, SubmissionOutcome::Kind::kRejected);
    ASSERT_EQ(refused->issues.size(), 1u);
    EXPECT_EQ(refused->issues[0].issue.code, "mllp-certificate-not-mapped");
  }
  EXPECT_EQ(queue_.Stats("ehr")->ready, 1);
}

}  // namespace
}  // namespace genogate::gateway
