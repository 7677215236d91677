#include "gateway/security/jwt.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/http/fake_http_client.h"
#include "gateway/security/test_keys.h"

namespace genogate::gateway {
namespace testing {
// For access_control_test.cc, which cannot include the client's headers.
HttpClient* UnreachableHttpClientForTests() {
  static FakeHttpClient* client = new FakeHttpClient();
  return client;
}
}  // namespace testing
namespace {

using testing::Claims;
using testing::FakeHttpClient;
using testing::Header;
using testing::JwkJson;
using testing::JwksJson;
using testing::MakeToken;
using testing::TestKey;

// Keys shared by the tests of this binary (RSA generation is slow).
struct Keys {
  std::unique_ptr<TestKey> rsa = testing::MakeRsaKey("rsa-1");
  std::unique_ptr<TestKey> rsa2 = testing::MakeRsaKey("rsa-2");
  std::unique_ptr<TestKey> ec256 = testing::MakeEcKey("ec-256", "P-256");
  std::unique_ptr<TestKey> ec384 = testing::MakeEcKey("ec-384", "P-384");
};
const Keys& K() {
  static const Keys* k = new Keys();
  return *k;
}

std::unique_ptr<JwtVerifier> MakeVerifier(const std::string& jwks,
                                          const Clock* clock,
                                          JwtVerifierOptions o = {}) {
  if (o.issuer.empty()) o.issuer = "https://idp.test";
  if (o.audiences.empty()) o.audiences = {"genogate"};
  Result<JwkSet> set = JwkSet::Parse(jwks);
  EXPECT_TRUE(set.ok()) << set.error().message();
  auto v = JwtVerifier::Create(o, NewStaticJwksSource(std::move(set).value()),
                               clock);
  EXPECT_TRUE(v.ok());
  return std::move(v).value();
}

std::string AllKeys() {
  return JwksJson({K().rsa.get(), K().ec256.get(), K().ec384.get()});
}

TEST(Base64UrlTest, RoundTripsAndIsStrict) {
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                std::string("\xff\xfe\x00\x01", 4)}) {
    Result<std::string> d = DecodeBase64Url(EncodeBase64Url(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
  EXPECT_FALSE(DecodeBase64Url("Zm9v=").ok());  // padding
  EXPECT_FALSE(DecodeBase64Url("Zm+v").ok());   // '+'
  EXPECT_FALSE(DecodeBase64Url("Zm/v").ok());   // '/'
  EXPECT_FALSE(DecodeBase64Url("Zm9 v").ok());  // space
  EXPECT_FALSE(DecodeBase64Url("Z").ok());      // length 1 mod 4
  EXPECT_FALSE(DecodeBase64Url("Zm9=").ok());
  EXPECT_FALSE(DecodeBase64Url("Zh").ok());  // non-zero unused bits
  EXPECT_TRUE(DecodeBase64Url("Zg").ok());
}

TEST(JwtVerifierTest, AcceptsEveryAlgorithmWithItsKey) {
  FakeClock clock;
  auto v = MakeVerifier(
      JwksJson({K().rsa.get(), K().ec256.get(), K().ec384.get()}), &clock);
  struct Case {
    const TestKey* key;
    const char* alg;
  };
  for (Case c :
       {Case{K().rsa.get(), "RS256"}, Case{K().rsa.get(), "RS384"},
        Case{K().rsa.get(), "PS256"}, Case{K().rsa.get(), "PS384"},
        Case{K().ec256.get(), "ES256"}, Case{K().ec384.get(), "ES384"}}) {
    std::string token = MakeToken(*c.key, c.alg, Header(*c.key, c.alg),
                                  Claims(",\"scope\":\"a b  c\""));
    Result<JwtClaims> claims = v->Verify(token);
    ASSERT_TRUE(claims.ok()) << c.alg << ": " << claims.error().message();
    EXPECT_EQ(claims->alg, c.alg);
    EXPECT_EQ(claims->issuer, "https://idp.test");
    EXPECT_EQ(claims->subject, "acme-client");
    EXPECT_EQ(claims->Values("scope"),
              (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(claims->Values("sub"), std::vector<std::string>{"acme-client"});
  }
}

TEST(JwtVerifierTest, RefusesABadSignature) {
  FakeClock clock;
  auto v = MakeVerifier(AllKeys(), &clock);
  for (const char* alg : {"RS256", "ES256"}) {
    const TestKey& k = alg[0] == 'R' ? *K().rsa : *K().ec256;
    std::string token = MakeToken(k, alg, Header(k, alg), Claims());
    // Flip one bit of the signature.
    size_t dot = token.rfind('.');
    std::string sig = *DecodeBase64Url(token.substr(dot + 1));
    sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 1);
    std::string bad = token.substr(0, dot + 1) + EncodeBase64Url(sig);
    Result<JwtClaims> r = v->Verify(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().message(), "signature does not verify");
    // Changed payload, original signature.
    std::string other = MakeToken(k, alg, Header(k, alg), Claims(",\"x\":1"));
    std::string spliced = other.substr(0, other.rfind('.')) + token.substr(dot);
    EXPECT_FALSE(v->Verify(spliced).ok());
  }
  // Signed by another key that claims the kid of a trusted one.
  std::unique_ptr<TestKey> impostor = testing::MakeRsaKey("rsa-1");
  std::string token =
      MakeToken(*impostor, "RS256", Header(*impostor, "RS256"), Claims());
  Result<JwtClaims> r = v->Verify(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "signature does not verify");
}

TEST(JwtVerifierTest, RefusesNoneHmacAndAlgorithmConfusion) {
  FakeClock clock;
  auto v = MakeVerifier(AllKeys(), &clock);
  const std::string payload = EncodeBase64Url(Claims());
  // alg none with an empty signature, and with a trailing garbage signature.
  for (const char* hdr : {"{\"alg\":\"none\"}", "{\"alg\":\"None\"}",
                          "{\"alg\":\"NONE\",\"kid\":\"rsa-1\"}"}) {
    for (const char* sig : {"", "AAAA"}) {
      std::string token =
          EncodeBase64Url(hdr) + "." + payload + "." + std::string(sig);
      Result<JwtClaims> r = v->Verify(token);
      ASSERT_FALSE(r.ok()) << hdr;
      EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
      EXPECT_NE(r.error().message().find("not accepted"), std::string::npos);
    }
  }
  // HS256 with the RSA public key (its JWK text, and its modulus) as the
  // HMAC secret: the classic confusion attack.
  std::string jwk = JwkJson(*K().rsa);
  std::string n = testing::BnBytes(K().rsa->pkey, OSSL_PKEY_PARAM_RSA_N);
  for (const std::string& secret : {jwk, n}) {
    std::string input =
        EncodeBase64Url("{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}") + "." +
        payload;
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         mac, &len);
    std::string token =
        input + "." +
        EncodeBase64Url(std::string(reinterpret_cast<char*>(mac), len));
    Result<JwtClaims> r = v->Verify(token);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), "algorithm HS256 is not accepted");
  }
  // An RSA-signed token relabelled ES256 (kid of the RSA key): no key fits.
  std::string rs = MakeToken(*K().rsa, "RS256",
                             "{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", Claims());
  Result<JwtClaims> r = v->Verify(rs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "no key fits algorithm ES256");
  // ES384 token for a P-256 key.
  std::string es = MakeToken(
      *K().ec384, "ES384", "{\"alg\":\"ES384\",\"kid\":\"ec-256\"}", Claims());
  EXPECT_FALSE(v->Verify(es).ok());
  // A JWK that names its algorithm refuses the others.
  auto pinned = MakeVerifier(
      "{\"keys\":[" + JwkJson(*K().rsa, ",\"alg\":\"PS256\"") + "]}", &clock);
  EXPECT_FALSE(pinned
                   ->Verify(MakeToken(*K().rsa, "RS256",
                                      Header(*K().rsa, "RS256"), Claims()))
                   .ok());
  EXPECT_TRUE(pinned
                  ->Verify(MakeToken(*K().rsa, "PS256",
                                     Header(*K().rsa, "PS256"), Claims()))
                  .ok());
}

TEST(JwtVerifierTest, HonoursTheConfiguredAlgorithmList) {
  FakeClock clock;
  JwtVerifierOptions o;
  o.algorithms = {"ES256"};
  auto v = MakeVerifier(AllKeys(), &clock, o);
  EXPECT_FALSE(v->Verify(MakeToken(*K().rsa, "RS256", Header(*K().rsa, "RS256"),
                                   Claims()))
                   .ok());
  EXPECT_TRUE(v->Verify(MakeToken(*K().ec256, "ES256",
                                  Header(*K().ec256, "ES256"), Claims()))
                  .ok());
  o.algorithms = {"HS256"};
  EXPECT_FALSE(JwtVerifier::Create(
                   o, NewStaticJwksSource(*JwkSet::Parse(AllKeys())), &clock)
                   .ok());
}

TEST(JwtVerifierTest, ChecksTimesWithClockSkew) {
  FakeClock clock;
  JwtVerifierOptions o;
  o.clock_skew = std::chrono::seconds(30);
  auto v = MakeVerifier(AllKeys(), &clock, o);
  const TestKey& k = *K().ec256;
  auto token = [&](const std::string& claims) {
    return MakeToken(k, "ES256", Header(k, "ES256"), claims);
  };
  const int64_t now = testing::FakeNow();
  auto t = [](int64_t s) { return std::to_string(s); };
  struct Case {
    std::string claims;
    const char* error;  // nullptr: accepted
  };
  const std::string base =
      "\"iss\":\"https://idp.test\",\"aud\":\"genogate\",\"sub\":\"x\"";
  std::vector<Case> cases = {
      {"{" + base + ",\"exp\":" + t(now + 1) + "}", nullptr},
      {"{" + base + ",\"exp\":" + t(now - 29) + "}", nullptr},  // in skew
      {"{" + base + ",\"exp\":" + t(now - 30) + "}", "token expired"},
      {"{" + base + ",\"exp\":" + t(now - 3600) + "}", "token expired"},
      {"{" + base + "}", "token has no expiry"},
      {"{" + base + ",\"exp\":\"" + t(now + 60) + "\"}",
       "claim \"exp\" is not a number"},
      {"{" + base + ",\"exp\":" + t(now + 60) + ".5}", nullptr},
      {"{" + base + ",\"exp\":" + t(now + 600) + ",\"nbf\":" + t(now + 29) +
           "}",
       nullptr},
      {"{" + base + ",\"exp\":" + t(now + 600) + ",\"nbf\":" + t(now + 31) +
           "}",
       "token not yet valid"},
      {"{" + base + ",\"exp\":" + t(now + 600) + ",\"iat\":" + t(now + 120) +
           "}",
       "token issued in the future"},
      {"{" + base + ",\"exp\":true}", "claim \"exp\" is not a number"},
  };
  for (const Case& c : cases) {
    Result<JwtClaims> r = v->Verify(token(c.claims));
    if (c.error == nullptr) {
      EXPECT_TRUE(r.ok()) << c.claims << ": " << r.error().message();
    } else {
      ASSERT_FALSE(r.ok()) << c.claims;
      EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
      EXPECT_EQ(r.error().message(), c.error) << c.claims;
    }
  }
  // The same token expires as the clock moves.
  std::string tok = token(Claims());
  EXPECT_TRUE(v->Verify(tok).ok());
  clock.Advance(std::chrono::seconds(300 + 30));
  Result<JwtClaims> r = v->Verify(tok);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "token expired");

  // Maximum lifetime.
  o.max_lifetime = std::chrono::seconds(120);
  FakeClock clock2;
  auto strict = MakeVerifier(AllKeys(), &clock2, o);
  Result<JwtClaims> longlived = strict->Verify(token(Claims("", 3600)));
  ASSERT_FALSE(longlived.ok());
  EXPECT_EQ(longlived.error().message(),
            "token lifetime is longer than allowed");
  EXPECT_TRUE(strict->Verify(token(Claims("", 100))).ok());
}

TEST(JwtVerifierTest, ChecksIssuerAndAudience) {
  FakeClock clock;
  JwtVerifierOptions o;
  o.audiences = {"genogate", "https://genogate.test"};
  auto v = MakeVerifier(AllKeys(), &clock, o);
  const TestKey& k = *K().rsa;
  auto verify = [&](const std::string& claims) {
    return v->Verify(MakeToken(k, "RS256", Header(k, "RS256"), claims));
  };
  EXPECT_TRUE(verify(Claims()).ok());
  EXPECT_TRUE(
      verify(Claims("", 300, "[\"other\",\"https://genogate.test\"]")).ok());
  struct Case {
    std::string claims;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {Claims("", 300, "\"other\""), "wrong audience"},
           {Claims("", 300, "[\"other\",\"x\"]"), "wrong audience"},
           {Claims("", 300, "[]"), "wrong audience"},
           {Claims("", 300, "[\"genogate\",1]"),
            "claim \"aud\" is not a string array"},
           {Claims("", 300, "7"), "claim \"aud\" is not a string or array"},
           {Claims("", 300, "\"GENOGATE\""), "wrong audience"},
           {Claims("", 300, "\"genogate\"", "https://evil.test"),
            "wrong issuer"},
           {Claims("", 300, "\"genogate\"", "https://idp.test/"),
            "wrong issuer"},
       }) {
    Result<JwtClaims> r = verify(c.claims);
    ASSERT_FALSE(r.ok()) << c.claims;
    EXPECT_EQ(r.error().message(), c.error) << c.claims;
  }
  std::string no_aud = "{\"iss\":\"https://idp.test\",\"exp\":" +
                       std::to_string(testing::FakeNow() + 60) + "}";
  EXPECT_EQ(verify(no_aud).error().message(), "token has no audience");
}

TEST(JwtVerifierTest, UnknownKidWithAFixedSet) {
  FakeClock clock;
  auto v = MakeVerifier(JwksJson({K().rsa.get()}), &clock);
  Result<JwtClaims> r = v->Verify(
      MakeToken(*K().rsa2, "RS256", Header(*K().rsa2, "RS256"), Claims()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "unknown key id");
  // Without a kid every fitting key is tried.
  EXPECT_TRUE(
      v->Verify(MakeToken(*K().rsa, "RS256", "{\"alg\":\"RS256\"}", Claims()))
          .ok());
  EXPECT_FALSE(
      v->Verify(MakeToken(*K().rsa2, "RS256", "{\"alg\":\"RS256\"}", Claims()))
          .ok());
}

TEST(UrlJwksSourceTest, RefetchesOnUnknownKidAtMostOncePerInterval) {
  FakeClock clock;
  FakeHttpClient http;
  UrlJwksOptions uo;
  uo.url = "https://idp.test/jwks";
  uo.ttl = std::chrono::seconds(3600);
  uo.min_refresh_interval = std::chrono::seconds(60);
  http.PushStatus(200, JwksJson({K().rsa.get()}));
  JwtVerifierOptions o;
  o.issuer = "https://idp.test";
  o.audiences = {"genogate"};
  auto v = *JwtVerifier::Create(o, NewUrlJwksSource(uo, &http, &clock), &clock);

  auto tok = [](const TestKey& k) {
    return MakeToken(k, "RS256", Header(k, "RS256"), Claims("", 100000));
  };
  ASSERT_TRUE(v->Verify(tok(*K().rsa)).ok());
  ASSERT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(http.requests()[0].url, "https://idp.test/jwks");
  EXPECT_TRUE(v->Verify(tok(*K().rsa)).ok());
  EXPECT_EQ(http.requests().size(), 1u);  // cached

  // The issuer rotates to rsa-2; a token with the new kid triggers one
  // refetch. (Within the first interval after the initial fetch the refetch
  // waits, so move past it.)
  clock.Advance(std::chrono::seconds(61));
  http.PushStatus(200, JwksJson({K().rsa.get(), K().rsa2.get()}));
  Result<JwtClaims> r = v->Verify(tok(*K().rsa2));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(http.requests().size(), 2u);

  // An unknown kid right after: no new fetch, refused.
  std::unique_ptr<TestKey> rogue = testing::MakeEcKey("rogue");
  for (int i = 0; i < 5; ++i) {
    Result<JwtClaims> bad = v->Verify(MakeToken(
        *rogue, "ES256", Header(*rogue, "ES256"), Claims("", 100000)));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "unknown key id");
  }
  EXPECT_EQ(http.requests().size(), 2u);
  // After the interval, one more fetch.
  clock.Advance(std::chrono::seconds(60));
  http.PushStatus(200, JwksJson({K().rsa2.get()}));
  EXPECT_FALSE(v->Verify(MakeToken(*rogue, "ES256", Header(*rogue, "ES256"),
                                   Claims("", 100000)))
                   .ok());
  EXPECT_EQ(http.requests().size(), 3u);
  // rsa-1 was retired by that fetch.
  EXPECT_FALSE(v->Verify(tok(*K().rsa)).ok());
  EXPECT_TRUE(v->Verify(tok(*K().rsa2)).ok());
}

TEST(UrlJwksSourceTest, TtlExpiryAndFetchFailures) {
  FakeClock clock;
  FakeHttpClient http;
  UrlJwksOptions uo;
  uo.url = "https://idp.test/jwks";
  uo.ttl = std::chrono::seconds(600);
  uo.min_refresh_interval = std::chrono::seconds(60);
  auto source = NewUrlJwksSource(uo, &http, &clock);
  // First fetch fails: an error, and no refetch until the interval passed.
  http.PushStatus(503, "down");
  Result<std::shared_ptr<const JwkSet>> s = source->Keys(false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(source->Keys(false).ok());
  EXPECT_EQ(http.requests().size(), 1u);
  clock.Advance(std::chrono::seconds(60));
  http.PushStatus(200, JwksJson({K().ec256.get()}));
  s = source->Keys(false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->keys().size(), 1u);
  EXPECT_EQ(http.requests().size(), 2u);
  // Stale after the TTL: fetched again; a failure keeps the old set.
  clock.Advance(std::chrono::seconds(600));
  http.PushStatus(500, "");
  s = source->Keys(false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->keys()[0].kid, "ec-256");
  EXPECT_EQ(http.requests().size(), 3u);
  EXPECT_TRUE(source->Keys(false).ok());
  EXPECT_EQ(http.requests().size(), 3u);  // failure: waits for the interval
  clock.Advance(std::chrono::seconds(60));
  http.PushStatus(200, JwksJson({K().ec384.get()}));
  s = source->Keys(false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->keys()[0].kid, "ec-384");
  // An unusable document is not a set.
  clock.Advance(std::chrono::seconds(700));
  http.PushStatus(200, "<html>login</html>");
  s = source->Keys(false);
  ASSERT_TRUE(s.ok());  // keeps ec-384
  EXPECT_EQ((*s)->keys()[0].kid, "ec-384");

  // A verifier whose keys cannot be fetched answers kUnavailable (503).
  FakeHttpClient down;
  JwtVerifierOptions o;
  o.issuer = "https://idp.test";
  o.audiences = {"genogate"};
  auto v = *JwtVerifier::Create(o, NewUrlJwksSource(uo, &down, &clock), &clock);
  Result<JwtClaims> r = v->Verify(
      MakeToken(*K().ec256, "ES256", Header(*K().ec256, "ES256"), Claims()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
}

TEST(JwkSetTest, ParsesUsableKeysAndSkipsOthers) {
  std::string jwks =
      "{\"keys\":[" + JwkJson(*K().rsa) + "," +
      "{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}," +
      JwkJson(*K().ec256, ",\"use\":\"enc\"") + "," +
      "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}," +
      JwkJson(*K().ec384, ",\"alg\":\"ES384\",\"use\":\"sig\",\"d\":\"x\"") +
      "]}";
  Result<JwkSet> set = JwkSet::Parse(jwks);
  ASSERT_TRUE(set.ok()) << set.error().message();
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->keys()[0].kid, "rsa-1");
  EXPECT_EQ(set->keys()[1].kid, "ec-384");
  EXPECT_EQ(set->Find("ec-384").size(), 1u);
  EXPECT_EQ(set->Find("").size(), 2u);
  EXPECT_TRUE(set->Find("hmac").empty());

  // A single JWK object is a set of one.
  EXPECT_EQ(JwkSet::Parse(JwkJson(*K().ec256))->keys().size(), 1u);
  // Only keys we cannot use: kNotFound.
  EXPECT_EQ(JwkSet::Parse("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}")
                .error()
                .code(),
            ErrorCode::kNotFound);
  // RSA under 2048 bits is skipped.
  std::unique_ptr<TestKey> small = testing::MakeRsaKey("small", 1024);
  EXPECT_EQ(JwkSet::Parse(JwksJson({small.get()})).error().code(),
            ErrorCode::kNotFound);
}

TEST(JwkSetTest, RefusesMalformedKeys) {
  std::string x = EncodeBase64Url(std::string(32, '\x01'));
  std::string y = EncodeBase64Url(std::string(32, '\x02'));
  std::string x31 = EncodeBase64Url(std::string(31, '\x01'));
  for (const std::string& bad : std::vector<std::string>{
           "",
           "[]",
           "{\"keys\":{}}",
           "{\"keys\":[1]}",
           "{\"keys\":[{\"kid\":\"a\"}]}",
           "{\"keys\":[{\"kty\":7}]}",
           // A point that is not on the curve.
           "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" +
               y + "\"}",
           // Wrong coordinate length.
           "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x31 + "\",\"y\":\"" +
               y + "\"}",
           "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x + "\"}",
           "{\"kty\":\"RSA\",\"n\":\"AQAB\"}",
           "{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}",
           "{\"kty\":\"RSA\",\"n\":\"" +
               EncodeBase64Url(std::string(256, '\xc3')) + "\",\"e\":\"Ag\"}",
       }) {
    Result<JwkSet> r = JwkSet::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(JwtParseTest, MalformedTokensAreRefused) {
  FakeClock clock;
  auto v = MakeVerifier(AllKeys(), &clock);
  const TestKey& k = *K().rsa;
  const std::string good = MakeToken(k, "RS256", Header(k, "RS256"), Claims());
  ASSERT_TRUE(v->Verify(good).ok());
  const size_t d1 = good.find('.');
  const size_t d2 = good.rfind('.');
  const std::string h = good.substr(0, d1);
  const std::string p = good.substr(d1 + 1, d2 - d1 - 1);
  const std::string s = good.substr(d2 + 1);
  auto b = [](std::string_view t) { return EncodeBase64Url(t); };
  auto signed_with = [&](std::string_view header, std::string_view payload) {
    return MakeToken(k, "RS256", header, payload);
  };
  const std::vector<std::string> cases = {
      "",
      ".",
      "..",
      "abc",
      h,
      h + "." + p,
      h + "." + p + "." + s + ".x",
      h + "." + p + "." + s + ".",
      "." + p + "." + s,
      h + ".." + s,
      h + "=." + p + "." + s,
      h + "." + p + "." + s + "=",
      " " + good,
      good + " ",
      good + "\n",
      h + "." + p + "." + s.substr(0, s.size() - 1),
      h + "." + p + ".",
      h + "." + p + "." + s.substr(0, 10),
      h + "+" + p.substr(1) + "." + s,
      std::string(20000, 'a'),
      std::string(5000, 'a') + "." + std::string(5000, 'b') + "." +
          std::string(5000, 'c'),
      b("not json") + "." + p + "." + s,
      b("[\"alg\",\"RS256\"]") + "." + p + "." + s,
      b("{\"alg\":\"RS256\"") + "." + p + "." + s,
      b("{\"alg\":\"RS256\"} x") + "." + p + "." + s,
      b("{}") + "." + p + "." + s,
      b("{\"alg\":256}") + "." + p + "." + s,
      b("{\"alg\":\"\"}") + "." + p + "." + s,
      b("{\"alg\":\"RS256\",\"kid\":7}") + "." + p + "." + s,
      b("{\"alg\":\"RS256\",\"alg\":\"none\"}") + "." + p + "." + s,
      b(std::string("{\"alg\":\"RS256\",\"kid\":\"\xff\"}")) + "." + p + "." +
          s,
      b("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}") + "." + p + "." + s,
      b("{\"alg\":\"ES512\"}") + "." + p + "." + s,
      b("{\"alg\":\"EdDSA\"}") + "." + p + "." + s,
      b("{\"alg\":\"rs256\"}") + "." + p + "." + s,
      b(std::string(3000, '[')) + "." + p + "." + s,
      // Signed, but the payload is not an object or has duplicates.
      signed_with(Header(k, "RS256"), "[1,2]"),
      signed_with(Header(k, "RS256"), "\"iss\""),
      signed_with(Header(k, "RS256"),
                  "{\"iss\":\"https://evil.test\"," + Claims().substr(1)),
      signed_with("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"]}",
                  Claims()),
      signed_with(Header(k, "RS256"), Claims(",\"sub\":5")),
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<JwtClaims> r = v->Verify(cases[i]);
    ASSERT_FALSE(r.ok()) << "case " << i;
    EXPECT_TRUE(r.error().code() == ErrorCode::kUnauthenticated ||
                r.error().code() == ErrorCode::kLimitExceeded)
        << "case " << i << ": " << r.error().ToString();
    // Never echoes the token.
    if (cases[i].size() > 8) {
      EXPECT_EQ(r.error().message().find(cases[i]), std::string::npos);
    }
  }
  // The parser alone says why.
  EXPECT_EQ(ParseCompactJws("a.b").error().message(),
            "not a compact JWS (three parts)");
  EXPECT_EQ(ParseCompactJws(std::string(20000, 'a')).error().code(),
            ErrorCode::kLimitExceeded);
  Result<CompactJws> parsed = ParseCompactJws(good);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->alg, "RS256");
  EXPECT_EQ(parsed->kid, "rsa-1");
  EXPECT_EQ(parsed->signing_input, h + "." + p);
}

TEST(JwtParseTest, PeekIssuer) {
  const TestKey& k = *K().ec256;
  EXPECT_EQ(*PeekIssuer(MakeToken(k, "ES256", Header(k, "ES256"), Claims())),
            "https://idp.test");
  EXPECT_FALSE(
      PeekIssuer(MakeToken(k, "ES256", Header(k, "ES256"), "{\"iss\":1}"))
          .ok());
  EXPECT_FALSE(PeekIssuer("x.y.z").ok());
}

TEST(JwtSignatureTest, EcdsaSignatureLengthMustMatchTheCurve) {
  const TestKey& k = *K().ec256;
  JwkSet set = *JwkSet::Parse(JwkJson(k));
  std::string input = "a.b";
  std::string sig = testing::Sign(k, "ES256", input);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(VerifyJwsSignature("ES256", set.keys()[0], input, sig).ok());
  EXPECT_FALSE(VerifyJwsSignature("ES256", set.keys()[0], input,
                                  sig + std::string(1, '\0'))
                   .ok());
  EXPECT_FALSE(
      VerifyJwsSignature("ES256", set.keys()[0], input, sig.substr(0, 63))
          .ok());
  EXPECT_FALSE(
      VerifyJwsSignature("ES256", set.keys()[0], input, std::string(64, '\0'))
          .ok());
  EXPECT_EQ(
      VerifyJwsSignature("HS256", set.keys()[0], input, sig).error().code(),
      ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace genogate::gateway
