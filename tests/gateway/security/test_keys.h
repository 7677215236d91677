// Test keys (generated per test binary with OpenSSL), their JWKs, and
// token signing, for the JWT and access-control tests.
#ifndef GENOGATE_TESTS_GATEWAY_SECURITY_TEST_KEYS_H_
#define GENOGATE_TESTS_GATEWAY_SECURITY_TEST_KEYS_H_

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/queue/clock.h"
#include "gateway/security/jwt.h"

namespace genogate::gateway::testing {

struct TestKey {
  EVP_PKEY* pkey = nullptr;
  std::string kty;  // RSA / EC
  std::string crv;
  std::string kid;
  ~TestKey() { EVP_PKEY_free(pkey); }
};

inline std::unique_ptr<TestKey> MakeRsaKey(std::string kid, int bits = 2048) {
  auto k = std::make_unique<TestKey>();
  k->pkey = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (k->pkey == nullptr) std::abort();
  k->kty = "RSA";
  k->kid = std::move(kid);
  return k;
}

inline std::unique_ptr<TestKey> MakeEcKey(std::string kid,
                                          std::string crv = "P-256") {
  auto k = std::make_unique<TestKey>();
  k->pkey = EVP_EC_gen(crv == "P-256" ? "P-256" : "P-384");
  if (k->pkey == nullptr) std::abort();
  k->kty = "EC";
  k->crv = std::move(crv);
  k->kid = std::move(kid);
  return k;
}

inline std::string BnBytes(const EVP_PKEY* pkey, const char* name,
                           int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) std::abort();
  int len = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(len), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
  BN_free(bn);
  return out;
}

// The public JWK of `k` as JSON (extra members appended verbatim).
inline std::string JwkJson(const TestKey& k, std::string_view extra = "") {
  std::string j = "{\"kty\":\"" + k.kty + "\"";
  if (!k.kid.empty()) j += ",\"kid\":\"" + k.kid + "\"";
  if (k.kty == "RSA") {
    j += ",\"n\":\"" + EncodeBase64Url(BnBytes(k.pkey, OSSL_PKEY_PARAM_RSA_N)) +
         "\"";
    j += ",\"e\":\"" + EncodeBase64Url(BnBytes(k.pkey, OSSL_PKEY_PARAM_RSA_E)) +
         "\"";
  } else {
    int n = k.crv == "P-256" ? 32 : 48;
    j += ",\"crv\":\"" + k.crv + "\"";
    j += ",\"x\":\"" +
         EncodeBase64Url(BnBytes(k.pkey, OSSL_PKEY_PARAM_EC_PUB_X, n)) + "\"";
    j += ",\"y\":\"" +
         EncodeBase64Url(BnBytes(k.pkey, OSSL_PKEY_PARAM_EC_PUB_Y, n)) + "\"";
  }
  j += std::string(extra) + "}";
  return j;
}

inline std::string JwksJson(std::initializer_list<const TestKey*> keys) {
  std::string j = "{\"keys\":[";
  bool first = true;
  for (const TestKey* k : keys) {
    if (!first) j += ",";
    first = false;
    j += JwkJson(*k);
  }
  return j + "]}";
}

// Signs `input` with `k` for `alg` (RS*, PS*, ES*), JOSE form.
inline std::string Sign(const TestKey& k, std::string_view alg,
                        std::string_view input) {
  const char* md = alg.substr(2) == "256" ? "SHA256" : "SHA384";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, k.pkey,
                            nullptr) != 1) {
    std::abort();
  }
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len,
                 reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    std::abort();
  }
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg[0] != 'E') return sig;
  // DER -> r||s
  int half = alg == "ES256" ? 32 : 48;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(static_cast<size_t>(2 * half), '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(&raw[0]),
               half);
  BN_bn2binpad(
      ECDSA_SIG_get0_s(es),
      reinterpret_cast<unsigned char*>(&raw[static_cast<size_t>(half)]), half);
  ECDSA_SIG_free(es);
  return raw;
}

// A compact JWS from raw header and payload JSON, signed with `k`.
inline std::string MakeToken(const TestKey& k, std::string_view alg,
                             std::string_view header_json,
                             std::string_view payload_json) {
  std::string input =
      EncodeBase64Url(header_json) + "." + EncodeBase64Url(payload_json);
  return input + "." + EncodeBase64Url(Sign(k, alg, input));
}

// Seconds since the epoch of the FakeClock's default start.
inline int64_t FakeNow() { return ToUnixMillis(FakeClock().Now()) / 1000; }

// Standard claims for issuer "https://idp.test", audience "genogate".
inline std::string Claims(std::string_view extra = "", int64_t exp_in = 300,
                          std::string_view aud = "\"genogate\"",
                          std::string_view iss = "https://idp.test") {
  int64_t now = FakeNow();
  return "{\"iss\":\"" + std::string(iss) + "\",\"sub\":\"acme-client\"," +
         "\"aud\":" + std::string(aud) +
         ",\"iat\":" + std::to_string(now - 10) +
         ",\"exp\":" + std::to_string(now + exp_in) + std::string(extra) + "}";
}

inline std::string Header(const TestKey& k, std::string_view alg) {
  return "{\"alg\":\"" + std::string(alg) + "\",\"typ\":\"JWT\",\"kid\":\"" +
         k.kid + "\"}";
}

// A self-signed certificate for `key` with subject CN/O and SANs (DER).
inline std::string SelfSignedDer(const TestKey& key, const std::string& cn,
                                 const std::string& org,
                                 const std::string& san_ext) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key.pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("GB"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!san_ext.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(
        nullptr, &ctx, NID_subject_alt_name, san_ext.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key.pkey, EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

}  // namespace genogate::gateway::testing

#endif  // GENOGATE_TESTS_GATEWAY_SECURITY_TEST_KEYS_H_
