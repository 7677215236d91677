// libFuzzer target: JWT and JWKS parsing (gateway/security/jwt.h).
//
// The first byte picks what the rest is fed to:
//   0  a compact JWS, verified against a fixed key set (EC P-256);
//   1  a JWK Set document;
//   2  a claims payload that the target signs itself with its key, so the
//      claim checks after a good signature see arbitrary JSON;
//   3  strict base64url, which must round-trip when it decodes.
// Checks: nothing crashes; a verified token is only ever the target's own
// signed payload; refusals are kUnauthenticated / kLimitExceeded.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/queue/clock.h"
#include "gateway/security/jwt.h"

using namespace genogate;           // NOLINT: fuzz driver
using namespace genogate::gateway;  // NOLINT: fuzz driver

namespace {

struct Fixture {
  EVP_PKEY* key = nullptr;
  FakeClock clock;
  std::unique_ptr<JwtVerifier> verifier;
};

std::string Coordinate(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) std::abort();
  std::string out(32, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_free(bn);
  return out;
}

Fixture* Get() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    fx->key = EVP_EC_gen("P-256");
    if (fx->key == nullptr) std::abort();
    std::string jwks =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":\"" +
        EncodeBase64Url(Coordinate(fx->key, OSSL_PKEY_PARAM_EC_PUB_X)) +
        "\",\"y\":\"" +
        EncodeBase64Url(Coordinate(fx->key, OSSL_PKEY_PARAM_EC_PUB_Y)) +
        "\"}]}";
    Result<JwkSet> set = JwkSet::Parse(jwks);
    if (!set.ok()) std::abort();
    JwtVerifierOptions o;
    o.issuer = "https://idp.test";
    o.audiences = {"genogate"};
    auto v = JwtVerifier::Create(o, NewStaticJwksSource(std::move(set).value()),
                                 &fx->clock);
    if (!v.ok()) std::abort();
    fx->verifier = std::move(v).value();
    return fx;
  }();
  return f;
}

std::string SignEs256(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key,
                            nullptr) != 1) {
    std::abort();
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &len, in, input.size());
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                     in, input.size()) != 1) {
    std::abort();
  }
  EVP_MD_CTX_free(ctx);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(&raw[0]),
               32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig),
               reinterpret_cast<unsigned char*>(&raw[32]), 32);
  ECDSA_SIG_free(sig);
  return raw;
}

void CheckRefusal(const Error& e) {
  if (e.code() != ErrorCode::kUnauthenticated &&
      e.code() != ErrorCode::kLimitExceeded) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture* f = Get();
  const uint8_t mode = data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode) {
    case 0: {
      (void)ParseCompactJws(text);
      (void)PeekIssuer(text);
      Result<JwtClaims> r = f->verifier->Verify(text);
      // Only the fixture's key signs, and the fuzzer does not have it.
      if (r.ok()) std::abort();
      CheckRefusal(r.error());
      break;
    }
    case 1: {
      Result<JwkSet> set = JwkSet::Parse(text);
      if (set.ok() && set->keys().empty()) std::abort();
      break;
    }
    case 2: {
      std::string input =
          EncodeBase64Url("{\"alg\":\"ES256\",\"kid\":\"k1\"}") + "." +
          EncodeBase64Url(text);
      std::string token =
          input + "." + EncodeBase64Url(SignEs256(f->key, input));
      Result<JwtClaims> r = f->verifier->Verify(token);
      if (r.ok()) {
        if (r->issuer != "https://idp.test") std::abort();
      } else {
        CheckRefusal(r.error());
      }
      break;
    }
    case 3: {
      Result<std::string> d = DecodeBase64Url(text);
      if (d.ok() && EncodeBase64Url(*d) != text) std::abort();
      break;
    }
  }
  return 0;
}
