// Helpers for the HTTP-level API tests (http_routes_test.cc): a real HTTP
// client over loopback sockets (genogate's Beast HttpClient), and the
// delivery side of `genogate serve` (delivery workers and the endpoint
// checker over configured endpoints).
//
// Both need the HTTP client family (http_client.h, endpoint.h), whose
// HttpRequest/HttpResponse share names with the server's messages, so no
// message type of either family appears here: the implementation lives in
// wire_client_test.cc, a translation unit without tests (the test binary
// is built from *_test.cc files).
#ifndef GENOGATE_TESTS_GATEWAY_API_WIRE_CLIENT_H_
#define GENOGATE_TESTS_GATEWAY_API_WIRE_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genogate::gateway {
class DeliveryQueue;
class EndpointChecker;
class MetricsRegistry;
}  // namespace genogate::gateway

namespace genogate::gateway::testing {

using WireHeaders = std::vector<std::pair<std::string, std::string>>;

struct WireResponse {
  // 0 when no response came (then `error` says why).
  int status = 0;
  WireHeaders headers;
  std::string body;
  std::string error;
  // The first header field named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

// An HTTP/1.1 client of http://127.0.0.1:PORT with a keep-alive pool.
// Thread-safe.
class WireClient {
 public:
  explicit WireClient(int port);
  // `target` is the path and query as sent ("/fhir/$validate?profile=...").
  WireResponse Send(const std::string& method, const std::string& target,
                    std::string body = "", WireHeaders headers = {}) const;

 private:
  int port_;
  std::shared_ptr<void> client_;
};

// What StartDeliverySide built; `stop` stops the delivery workers (also
// done when `keep` is released).
struct DeliverySide {
  std::shared_ptr<void> keep;
  EndpointChecker* checker = nullptr;
  std::function<void()> stop;
};

// Endpoints from "NAME=URL" flags (as `genogate serve --endpoint`), an
// EndpointChecker over them, and a started DeliveryService on `queue`
// whose delivery counters are registered in `metrics` (if not null).
// nullopt (and a test failure) on errors.
std::optional<DeliverySide> StartDeliverySide(
    const std::vector<std::string>& endpoint_flags, DeliveryQueue* queue,
    MetricsRegistry* metrics);

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_API_WIRE_CLIENT_H_
