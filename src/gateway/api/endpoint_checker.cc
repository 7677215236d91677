// Includes the HTTP client (via target.h), so it must not include
// server/http_message.h.
#include "gateway/api/endpoint_checker.h"

#include <rapidjson/document.h>

#include <chrono>
#include <optional>

#include "gateway/config/endpoint.h"
#include "gateway/delivery/target.h"
#include "gateway/http/fhir_client.h"

namespace genogate::gateway {
namespace {

struct Checked {
  EndpointInfo info;
  std::string directory;  // file://
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<AuthProvider> auth;
  std::optional<FhirClient> client;
};

class FhirEndpointChecker final : public EndpointChecker {
 public:
  explicit FhirEndpointChecker(std::vector<std::unique_ptr<Checked>> checked)
      : checked_(std::move(checked)) {
    for (const auto& c : checked_) infos_.push_back(c->info);
  }

  const std::vector<EndpointInfo>& endpoints() const override { return infos_; }

  Result<EndpointCheckResult> Check(std::string_view name) override {
    for (const auto& c : checked_) {
      if (c->info.name == name) return Run(*c);
    }
    return Error(ErrorCode::kNotFound, "no such endpoint");
  }

 private:
  static EndpointCheckResult Run(Checked& c) {
    EndpointCheckResult r;
    auto start = std::chrono::steady_clock::now();
    auto finish = [&] {
      r.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    };
    if (!c.client) {
      FileOutbox outbox(c.directory);
      Status s = outbox.Probe();
      finish();
      r.ok = s.ok();
      if (!s.ok()) r.error = s.error().ToString();
      return r;
    }
    Result<std::string> metadata = c.client->Metadata();
    finish();
    if (!metadata.ok()) {
      r.error = metadata.error().ToString();
      return r;
    }
    r.ok = true;
    rapidjson::Document doc;
    doc.Parse(metadata->data(), metadata->size());
    if (!doc.HasParseError() && doc.IsObject()) {
      auto str = [](const rapidjson::Value& v, const char* k) -> std::string {
        auto it = v.FindMember(k);
        if (it == v.MemberEnd() || !it->value.IsString()) return "";
        return std::string(it->value.GetString(), it->value.GetStringLength());
      };
      const rapidjson::Value& root = doc;  // const iterators: clang C++20
      r.fhir_version = str(root, "fhirVersion");
      auto sw = root.FindMember("software");
      if (sw != root.MemberEnd() && sw->value.IsObject()) {
        r.software = str(sw->value, "name");
        std::string v = str(sw->value, "version");
        if (!v.empty()) r.software += " " + v;
      }
    }
    return r;
  }

  std::vector<std::unique_ptr<Checked>> checked_;
  std::vector<EndpointInfo> infos_;
};

}  // namespace

Result<std::unique_ptr<EndpointChecker>> MakeEndpointChecker(
    const std::vector<Endpoint>& endpoints, const Clock* clock) {
  std::vector<std::unique_ptr<Checked>> checked;
  for (const Endpoint& e : endpoints) {
    auto c = std::make_unique<Checked>();
    c->info.name = e.name;
    c->info.url = e.url;
    if (e.kind == Endpoint::Kind::kFile) {
      c->info.kind = "file";
      c->directory = e.directory;
    } else {
      c->info.kind = "fhir";
      Result<FhirClient> client = MakeFhirClient(e, &c->http, &c->auth, clock);
      if (!client.ok()) return client.error();
      c->client.emplace(std::move(client).value());
    }
    checked.push_back(std::move(c));
  }
  return std::unique_ptr<EndpointChecker>(
      std::make_unique<FhirEndpointChecker>(std::move(checked)));
}

}  // namespace genogate::gateway
