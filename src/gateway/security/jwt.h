// JWT verification: compact JWS parsing, JWK sets, signature and claim
// checks for bearer tokens presented to genogate's HTTP API.
//
// What is accepted (everything else is refused):
//  * Compact JWS only (three base64url parts; no JWE, no JSON serialization),
//    strict base64url (no padding, no '+' '/', no whitespace, canonical final
//    bits), at most `max_token_bytes`; header and payload are JSON objects
//    without duplicate member names.
//  * Algorithms RS256, RS384, PS256, PS384 (RSA keys of at least 2048 bits),
//    ES256 (P-256) and ES384 (P-384) with JOSE raw r||s signatures. "none"
//    and every HMAC algorithm are refused whatever the configuration says,
//    so a public key can never be used as an HMAC secret (alg confusion).
//    The key must fit the algorithm (kty, curve) and, when the JWK names an
//    "alg" or a "use" other than "sig", agree with it.
//  * "crit" header parameters are refused (we implement no extensions).
//  * Claims: "iss" equal to the configured issuer, "aud" (string or array)
//    containing one of the configured audiences, "exp" required and in the
//    future, "nbf" and "iat" (when present) not in the future, each with
//    the configured clock skew; times are JSON numbers (seconds).
//
// Keys come from a JwksSource: a fixed set (file or text), or a URL fetched
// through the HttpClient interface, cached for a TTL and fetched again when
// a token names an unknown "kid" (key rotation), at most once per
// `min_refresh_interval`.
//
// Error messages say what failed ("token expired", "unknown key id") but
// never quote the token, its signature or claim values other than the
// algorithm and key id (they are credentials or personal data).
//
// Thread-safety: JwkSet, JwtVerifier and the JwksSource implementations
// here are safe to use from several threads at once.
#ifndef GENOGATE_GATEWAY_SECURITY_JWT_H_
#define GENOGATE_GATEWAY_SECURITY_JWT_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gateway/queue/clock.h"

namespace genogate::gateway {

class HttpClient;

// Strict base64url without padding (RFC 7515 section 2). kInvalidInput for
// any other character, '=' padding, a length of 1 mod 4, or non-zero unused
// bits in the last character.
Result<std::string> DecodeBase64Url(std::string_view text);
std::string EncodeBase64Url(std::string_view bytes);

// One public key from a JWK (opaque: OpenSSL types stay in the .cc file).
struct PublicKey;

struct Jwk {
  std::string kid;  // may be empty
  std::string kty;  // "RSA" or "EC"
  std::string crv;  // "P-256" / "P-384" for EC
  std::string alg;  // as published; empty if none
  std::shared_ptr<const PublicKey> key;
};

class JwkSet {
 public:
  // Parses a JWK Set ({"keys": [...]}) or a single JWK object. Keys of
  // other types ("oct", "OKP"), other curves, with "use" other than "sig",
  // or RSA moduli under 2048 bits are skipped (not errors), so that an
  // identity provider's full set can be used as published; private members
  // ("d", "p", ...) are ignored. kInvalidInput for malformed JSON or a
  // malformed RSA/EC key; kNotFound if no usable key remains.
  static Result<JwkSet> Parse(std::string_view json);

  // Reads a file (at most 1 MiB) and parses it; kNotFound / kIo naming the
  // path, otherwise as Parse.
  static Result<JwkSet> LoadFile(const std::string& path);

  const std::vector<Jwk>& keys() const { return keys_; }
  // Keys whose kid equals `kid` (all keys when `kid` is empty).
  std::vector<const Jwk*> Find(std::string_view kid) const;

 private:
  std::vector<Jwk> keys_;
};

// Where a verifier gets its keys.
class JwksSource {
 public:
  virtual ~JwksSource() = default;
  // The current key set. When `unknown_kid` is true the caller has just
  // met a key id that is not in the set; a refreshing source may fetch
  // again (rate-limited). Errors: kUnavailable / kTimeout if the keys
  // cannot be fetched and none are cached; kInvalidInput for an unusable
  // document and no cached set.
  virtual Result<std::shared_ptr<const JwkSet>> Keys(bool unknown_kid) = 0;
};

// A fixed key set (from a file or text).
std::unique_ptr<JwksSource> NewStaticJwksSource(JwkSet set);

struct UrlJwksOptions {
  // An http(s) URL of the JWK Set (https in production).
  std::string url;
  // A fetched set is used for this long, then fetched again (on the next
  // use); if that fetch fails, the old set keeps being used.
  std::chrono::seconds ttl{3600};
  // Unknown-kid refetches happen at most once per this interval.
  std::chrono::seconds min_refresh_interval{60};
};

// Fetches the set with GET through `client` (not owned; must outlive the
// source), using `clock` (not owned) for the TTL. Only one thread fetches
// at a time; the others use the cached set meanwhile (or wait for the
// first fetch). A non-200 answer is kUnavailable (5xx) or kInvalidInput.
std::unique_ptr<JwksSource> NewUrlJwksSource(UrlJwksOptions options,
                                             HttpClient* client,
                                             const Clock* clock);

// A parsed compact JWS (before any verification).
struct CompactJws {
  std::string alg;
  std::string kid;
  std::string typ;
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWS (rules above; no signature check).
// kInvalidInput with a short reason for every malformed token;
// kLimitExceeded if it is longer than `max_bytes`.
Result<CompactJws> ParseCompactJws(std::string_view token,
                                   size_t max_bytes = 16 * 1024);

// Verifies `signature` over `signing_input` with `key` for `alg` (one of
// the accepted algorithms). kUnauthenticated if the signature does not
// verify or the key does not fit the algorithm; kInvalidInput for an
// unsupported algorithm.
Status VerifyJwsSignature(std::string_view alg, const Jwk& key,
                          std::string_view signing_input,
                          std::string_view signature);

// The verified claims genogate uses.
struct JwtClaims {
  std::string issuer;
  std::string subject;
  std::vector<std::string> audiences;
  Timestamp expires{};
  std::string alg;
  std::string kid;
  // Every top-level claim that is a string, or an array of strings, as a
  // list of strings; "scope"/"scp" strings are split at spaces.
  std::map<std::string, std::vector<std::string>, std::less<>> strings;

  // The values of claim `name` (empty if absent or not string-valued).
  const std::vector<std::string>& Values(std::string_view name) const;
};

struct JwtVerifierOptions {
  // Required "iss" value (exact match).
  std::string issuer;
  // "aud" must contain at least one of these (required, non-empty).
  std::vector<std::string> audiences;
  // Subset of the accepted algorithms; empty means all of them.
  std::vector<std::string> algorithms;
  std::chrono::seconds clock_skew{60};
  // Longest lifetime accepted (exp - iat when iat is present); 0: no limit.
  std::chrono::seconds max_lifetime{0};
  size_t max_token_bytes = 16 * 1024;
};

class JwtVerifier {
 public:
  // `keys` is owned; `clock` is not (must outlive the verifier).
  // kInvalidInput if issuer or audiences are empty or an algorithm is not
  // one of the accepted ones.
  static Result<std::unique_ptr<JwtVerifier>> Create(
      JwtVerifierOptions options, std::unique_ptr<JwksSource> keys,
      const Clock* clock);

  // Verifies a compact JWS. Errors (the message is safe to log and to
  // send as an RFC 6750 error_description):
  //   kUnauthenticated  malformed token, alg refused, unknown kid (after a
  //                     refresh), bad signature, wrong issuer or audience,
  //                     expired, not yet valid, issued in the future;
  //   kLimitExceeded    token too long;
  //   kUnavailable      keys could not be fetched (answer 503, not 401).
  Result<JwtClaims> Verify(std::string_view token) const;

  const JwtVerifierOptions& options() const { return options_; }

 private:
  JwtVerifier(JwtVerifierOptions options, std::unique_ptr<JwksSource> keys,
              const Clock* clock);
  JwtVerifierOptions options_;
  std::unique_ptr<JwksSource> keys_;
  const Clock* clock_;
};

// The issuer ("iss") of a token without verifying anything, to pick the
// verifier when several issuers are configured. kUnauthenticated if the
// token is malformed or has no string "iss".
Result<std::string> PeekIssuer(std::string_view token,
                               size_t max_bytes = 16 * 1024);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SECURITY_JWT_H_
