#include "gateway/security/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>

#include "base/file.h"
#include "gateway/http/http_client.h"

namespace genogate::gateway {

struct PublicKey {
  EVP_PKEY* pkey = nullptr;
  ~PublicKey() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view kB64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

Error Unauth(std::string message) {
  return Error(ErrorCode::kUnauthenticated, std::move(message));
}

// The accepted algorithms and what they need.
struct AlgInfo {
  std::string_view name;
  std::string_view kty;     // "RSA" or "EC"
  std::string_view crv;     // EC curve
  std::string_view digest;  // OpenSSL digest name
  bool pss;
  size_t ec_bytes;  // bytes of r and of s
};

constexpr AlgInfo kAlgs[] = {
    {"RS256", "RSA", "", "SHA256", false, 0},
    {"RS384", "RSA", "", "SHA384", false, 0},
    {"PS256", "RSA", "", "SHA256", true, 0},
    {"PS384", "RSA", "", "SHA384", true, 0},
    {"ES256", "EC", "P-256", "SHA256", false, 32},
    {"ES384", "EC", "P-384", "SHA384", false, 48},
};

const AlgInfo* FindAlg(std::string_view name) {
  for (const AlgInfo& a : kAlgs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

using JsonDoc = rapidjson::Document;

// Parses a JSON object (whole input, valid UTF-8, iterative so deep nesting
// cannot exhaust the stack) and refuses duplicate top-level member names.
Result<JsonDoc> ParseObject(std::string_view text, std::string_view what) {
  JsonDoc doc;
  doc.Parse<rapidjson::kParseIterativeFlag |
            rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Error(ErrorCode::kInvalidInput,
                 std::string(what) + " is not valid JSON (" +
                     rapidjson::GetParseError_En(doc.GetParseError()) + ")");
  }
  if (!doc.IsObject()) {
    return Error(ErrorCode::kInvalidInput,
                 std::string(what) + " is not a JSON object");
  }
  std::set<std::string_view> names;
  const rapidjson::Value& obj = doc;  // const iterators (clang, C++20)
  for (const auto& m : obj.GetObject()) {
    std::string_view n(m.name.GetString(), m.name.GetStringLength());
    if (!names.insert(n).second) {
      return Error(ErrorCode::kInvalidInput,
                   std::string(what) + " has a duplicate member");
    }
  }
  return doc;
}

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// The string member `name`: nullptr if absent, error if not a string.
Result<const rapidjson::Value*> StringMember(const rapidjson::Value& obj,
                                             const char* name,
                                             std::string_view what) {
  const rapidjson::Value* v = Member(obj, name);
  if (v != nullptr && !v->IsString()) {
    return Error(ErrorCode::kInvalidInput,
                 std::string(what) + ": \"" + name + "\" is not a string");
  }
  return v;
}

std::string Str(const rapidjson::Value* v) {
  return v == nullptr ? std::string()
                      : std::string(v->GetString(), v->GetStringLength());
}

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

Result<std::shared_ptr<const PublicKey>> FromData(const char* type,
                                                  OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params != nullptr && ctx != nullptr &&
            EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok || pkey == nullptr) {
    EVP_PKEY_free(pkey);
    return Error(ErrorCode::kInvalidInput, "JWK: not a valid public key");
  }
  auto key = std::make_shared<PublicKey>();
  key->pkey = pkey;
  return std::shared_ptr<const PublicKey>(std::move(key));
}

Result<std::string> B64Member(const rapidjson::Value& jwk, const char* name) {
  Result<const rapidjson::Value*> v = StringMember(jwk, name, "JWK");
  if (!v.ok()) return v.error();
  if (*v == nullptr) {
    return Error(ErrorCode::kInvalidInput,
                 std::string("JWK: \"") + name + "\" is missing");
  }
  Result<std::string> bytes = DecodeBase64Url(Str(*v));
  if (!bytes.ok() || bytes->empty()) {
    return Error(ErrorCode::kInvalidInput,
                 std::string("JWK: \"") + name + "\" is not base64url");
  }
  return bytes;
}

// Builds an RSA key; nullptr (skip) for a modulus under 2048 bits.
Result<std::shared_ptr<const PublicKey>> RsaKey(const rapidjson::Value& jwk) {
  Result<std::string> n = B64Member(jwk, "n");
  if (!n.ok()) return n.error();
  Result<std::string> e = B64Member(jwk, "e");
  if (!e.ok()) return e.error();
  if (e->size() > 8) return Error(ErrorCode::kInvalidInput, "JWK: bad \"e\"");
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                       static_cast<int>(n->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                       static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return Error(ErrorCode::kInternal, "out of memory");
  if (BN_num_bits(bn_n.get()) < 2048) {
    return std::shared_ptr<const PublicKey>();
  }
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return Error(ErrorCode::kInvalidInput, "JWK: bad \"e\"");
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return Error(ErrorCode::kInternal, "out of memory");
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  auto key = FromData("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

Result<std::shared_ptr<const PublicKey>> EcKey(const rapidjson::Value& jwk,
                                               const std::string& crv) {
  const char* group = crv == "P-256" ? "prime256v1" : "secp384r1";
  size_t bytes = crv == "P-256" ? 32 : 48;
  Result<std::string> x = B64Member(jwk, "x");
  if (!x.ok()) return x.error();
  Result<std::string> y = B64Member(jwk, "y");
  if (!y.ok()) return y.error();
  if (x->size() != bytes || y->size() != bytes) {
    return Error(ErrorCode::kInvalidInput,
                 "JWK: \"x\"/\"y\" have the wrong length for " + crv);
  }
  std::string point = "\x04" + *x + *y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return Error(ErrorCode::kInternal, "out of memory");
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  auto key = FromData("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return key;
}

// Parses one JWK; an empty optional-like Jwk (key == nullptr) means "skip".
Result<Jwk> ParseJwk(const rapidjson::Value& v) {
  if (!v.IsObject()) {
    return Error(ErrorCode::kInvalidInput, "JWK is not a JSON object");
  }
  Jwk jwk;
  for (const char* name : {"kty", "kid", "alg", "use", "crv"}) {
    Result<const rapidjson::Value*> m = StringMember(v, name, "JWK");
    if (!m.ok()) return m.error();
  }
  jwk.kty = Str(Member(v, "kty"));
  jwk.kid = Str(Member(v, "kid"));
  jwk.alg = Str(Member(v, "alg"));
  std::string use = Str(Member(v, "use"));
  if (jwk.kty.empty()) {
    return Error(ErrorCode::kInvalidInput, "JWK: \"kty\" is missing");
  }
  if (!use.empty() && use != "sig") return jwk;  // encryption key: skip
  if (!jwk.alg.empty()) {
    const AlgInfo* a = FindAlg(jwk.alg);
    if (a == nullptr || a->kty != jwk.kty) return jwk;  // not for us: skip
  }
  if (jwk.kty == "RSA") {
    Result<std::shared_ptr<const PublicKey>> k = RsaKey(v);
    if (!k.ok()) return k.error();
    jwk.key = std::move(k).value();
  } else if (jwk.kty == "EC") {
    jwk.crv = Str(Member(v, "crv"));
    if (jwk.crv != "P-256" && jwk.crv != "P-384") return jwk;  // skip
    Result<std::shared_ptr<const PublicKey>> k = EcKey(v, jwk.crv);
    if (!k.ok()) return k.error();
    jwk.key = std::move(k).value();
  }
  return jwk;
}

bool KeyFits(const AlgInfo& alg, const Jwk& jwk) {
  if (jwk.key == nullptr || jwk.kty != alg.kty) return false;
  if (alg.kty == "EC" && jwk.crv != alg.crv) return false;
  return jwk.alg.empty() || jwk.alg == alg.name;
}

// JOSE r||s to DER ECDSA-Sig-Value.
Result<std::string> EcdsaToDer(std::string_view sig, size_t half) {
  if (sig.size() != 2 * half) {
    return Unauth("signature has the wrong length");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(p + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* es = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || es == nullptr) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return Error(ErrorCode::kInternal, "out of memory");
  }
  ECDSA_SIG_set0(es, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  if (len <= 0) return Error(ErrorCode::kInternal, "cannot encode signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Seconds since the epoch of a NumericDate member, clamped to a sane range.
Result<std::optional<double>> NumericDate(const rapidjson::Value& payload,
                                          const char* name) {
  const rapidjson::Value* v = Member(payload, name);
  if (v == nullptr) return std::optional<double>();
  if (!v->IsNumber()) {
    return Unauth(std::string("claim \"") + name + "\" is not a number");
  }
  double d = v->GetDouble();
  if (!std::isfinite(d)) {
    return Unauth(std::string("claim \"") + name + "\" is not a number");
  }
  return std::optional<double>(std::clamp(d, -1e11, 1e11));
}

}  // namespace

Result<std::string> DecodeBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) {
    return Error(ErrorCode::kInvalidInput, "base64url text has a bad length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    size_t v = kB64Url.find(c);
    if (v == std::string_view::npos) {
      return Error(ErrorCode::kInvalidInput, "not a base64url character");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) {
    return Error(ErrorCode::kInvalidInput, "base64url text is not canonical");
  }
  return out;
}

std::string EncodeBase64Url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64Url[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kB64Url[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Result<JwkSet> JwkSet::Parse(std::string_view json) {
  JsonDoc doc;
  doc.Parse<rapidjson::kParseIterativeFlag |
            rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Error(ErrorCode::kInvalidInput, "JWK Set is not a JSON object");
  }
  JwkSet set;
  auto add = [&](const rapidjson::Value& v) -> Status {
    Result<Jwk> jwk = ParseJwk(v);
    if (!jwk.ok()) return jwk.error();
    if (jwk->key != nullptr) set.keys_.push_back(std::move(jwk).value());
    return Status::Ok();
  };
  if (const rapidjson::Value* keys = Member(doc, "keys")) {
    if (!keys->IsArray()) {
      return Error(ErrorCode::kInvalidInput,
                   "JWK Set: \"keys\" is not an array");
    }
    if (keys->Size() > 256) {
      return Error(ErrorCode::kLimitExceeded, "JWK Set has too many keys");
    }
    for (const auto& k : keys->GetArray()) {
      Status s = add(k);
      if (!s.ok()) return s.error();
    }
  } else {
    Status s = add(doc);
    if (!s.ok()) return s.error();
  }
  if (set.keys_.empty()) {
    return Error(ErrorCode::kNotFound, "JWK Set has no usable signing key");
  }
  return set;
}

Result<JwkSet> JwkSet::LoadFile(const std::string& path) {
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.error().WithContext(path);
  Result<JwkSet> set = Parse(*text);
  if (!set.ok()) return set.error().WithContext(path);
  return set;
}

std::vector<const Jwk*> JwkSet::Find(std::string_view kid) const {
  std::vector<const Jwk*> out;
  for (const Jwk& k : keys_) {
    if (kid.empty() || k.kid == kid) out.push_back(&k);
  }
  return out;
}

namespace {

class StaticJwksSource final : public JwksSource {
 public:
  explicit StaticJwksSource(JwkSet set)
      : set_(std::make_shared<const JwkSet>(std::move(set))) {}
  Result<std::shared_ptr<const JwkSet>> Keys(bool) override { return set_; }

 private:
  std::shared_ptr<const JwkSet> set_;
};

class UrlJwksSource final : public JwksSource {
 public:
  UrlJwksSource(UrlJwksOptions options, HttpClient* client, const Clock* clock)
      : options_(std::move(options)), client_(client), clock_(clock) {}

  Result<std::shared_ptr<const JwkSet>> Keys(bool unknown_kid) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!WantFetch(unknown_kid)) return Current();
      if (current_ != nullptr && fetching_) return current_;
    }
    std::lock_guard<std::mutex> fetch_lock(fetch_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Another thread may have fetched while we waited.
      if (!WantFetch(unknown_kid)) return Current();
      fetching_ = true;
      last_attempt_ = clock_->Now();
      attempted_ = true;
    }
    Result<JwkSet> fetched = Fetch();
    std::lock_guard<std::mutex> lock(mu_);
    fetching_ = false;
    if (fetched.ok()) {
      current_ = std::make_shared<const JwkSet>(std::move(fetched).value());
      fetched_at_ = last_attempt_;
      last_ok_ = true;
    } else {
      last_error_ = fetched.error();
      last_ok_ = false;
    }
    return Current();
  }

 private:
  // Under mu_.
  bool WantFetch(bool unknown_kid) const {
    if (!attempted_) return true;
    Timestamp now = clock_->Now();
    bool interval_passed = now >= last_attempt_ + options_.min_refresh_interval;
    if (current_ == nullptr) return interval_passed;
    if (unknown_kid && interval_passed) return true;
    bool stale = now >= fetched_at_ + options_.ttl;
    return stale && (last_ok_ || interval_passed);
  }
  Result<std::shared_ptr<const JwkSet>> Current() const {
    if (current_ != nullptr) return current_;
    return last_error_;
  }

  Result<JwkSet> Fetch() {
    HttpRequest req;
    req.method = "GET";
    req.url = options_.url;
    req.headers.emplace_back("Accept", "application/json");
    Result<HttpResponse> resp = client_->Send(req);
    if (!resp.ok()) return resp.error().WithContext("JWKS fetch");
    if (resp->status != 200) {
      ErrorCode code =
          resp->status >= 500 || resp->status == 429 || resp->status == 408
              ? ErrorCode::kUnavailable
              : ErrorCode::kInvalidInput;
      return Error(code,
                   "JWKS fetch: HTTP status " + std::to_string(resp->status));
    }
    Result<JwkSet> set = JwkSet::Parse(resp->body);
    if (!set.ok()) return set.error().WithContext("JWKS fetch");
    return set;
  }

  const UrlJwksOptions options_;
  HttpClient* const client_;
  const Clock* const clock_;
  std::mutex fetch_mu_;
  std::mutex mu_;
  std::shared_ptr<const JwkSet> current_;
  Timestamp fetched_at_{};
  Timestamp last_attempt_{};
  bool attempted_ = false;
  bool fetching_ = false;
  bool last_ok_ = false;
  Error last_error_{ErrorCode::kUnavailable, "JWKS not fetched yet"};
};

}  // namespace

std::unique_ptr<JwksSource> NewStaticJwksSource(JwkSet set) {
  return std::make_unique<StaticJwksSource>(std::move(set));
}

std::unique_ptr<JwksSource> NewUrlJwksSource(UrlJwksOptions options,
                                             HttpClient* client,
                                             const Clock* clock) {
  return std::make_unique<UrlJwksSource>(std::move(options), client, clock);
}

Result<CompactJws> ParseCompactJws(std::string_view token, size_t max_bytes) {
  if (token.size() > max_bytes) {
    return Error(ErrorCode::kLimitExceeded, "token is too long");
  }
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return Error(ErrorCode::kInvalidInput, "not a compact JWS (three parts)");
  }
  std::string_view h = token.substr(0, d1);
  std::string_view p = token.substr(d1 + 1, d2 - d1 - 1);
  std::string_view s = token.substr(d2 + 1);
  if (h.empty() || p.empty()) {
    return Error(ErrorCode::kInvalidInput, "empty header or payload");
  }
  CompactJws jws;
  Result<std::string> header = DecodeBase64Url(h);
  if (!header.ok()) return header.error().WithContext("header");
  Result<std::string> payload = DecodeBase64Url(p);
  if (!payload.ok()) return payload.error().WithContext("payload");
  Result<std::string> sig = DecodeBase64Url(s);
  if (!sig.ok()) return sig.error().WithContext("signature");
  Result<JsonDoc> hdoc = ParseObject(*header, "header");
  if (!hdoc.ok()) return hdoc.error();
  for (const char* name : {"alg", "kid", "typ", "cty"}) {
    Result<const rapidjson::Value*> m = StringMember(*hdoc, name, "header");
    if (!m.ok()) return m.error();
  }
  jws.alg = Str(Member(*hdoc, "alg"));
  jws.kid = Str(Member(*hdoc, "kid"));
  jws.typ = Str(Member(*hdoc, "typ"));
  if (jws.alg.empty()) {
    return Error(ErrorCode::kInvalidInput, "header has no \"alg\"");
  }
  if (Member(*hdoc, "crit") != nullptr) {
    return Error(ErrorCode::kInvalidInput,
                 "header has \"crit\" parameters (not supported)");
  }
  if (Member(*hdoc, "enc") != nullptr) {
    return Error(ErrorCode::kInvalidInput, "encrypted tokens are not accepted");
  }
  Result<JsonDoc> pdoc = ParseObject(*payload, "payload");
  if (!pdoc.ok()) return pdoc.error();
  jws.header_json = std::move(header).value();
  jws.payload_json = std::move(payload).value();
  jws.signing_input = std::string(token.substr(0, d2));
  jws.signature = std::move(sig).value();
  return jws;
}

Status VerifyJwsSignature(std::string_view alg_name, const Jwk& key,
                          std::string_view signing_input,
                          std::string_view signature) {
  const AlgInfo* alg = FindAlg(alg_name);
  if (alg == nullptr) {
    return Error(ErrorCode::kInvalidInput, "unsupported algorithm");
  }
  if (!KeyFits(*alg, key)) {
    return Unauth("the key does not fit algorithm " + std::string(alg->name));
  }
  std::string der;
  if (alg->kty == "EC") {
    Result<std::string> d = EcdsaToDer(signature, alg->ec_bytes);
    if (!d.ok()) return d.error();
    der = std::move(d).value();
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Error(ErrorCode::kInternal, "out of memory");
  EVP_PKEY_CTX* pctx = nullptr;
  std::string digest(alg->digest);
  bool ok = EVP_DigestVerifyInit_ex(ctx, &pctx, digest.c_str(), nullptr,
                                    nullptr, key.key->pkey, nullptr) == 1;
  if (ok && alg->pss) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  int verified =
      ok ? EVP_DigestVerify(
               ctx, reinterpret_cast<const unsigned char*>(signature.data()),
               signature.size(),
               reinterpret_cast<const unsigned char*>(signing_input.data()),
               signing_input.size())
         : -1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Error(ErrorCode::kInternal, "signature check setup failed");
  if (verified != 1) return Unauth("signature does not verify");
  return Status::Ok();
}

const std::vector<std::string>& JwtClaims::Values(std::string_view name) const {
  static const std::vector<std::string>* const kEmpty =
      new std::vector<std::string>();
  auto it = strings.find(name);
  return it == strings.end() ? *kEmpty : it->second;
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(
    JwtVerifierOptions options, std::unique_ptr<JwksSource> keys,
    const Clock* clock) {
  if (options.issuer.empty()) {
    return Error(ErrorCode::kInvalidInput, "JWT issuer is required");
  }
  if (options.audiences.empty()) {
    return Error(ErrorCode::kInvalidInput, "JWT audience is required");
  }
  for (const std::string& a : options.algorithms) {
    if (FindAlg(a) == nullptr) {
      return Error(ErrorCode::kInvalidInput,
                   "algorithm '" + a +
                       "' is not accepted (RS256, RS384, PS256, PS384, "
                       "ES256, ES384)");
    }
  }
  if (keys == nullptr || clock == nullptr) {
    return Error(ErrorCode::kInvalidInput, "JWT verifier needs keys and clock");
  }
  return std::unique_ptr<JwtVerifier>(
      new JwtVerifier(std::move(options), std::move(keys), clock));
}

JwtVerifier::JwtVerifier(JwtVerifierOptions options,
                         std::unique_ptr<JwksSource> keys, const Clock* clock)
    : options_(std::move(options)), keys_(std::move(keys)), clock_(clock) {}

Result<JwtClaims> JwtVerifier::Verify(std::string_view token) const {
  Result<CompactJws> jws = ParseCompactJws(token, options_.max_token_bytes);
  if (!jws.ok()) {
    if (jws.error().code() == ErrorCode::kLimitExceeded) return jws.error();
    return Unauth("malformed token: " + jws.error().message());
  }
  const AlgInfo* alg = FindAlg(jws->alg);
  bool allowed =
      alg != nullptr &&
      (options_.algorithms.empty() ||
       std::find(options_.algorithms.begin(), options_.algorithms.end(),
                 jws->alg) != options_.algorithms.end());
  if (!allowed) {
    // The algorithm name is attacker-chosen: quote it only if it is short
    // and plain.
    bool plain = jws->alg.size() <= 16 &&
                 std::all_of(jws->alg.begin(), jws->alg.end(),
                             [](char c) { return std::isalnum(c) != 0; });
    return Unauth("algorithm " + (plain ? jws->alg : std::string("(invalid)")) +
                  " is not accepted");
  }
  // Candidate keys: by kid (refreshing once on an unknown kid), or every
  // key that fits the algorithm when the token names none.
  Result<std::shared_ptr<const JwkSet>> set = keys_->Keys(false);
  if (!set.ok()) return set.error();
  std::vector<const Jwk*> candidates = (*set)->Find(jws->kid);
  if (candidates.empty() && !jws->kid.empty()) {
    set = keys_->Keys(true);
    if (!set.ok()) return set.error();
    candidates = (*set)->Find(jws->kid);
    if (candidates.empty()) return Unauth("unknown key id");
  }
  bool fits = false;
  bool verified = false;
  for (const Jwk* k : candidates) {
    if (!KeyFits(*alg, *k)) continue;
    fits = true;
    Status s =
        VerifyJwsSignature(alg->name, *k, jws->signing_input, jws->signature);
    if (s.ok()) {
      verified = true;
      break;
    }
    if (s.error().code() == ErrorCode::kInternal) return s.error();
  }
  if (!fits) return Unauth("no key fits algorithm " + jws->alg);
  if (!verified) return Unauth("signature does not verify");

  // Claims (the signature is good, so the payload is the issuer's).
  Result<JsonDoc> doc = ParseObject(jws->payload_json, "payload");
  if (!doc.ok()) return Unauth(doc.error().message());
  const rapidjson::Value& payload = *doc;
  JwtClaims claims;
  claims.alg = jws->alg;
  claims.kid = jws->kid;
  const rapidjson::Value* iss = Member(payload, "iss");
  if (iss == nullptr || !iss->IsString() || Str(iss) != options_.issuer) {
    return Unauth("wrong issuer");
  }
  claims.issuer = Str(iss);
  const rapidjson::Value* sub = Member(payload, "sub");
  if (sub != nullptr) {
    if (!sub->IsString()) return Unauth("claim \"sub\" is not a string");
    claims.subject = Str(sub);
  }
  const rapidjson::Value* aud = Member(payload, "aud");
  if (aud == nullptr) return Unauth("token has no audience");
  if (aud->IsString()) {
    claims.audiences.push_back(Str(aud));
  } else if (aud->IsArray()) {
    for (const auto& a : aud->GetArray()) {
      if (!a.IsString()) return Unauth("claim \"aud\" is not a string array");
      claims.audiences.push_back(Str(&a));
    }
  } else {
    return Unauth("claim \"aud\" is not a string or array");
  }
  bool aud_ok = false;
  for (const std::string& a : claims.audiences) {
    for (const std::string& want : options_.audiences) {
      if (a == want) aud_ok = true;
    }
  }
  if (!aud_ok) return Unauth("wrong audience");

  const double now = static_cast<double>(ToUnixMillis(clock_->Now())) / 1000.0;
  const double skew = static_cast<double>(options_.clock_skew.count());
  Result<std::optional<double>> exp = NumericDate(payload, "exp");
  if (!exp.ok()) return exp.error();
  Result<std::optional<double>> nbf = NumericDate(payload, "nbf");
  if (!nbf.ok()) return nbf.error();
  Result<std::optional<double>> iat = NumericDate(payload, "iat");
  if (!iat.ok()) return iat.error();
  if (!exp->has_value()) return Unauth("token has no expiry");
  if (now >= **exp + skew) return Unauth("token expired");
  if (nbf->has_value() && now + skew < **nbf) {
    return Unauth("token not yet valid");
  }
  if (iat->has_value() && now + skew < **iat) {
    return Unauth("token issued in the future");
  }
  if (options_.max_lifetime.count() > 0 && iat->has_value() &&
      **exp - **iat > static_cast<double>(options_.max_lifetime.count())) {
    return Unauth("token lifetime is longer than allowed");
  }
  claims.expires = FromUnixMillis(static_cast<int64_t>(**exp * 1000.0));

  for (const auto& m : payload.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    std::vector<std::string> values;
    if (m.value.IsString()) {
      std::string v = Str(&m.value);
      if (name == "scope" || name == "scp") {
        size_t start = 0;
        while (start <= v.size()) {
          size_t sp = v.find(' ', start);
          if (sp == std::string::npos) sp = v.size();
          if (sp > start) values.push_back(v.substr(start, sp - start));
          start = sp + 1;
        }
      } else {
        values.push_back(std::move(v));
      }
    } else if (m.value.IsArray()) {
      bool all_strings = true;
      for (const auto& e : m.value.GetArray()) {
        if (!e.IsString()) {
          all_strings = false;
          break;
        }
        values.push_back(Str(&e));
      }
      if (!all_strings) continue;
    } else {
      continue;
    }
    claims.strings.emplace(std::move(name), std::move(values));
  }
  return claims;
}

Result<std::string> PeekIssuer(std::string_view token, size_t max_bytes) {
  Result<CompactJws> jws = ParseCompactJws(token, max_bytes);
  if (!jws.ok()) return Unauth("malformed token: " + jws.error().message());
  Result<JsonDoc> doc = ParseObject(jws->payload_json, "payload");
  if (!doc.ok()) return Unauth(doc.error().message());
  const rapidjson::Value* iss = Member(*doc, "iss");
  if (iss == nullptr || !iss->IsString() || iss->GetStringLength() == 0) {
    return Unauth("token has no issuer");
  }
  return Str(iss);
}

}  // namespace genogate::gateway
