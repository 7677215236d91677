#include "gateway/security/tls_peer.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace genogate::gateway {

Result<TlsPeer> TlsPeerFromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) {
    return Error(ErrorCode::kInvalidInput, "not a DER X.509 certificate");
  }
  TlsPeer peer;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) peer.subject.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      auto text = [](const ASN1_STRING* s) {
        return std::string(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<size_t>(ASN1_STRING_length(s)));
      };
      switch (gn->type) {
        case GEN_DNS:
          peer.sans.push_back("DNS:" + text(gn->d.dNSName));
          break;
        case GEN_URI:
          peer.sans.push_back("URI:" + text(gn->d.uniformResourceIdentifier));
          break;
        case GEN_EMAIL:
          peer.sans.push_back("email:" + text(gn->d.rfc822Name));
          break;
        case GEN_IPADD: {
          std::string raw = text(gn->d.iPAddress);
          char buf[INET6_ADDRSTRLEN] = {0};
          int af = raw.size() == 4 ? AF_INET : raw.size() == 16 ? AF_INET6 : 0;
          if (af != 0 &&
              inet_ntop(af, raw.data(), buf, sizeof buf) != nullptr) {
            peer.sans.push_back(std::string("IP:") + buf);
          }
          break;
        }
        default:
          break;
      }
    }
    GENERAL_NAMES_free(names);
  }
  X509_free(cert);
  return peer;
}

}  // namespace genogate::gateway
