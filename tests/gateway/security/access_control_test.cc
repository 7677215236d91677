// Note: gateway/http/http_client.h also declares a genogate::gateway::
// HttpRequest (the client's), so it cannot be included here next to
// server/http_message.h; the unreachable JWKS client comes from jwt_test.cc.
#include "gateway/security/access_control.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gateway/security/api_key.h"
#include "gateway/security/test_keys.h"
#include "gateway/security/tls_peer.h"

namespace genogate::gateway {
namespace testing {
HttpClient* UnreachableHttpClientForTests();  // jwt_test.cc
}  // namespace testing
namespace {

using testing::Claims;
using testing::Header;
using testing::MakeToken;
using testing::TestKey;

const std::string kLabAKey = "gg_labAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const std::string kAuditorKey = "gg_auditorAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const std::string kAdminKey = "gg_adminAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

class AccessControlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = testing::MakeEcKey("idp-1").release();
    other_ = testing::MakeEcKey("idp-1").release();  // same kid, not trusted
    dir_ = new std::string(::testing::TempDir() + "/acl-XXXXXX");
    ASSERT_NE(mkdtemp(dir_->data()), nullptr);
    std::ofstream(*dir_ + "/jwks.json") << testing::JwksJson({key_});
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete key_;
    delete other_;
    delete dir_;
  }

  std::string Yaml(std::string extra = "") const {
    return R"(security:
  jwt:
    - issuer: https://idp.test
      audience: genogate
      jwks_file: )" +
           *dir_ + R"(/jwks.json
      lab_claim: genogate_lab
      role_claims: [scope]
      role_mapping:
        genogate/lab.submit: lab
        genogate/admin: admin
        genogate/audit.read: auditor
  api_keys:
    - identity: lab-a-uploader
      hash: )" +
           *HashApiKey(kLabAKey) +
           R"(
      roles: [lab]
      lab: lab-a
    - identity: dpo
      hash: )" +
           *HashApiKey(kAuditorKey) +
           R"(
      roles: [auditor]
    - identity: ops
      hash: )" +
           *HashApiKey(kAdminKey) +
           R"(
      roles: [admin]
  mtls:
    - subject: "CN=lab-b,O=Lab B,C=GB"
      identity: lab-b-analyser
      roles: [lab]
      lab: lab-b
    - san: "DNS:ops.hospital.test"
      identity: ops-cert
      roles: [admin]
)" + extra;
  }

  void SetUp() override { Build(Yaml()); }

  void Build(const std::string& yaml) {
    Result<SecurityConfig> c = ParseSecurityYaml(yaml, "test.yaml");
    ASSERT_TRUE(c.ok()) << c.error().message();
    auto a = Authenticator::Create(*c, &clock_,
                                   testing::UnreachableHttpClientForTests());
    ASSERT_TRUE(a.ok()) << a.error().message();
    auth_ = std::shared_ptr<const Authenticator>(std::move(a).value());
    acl_ = std::make_unique<AccessControl>(auth_, DefaultRouteRules());
  }

  static HttpRequest Req(std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    r.remote_address = "10.0.0.7:50000";
    return r;
  }
  static HttpRequest WithBearer(HttpRequest r, const std::string& token) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return r;
  }
  static HttpRequest WithKey(HttpRequest r, const std::string& key) {
    r.headers.emplace_back("X-API-Key", key);
    return r;
  }
  std::string Token(std::string_view scope, std::string_view lab = "lab-a",
                    int64_t exp_in = 300, std::string_view aud = "\"genogate\"",
                    const TestKey* signer = nullptr) const {
    std::string extra = ",\"scope\":\"" + std::string(scope) + "\"";
    if (!lab.empty()) extra += ",\"genogate_lab\":\"" + std::string(lab) + "\"";
    const TestKey& k = signer ? *signer : *key_;
    return MakeToken(k, "ES256", Header(k, "ES256"),
                     Claims(extra, exp_in, aud));
  }

  // Expects a 401 with an OperationOutcome; returns WWW-Authenticate values.
  static std::vector<std::string> Expect401(const AccessControl::Decision& d,
                                            const std::string& reason) {
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.response.status, 401);
    EXPECT_EQ(d.response.Header("Content-Type"), "application/fhir+json");
    rapidjson::Document doc;
    doc.Parse(d.response.body.c_str());
    EXPECT_TRUE(doc.IsObject());
    if (doc.IsObject()) {
      EXPECT_STREQ(doc["resourceType"].GetString(), "OperationOutcome");
      EXPECT_STREQ(doc["issue"][0]["code"].GetString(), "login");
      EXPECT_EQ(std::string(doc["issue"][0]["details"]["text"].GetString()),
                reason);
    }
    std::vector<std::string> challenges;
    for (const auto& [k, v] : d.response.headers) {
      if (k == "WWW-Authenticate") challenges.push_back(v);
    }
    EXPECT_FALSE(challenges.empty());
    return challenges;
  }
  static void Expect403(const AccessControl::Decision& d) {
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.response.status, 403);
    rapidjson::Document doc;
    doc.Parse(d.response.body.c_str());
    ASSERT_TRUE(doc.IsObject());
    EXPECT_STREQ(doc["issue"][0]["code"].GetString(), "forbidden");
  }

  static TestKey* key_;
  static TestKey* other_;
  static std::string* dir_;
  FakeClock clock_;
  std::shared_ptr<const Authenticator> auth_;
  std::unique_ptr<AccessControl> acl_;
};

TestKey* AccessControlTest::key_ = nullptr;
TestKey* AccessControlTest::other_ = nullptr;
std::string* AccessControlTest::dir_ = nullptr;

TEST_F(AccessControlTest, ValidBearerTokenFillsCallerRolesAndLab) {
  HttpRequest r =
      WithBearer(Req("POST", "/submissions"), Token("genogate/lab.submit"));
  r.caller = "forged";
  r.roles = {"admin"};
  AccessControl::Decision d = acl_->Check(&r);
  ASSERT_TRUE(d.allowed) << d.response.body;
  EXPECT_EQ(r.caller, "acme-client");
  EXPECT_EQ(r.roles, std::vector<std::string>{"lab"});
  EXPECT_EQ(r.caller_lab, "lab-a");

  HttpRequest admin = WithBearer(Req("DELETE", "/admin/dead-letters/j1"),
                                 Token("openid genogate/admin", ""));
  ASSERT_TRUE(acl_->Check(&admin).allowed);
  EXPECT_EQ(admin.roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(admin.caller_lab, "");
}

TEST_F(AccessControlTest, BearerFailuresAnswer401WithTheReason) {
  struct Case {
    std::string token;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {Token("genogate/lab.submit", "lab-a", -100), "token expired"},
      {Token("genogate/lab.submit", "lab-a", 300, "\"genogate\"", other_),
       "signature does not verify"},
      {Token("genogate/lab.submit", "lab-a", 300, "\"other-service\""),
       "wrong audience"},
      {MakeToken(*key_, "ES256", Header(*key_, "ES256"),
                 Claims(",\"scope\":\"genogate/lab.submit\"", 300,
                        "\"genogate\"", "https://evil.test")),
       "unknown issuer"},
      {Token("openid profile"), "the token grants no role"},
      {Token("genogate/lab.submit", "lab a"),
       "the token's lab id is not [A-Za-z0-9._-]{1,64}"},
      {Token("genogate/lab.submit", ""),
       "token has no usable \"genogate_lab\" claim"},
      {"not-a-token", "malformed token: not a compact JWS (three parts)"},
  };
  for (const Case& c : cases) {
    HttpRequest r = WithBearer(Req("POST", "/submissions"), c.token);
    AccessControl::Decision d = acl_->Check(&r);
    std::vector<std::string> ch = Expect401(d, c.reason);
    ASSERT_FALSE(ch.empty());
    EXPECT_EQ(ch[0],
              "Bearer realm=\"genogate\", error=\"invalid_token\", "
              "error_description=\"" +
                  (c.reason.find('"') == std::string::npos
                       ? c.reason
                       : std::string("token has no usable "
                                     "genogate_lab claim")) +
                  "\"");
    EXPECT_TRUE(r.caller.empty());
    EXPECT_TRUE(r.roles.empty());
  }
}

TEST_F(AccessControlTest, MissingCredentialsAnswer401WithChallenges) {
  HttpRequest r = Req("GET", "/submissions/abc");
  std::vector<std::string> ch =
      Expect401(acl_->Check(&r), "credentials required");
  EXPECT_EQ(ch, (std::vector<std::string>{"Bearer realm=\"genogate\"",
                                          "ApiKey realm=\"genogate\""}));
  HttpRequest empty = WithBearer(Req("GET", "/submissions/abc"), "");
  Expect401(acl_->Check(&empty), "empty bearer token");
  HttpRequest basic = Req("GET", "/submissions/abc");
  basic.headers.emplace_back("Authorization", "Basic YTpi");
  Expect401(acl_->Check(&basic), "unsupported authorization scheme");
}

TEST_F(AccessControlTest, ApiKeys) {
  HttpRequest r = WithKey(Req("POST", "/submissions"), kLabAKey);
  ASSERT_TRUE(acl_->Check(&r).allowed);
  EXPECT_EQ(r.caller, "lab-a-uploader");
  EXPECT_EQ(r.caller_lab, "lab-a");

  HttpRequest scheme = Req("GET", "/submissions/x");
  scheme.headers.emplace_back("authorization", "ApiKey " + kLabAKey);
  ASSERT_TRUE(acl_->Check(&scheme).allowed);

  HttpRequest wrong = WithKey(Req("POST", "/submissions"), kLabAKey + "x");
  Expect401(acl_->Check(&wrong), "invalid API key");
  // The hash itself is not a key.
  HttpRequest hash =
      WithKey(Req("POST", "/submissions"), *HashApiKey(kLabAKey));
  Expect401(acl_->Check(&hash), "invalid API key");

  HttpRequest both = WithBearer(WithKey(Req("POST", "/submissions"), kLabAKey),
                                Token("genogate/lab.submit"));
  Expect401(acl_->Check(&both), "more than one credential presented");
  HttpRequest twice =
      WithKey(WithKey(Req("POST", "/submissions"), kLabAKey), kAdminKey);
  Expect401(acl_->Check(&twice), "more than one credential presented");
}

TEST_F(AccessControlTest, RolesDecideAndDenialsAre403) {
  struct Case {
    const std::string* key;
    const char* method;
    const char* path;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {&kAuditorKey, "POST", "/submissions", false},
      {&kAuditorKey, "GET", "/audit", true},
      {&kAuditorKey, "GET", "/submissions/s1", false},
      {&kAuditorKey, "GET", "/admin/queues", false},
      {&kLabAKey, "GET", "/audit", false},
      {&kLabAKey, "POST", "/admin/dead-letters/j1/replay", false},
      {&kLabAKey, "POST", "/fhir", true},
      {&kLabAKey, "POST", "/fhir/$validate", true},
      {&kLabAKey, "POST", "/fhir/Observation/$validate", true},
      {&kLabAKey, "POST", "/fhir/$convert", true},
      {&kAdminKey, "POST", "/admin/dead-letters/j1/replay", true},
      {&kAdminKey, "GET", "/admin", true},
      {&kAdminKey, "GET", "/submissions/s1", true},
      {&kAdminKey, "POST", "/submissions", false},  // admins do not submit
      {&kAdminKey, "GET", "/audit", false},
      // No rule: denied even for an admin.
      {&kAdminKey, "GET", "/debug/pprof", false},
      {&kAdminKey, "DELETE", "/submissions/s1", false},
      {&kAdminKey, "GET", "/admin/../audit", false},
      {&kAdminKey, "GET", "/admin//x", false},
      {&kAuditorKey, "GET", "/audit/", false},
  };
  for (const Case& c : cases) {
    HttpRequest r = WithKey(Req(c.method, c.path), *c.key);
    AccessControl::Decision d = acl_->Check(&r);
    EXPECT_EQ(d.allowed, c.allowed) << c.method << " " << c.path;
    if (!c.allowed) Expect403(d);
  }
  // Anonymous on a route without a rule: 401, not 404.
  HttpRequest anon = Req("GET", "/debug/pprof");
  Expect401(acl_->Check(&anon), "credentials required");
}

TEST_F(AccessControlTest, OpenRoutesNeedNothingAndIgnoreCredentials) {
  for (const char* p : {"/healthz", "/readyz", "/metrics", "/fhir/metadata"}) {
    HttpRequest r = Req("GET", p);
    r.caller = "forged";
    EXPECT_TRUE(acl_->Check(&r).allowed) << p;
    EXPECT_TRUE(r.caller.empty());
    HttpRequest head = Req("HEAD", p);
    EXPECT_TRUE(acl_->Check(&head).allowed) << p;
    HttpRequest bad = WithBearer(Req("GET", p), "garbage");
    EXPECT_TRUE(acl_->Check(&bad).allowed) << p;
    HttpRequest post = Req("POST", p);
    EXPECT_FALSE(acl_->Check(&post).allowed) << p;
  }
  EXPECT_EQ(acl_->FindRule("GET", "/healthz/x"), nullptr);
  EXPECT_EQ(acl_->FindRule("GET", "/healthz/.."), nullptr);
  EXPECT_EQ(acl_->FindRule("GET", "healthz"), nullptr);
}

TEST_F(AccessControlTest, ClientCertificates) {
  HttpRequest r = Req("POST", "/submissions");
  r.client_cert_subject = "CN=lab-b,O=Lab B,C=GB";
  ASSERT_TRUE(acl_->Check(&r).allowed);
  EXPECT_EQ(r.caller, "lab-b-analyser");
  EXPECT_EQ(r.caller_lab, "lab-b");

  HttpRequest san = Req("GET", "/admin/queues");
  san.client_cert_subject = "CN=whatever";
  san.client_cert_sans = {"DNS:other.test", "DNS:ops.hospital.test"};
  ASSERT_TRUE(acl_->Check(&san).allowed);
  EXPECT_EQ(san.caller, "ops-cert");

  HttpRequest unmapped = Req("POST", "/submissions");
  unmapped.client_cert_subject = "CN=lab-b,O=Lab B,C=US";
  Expect401(acl_->Check(&unmapped), "credentials required");

  // A header credential decides who the caller is.
  HttpRequest key = WithKey(Req("POST", "/submissions"), kLabAKey);
  key.client_cert_subject = "CN=lab-b,O=Lab B,C=GB";
  ASSERT_TRUE(acl_->Check(&key).allowed);
  EXPECT_EQ(key.caller_lab, "lab-a");
}

TEST_F(AccessControlTest, RequiredMtlsRefusesClientsWithoutCertificates) {
  Build(Yaml("  require_mtls: true\n"));
  HttpRequest key = WithKey(Req("POST", "/submissions"), kLabAKey);
  Expect401(acl_->Check(&key), "a client certificate is required");
  HttpRequest none = Req("POST", "/submissions");
  Expect401(acl_->Check(&none), "a client certificate is required");
  HttpRequest unmapped = WithKey(Req("POST", "/submissions"), kLabAKey);
  unmapped.client_cert_subject = "CN=stranger";
  Expect401(acl_->Check(&unmapped),
            "the client certificate is not mapped to a caller");
  HttpRequest ok = WithKey(Req("POST", "/submissions"), kLabAKey);
  ok.client_cert_subject = "CN=lab-b,O=Lab B,C=GB";
  ASSERT_TRUE(acl_->Check(&ok).allowed);
  EXPECT_EQ(ok.caller, "lab-a-uploader");
  // Health checks stay open.
  HttpRequest health = Req("GET", "/healthz");
  EXPECT_TRUE(acl_->Check(&health).allowed);
}

TEST_F(AccessControlTest, LabACannotReadOrSubmitAsLabB) {
  HttpRequest a = WithKey(Req("GET", "/submissions/s1"), kLabAKey);
  ASSERT_TRUE(acl_->Check(&a).allowed);
  EXPECT_TRUE(CanAccessSubmission(a, "lab-a"));
  EXPECT_FALSE(CanAccessSubmission(a, "lab-b"));
  EXPECT_FALSE(CanAccessSubmission(a, ""));
  EXPECT_TRUE(CanSubmitAs(a, "lab-a"));
  EXPECT_FALSE(CanSubmitAs(a, "lab-b"));
  EXPECT_EQ(*SubmissionLab(a, ""), "lab-a");
  EXPECT_EQ(*SubmissionLab(a, "lab-a"), "lab-a");
  Result<std::string> as_b = SubmissionLab(a, "lab-b");
  ASSERT_FALSE(as_b.ok());
  EXPECT_EQ(as_b.error().code(), ErrorCode::kPermissionDenied);

  // Lab B by certificate, the same way round.
  HttpRequest b = Req("GET", "/submissions/s2");
  b.client_cert_subject = "CN=lab-b,O=Lab B,C=GB";
  ASSERT_TRUE(acl_->Check(&b).allowed);
  EXPECT_TRUE(CanAccessSubmission(b, "lab-b"));
  EXPECT_FALSE(CanAccessSubmission(b, "lab-a"));
  EXPECT_FALSE(SubmissionLab(b, "lab-a").ok());

  // A JWT lab is bound to its lab claim.
  HttpRequest jwt = WithBearer(Req("GET", "/submissions/s1"),
                               Token("genogate/lab.submit", "lab-b"));
  ASSERT_TRUE(acl_->Check(&jwt).allowed);
  EXPECT_FALSE(CanAccessSubmission(jwt, "lab-a"));
  EXPECT_TRUE(CanAccessSubmission(jwt, "lab-b"));

  // Admins read every lab's submissions but submit as none; auditors
  // read none.
  HttpRequest admin = WithKey(Req("GET", "/submissions/s1"), kAdminKey);
  ASSERT_TRUE(acl_->Check(&admin).allowed);
  EXPECT_TRUE(CanAccessSubmission(admin, "lab-a"));
  EXPECT_TRUE(CanAccessSubmission(admin, "lab-b"));
  EXPECT_FALSE(SubmissionLab(admin, "lab-a").ok());
  HttpRequest auditor = WithKey(Req("GET", "/audit"), kAuditorKey);
  ASSERT_TRUE(acl_->Check(&auditor).allowed);
  EXPECT_FALSE(CanAccessSubmission(auditor, "lab-a"));
}

TEST_F(AccessControlTest, UnreachableJwksAnswers503) {
  Build(R"(security:
  jwt:
    - issuer: https://idp.test
      audience: genogate
      jwks_url: https://idp.test/jwks
      role_mapping: {genogate/lab.submit: lab}
)");
  HttpRequest r =
      WithBearer(Req("POST", "/submissions"), Token("genogate/lab.submit"));
  AccessControl::Decision d = acl_->Check(&r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.response.status, 503);
  EXPECT_EQ(d.response.Header("Retry-After"), "5");
}

TEST(AccessControlNoAuthTest, LocalModeAllowsEverythingAsLocal) {
  AccessControl acl(nullptr, DefaultRouteRules());
  HttpRequest health;
  health.method = "GET";
  health.path = "/healthz";
  EXPECT_TRUE(acl.Check(&health).allowed);
  EXPECT_TRUE(health.caller.empty());
  HttpRequest sub;
  sub.method = "POST";
  sub.path = "/submissions";
  sub.caller_lab = "forged";
  ASSERT_TRUE(acl.Check(&sub).allowed);
  EXPECT_EQ(sub.caller, "local");
  EXPECT_EQ(sub.roles,
            (std::vector<std::string>{"admin", "auditor", "lab", "registry"}));
  EXPECT_EQ(sub.caller_lab, "");
  // Acts for any lab.
  EXPECT_TRUE(CanSubmitAs(sub, "lab-a"));
  EXPECT_TRUE(CanAccessSubmission(sub, "lab-b"));
  EXPECT_EQ(*SubmissionLab(sub, "lab-b"), "lab-b");
  EXPECT_EQ(*SubmissionLab(sub, ""), "");
}

TEST(AuthenticatorTest, EveryAuthenticatedLabHasALabId) {
  FakeClock clock;
  SecurityConfig c;
  ApiKeyEntry e;
  e.hash = *HashApiKey(kLabAKey);
  e.grant = {"uploader", {"lab"}, ""};
  c.api_keys.push_back(e);
  EXPECT_EQ(Authenticator::Create(c, &clock, nullptr).error().code(),
            ErrorCode::kInvalidInput);
  c.api_keys[0].grant.lab = "lab-a";
  EXPECT_TRUE(Authenticator::Create(c, &clock, nullptr).ok());
  MtlsEntry m;
  m.subject = "CN=x";
  m.grant = {"x", {"lab", "admin"}, ""};
  c.mtls.push_back(m);
  EXPECT_FALSE(Authenticator::Create(c, &clock, nullptr).ok());
}

TEST(TlsPeerTest, DescribesACertificateAndMapsIt) {
  std::unique_ptr<TestKey> k = testing::MakeEcKey("cert");
  std::string der = testing::SelfSignedDer(
      *k, "lab-b", "Lab B",
      "DNS:analyser.labb.test,URI:urn:lab:b,email:it@labb.test,IP:10.1.2.3,"
      "IP:::1");
  Result<TlsPeer> peer = TlsPeerFromDer(der);
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(peer->subject, "CN=lab-b,O=Lab B,C=GB");
  EXPECT_EQ(peer->sans, (std::vector<std::string>{
                            "DNS:analyser.labb.test", "URI:urn:lab:b",
                            "email:it@labb.test", "IP:10.1.2.3", "IP:::1"}));
  // RFC 2253 escapes special characters and bytes above 0x7f (as the
  // server does).
  std::string utf8 =
      testing::SelfSignedDer(*k, "Labor M\xc3\xbcnchen", "A, B+C", "");
  Result<TlsPeer> p2 = TlsPeerFromDer(utf8);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->subject, "CN=Labor M\\C3\\BCnchen,O=A\\, B\\+C,C=GB");
  EXPECT_TRUE(p2->sans.empty());
  EXPECT_FALSE(TlsPeerFromDer("not a certificate").ok());

  SecurityConfig c;
  MtlsEntry e;
  e.subject = peer->subject;
  e.grant = {"lab-b-analyser", {"lab"}, "lab-b"};
  c.mtls.push_back(e);
  FakeClock clock;
  auto auth = *Authenticator::Create(c, &clock, nullptr);
  Authenticator::AuthResult r =
      auth->AuthenticateTlsPeer(peer->subject, peer->sans);
  ASSERT_EQ(r.outcome, Authenticator::Outcome::kAuthenticated);
  EXPECT_EQ(r.caller.lab, "lab-b");
  EXPECT_EQ(r.caller.method, "mtls");
  EXPECT_EQ(auth->AuthenticateTlsPeer("CN=x", {}).outcome,
            Authenticator::Outcome::kNoCredentials);
}

}  // namespace
}  // namespace genogate::gateway
