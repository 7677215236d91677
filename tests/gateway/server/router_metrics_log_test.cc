// Router matching, the Prometheus text format and the JSON-lines logger,
// without sockets.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <thread>

#include "gateway/server/log.h"
#include "gateway/server/metrics.h"
#include "gateway/server/router.h"

namespace genogate::gateway {
namespace {

HttpHandler Named(std::string name) {
  return [name](const HttpRequest& r) {
    HttpResponse res;
    res.body = name;
    for (const auto& [k, v] : r.path_params) res.body += " " + k + "=" + v;
    return res;
  };
}

HttpResponse Call(const Router& router, std::string method,
                  std::string target) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return router.Handle(&r);
}

TEST(RouterTest, MatchesLiteralsBeforeParameters) {
  Router r;
  ASSERT_TRUE(r.Add("POST", "/submissions", "submissions.create",
                    Named("create"), {.shed_when_overloaded = true})
                  .ok());
  ASSERT_TRUE(
      r.Add("GET", "/submissions/{id}", "submissions.get", Named("get")).ok());
  ASSERT_TRUE(
      r.Add("GET", "/fhir/metadata", "fhir.metadata", Named("meta")).ok());
  ASSERT_TRUE(
      r.Add("GET", "/fhir/{type}", "fhir.search", Named("search")).ok());
  ASSERT_TRUE(r.Add("POST", "/fhir/{type}/$validate", "fhir.validate_type",
                    Named("validate"))
                  .ok());
  ASSERT_TRUE(
      r.Add("POST", "/fhir/$validate", "fhir.validate", Named("v0")).ok());

  EXPECT_EQ(Call(r, "GET", "/submissions/abc-1").body, "get id=abc-1");
  EXPECT_EQ(Call(r, "GET", "/submissions/a%2Fb?x=1").body, "get id=a/b");
  EXPECT_EQ(Call(r, "GET", "/fhir/metadata").body, "meta");
  EXPECT_EQ(Call(r, "GET", "/fhir/Patient").body, "search type=Patient");
  EXPECT_EQ(Call(r, "POST", "/fhir/Observation/$validate").body,
            "validate type=Observation");
  EXPECT_EQ(Call(r, "POST", "/fhir/$validate").body, "v0");
  EXPECT_EQ(Call(r, "POST", "/fhir/%24validate").body, "v0");

  RouteMatch m = r.Find("POST", "/submissions?patient=x");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.name(), "submissions.create");
  EXPECT_TRUE(m.route->options.shed_when_overloaded);
  // HEAD falls back to GET.
  RouteMatch head = r.Find("HEAD", "/submissions/1");
  ASSERT_EQ(head.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(head.name(), "submissions.get");
}

TEST(RouterTest, NotFoundAndMethodNotAllowed) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/submissions/{id}", "get", Named("get")).ok());
  ASSERT_TRUE(r.Add("DELETE", "/submissions/{id}", "del", Named("del")).ok());
  HttpResponse missing = Call(r, "GET", "/submissions");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("Content-Type"), "application/fhir+json");
  rapidjson::Document doc;
  doc.Parse(missing.body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["resourceType"].GetString(), "OperationOutcome");
  EXPECT_STREQ(doc["issue"][0]["code"].GetString(), "not-found");
  EXPECT_EQ(Call(r, "GET", "/submissions/").status, 404);  // empty segment
  EXPECT_EQ(Call(r, "GET", "/submissions/1/x").status, 404);
  EXPECT_EQ(Call(r, "GET", "/submissions/%zz").status, 404);
  HttpResponse wrong = Call(r, "POST", "/submissions/1");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("Allow"), "DELETE, GET, HEAD");
  RouteMatch m = r.Find("PUT", "/submissions/1");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.name(), "method_not_allowed");
}

TEST(RouterTest, RefusesBadAndDuplicateRoutes) {
  Router r;
  EXPECT_EQ(r.Add("get", "/x", "x", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(r.Add("GET", "x", "x", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(r.Add("GET", "/a/{}", "x", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(r.Add("GET", "/a/{id}/{id}", "x", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(r.Add("GET", "/a/x{id}", "x", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(r.Add("GET", "/a", "", Named("x")).error().code(),
            ErrorCode::kInvalidInput);
  ASSERT_TRUE(r.Add("GET", "/a/{id}", "a", Named("a")).ok());
  EXPECT_EQ(r.Add("GET", "/a/{other}", "b", Named("b")).error().code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(r.Add("POST", "/a/{id}", "c", Named("c")).ok());
}

TEST(RouterTest, HandlerExceptionsBecome500) {
  Router r;
  ASSERT_TRUE(
      r.Add("GET", "/boom", "boom", [](const HttpRequest&) -> HttpResponse {
         throw std::runtime_error("secret detail");
       }).ok());
  HttpResponse res = Call(r, "GET", "/boom");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("secret detail"), std::string::npos);
}

TEST(MetricsTest, TextFormat) {
  MetricsRegistry m;
  CounterFamily& c =
      m.AddCounter("t_requests_total", "Requests\nby route", {"route", "code"});
  c.WithLabels({"a", "2xx"}).Inc();
  c.WithLabels({"a", "2xx"}).Inc(2);
  c.WithLabels({"b\"\\\n", "5xx"}).Inc();
  c.WithLabels({"a", "2xx"}).Inc(-5);  // ignored
  m.AddGauge("t_depth", "Depth").WithLabels({}).Set(1.5);
  HistogramFamily& h =
      m.AddHistogram("t_seconds", "Latency", {"route"}, {0.1, 1});
  h.WithLabels({"a"}).Observe(0.05);
  h.WithLabels({"a"}).Observe(0.1);  // le is inclusive
  h.WithLabels({"a"}).Observe(3);
  m.AddCallback("t_queue", "Queue depth", MetricsRegistry::Type::kGauge,
                {"endpoint"}, [] {
                  return std::vector<MetricSample>{{{"ehr"}, 7}, {{"file"}, 0}};
                });
  // Registering again returns the same family.
  EXPECT_EQ(&m.AddCounter("t_requests_total", "x", {"route", "code"}), &c);
  EXPECT_EQ(m.Render(),
            "# HELP t_depth Depth\n"
            "# TYPE t_depth gauge\n"
            "t_depth 1.5\n"
            "# HELP t_queue Queue depth\n"
            "# TYPE t_queue gauge\n"
            "t_queue{endpoint=\"ehr\"} 7\n"
            "t_queue{endpoint=\"file\"} 0\n"
            "# HELP t_requests_total Requests\\nby route\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{route=\"a\",code=\"2xx\"} 3\n"
            "t_requests_total{route=\"b\\\"\\\\\\n\",code=\"5xx\"} 1\n"
            "# HELP t_seconds Latency\n"
            "# TYPE t_seconds histogram\n"
            "t_seconds_bucket{route=\"a\",le=\"0.1\"} 2\n"
            "t_seconds_bucket{route=\"a\",le=\"1\"} 2\n"
            "t_seconds_bucket{route=\"a\",le=\"+Inf\"} 3\n"
            "t_seconds_sum{route=\"a\"} 3.15\n"
            "t_seconds_count{route=\"a\"} 3\n");
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  MetricsRegistry m;
  CounterFamily& c = m.AddCounter("t_total", "T", {"worker"});
  HistogramFamily& h = m.AddHistogram("t_h", "H", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({std::to_string(t % 2)}).Inc();
        h.WithLabels({}).Observe(0.002);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.WithLabels({"0"}).Value() + c.WithLabels({"1"}).Value(), 40000);
  EXPECT_EQ(h.WithLabels({}).Count(), 40000u);
}

TEST(LogTest, WritesOneJsonObjectPerLine) {
  std::string out;
  Logger logger(LogLevel::kInfo, [&](std::string_view l) { out += l; });
  logger.Info("http.request")
      .Str("request_id", "r1")
      .Str("odd", "quote\" back\\ nl\n ctl\x01 bad\xff end")
      .Int("status", 202)
      .Num("duration_ms", 1.25)
      .Bool("tls", true);
  logger.Debug("hidden").Str("x", "y");
  logger.Error("redis.exited").Int("pid", 7);
  size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  std::string first = out.substr(0, nl);
  rapidjson::Document doc;
  doc.Parse(first.c_str());
  ASSERT_FALSE(doc.HasParseError()) << first;
  EXPECT_STREQ(doc["level"].GetString(), "info");
  EXPECT_STREQ(doc["event"].GetString(), "http.request");
  EXPECT_STREQ(doc["odd"].GetString(),
               "quote\" back\\ nl\n ctl\x01 bad\xEF\xBF\xBD end");
  EXPECT_EQ(doc["status"].GetInt(), 202);
  EXPECT_DOUBLE_EQ(doc["duration_ms"].GetDouble(), 1.25);
  EXPECT_TRUE(doc["tls"].GetBool());
  EXPECT_EQ(std::string(doc["time"].GetString()).size(), 24u);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("\"level\":\"error\",\"event\":\"redis.exited\""),
            std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(LogTest, SafeHeaderAllowList) {
  EXPECT_TRUE(IsSafeHeaderName("Content-Type"));
  EXPECT_TRUE(IsSafeHeaderName("x-request-id"));
  EXPECT_FALSE(IsSafeHeaderName("Authorization"));
  EXPECT_FALSE(IsSafeHeaderName("Cookie"));
  EXPECT_FALSE(IsSafeHeaderName("X-Patient-Id"));
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("warn", &level));
  EXPECT_EQ(level, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
}

}  // namespace
}  // namespace genogate::gateway
