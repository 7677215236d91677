// KeyRing: named AES-256 keys and authenticated encryption of PHI at rest.
//
// Envelope (all of it produced by Encrypt, all of it checked by Decrypt):
//
//   version (1 byte, 0x01) | key id length (1 byte, 1..64) | key id |
//   nonce (12 bytes, random per message) | ciphertext | tag (16 bytes)
//
// AES-256-GCM via OpenSSL EVP. The header (version, key id length, key id) is
// authenticated as additional data, followed by the caller's
// `associated_data` (not stored: the caller must present the same bytes to
// decrypt; the queue passes "<endpoint>/<job id>/payload" so that ciphertexts
// cannot be swapped between jobs inside Redis).
//
// One key is active (used by Encrypt); every key in the ring can decrypt, so
// keys are rotated by adding a new key, making it active, and removing the
// old one once nothing encrypted with it remains.
//
// Key ring text (file or environment variable), one entry per line or
// separated by ';', '#' starts a comment line:
//
//   active = 2026-01
//   2026-01 = base64:<44 chars of base64 for 32 bytes>
//   2025-07 = hex:<64 hex digits>
//
// Key ids are 1..64 characters of [A-Za-z0-9._-]. With a single key, the
// "active" line may be omitted.
//
// Keys and plaintexts never appear in error messages or logs; key material is
// wiped from memory when the ring is destroyed.
//
// Thread-safety: a KeyRing is immutable after it is built; Encrypt and
// Decrypt may be called from several threads at once.
#ifndef GENOGATE_GATEWAY_CRYPTO_KEY_RING_H_
#define GENOGATE_GATEWAY_CRYPTO_KEY_RING_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace genogate::gateway {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr uint8_t kEnvelopeVersion = 1;

class KeyRing {
 public:
  using Key = std::array<uint8_t, kKeyBytes>;

  KeyRing() = default;
  ~KeyRing();
  KeyRing(KeyRing&&) noexcept;
  KeyRing& operator=(KeyRing&&) noexcept;
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // Parses key ring text (format above). kInvalidInput on a syntax error, a
  // bad key id, a key that is not exactly 32 bytes, a duplicate id, or an
  // "active" id that is not in the ring; kFailedPrecondition if there is no
  // key at all or several keys and no active one.
  static Result<KeyRing> Parse(std::string_view text);

  // Reads and parses a key file. Refuses (kPermissionDenied) a file that is
  // readable or writable by "other" (mode & 0006), kIo if it cannot be read,
  // otherwise as Parse. The error names the path but never the contents.
  static Result<KeyRing> LoadFile(const std::string& path);

  // Parses the value of environment variable `name`; kNotFound if unset.
  static Result<KeyRing> FromEnv(const char* name);

  // Adds a key (kInvalidInput for a bad id, kConflict for a duplicate id).
  // The first key added becomes active.
  Status Add(std::string_view id, const Key& key);
  // kNotFound if `id` is not in the ring.
  Status SetActive(std::string_view id);

  const std::string& active_id() const { return active_; }
  bool Contains(std::string_view id) const;
  size_t size() const { return keys_.size(); }

  // Encrypts with the active key. kFailedPrecondition if the ring is empty,
  // kInternal if OpenSSL fails.
  Result<std::string> Encrypt(std::string_view plaintext,
                              std::string_view associated_data = {}) const;

  // Decrypts an envelope. kInvalidInput for a truncated or malformed envelope
  // or an unknown version; kNotFound ("unknown key id '<id>'") when the key
  // is not in the ring; kPermissionDenied when authentication fails (tampered
  // data, wrong key, or different associated data).
  Result<std::string> Decrypt(std::string_view envelope,
                              std::string_view associated_data = {}) const;

  // The key id of an envelope without decrypting it (kInvalidInput if
  // malformed), e.g. to find data still encrypted with a retired key.
  static Result<std::string> KeyIdOf(std::string_view envelope);

 private:
  std::map<std::string, Key, std::less<>> keys_;
  std::string active_;
};

// Decoding helpers for key material (also used by tests).
Result<std::string> DecodeBase64(std::string_view text);
Result<std::string> DecodeHex(std::string_view text);

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_CRYPTO_KEY_RING_H_
