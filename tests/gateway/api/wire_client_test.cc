// Helper translation unit for http_routes_test.cc (no tests here): the
// HTTP client family (genogate's Beast HttpClient, endpoints, delivery)
// behind wire_client.h, which names no message type. See wire_client.h.
#include "gateway/api/wire_client.h"

#include <gtest/gtest.h>

#include <cctype>

#include "gateway/api/endpoint_checker.h"
#include "gateway/config/endpoint.h"
#include "gateway/delivery/delivery_metrics.h"
#include "gateway/delivery/delivery_service.h"
#include "gateway/http/http_client.h"

namespace genogate::gateway::testing {

std::string WireResponse::Header(std::string_view name) const {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(c));
    return out;
  };
  for (const auto& [k, v] : headers) {
    if (lower(k) == lower(name)) return v;
  }
  return "";
}

WireClient::WireClient(int port) : port_(port) {
  HttpClientOptions o;
  o.connect_timeout = std::chrono::seconds(10);
  o.io_timeout = std::chrono::seconds(60);
  Result<std::unique_ptr<HttpClient>> c = NewHttpClient(o);
  EXPECT_TRUE(c.ok());
  if (c.ok()) client_ = std::shared_ptr<HttpClient>(std::move(c).value());
}

WireResponse WireClient::Send(const std::string& method,
                              const std::string& target, std::string body,
                              WireHeaders headers) const {
  WireResponse out;
  auto* client = static_cast<HttpClient*>(client_.get());
  if (client == nullptr) {
    out.error = "no client";
    return out;
  }
  HttpRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + target;
  req.headers = std::move(headers);
  req.body = std::move(body);
  Result<HttpResponse> r = client->Send(req);
  if (!r.ok()) {
    out.error = r.error().ToString();
    return out;
  }
  out.status = r->status;
  out.headers = std::move(r->headers);
  out.body = std::move(r->body);
  return out;
}

std::optional<DeliverySide> StartDeliverySide(
    const std::vector<std::string>& endpoint_flags, DeliveryQueue* queue,
    MetricsRegistry* metrics) {
  std::vector<Endpoint> endpoints;
  for (const std::string& flag : endpoint_flags) {
    Result<Endpoint> e = ParseEndpointFlag(flag);
    if (!e.ok()) {
      ADD_FAILURE() << e.error().ToString();
      return std::nullopt;
    }
    endpoints.push_back(std::move(e).value());
  }
  Result<std::unique_ptr<EndpointChecker>> checker =
      MakeEndpointChecker(endpoints);
  if (!checker.ok()) {
    ADD_FAILURE() << checker.error().ToString();
    return std::nullopt;
  }
  DeliveryServiceOptions o;
  o.idle_wait = std::chrono::milliseconds(20);
  Result<std::unique_ptr<DeliveryService>> service =
      DeliveryService::Create(endpoints, queue, o);
  if (!service.ok()) {
    ADD_FAILURE() << service.error().ToString();
    return std::nullopt;
  }
  std::shared_ptr<EndpointChecker> ck = std::move(checker).value();
  std::shared_ptr<DeliveryService> ds = std::move(service).value();
  if (metrics != nullptr) AddDeliveryMetrics(metrics, ds.get());
  ds->Start();
  DeliverySide side;
  side.checker = ck.get();
  side.stop = [ds] { ds->Stop(); };
  side.keep =
      std::make_shared<std::pair<std::shared_ptr<EndpointChecker>,
                                 std::shared_ptr<DeliveryService>>>(ck, ds);
  return side;
}

}  // namespace genogate::gateway::testing
