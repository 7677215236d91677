#include "gateway/crypto/key_ring.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace genogate::gateway {
namespace {

constexpr size_t kMaxKeyIdBytes = 64;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

bool ValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdBytes) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' ||
                        s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Wipes a std::string's bytes before it is released.
void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

struct Header {
  std::string_view key_id;
  size_t size = 0;  // bytes of version + length + key id
};

Result<Header> ParseHeader(std::string_view env) {
  if (env.size() < 2) {
    return Error(ErrorCode::kInvalidInput, "encrypted envelope is truncated");
  }
  if (static_cast<uint8_t>(env[0]) != kEnvelopeVersion) {
    return Error(ErrorCode::kInvalidInput,
                 "unsupported encrypted envelope version " +
                     std::to_string(static_cast<uint8_t>(env[0])));
  }
  size_t id_len = static_cast<uint8_t>(env[1]);
  if (id_len == 0 || id_len > kMaxKeyIdBytes ||
      env.size() < 2 + id_len + kNonceBytes + kTagBytes) {
    return Error(ErrorCode::kInvalidInput, "encrypted envelope is truncated");
  }
  Header h;
  h.key_id = env.substr(2, id_len);
  h.size = 2 + id_len;
  if (!ValidKeyId(h.key_id)) {
    return Error(ErrorCode::kInvalidInput,
                 "encrypted envelope has a malformed key id");
  }
  return h;
}

}  // namespace

KeyRing::~KeyRing() {
  for (auto& [id, key] : keys_) OPENSSL_cleanse(key.data(), key.size());
}

KeyRing::KeyRing(KeyRing&& o) noexcept
    : keys_(std::move(o.keys_)), active_(std::move(o.active_)) {
  o.keys_.clear();
}

KeyRing& KeyRing::operator=(KeyRing&& o) noexcept {
  if (this != &o) {
    for (auto& [id, key] : keys_) OPENSSL_cleanse(key.data(), key.size());
    keys_ = std::move(o.keys_);
    active_ = std::move(o.active_);
    o.keys_.clear();
  }
  return *this;
}

Result<std::string> DecodeHex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return Error(ErrorCode::kInvalidInput, "hex text has an odd length");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) {
      Wipe(out);
      return Error(ErrorCode::kInvalidInput, "not a hex digit");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Result<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) {
    return Error(ErrorCode::kInvalidInput, "base64 text has a bad length");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) {
      Wipe(out);
      return Error(ErrorCode::kInvalidInput, "not a base64 character");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  acc = 0;
  return out;
}

Status KeyRing::Add(std::string_view id, const Key& key) {
  if (!ValidKeyId(id)) {
    return Error(ErrorCode::kInvalidInput,
                 "key id must be 1..64 characters of [A-Za-z0-9._-]");
  }
  if (keys_.count(id) != 0) {
    return Error(ErrorCode::kConflict,
                 "duplicate key id '" + std::string(id) + "'");
  }
  keys_.emplace(std::string(id), key);
  if (active_.empty()) active_ = std::string(id);
  return Status::Ok();
}

Status KeyRing::SetActive(std::string_view id) {
  if (keys_.count(id) == 0) {
    return Error(ErrorCode::kNotFound,
                 "active key id '" + std::string(id) + "' is not in the ring");
  }
  active_ = std::string(id);
  return Status::Ok();
}

bool KeyRing::Contains(std::string_view id) const {
  return keys_.count(id) != 0;
}

Result<KeyRing> KeyRing::Parse(std::string_view text) {
  KeyRing ring;
  std::string active;
  int entry = 0;
  while (!text.empty()) {
    size_t end = text.find_first_of("\n;");
    std::string_view line =
        Trim(text.substr(0, end == std::string_view::npos ? text.size() : end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++entry;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Error(ErrorCode::kInvalidInput,
                   "key ring entry " + std::to_string(entry) +
                       ": expected '<id> = <encoding>:<key>' or "
                       "'active = <id>'");
    }
    std::string_view name = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (name == "active") {
      active = std::string(value);
      continue;
    }
    Result<std::string> material = Error(ErrorCode::kInvalidInput, "");
    if (value.substr(0, 7) == "base64:") {
      material = DecodeBase64(value.substr(7));
    } else if (value.substr(0, 4) == "hex:") {
      material = DecodeHex(value.substr(4));
    } else {
      return Error(ErrorCode::kInvalidInput,
                   "key ring entry " + std::to_string(entry) +
                       ": key must start with 'base64:' or 'hex:'");
    }
    if (!material.ok() || material->size() != kKeyBytes) {
      if (material.ok()) Wipe(*material);
      return Error(ErrorCode::kInvalidInput,
                   "key ring entry " + std::to_string(entry) +
                       ": key must decode to exactly 32 bytes");
    }
    Key key;
    std::memcpy(key.data(), material->data(), kKeyBytes);
    Wipe(*material);
    Status added = ring.Add(name, key);
    OPENSSL_cleanse(key.data(), key.size());
    if (!added.ok()) {
      return Error(ErrorCode::kInvalidInput, "key ring entry " +
                                                 std::to_string(entry) + ": " +
                                                 added.error().message());
    }
  }
  if (ring.keys_.empty()) {
    return Error(ErrorCode::kFailedPrecondition, "key ring has no keys");
  }
  if (!active.empty()) {
    Status s = ring.SetActive(active);
    if (!s.ok()) return Error(ErrorCode::kInvalidInput, s.error().message());
  } else if (ring.keys_.size() > 1) {
    return Error(ErrorCode::kFailedPrecondition,
                 "key ring has several keys but no 'active = <id>' entry");
  }
  return ring;
}

Result<KeyRing> KeyRing::LoadFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Error(ErrorCode::kIo,
                 "cannot stat key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return Error(ErrorCode::kPermissionDenied,
                 "key file " + path +
                     " is accessible by other users; chmod 600 or 640 it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kIo, "cannot read key file " + path);
  }
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  Result<KeyRing> ring = Parse(text);
  Wipe(text);
  if (!ring.ok()) return ring.error().WithContext("key file " + path);
  return ring;
}

Result<KeyRing> KeyRing::FromEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return Error(ErrorCode::kNotFound,
                 std::string("environment variable ") + name + " is not set");
  }
  Result<KeyRing> ring = Parse(value);
  if (!ring.ok()) {
    return ring.error().WithContext(std::string("environment variable ") +
                                    name);
  }
  return ring;
}

Result<std::string> KeyRing::Encrypt(std::string_view plaintext,
                                     std::string_view associated_data) const {
  auto it = keys_.find(active_);
  if (it == keys_.end()) {
    return Error(ErrorCode::kFailedPrecondition, "key ring has no active key");
  }
  if (plaintext.size() > static_cast<size_t>(INT32_MAX) - 64 ||
      associated_data.size() > static_cast<size_t>(INT32_MAX)) {
    return Error(ErrorCode::kLimitExceeded, "plaintext too large to encrypt");
  }
  const std::string& id = it->first;
  std::string out;
  out.resize(2 + id.size() + kNonceBytes + plaintext.size() + kTagBytes);
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kEnvelopeVersion;
  p[1] = static_cast<unsigned char>(id.size());
  std::memcpy(p + 2, id.data(), id.size());
  size_t header = 2 + id.size();
  unsigned char* nonce = p + header;
  unsigned char* ct = nonce + kNonceBytes;
  unsigned char* tag = ct + plaintext.size();
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    return Error(ErrorCode::kInternal, "random nonce generation failed");
  }
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr,
                         nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes,
                          nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, it->second.data(),
                         nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, p,
                        static_cast<int>(header)) == 1 &&
      (associated_data.empty() ||
       EVP_EncryptUpdate(
           ctx.get(), nullptr, &len,
           reinterpret_cast<const unsigned char*>(associated_data.data()),
           static_cast<int>(associated_data.size())) == 1) &&
      (plaintext.empty() ||
       EVP_EncryptUpdate(
           ctx.get(), ct, &len,
           reinterpret_cast<const unsigned char*>(plaintext.data()),
           static_cast<int>(plaintext.size())) == 1) &&
      EVP_EncryptFinal_ex(ctx.get(), ct + plaintext.size(), &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  if (!ok) return Error(ErrorCode::kInternal, "AES-256-GCM encryption failed");
  return out;
}

Result<std::string> KeyRing::KeyIdOf(std::string_view envelope) {
  Result<Header> h = ParseHeader(envelope);
  if (!h.ok()) return h.error();
  return std::string(h->key_id);
}

Result<std::string> KeyRing::Decrypt(std::string_view env,
                                     std::string_view associated_data) const {
  Result<Header> h = ParseHeader(env);
  if (!h.ok()) return h.error();
  auto it = keys_.find(h->key_id);
  if (it == keys_.end()) {
    return Error(ErrorCode::kNotFound,
                 "unknown key id '" + std::string(h->key_id) +
                     "': the data was encrypted with a key that is not in "
                     "the key ring");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(env.data());
  const unsigned char* nonce = p + h->size;
  const unsigned char* ct = nonce + kNonceBytes;
  size_t ct_len = env.size() - h->size - kNonceBytes - kTagBytes;
  const unsigned char* tag = ct + ct_len;
  std::string out(ct_len, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool setup =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr,
                         nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes,
                          nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, it->second.data(),
                         nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, p,
                        static_cast<int>(h->size)) == 1 &&
      (associated_data.empty() ||
       EVP_DecryptUpdate(
           ctx.get(), nullptr, &len,
           reinterpret_cast<const unsigned char*>(associated_data.data()),
           static_cast<int>(associated_data.size())) == 1) &&
      (ct_len == 0 ||
       EVP_DecryptUpdate(ctx.get(),
                         reinterpret_cast<unsigned char*>(out.data()), &len, ct,
                         static_cast<int>(ct_len)) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          const_cast<unsigned char*>(tag)) == 1;
  if (!setup) {
    Wipe(out);
    return Error(ErrorCode::kInternal, "AES-256-GCM decryption setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(),
                          reinterpret_cast<unsigned char*>(out.data()) + ct_len,
                          &len) != 1) {
    Wipe(out);
    return Error(ErrorCode::kPermissionDenied,
                 "encrypted data failed authentication (tampered, wrong key "
                 "or wrong context)");
  }
  return out;
}

}  // namespace genogate::gateway
