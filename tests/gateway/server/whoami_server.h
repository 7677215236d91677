// A running HttpServer with one route, GET /whoami, that answers what the
// server told the handler about the connection ("tls=1", "subject=...",
// "san=..." lines). Defined in http_server_test.cc; declared here without
// any server header so that the TLS tests can use the HTTP client (whose
// HttpRequest/HttpResponse share names with the server's messages).
#ifndef GENOGATE_TESTS_GATEWAY_SERVER_WHOAMI_SERVER_H_
#define GENOGATE_TESTS_GATEWAY_SERVER_WHOAMI_SERVER_H_

#include <memory>
#include <string>

namespace genogate::gateway::testing {

class WhoAmIServer {
 public:
  virtual ~WhoAmIServer() = default;
  virtual int port() const = 0;
};

// TLS with cert/key (PEM); mTLS when client_ca is not empty. Returns null
// (with the reason in *error) if the server does not start.
std::unique_ptr<WhoAmIServer> StartWhoAmIServer(const std::string& cert,
                                                const std::string& key,
                                                const std::string& client_ca,
                                                std::string* error);

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_SERVER_WHOAMI_SERVER_H_
