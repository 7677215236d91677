// EndpointChecker against a loopback FHIR server and file:// outboxes.
#include "gateway/api/endpoint_checker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "gateway/config/endpoint.h"
#include "gateway/http/test_peers.h"

namespace genogate::gateway {
namespace {

TEST(EndpointCheckerTest, FhirMetadataAndFileOutboxes) {
  std::string head_seen;
  testing::TestHttpServer ehr([&](const std::string& head, const std::string&) {
    head_seen = head;
    return testing::TestHttpServer::Response(
        200,
        R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1",)"
        R"("software":{"name":"Test EHR","version":"8.8"}})",
        "Content-Type: application/fhir+json\r\n");
  });
  std::string dir =
      (std::filesystem::temp_directory_path() / "gg-checkXXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::vector<Endpoint> endpoints;
  for (std::string flag :
       {"ehr=" + ehr.url() + "/fhir",
        std::string("down=http://127.0.0.1:1/fhir"), "outbox=file://" + dir}) {
    Result<Endpoint> e = ParseEndpointFlag(flag);
    ASSERT_TRUE(e.ok()) << e.error().ToString();
    endpoints.push_back(*e);
  }
  auto checker = MakeEndpointChecker(endpoints);
  ASSERT_TRUE(checker.ok()) << checker.error().ToString();
  ASSERT_EQ((*checker)->endpoints().size(), 3u);
  EXPECT_EQ((*checker)->endpoints()[2].kind, "file");

  Result<EndpointCheckResult> r = (*checker)->Check("ehr");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->fhir_version, "4.0.1");
  EXPECT_EQ(r->software, "Test EHR 8.8");
  EXPECT_TRUE(head_seen.starts_with("GET /fhir/metadata")) << head_seen;

  r = (*checker)->Check("down");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_TRUE(r->error.starts_with("unavailable")) << r->error;

  r = (*checker)->Check("outbox");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->error;
  std::filesystem::remove_all(dir);
  r = (*checker)->Check("outbox");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);

  EXPECT_EQ((*checker)->Check("nope").error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace genogate::gateway
