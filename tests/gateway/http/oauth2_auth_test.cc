// OAuth2 client credentials and SMART Backend Services against a loopback
// token endpoint that verifies the client assertion the way an EHR's
// authorisation server does (signature with the registered public key,
// header, iss/sub/aud/exp/jti), issues tokens, and a FHIR peer that accepts
// only the tokens it issued.
#include "gateway/http/oauth2_auth.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>

#include "base/file.h"
#include "gateway/config/endpoint.h"
#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/http/fake_http_client.h"
#include "gateway/http/test_peers.h"
#include "gateway/queue/memory_queue.h"

namespace genogate::gateway {
namespace {

using namespace std::chrono_literals;
using testing::TestHttpServer;

std::string Base64UrlDecode(std::string s) {
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return "";
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string FormValue(const std::string& body, const std::string& name) {
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string::npos) amp = body.size();
    std::string pair = body.substr(pos, amp - pos);
    if (pair.rfind(name + "=", 0) == 0) {
      std::string v = pair.substr(name.size() + 1), out;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out.push_back(' ');
        } else if (v[i] == '%' && i + 2 < v.size()) {
          out.push_back(
              static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          out.push_back(v[i]);
        }
      }
      return out;
    }
    pos = amp + 1;
  }
  return "";
}

std::string HeaderValue(const std::string& head, const std::string& name) {
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  std::string needle = "\r\n" + name + ": ";
  size_t p = lower.find(needle);
  if (p == std::string::npos) return "";
  p += needle.size();
  return head.substr(p, head.find("\r\n", p) - p);
}

// Verifies a JWS compact serialisation with a PEM public key; returns the
// claims (parsed) or an error text.
struct Verified {
  std::string error;
  rapidjson::Document header;
  rapidjson::Document claims;
};

Verified VerifyJwt(const std::string& jwt, const std::string& public_pem) {
  Verified v;
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  if (d1 == std::string::npos || d1 == d2) {
    v.error = "not a JWS";
    return v;
  }
  std::string input = jwt.substr(0, d2);
  std::string sig = Base64UrlDecode(jwt.substr(d2 + 1));
  v.header.Parse(Base64UrlDecode(jwt.substr(0, d1)).c_str());
  v.claims.Parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)).c_str());
  if (v.header.HasParseError() || v.claims.HasParseError()) {
    v.error = "bad JSON";
    return v;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())),
      BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) {
    v.error = "bad public key";
    return v;
  }
  std::string alg = v.header["alg"].GetString();
  bool ec = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC;
  if (alg != (ec ? "ES384" : "RS384")) {
    v.error = "alg " + alg + " does not fit the key";
    return v;
  }
  if (ec) {  // R||S -> DER
    if (sig.size() != 96) {
      v.error = "ES384 signature is not 96 bytes";
      return v;
    }
    ECDSA_SIG* s = ECDSA_SIG_new();
    auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG_set0(s, BN_bin2bn(p, 48, nullptr),
                   BN_bin2bn(p + 48, 48, nullptr));
    unsigned char* der = nullptr;
    int n = i2d_ECDSA_SIG(s, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr,
                           key.get()) != 1 ||
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
          sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
          input.size()) != 1) {
    v.error = "bad signature";
  }
  return v;
}

// A SMART / OAuth2 authorisation server and a FHIR server that accepts only
// its live tokens.
class AuthServers {
 public:
  AuthServers(std::string public_pem, std::string client_id)
      : public_pem_(std::move(public_pem)), client_id_(std::move(client_id)) {
    token_ = std::make_unique<TestHttpServer>(
        [this](const std::string& head, const std::string& body) {
          return Token(head, body);
        });
    fhir_ = std::make_unique<TestHttpServer>([this](const std::string& head,
                                                    const std::string&) {
      std::string auth = HeaderValue(head, "authorization");
      std::lock_guard<std::mutex> lock(mu_);
      if (auth.rfind("Bearer ", 0) != 0 || !live_.count(auth.substr(7))) {
        ++rejected_;
        return TestHttpServer::Response(401, "");
      }
      if (head.rfind("GET /fhir/metadata", 0) == 0) {
        return TestHttpServer::Response(
            200,
            R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1"})");
      }
      return TestHttpServer::Response(
          200, testing::TransactionResponse({"DiagnosticReport/1"}));
    });
  }
  std::string token_url() const { return token_->url() + "/auth/token"; }
  std::string fhir_url() const { return fhir_->url() + "/fhir"; }

  // Secret-based clients: accept this id/secret with HTTP Basic.
  void ExpectSecret(std::string secret) { secret_ = std::move(secret); }
  void RevokeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    live_.clear();
  }
  void SetExpiresIn(int s) { expires_in_ = s; }
  int issued() {
    std::lock_guard<std::mutex> lock(mu_);
    return issued_;
  }
  int rejected() {
    std::lock_guard<std::mutex> lock(mu_);
    return rejected_;
  }
  std::vector<std::string> refusals() {
    std::lock_guard<std::mutex> lock(mu_);
    return refusals_;
  }

 private:
  std::string Refuse(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    refusals_.push_back(why);
    return TestHttpServer::Response(
        400, R"({"error":"invalid_client","error_description":"x"})",
        "Content-Type: application/json\r\n");
  }

  std::string Token(const std::string& head, const std::string& body) {
    if (head.rfind("POST /auth/token ", 0) != 0) return Refuse("method/path");
    if (HeaderValue(head, "content-type") !=
        "application/x-www-form-urlencoded") {
      return Refuse("content type");
    }
    if (FormValue(body, "grant_type") != "client_credentials") {
      return Refuse("grant_type");
    }
    if (FormValue(body, "scope") != "system/DiagnosticReport.write") {
      return Refuse("scope");
    }
    if (!secret_.empty()) {
      std::string basic = HeaderValue(head, "authorization");
      std::string want = client_id_ + ":" + secret_;
      // RFC 6749 2.3.1: id and secret are form-encoded before base64.
      std::string raw = basic.rfind("Basic ", 0) == 0
                            ? Base64UrlDecode(basic.substr(6))
                            : std::string();
      size_t colon = raw.find(':');
      std::string got = colon == std::string::npos
                            ? std::string()
                            : FormValue("u=" + raw.substr(0, colon), "u") +
                                  ":" +
                                  FormValue("p=" + raw.substr(colon + 1), "p");
      if (got != want) return Refuse("client secret");
    } else {
      if (FormValue(body, "client_assertion_type") !=
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return Refuse("client_assertion_type");
      }
      Verified v = VerifyJwt(FormValue(body, "client_assertion"), public_pem_);
      if (!v.error.empty()) return Refuse(v.error);
      auto str = [](const rapidjson::Value& o, const char* k) {
        return o.HasMember(k) && o[k].IsString() ? std::string(o[k].GetString())
                                                 : std::string("<missing>");
      };
      if (str(v.header, "typ") != "JWT") return Refuse("typ");
      if (str(v.header, "kid") != "key-1") return Refuse("kid");
      if (str(v.claims, "iss") != client_id_) return Refuse("iss");
      if (str(v.claims, "sub") != client_id_) return Refuse("sub");
      if (str(v.claims, "aud") != token_url()) return Refuse("aud");
      if (!v.claims.HasMember("exp") || !v.claims["exp"].IsInt64()) {
        return Refuse("exp missing");
      }
      int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      int64_t exp = v.claims["exp"].GetInt64();
      if (exp <= now) return Refuse("expired");
      if (exp > now + 300) return Refuse("exp more than 5 minutes ahead");
      std::string jti = str(v.claims, "jti");
      std::lock_guard<std::mutex> lock(mu_);
      if (jti.size() < 16 || !jtis_.insert(jti).second) {
        refusals_.push_back("jti replayed");
        return TestHttpServer::Response(400, R"({"error":"invalid_grant"})");
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::string token = "tok-" + std::to_string(++issued_);
    live_.insert(token);
    return TestHttpServer::Response(
        200,
        R"({"access_token":")" + token +
            R"(","token_type":"bearer","expires_in":)" +
            std::to_string(expires_in_) +
            R"(,"scope":"system/DiagnosticReport.write"})",
        "Content-Type: application/json\r\n");
  }

  const std::string public_pem_;
  const std::string client_id_;
  std::string secret_;
  std::atomic<int> expires_in_{3600};
  std::mutex mu_;
  std::set<std::string> live_;
  std::set<std::string> jtis_;
  std::vector<std::string> refusals_;
  int issued_ = 0;
  int rejected_ = 0;
  std::unique_ptr<TestHttpServer> token_;
  std::unique_ptr<TestHttpServer> fhir_;
};

class OAuth2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("genogate-oauth2-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Generates a key pair with the openssl command line; returns the
  // private key file (mode 0600) and sets *public_pem.
  std::string MakeKey(const std::string& name, const std::string& algorithm,
                      std::string* public_pem) {
    std::string key = (dir_ / (name + ".key")).string();
    std::string pub = (dir_ / (name + ".pub")).string();
    EXPECT_TRUE(testing::Sh("openssl genpkey " + algorithm + " -out '" + key +
                            "' 2>/dev/null && openssl pkey -in '" + key +
                            "' -pubout -out '" + pub + "' 2>/dev/null"));
    ::chmod(key.c_str(), 0600);
    Result<std::string> text = ReadFile(pub);
    EXPECT_TRUE(text.ok());
    *public_pem = text.ok() ? *text : "";
    return key;
  }

  std::string WriteConfig(const std::string& yaml) {
    std::string path = (dir_ / "genogate.yaml").string();
    EXPECT_TRUE(WriteFileAtomic(path, yaml).ok());
    return path;
  }

  std::filesystem::path dir_;
};

constexpr char kRsa[] = "-algorithm RSA -pkeyopt rsa_keygen_bits:2048";
constexpr char kP384[] =
    "-algorithm EC -pkeyopt ec_paramgen_curve:P-384 "
    "-pkeyopt ec_param_enc:named_curve";

Job MakeJob(const std::string& id) {
  Job job;
  job.id = id;
  job.report_key = "lab|" + id;
  job.payload = R"({"resourceType":"Bundle","type":"transaction"})";
  return job;
}

// The whole path for both signature algorithms: YAML config -> target ->
// token -> delivery; the token is cached, and a 401 (token revoked) makes
// the worker fetch a new one once and deliver.
class SmartBackendTest : public OAuth2Test,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(SmartBackendTest, DeliversWithSignedAssertionAndRefreshesOn401) {
  std::string public_pem;
  std::string key = MakeKey("client", GetParam(), &public_pem);
  AuthServers servers(public_pem, "genogate-lab-1");
  std::string config = WriteConfig(
      "endpoints:\n"
      "  - name: ehr\n"
      "    url: " +
      servers.fhir_url() +
      "\n"
      "    auth:\n"
      "      type: smart_backend\n"
      "      token_url: " +
      servers.token_url() +
      "\n"
      "      client_id: genogate-lab-1\n"
      "      scope: system/DiagnosticReport.write\n"
      "      kid: key-1\n"
      "      jku: https://lab.example.org/.well-known/jwks.json\n"
      "      private_key_file: client.key\n"
      "      algorithm: " +
      std::string(GetParam() == kRsa ? "RS384" : "ES384") + "\n");
  Result<std::vector<Endpoint>> eps = LoadEndpointsFile(config);
  ASSERT_TRUE(eps.ok()) << eps.error().ToString();
  EXPECT_EQ((*eps)[0].auth.type, EndpointAuth::Type::kSmartBackend);
  EXPECT_EQ((*eps)[0].auth.secret.file, key);
  Result<std::unique_ptr<DeliveryTarget>> target = MakeTarget((*eps)[0]);
  ASSERT_TRUE(target.ok()) << target.error().ToString();

  // Three deliveries, one token.
  for (int i = 0; i < 3; ++i) {
    TransactionOutcome out = (*target)->Deliver("j", "{}");
    ASSERT_TRUE(out.ok()) << out.error->ToString() << " "
                          << ::testing::PrintToString(servers.refusals());
  }
  EXPECT_EQ(servers.issued(), 1);
  EXPECT_TRUE(servers.refusals().empty());

  // The EHR revokes the token: the worker gets 401, refreshes once (a new
  // assertion with a new jti) and delivers.
  servers.RevokeAll();
  MemoryQueue queue;
  ASSERT_TRUE(queue.Enqueue("ehr", MakeJob("a")).ok());
  CircuitBreaker breaker({}, SystemClock::Get());
  FixedJitter jitter(0.5);
  DeliveryWorker worker(WorkerOptionsFor((*eps)[0], "w"), &queue, target->get(),
                        &breaker, SystemClock::Get(), &jitter);
  Result<int> n = worker.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(worker.stats().delivered, 1);
  EXPECT_EQ(queue.GetStatus("ehr", "a")->state, JobState::kDelivered);
  EXPECT_EQ(servers.issued(), 2);
  EXPECT_EQ(servers.rejected(), 1);
  EXPECT_TRUE(servers.refusals().empty())
      << ::testing::PrintToString(servers.refusals());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SmartBackendTest,
                         ::testing::Values(kRsa, kP384),
                         [](const auto& param_info) {
                           return std::string(
                               param_info.param == kRsa ? "RS384" : "ES384");
                         });

TEST_F(OAuth2Test, TokenEndpointRefusesAssertionOfAnotherKey) {
  std::string registered_pem, other_pem;
  MakeKey("registered", kP384, &registered_pem);
  std::string other = MakeKey("other", kP384, &other_pem);
  AuthServers servers(registered_pem, "genogate-lab-1");
  OAuth2Options o;
  o.token_url = servers.token_url();
  o.client_id = "genogate-lab-1";
  o.scope = "system/DiagnosticReport.write";
  o.kid = "key-1";
  o.private_key = [other] { return LoadSecret({other, ""}); };
  Result<std::unique_ptr<HttpClient>> http = NewHttpClient({});
  ASSERT_TRUE(http.ok());
  Result<std::unique_ptr<AuthProvider>> auth =
      NewOAuth2Auth(o, std::move(http).value());
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  Result<std::string> a = (*auth)->Authorization();
  ASSERT_FALSE(a.ok());
  // A configuration problem of the endpoint (retried with back-off by the
  // worker), never a dead letter; the OAuth2 error code is in the message.
  EXPECT_EQ(a.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(a.error().message().find("HTTP 400 (invalid_client)"),
            std::string::npos)
      << a.error().message();
  EXPECT_EQ(servers.refusals(), std::vector<std::string>{"bad signature"});
  EXPECT_EQ(servers.issued(), 0);
}

TEST_F(OAuth2Test, AssertionClaimsAndExpiry) {
  std::string public_pem;
  std::string key = MakeKey("client", kRsa, &public_pem);
  Result<std::string> pem = ReadFile(key);
  ASSERT_TRUE(pem.ok());
  Timestamp now = std::chrono::system_clock::now();
  Result<std::string> jwt = SignClientAssertion(
      *pem, "cid", "https://ehr.example.org/token", "k1", "", 300s, now);
  ASSERT_TRUE(jwt.ok()) << jwt.error().ToString();
  Verified v = VerifyJwt(*jwt, public_pem);
  ASSERT_EQ(v.error, "");
  EXPECT_STREQ(v.header["alg"].GetString(), "RS384");
  EXPECT_STREQ(v.header["kid"].GetString(), "k1");
  EXPECT_FALSE(v.header.HasMember("jku"));
  EXPECT_STREQ(v.claims["iss"].GetString(), "cid");
  EXPECT_STREQ(v.claims["sub"].GetString(), "cid");
  EXPECT_STREQ(v.claims["aud"].GetString(), "https://ehr.example.org/token");
  int64_t secs =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count();
  EXPECT_EQ(v.claims["exp"].GetInt64(), secs + 300);
  // A new jti each time.
  Result<std::string> again = SignClientAssertion(
      *pem, "cid", "https://ehr.example.org/token", "k1", "", 300s, now);
  Verified w = VerifyJwt(*again, public_pem);
  EXPECT_STRNE(v.claims["jti"].GetString(), w.claims["jti"].GetString());
  // Tampering with the claims breaks the signature.
  std::string tampered = *jwt;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(VerifyJwt(tampered, public_pem).error, "bad signature");

  // The token server refuses an assertion signed too early to be live.
  AuthServers servers(public_pem, "cid");
  OAuth2Options o;
  o.token_url = servers.token_url();
  o.client_id = "cid";
  o.scope = "system/DiagnosticReport.write";
  o.kid = "key-1";
  o.private_key = [key] { return LoadSecret({key, ""}); };
  FakeClock past(std::chrono::system_clock::now() - 10min);
  Result<std::unique_ptr<AuthProvider>> auth =
      NewOAuth2Auth(o, std::move(NewHttpClient({})).value(), &past);
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE((*auth)->Authorization().ok());
  EXPECT_EQ(servers.refusals(), std::vector<std::string>{"expired"});
  // ... and one dated too far ahead (exp more than 5 minutes from now).
  FakeClock future(std::chrono::system_clock::now() + 2min);
  auth = NewOAuth2Auth(o, std::move(NewHttpClient({})).value(), &future);
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE((*auth)->Authorization().ok());
  EXPECT_EQ(servers.refusals().back(), "exp more than 5 minutes ahead");
  EXPECT_EQ(servers.issued(), 0);
}

TEST_F(OAuth2Test, RejectsUnusableKeysAndOptions) {
  std::string pub;
  std::string weak = MakeKey("weak",
                             "-algorithm RSA -pkeyopt "
                             "rsa_keygen_bits:1024",
                             &pub);
  std::string p256 = MakeKey("p256",
                             "-algorithm EC -pkeyopt "
                             "ec_paramgen_curve:P-256",
                             &pub);
  OAuth2Options o;
  o.token_url = "https://ehr.example.org/token";
  o.client_id = "cid";
  o.kid = "k";
  for (const std::string& k : {weak, p256}) {
    o.private_key = [k] { return LoadSecret({k, ""}); };
    Result<std::unique_ptr<AuthProvider>> a =
        NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>());
    ASSERT_FALSE(a.ok()) << k;
    EXPECT_EQ(a.error().code(), ErrorCode::kFailedPrecondition);
  }
  // A P-384 key configured for RS384.
  std::string p384 = MakeKey("p384", kP384, &pub);
  o.private_key = [p384] { return LoadSecret({p384, ""}); };
  o.algorithm = "RS384";
  Result<std::unique_ptr<AuthProvider>> mismatch =
      NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().message(),
            "the private key signs ES384, not RS384");
  o.algorithm = "ES384";
  EXPECT_TRUE(
      NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>()).ok());
  o.algorithm = "HS256";
  EXPECT_EQ(NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>())
                .error()
                .code(),
            ErrorCode::kInvalidInput);
  o.algorithm.clear();
  o.kid.clear();
  EXPECT_EQ(NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>())
                .error()
                .code(),
            ErrorCode::kInvalidInput);
  o.kid = "k";
  o.client_secret = [] { return Result<std::string>(std::string("s")); };
  EXPECT_EQ(NewOAuth2Auth(o, std::make_unique<testing::FakeHttpClient>())
                .error()
                .code(),
            ErrorCode::kInvalidInput);  // both a secret and a key
}

TEST_F(OAuth2Test, ClientSecretTokenCachedUntilShortlyBeforeExpiry) {
  AuthServers servers("", "genogate lab/1");  // needs form-encoding
  servers.ExpectSecret("p@ss:w rd");
  servers.SetExpiresIn(120);
  ::setenv("GENOGATE_TEST_CLIENT_SECRET", "p@ss:w rd", 1);
  Result<std::vector<Endpoint>> eps = ParseEndpointsYaml(
      "endpoints:\n"
      "  - name: ehr\n"
      "    url: " +
          servers.fhir_url() +
          "\n"
          "    auth:\n"
          "      type: oauth2_client_credentials\n"
          "      token_url: " +
          servers.token_url() +
          "\n"
          "      client_id: genogate lab/1\n"
          "      scope: system/DiagnosticReport.write\n"
          "      client_secret_env: GENOGATE_TEST_CLIENT_SECRET\n",
      "gg.yaml");
  ASSERT_TRUE(eps.ok()) << eps.error().ToString();
  FakeClock clock(std::chrono::system_clock::now());
  Result<std::unique_ptr<AuthProvider>> auth =
      MakeAuthProvider((*eps)[0], &clock);
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  Result<std::string> a = (*auth)->Authorization();
  ASSERT_TRUE(a.ok()) << a.error().ToString() << " "
                      << ::testing::PrintToString(servers.refusals());
  EXPECT_EQ(*a, "Bearer tok-1");
  clock.Advance(59s);  // 120 s token, refreshed 60 s before it expires
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer tok-1");
  clock.Advance(1s);
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer tok-2");
  EXPECT_TRUE((*auth)->Refresh());
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer tok-3");
  EXPECT_EQ(servers.issued(), 3);
  ::unsetenv("GENOGATE_TEST_CLIENT_SECRET");
}

TEST(OAuth2FakeTest, TokenEndpointFailuresMapToRetryableOrConfiguration) {
  auto http = std::make_unique<testing::FakeHttpClient>();
  testing::FakeHttpClient* fake = http.get();
  OAuth2Options o;
  o.token_url = "https://auth.example.org/token";
  o.client_id = "cid";
  o.client_secret = [] { return Result<std::string>(std::string("s3cret")); };
  Result<std::unique_ptr<AuthProvider>> auth =
      NewOAuth2Auth(o, std::move(http));
  ASSERT_TRUE(auth.ok());
  // Connection refused (the fake's fallback), 503: retryable.
  Result<std::string> a = (*auth)->Authorization();
  EXPECT_EQ(a.error().code(), ErrorCode::kUnavailable);
  fake->PushStatus(503, "");
  EXPECT_EQ((*auth)->Authorization().error().code(), ErrorCode::kUnavailable);
  // 401 invalid_client, a non-bearer token, no token: configuration.
  fake->PushStatus(401, R"({"error":"invalid_client"})");
  a = (*auth)->Authorization();
  EXPECT_EQ(a.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(a.error().message().find("auth.example.org"), std::string::npos);
  fake->PushStatus(200, R"({"access_token":"x","token_type":"mac"})");
  EXPECT_EQ((*auth)->Authorization().error().code(),
            ErrorCode::kFailedPrecondition);
  fake->PushStatus(200, R"({"token_type":"bearer"})");
  EXPECT_EQ((*auth)->Authorization().error().code(),
            ErrorCode::kFailedPrecondition);
  // No message ever carries the secret.
  for (const HttpRequest& r : fake->requests()) {
    EXPECT_EQ(r.body, "grant_type=client_credentials");
  }
  fake->PushStatus(200, R"({"access_token":"t0k","expires_in":3600})");
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer t0k");
  EXPECT_EQ(*(*auth)->Authorization(), "Bearer t0k");
  EXPECT_EQ(fake->requests().size(), 6u);
}

TEST(OAuth2ConfigTest, ErrorsNameTheKey) {
  auto parse = [](const std::string& auth) {
    Result<std::vector<Endpoint>> r = ParseEndpointsYaml(
        "endpoints:\n  - name: e\n    url: https://x.org/fhir\n    auth:\n" +
            auth,
        "gg.yaml");
    return r.ok() ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(parse("      type: smart_backend\n"
                  "      token_url: https://x.org/token\n"
                  "      client_id: c\n"
                  "      private_key_file: k.pem\n"),
            "gg.yaml:5: endpoint 'e'.auth.kid: required");
  EXPECT_EQ(parse("      type: smart_backend\n"
                  "      token_url: https://x.org/token\n"
                  "      client_id: c\n"
                  "      kid: k\n"
                  "      client_secret_env: S\n"),
            "gg.yaml:5: endpoint 'e'.auth: smart_backend uses a private key, "
            "not a client secret");
  EXPECT_EQ(parse("      type: oauth2_client_credentials\n"
                  "      token_url: ftp://x.org/token\n"
                  "      client_id: c\n"
                  "      client_secret_env: S\n"),
            "gg.yaml:6: endpoint 'e'.auth.token_url: must be an http:// or "
            "https:// URL");
  EXPECT_EQ(parse("      type: oauth2_client_credentials\n"
                  "      token_url: https://x.org/token\n"
                  "      client_id: c\n"),
            "gg.yaml:5: endpoint 'e'.auth: needs exactly one of "
            "client_secret_file and client_secret_env");
  EXPECT_EQ(parse("      type: oauth2_client_credentials\n"
                  "      token_url: https://x.org/token\n"
                  "      client_id: c\n"
                  "      scope: system/*.write\n"
                  "      client_secret_file: s.txt\n"),
            "ok");
}

}  // namespace
}  // namespace genogate::gateway
