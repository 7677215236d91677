// Provenance added to a real transaction Bundle (converted from a test VCF)
// and validated with genogate's validator.
#include "gateway/security/provenance.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "fhir/codec.h"
#include "mappers/convert.h"
#include "testing/test_env.h"
#include "testing/validation_env.h"

namespace genogate::gateway {
namespace {

using genogate::testing::ErrorsOf;
using genogate::testing::SharedValidationEnv;

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The VCF test input as a transaction Bundle (as `genogate convert` writes
// it).
std::string VcfBundle() {
  mappers::ConvertOptions o;
  o.format = mappers::InputFormat::kVcf;
  o.patient = mappers::ParseIdentifierText("urn:oid:1.2.3|P-1");
  o.accession = mappers::ParseIdentifierText("urn:oid:1.2.4|ACC-1");
  o.lab = "Example Lab";
  std::string out =
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[";
  bool first = true;
  Result<mappers::ConvertReport> r = mappers::ConvertBytes(
      genogate::testing::ReadTestFile(genogate::testing::DataDir() +
                                      "/vcf/snv_indel.vcf"),
      o, SharedValidationEnv().validator->schema(),
      [&](fhir::Node entry) -> Status {
        const fhir::Node* resource = entry.Child("resource");
        const fhir::Node* request = entry.Child("request");
        Result<std::string> json = fhir::WriteJson(*resource);
        if (!json.ok()) return json.error();
        out += first ? "" : ",";
        first = false;
        out += "{\"fullUrl\":" + JsonString(entry.ChildValue("fullUrl")) +
               ",\"resource\":" + *json + ",\"request\":{\"method\":" +
               JsonString(request->ChildValue("method")) +
               ",\"url\":" + JsonString(request->ChildValue("url"));
        if (request->Child("ifNoneExist") != nullptr) {
          out += ",\"ifNoneExist\":" +
                 JsonString(request->ChildValue("ifNoneExist"));
        }
        out += "}}";
        return Status::Ok();
      });
  EXPECT_TRUE(r.ok() && r->ok());
  return out + "]}";
}

ProvenanceInfo Info() {
  ProvenanceInfo info;
  info.lab = "example-lab";
  info.lab_display = "Example Lab";
  info.submission_id = "s-42";
  info.recorded = FakeClock().Now();
  info.software = "genogate test";
  info.full_url = "urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7";
  return info;
}

TEST(ProvenanceTest, AddedToADeliveredBundleAndValid) {
  const std::string bundle = VcfBundle();
  rapidjson::Document before;
  before.Parse(bundle.c_str());
  ASSERT_TRUE(before.IsObject());
  const rapidjson::SizeType n = before["entry"].Size();
  ASSERT_GT(n, 3u);

  Result<std::string> with = AddProvenance(bundle, Info());
  ASSERT_TRUE(with.ok()) << with.error().message();
  Result<IssueList> issues =
      SharedValidationEnv().validator->ValidateText(*with);
  ASSERT_TRUE(issues.ok()) << issues.error().message();
  EXPECT_TRUE(ErrorsOf(*issues).empty()) << ErrorsOf(*issues).ToText();

  rapidjson::Document after;
  after.Parse(with->c_str());
  ASSERT_EQ(after["entry"].Size(), n + 1);
  // The original entries are untouched.
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    EXPECT_TRUE(after["entry"][i] == before["entry"][i]) << i;
  }
  const auto& entry = after["entry"][n];
  EXPECT_STREQ(entry["fullUrl"].GetString(), Info().full_url.c_str());
  EXPECT_STREQ(entry["request"]["method"].GetString(), "POST");
  EXPECT_STREQ(entry["request"]["url"].GetString(), "Provenance");
  const auto& p = entry["resource"];
  EXPECT_STREQ(p["resourceType"].GetString(), "Provenance");
  ASSERT_EQ(p["target"].Size(), n);
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    EXPECT_STREQ(p["target"][i]["reference"].GetString(),
                 before["entry"][i]["fullUrl"].GetString());
  }
  EXPECT_STREQ(p["recorded"].GetString(), "2026-01-01T00:00:00.000Z");
  ASSERT_EQ(p["agent"].Size(), 2u);
  EXPECT_STREQ(p["agent"][0]["type"]["coding"][0]["code"].GetString(),
               "author");
  EXPECT_STREQ(p["agent"][0]["who"]["identifier"]["value"].GetString(),
               "example-lab");
  EXPECT_STREQ(p["agent"][1]["type"]["coding"][0]["code"].GetString(),
               "assembler");
  EXPECT_STREQ(p["agent"][1]["role"][0]["text"].GetString(), "transmitter");
  EXPECT_STREQ(p["agent"][1]["who"]["identifier"]["value"].GetString(),
               "genogate");
  EXPECT_STREQ(p["entity"][0]["role"].GetString(), "source");
  EXPECT_STREQ(p["entity"][0]["what"]["identifier"]["value"].GetString(),
               "s-42");

  // The resource alone validates too.
  Result<std::string> alone = BuildProvenanceJson(bundle, Info());
  ASSERT_TRUE(alone.ok());
  Result<IssueList> alone_issues =
      SharedValidationEnv().validator->ValidateText(*alone);
  ASSERT_TRUE(alone_issues.ok());
  EXPECT_TRUE(ErrorsOf(*alone_issues).empty())
      << ErrorsOf(*alone_issues).ToText();

  // Without a fixed fullUrl each call gets a fresh urn:uuid.
  ProvenanceInfo random = Info();
  random.full_url.clear();
  rapidjson::Document r1, r2;
  r1.Parse(AddProvenance(bundle, random)->c_str());
  r2.Parse(AddProvenance(bundle, random)->c_str());
  std::string u1 = r1["entry"][n]["fullUrl"].GetString();
  std::string u2 = r2["entry"][n]["fullUrl"].GetString();
  EXPECT_EQ(u1.substr(0, 9), "urn:uuid:");
  EXPECT_EQ(u1.size(), 9u + 36u);
  EXPECT_NE(u1, u2);
}

TEST(ProvenanceTest, RefusesWhatItCannotAttribute) {
  EXPECT_EQ(AddProvenance("not json", Info()).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_FALSE(AddProvenance("{\"resourceType\":\"Patient\"}", Info()).ok());
  EXPECT_FALSE(
      AddProvenance("{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}",
                    Info())
          .ok());
  const std::string collection =
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{"
      "\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":\"Basic\"}}]}";
  EXPECT_FALSE(AddProvenance(collection, Info()).ok());
  EXPECT_TRUE(BuildProvenanceJson(collection, Info()).ok());
  ProvenanceInfo no_lab = Info();
  no_lab.lab.clear();
  EXPECT_FALSE(BuildProvenanceJson(collection, no_lab).ok());
}

}  // namespace
}  // namespace genogate::gateway
