#include "gateway/security/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gateway/security/jwt.h"

namespace genogate::gateway {
namespace {

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> GenerateApiKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Error(ErrorCode::kInternal, "random generator failed");
  }
  std::string key =
      "gg_" + EncodeBase64Url(std::string_view(
                  reinterpret_cast<const char*>(bytes), sizeof bytes));
  OPENSSL_cleanse(bytes, sizeof bytes);
  return key;
}

Result<std::string> HashApiKey(std::string_view key) {
  if (key.size() < kMinApiKeyChars) {
    return Error(ErrorCode::kInvalidInput,
                 "an API key needs at least " +
                     std::to_string(kMinApiKeyChars) +
                     " characters (use a generated key)");
  }
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Error(ErrorCode::kInvalidInput,
                   "an API key has no whitespace or control characters");
    }
  }
  std::array<uint8_t, 32> d = Sha256(key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (uint8_t b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<std::array<uint8_t, 32>> ParseApiKeyHash(std::string_view stored) {
  constexpr std::string_view kPrefix = "sha256:";
  if (stored.substr(0, kPrefix.size()) != kPrefix ||
      stored.size() != kPrefix.size() + 64) {
    return Error(ErrorCode::kInvalidInput,
                 "an API key hash must be \"sha256:\" and 64 hex digits");
  }
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) {
    int hi = HexValue(stored[kPrefix.size() + 2 * i]);
    int lo = HexValue(stored[kPrefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Error(ErrorCode::kInvalidInput,
                   "an API key hash must be \"sha256:\" and 64 hex digits");
    }
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<ApiKeyTable> ApiKeyTable::Create(
    const std::vector<std::string>& hashes) {
  ApiKeyTable table;
  for (size_t i = 0; i < hashes.size(); ++i) {
    Result<std::array<uint8_t, 32>> d = ParseApiKeyHash(hashes[i]);
    if (!d.ok()) {
      return d.error().WithContext("API key " + std::to_string(i + 1));
    }
    for (const auto& prev : table.digests_) {
      if (prev == *d) {
        return Error(ErrorCode::kConflict,
                     "API key " + std::to_string(i + 1) +
                         " has the same hash as an earlier one");
      }
    }
    table.digests_.push_back(*d);
  }
  return table;
}

std::optional<size_t> ApiKeyTable::Match(std::string_view presented) const {
  std::array<uint8_t, 32> d = Sha256(presented);
  std::optional<size_t> found;
  for (size_t i = 0; i < digests_.size(); ++i) {
    bool eq = CRYPTO_memcmp(d.data(), digests_[i].data(), d.size()) == 0;
    // No early exit: every entry is compared.
    if (eq && !found) found = i;
  }
  return found;
}

}  // namespace genogate::gateway
