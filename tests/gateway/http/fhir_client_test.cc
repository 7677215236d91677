#include "gateway/http/fhir_client.h"

#include <gtest/gtest.h>

#include "gateway/http/fake_http_client.h"

namespace genogate::gateway {
namespace {

using testing::FakeHttpClient;
using testing::kOutcome400;
using testing::TransactionResponse;

FhirClient Make(FakeHttpClient* http, AuthProvider* auth = nullptr,
                const Clock* clock = nullptr) {
  FhirClientOptions o;
  o.base_url = "http://127.0.0.1:8080/fhir/";
  o.auth = auth;
  o.clock = clock;
  o.max_pages = 3;
  Result<FhirClient> c = FhirClient::Create(http, o);
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

TEST(FhirClientTest, TransactionReturnsEhrIds) {
  FakeHttpClient http;
  http.PushStatus(200,
                  TransactionResponse(
                      {"Patient/7/_history/1",
                       "http://127.0.0.1:8080/fhir/Observation/8/_history/2"}));
  auto auth = NewBearerAuth([] { return Result<std::string>("tok"); });
  FhirClient client = Make(&http, auth.get());
  TransactionOutcome out =
      client.PostTransaction("{\"resourceType\":\"Bundle\"}");
  ASSERT_TRUE(out.ok()) << out.error->ToString();
  EXPECT_EQ(out.resource_ids,
            (std::vector<std::string>{"Patient/7", "Observation/8"}));
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:8080/fhir/");
  bool auth_seen = false, accept_seen = false;
  for (auto& [k, v] : reqs[0].headers) {
    auth_seen |= k == "Authorization" && v == "Bearer tok";
    accept_seen |= k == "Accept" && v == "application/fhir+json";
  }
  EXPECT_TRUE(auth_seen);
  EXPECT_TRUE(accept_seen);
}

TEST(FhirClientTest, MapsStatuses) {
  FakeClock clock;
  FakeHttpClient http;
  FhirClient client = Make(&http, nullptr, &clock);
  http.PushStatus(400, kOutcome400);
  TransactionOutcome bad = client.PostTransaction("{}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error->code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(bad.operation_outcome_json, kOutcome400);
  // Codes only in the message; the diagnostics text stays in the OO.
  EXPECT_NE(bad.error->message().find("error/processing"), std::string::npos);
  EXPECT_EQ(bad.error->message().find("finished"), std::string::npos);
  EXPECT_NE(OperationOutcomeText(bad.operation_outcome_json).find("finished"),
            std::string::npos);

  http.PushStatus(503, "", {{"Retry-After", "120"}});
  TransactionOutcome busy = client.PostTransaction("{}");
  EXPECT_EQ(busy.error->code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(busy.retry_after.has_value());
  EXPECT_EQ(*busy.retry_after, std::chrono::seconds(120));

  // FakeClock starts at 2026-01-01T00:00:00Z.
  http.PushStatus(429, "", {{"retry-after", "Thu, 01 Jan 2026 00:00:30 GMT"}});
  TransactionOutcome limited = client.PostTransaction("{}");
  EXPECT_EQ(limited.error->code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(limited.retry_after.has_value());
  EXPECT_EQ(*limited.retry_after, std::chrono::seconds(30));

  http.PushStatus(401, "");
  EXPECT_EQ(client.PostTransaction("{}").error->code(),
            ErrorCode::kUnauthenticated);
  http.PushStatus(403, "");
  EXPECT_EQ(client.PostTransaction("{}").error->code(),
            ErrorCode::kPermissionDenied);
  http.PushStatus(404, kOutcome400);
  EXPECT_EQ(client.PostTransaction("{}").error->code(), ErrorCode::kNotFound);
  http.PushStatus(301, "");
  EXPECT_EQ(client.PostTransaction("{}").error->code(),
            ErrorCode::kFailedPrecondition);
  http.PushStatus(408, "");
  EXPECT_TRUE(client.PostTransaction("{}").error->retryable());
  // Transport errors pass through.
  TransactionOutcome down = client.PostTransaction("{}");
  EXPECT_EQ(down.error->code(), ErrorCode::kUnavailable);
  EXPECT_EQ(down.http_status, 0);
}

TEST(FhirClientTest, RetryAfterParsing) {
  Timestamp now = FromUnixMillis(1'767'225'600'000);  // 2026-01-01T00:00:00Z
  EXPECT_EQ(ParseRetryAfter("5", now), std::chrono::seconds(5));
  EXPECT_EQ(ParseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now),
            std::chrono::milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 2026 01:00:00 GMT", now),
            std::chrono::hours(1));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("Thu, 01 Foo 2026 01:00:00 GMT", now));
}

std::string Page(std::vector<std::string> ids, std::string next) {
  std::string s = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"";
  if (!next.empty()) {
    s += ",\"link\":[{\"relation\":\"self\",\"url\":\"x\"},{\"relation\":"
         "\"next\",\"url\":\"" +
         next + "\"}]";
  }
  s += ",\"entry\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ",";
    s += "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + ids[i] +
         "\"}}";
  }
  return s + "]}";
}

TEST(FhirClientTest, SearchFollowsNextLinks) {
  FakeHttpClient http;
  FhirClient client = Make(&http);
  http.PushStatus(
      200, Page({"1", "2"},
                "http://127.0.0.1:8080/fhir?_getpages=abc&_getpagesoffset=2"));
  http.PushStatus(200, Page({"3"}, ""));
  std::vector<std::string> got;
  Status s = client.Search("Patient", "identifier=urn:oid:1.2|A 1",
                           [&](std::string_view json) {
                             got.emplace_back(json);
                             return Status::Ok();
                           });
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "{\"resourceType\":\"Patient\",\"id\":\"3\"}");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(
      reqs[0].url,
      "http://127.0.0.1:8080/fhir/Patient?identifier=urn:oid:1.2%7CA%201");
  EXPECT_EQ(reqs[1].url,
            "http://127.0.0.1:8080/fhir?_getpages=abc&_getpagesoffset=2");
}

TEST(FhirClientTest, SearchLimitsAndForeignNextLink) {
  FakeHttpClient http;
  FhirClient client = Make(&http);
  auto ignore = [](std::string_view) { return Status::Ok(); };
  for (int i = 0; i < 4; ++i) {
    http.PushStatus(
        200, Page({"1"}, "http://127.0.0.1:8080/fhir?p=" + std::to_string(i)));
  }
  Status s = client.Search("Patient", "", ignore);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kLimitExceeded);

  FakeHttpClient http2;
  FhirClient client2 = Make(&http2);
  http2.PushStatus(200, Page({"1"}, "http://evil.example:8080/fhir?p=1"));
  Status s2 = client2.Search("Patient", "", ignore);
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(http2.requests().size(), 1u);
}

TEST(FhirClientTest, MetadataChecksVersion) {
  FakeHttpClient http;
  FhirClient client = Make(&http);
  http.PushStatus(200,
                  "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":"
                  "\"4.0.1\"}");
  EXPECT_TRUE(client.Metadata().ok());
  http.PushStatus(200,
                  "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":"
                  "\"5.0.0\"}");
  Result<std::string> r5 = client.Metadata();
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(http.requests()[0].url, "http://127.0.0.1:8080/fhir/metadata");
}

TEST(AuthProviderTest, BasicAndBearerRefresh) {
  auto basic = NewBasicAuth("user", [] { return Result<std::string>("pw"); });
  EXPECT_EQ(*basic->Authorization(), "Basic dXNlcjpwdw==");
  EXPECT_FALSE(basic->Refresh());  // unchanged
  int n = 0;
  auto bearer = NewBearerAuth(
      [&] { return Result<std::string>("t" + std::to_string(++n)); });
  EXPECT_EQ(*bearer->Authorization(), "Bearer t1");
  EXPECT_TRUE(bearer->Refresh());
  EXPECT_EQ(*bearer->Authorization(), "Bearer t2");
  auto missing = NewBearerAuth(
      [] { return Result<std::string>(Error(ErrorCode::kNotFound, "unset")); });
  EXPECT_EQ(missing->Authorization().error().code(),
            ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace genogate::gateway
