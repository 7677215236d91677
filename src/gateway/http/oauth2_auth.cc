#include "gateway/http/oauth2_auth.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <algorithm>
#include <mutex>
#include <optional>

namespace genogate::gateway {
namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string Base64Url(std::string_view in) {
  std::string s = Base64(in);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

// application/x-www-form-urlencoded value (RFC 6749 appendix B).
std::string FormEncode(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(bytes)) != 1) {
    return "";
  }
  std::string out;
  for (unsigned char c : raw) out += {kHex[c >> 4], kHex[c & 15]};
  return out;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// The key and its JWS algorithm, or kFailedPrecondition.
Result<std::pair<Pkey, std::string>> ParseKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
               : nullptr);
  if (!key) {
    return Error(ErrorCode::kFailedPrecondition,
                 "the private key is not a PEM private key");
  }
  int id = EVP_PKEY_get_base_id(key.get());
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
      return Error(ErrorCode::kFailedPrecondition,
                   "the RSA private key has fewer than 2048 bits");
    }
    return std::pair<Pkey, std::string>(std::move(key), "RS384");
  }
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), &len) != 1 ||
        (std::string_view(group) != "secp384r1" &&
         std::string_view(group) != "P-384")) {
      return Error(ErrorCode::kFailedPrecondition,
                   "the EC private key is not on P-384 (ES384)");
    }
    return std::pair<Pkey, std::string>(std::move(key), "ES384");
  }
  return Error(ErrorCode::kFailedPrecondition,
               "the private key is neither RSA nor EC P-384");
}

Result<std::string> Sign(EVP_PKEY* key, const std::string& alg,
                         std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return Error(ErrorCode::kFailedPrecondition,
                 "signing the assertion failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return Error(ErrorCode::kFailedPrecondition,
                 "signing the assertion failed");
  }
  sig.resize(len);
  if (alg != "ES384") return sig;
  // DER ECDSA-Sig-Value -> R || S, 48 bytes each (RFC 7518 3.4).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())),
      ECDSA_SIG_free);
  if (!ecdsa) {
    return Error(ErrorCode::kFailedPrecondition,
                 "signing the assertion failed");
  }
  std::string raw(96, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), out, 48) != 48 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), out + 48, 48) != 48) {
    return Error(ErrorCode::kFailedPrecondition,
                 "signing the assertion failed");
  }
  return raw;
}

std::string JsonObject(
    const std::vector<std::pair<const char*, std::string>>& strings,
    std::optional<int64_t> exp = std::nullopt) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  for (const auto& [k, v] : strings) {
    if (v.empty()) continue;
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  if (exp) {
    w.Key("exp");
    w.Int64(*exp);
  }
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::string HostOf(const std::string& url) {
  Result<Url> u = ParseUrl(url);
  return u.ok() ? u->host + ":" + std::to_string(u->port) : "token endpoint";
}

class OAuth2Auth final : public AuthProvider {
 public:
  OAuth2Auth(OAuth2Options options, std::unique_ptr<HttpClient> http,
             const Clock* clock)
      : options_(std::move(options)),
        http_(std::move(http)),
        clock_(clock != nullptr ? clock : SystemClock::Get()),
        where_("token endpoint " + HostOf(options_.token_url)) {}

  Result<std::string> Authorization() override {
    std::lock_guard<std::mutex> lock(mu_);
    Timestamp now = clock_->Now();
    if (token_ && now < refresh_at_) return "Bearer " + *token_;
    token_.reset();
    Status s = FetchLocked(now);
    if (!s.ok()) return s.error();
    return "Bearer " + *token_;
  }

  bool Refresh() override {
    std::lock_guard<std::mutex> lock(mu_);
    token_.reset();
    return true;
  }

 private:
  Status FetchLocked(Timestamp now) {
    HttpRequest req;
    req.method = "POST";
    req.url = options_.token_url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}};
    req.body = "grant_type=client_credentials";
    if (!options_.scope.empty()) {
      req.body += "&scope=" + FormEncode(options_.scope);
    }
    if (options_.client_secret) {
      Result<std::string> secret = options_.client_secret();
      if (!secret.ok()) {
        return Error(ErrorCode::kFailedPrecondition,
                     "client secret: " + secret.error().message());
      }
      req.headers.emplace_back(
          "Authorization", "Basic " + Base64(FormEncode(options_.client_id) +
                                             ":" + FormEncode(*secret)));
    } else {
      Result<std::string> pem = options_.private_key();
      if (!pem.ok()) {
        return Error(ErrorCode::kFailedPrecondition,
                     "private key: " + pem.error().message());
      }
      Result<std::string> jwt = SignClientAssertion(
          *pem, options_.client_id, options_.token_url, options_.kid,
          options_.jku, options_.assertion_lifetime, now);
      if (!jwt.ok()) return jwt.error();
      req.body +=
          "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
          "assertion-type%3Ajwt-bearer&client_assertion=" +
          *jwt;
    }
    Result<HttpResponse> res = http_->Send(req);
    if (!res.ok()) return res.error().WithContext(where_);
    rapidjson::Document doc;
    doc.Parse(res->body.c_str(), res->body.size());
    const bool json = !doc.HasParseError() && doc.IsObject();
    if (res->status < 200 || res->status > 299) {
      std::string what =
          where_ + " answered HTTP " + std::to_string(res->status);
      // The OAuth2 error code is a fixed token (RFC 6749 5.2): safe to log.
      if (json && doc.HasMember("error") && doc["error"].IsString()) {
        std::string code = doc["error"].GetString();
        bool token = !code.empty() && code.size() < 64 &&
                     std::all_of(code.begin(), code.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || c == '_';
                     });
        if (token) what += " (" + code + ")";
      }
      bool retry =
          res->status == 408 || res->status == 429 || res->status >= 500;
      return Error(
          retry ? ErrorCode::kUnavailable : ErrorCode::kFailedPrecondition,
          what);
    }
    if (!json || !doc.HasMember("access_token") ||
        !doc["access_token"].IsString() ||
        doc["access_token"].GetStringLength() == 0) {
      return Error(ErrorCode::kFailedPrecondition,
                   where_ + " answered without an access_token");
    }
    if (doc.HasMember("token_type") &&
        (!doc["token_type"].IsString() ||
         strcasecmp(doc["token_type"].GetString(), "bearer") != 0)) {
      return Error(ErrorCode::kFailedPrecondition,
                   where_ + " answered a token that is not a bearer token");
    }
    std::string token = doc["access_token"].GetString();
    for (char c : token) {
      if (c <= ' ' || c > '~') {
        return Error(ErrorCode::kFailedPrecondition,
                     where_ + " answered a malformed access_token");
      }
    }
    int64_t lifetime = 300;
    if (doc.HasMember("expires_in") && doc["expires_in"].IsInt64() &&
        doc["expires_in"].GetInt64() > 0) {
      lifetime = doc["expires_in"].GetInt64();
    }
    int64_t margin =
        std::min<int64_t>(options_.refresh_margin.count(), lifetime / 2);
    refresh_at_ = now + std::chrono::seconds(lifetime - margin);
    token_ = std::move(token);
    return Status::Ok();
  }

  const OAuth2Options options_;
  std::unique_ptr<HttpClient> http_;
  const Clock* clock_;
  const std::string where_;
  std::mutex mu_;
  std::optional<std::string> token_;
  Timestamp refresh_at_{};
};

}  // namespace

Result<std::string> SignClientAssertion(
    const std::string& private_key_pem, const std::string& client_id,
    const std::string& token_url, const std::string& kid,
    const std::string& jku, std::chrono::seconds lifetime, Timestamp now) {
  Result<std::pair<Pkey, std::string>> key = ParseKey(private_key_pem);
  if (!key.ok()) return key.error();
  const std::string& alg = key->second;
  std::string jti = RandomHex(16);
  if (jti.empty()) {
    return Error(ErrorCode::kInternal, "no random bytes for the jti");
  }
  int64_t exp =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count() +
      lifetime.count();
  std::string header =
      JsonObject({{"alg", alg}, {"typ", "JWT"}, {"kid", kid}, {"jku", jku}});
  std::string claims = JsonObject({{"iss", client_id},
                                   {"sub", client_id},
                                   {"aud", token_url},
                                   {"jti", jti}},
                                  exp);
  std::string input = Base64Url(header) + "." + Base64Url(claims);
  Result<std::string> sig = Sign(key->first.get(), alg, input);
  if (!sig.ok()) return sig.error();
  return input + "." + Base64Url(*sig);
}

Result<std::unique_ptr<AuthProvider>> NewOAuth2Auth(
    OAuth2Options options, std::unique_ptr<HttpClient> http,
    const Clock* clock) {
  Result<Url> url = ParseUrl(options.token_url);
  if (!url.ok()) return url.error().WithContext("token_url");
  if (options.client_id.empty()) {
    return Error(ErrorCode::kInvalidInput, "client_id is empty");
  }
  if (static_cast<bool>(options.client_secret) ==
      static_cast<bool>(options.private_key)) {
    return Error(ErrorCode::kInvalidInput,
                 "set exactly one of a client secret and a private key");
  }
  if (http == nullptr) {
    return Error(ErrorCode::kInvalidInput, "no HTTP client for the token");
  }
  if (options.client_secret) {
    Result<std::string> s = options.client_secret();
    if (!s.ok()) {
      return Error(ErrorCode::kFailedPrecondition,
                   "client secret: " + s.error().message());
    }
  } else {
    if (!options.algorithm.empty() && options.algorithm != "RS384" &&
        options.algorithm != "ES384") {
      return Error(ErrorCode::kInvalidInput,
                   "the algorithm must be RS384 or ES384");
    }
    if (options.kid.empty()) {
      return Error(ErrorCode::kInvalidInput,
                   "SMART backend services needs the key id (kid)");
    }
    if (options.assertion_lifetime < std::chrono::seconds(1) ||
        options.assertion_lifetime > std::chrono::seconds(300)) {
      return Error(ErrorCode::kInvalidInput,
                   "the assertion lifetime must be 1 to 300 seconds");
    }
    Result<std::string> pem = options.private_key();
    if (!pem.ok()) {
      return Error(ErrorCode::kFailedPrecondition,
                   "private key: " + pem.error().message());
    }
    Result<std::pair<Pkey, std::string>> key = ParseKey(*pem);
    if (!key.ok()) return key.error();
    if (!options.algorithm.empty() && options.algorithm != key->second) {
      return Error(ErrorCode::kFailedPrecondition, "the private key signs " +
                                                       key->second + ", not " +
                                                       options.algorithm);
    }
  }
  return std::unique_ptr<AuthProvider>(
      std::make_unique<OAuth2Auth>(std::move(options), std::move(http), clock));
}

}  // namespace genogate::gateway
