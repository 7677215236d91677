// FakeHttpClient: answers from a script and records what was sent.
#ifndef GENOGATE_TESTS_GATEWAY_HTTP_FAKE_HTTP_CLIENT_H_
#define GENOGATE_TESTS_GATEWAY_HTTP_FAKE_HTTP_CLIENT_H_

#include <deque>
#include <mutex>
#include <vector>

#include "gateway/http/http_client.h"

namespace genogate::gateway::testing {

class FakeHttpClient final : public HttpClient {
 public:
  // Queues an answer; when the script is empty, `fallback` is used.
  void Push(Result<HttpResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  void PushStatus(
      int status, std::string body = "",
      std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    Push(std::move(r));
  }
  void SetFallback(Result<HttpResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    fallback_ = std::move(r);
  }
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) return fallback_;
    Result<HttpResponse> r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  Result<HttpResponse> fallback_{
      Error(ErrorCode::kUnavailable, "connection refused (fake)")};
  std::vector<HttpRequest> requests_;
};

inline std::string TransactionResponse(std::vector<std::string> locations) {
  std::string s =
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\","
      "\"entry\":[";
  for (size_t i = 0; i < locations.size(); ++i) {
    if (i) s += ",";
    s += "{\"response\":{\"status\":\"201 Created\",\"location\":\"" +
         locations[i] + "\"}}";
  }
  return s + "]}";
}

inline constexpr char kOutcome400[] =
    "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
    "\"error\",\"code\":\"processing\",\"diagnostics\":\"Unknown "
    "ObservationStatus code 'finished'\"}]}";

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_HTTP_FAKE_HTTP_CLIENT_H_
