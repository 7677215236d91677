// TlsPeer: the identity strings of a verified client certificate, in the
// form the HTTP server puts in HttpRequest::client_cert_subject and
// client_cert_sans, for listeners that do not go through HttpRequest (the
// MLLP listener passes them to Authenticator::AuthenticateTlsPeer).
//
// The listener verifies the chain (OpenSSL, against the configured client
// CA) during the handshake; this only describes the leaf certificate:
//   i2d_X509(SSL_get0_peer_certificate(ssl), ...) -> TlsPeerFromDer(der).
//
// Thread-safety: a pure function.
#ifndef GENOGATE_GATEWAY_SECURITY_TLS_PEER_H_
#define GENOGATE_GATEWAY_SECURITY_TLS_PEER_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace genogate::gateway {

struct TlsPeer {
  // RFC 2253 form, most significant RDN last: "CN=acme,O=Acme Lab,C=GB"
  // (OpenSSL XN_FLAG_RFC2253: special characters backslash-escaped, bytes
  // above 0x7f as \XX, e.g. "CN=Labor M\C3\BCnchen"), exactly as the
  // HTTP server fills HttpRequest::client_cert_subject.
  std::string subject;
  // "DNS:<name>", "URI:<uri>", "email:<addr>", "IP:<addr>" (IPv4 dotted,
  // IPv6 in inet_ntop form), in certificate order; other kinds are left out.
  std::vector<std::string> sans;
};

// Describes a DER-encoded X.509 certificate. kInvalidInput if it does not
// parse.
Result<TlsPeer> TlsPeerFromDer(std::string_view der);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_TLS_PEER_H_
