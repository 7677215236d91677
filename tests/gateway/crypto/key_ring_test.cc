#include "gateway/crypto/key_ring.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace genogate::gateway {
namespace {

constexpr char kHexA[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// base64 of bytes 0x20..0x3f
constexpr char kB64B[] = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

KeyRing MustParse(const std::string& text) {
  Result<KeyRing> r = KeyRing::Parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? std::move(r).value() : KeyRing();
}

TEST(KeyRingTest, RoundTrip) {
  KeyRing ring = MustParse(std::string("k1 = hex:") + kHexA);
  EXPECT_EQ(ring.active_id(), "k1");
  for (std::string plain :
       {std::string(), std::string("x"), std::string(100000, 'q'),
        std::string("\0bin\xff", 5)}) {
    Result<std::string> enc = ring.Encrypt(plain, "ctx");
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(enc->size(), 1 + 1 + 2 + kNonceBytes + plain.size() + kTagBytes);
    EXPECT_EQ(static_cast<uint8_t>((*enc)[0]), kEnvelopeVersion);
    EXPECT_EQ(enc->substr(2, 2), "k1");
    Result<std::string> dec = ring.Decrypt(*enc, "ctx");
    ASSERT_TRUE(dec.ok()) << dec.error().ToString();
    EXPECT_EQ(*dec, plain);
  }
}

TEST(KeyRingTest, NonceIsFreshPerMessage) {
  KeyRing ring = MustParse(std::string("k1 = hex:") + kHexA);
  Result<std::string> a = ring.Encrypt("same plaintext");
  Result<std::string> b = ring.Encrypt("same plaintext");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(4, kNonceBytes), b->substr(4, kNonceBytes));
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find("same plaintext"), std::string::npos);
}

TEST(KeyRingTest, DetectsTamperingInEveryRegion) {
  KeyRing ring = MustParse(std::string("k1 = hex:") + kHexA);
  const std::string plain = "Patient: DOE^JANE, BRCA1 c.68_69del";
  Result<std::string> enc = ring.Encrypt(plain, "ep/job-1/payload");
  ASSERT_TRUE(enc.ok());
  // Regions: version (0), key id length (1), key id (2..3), nonce, ciphertext,
  // tag. Flipping any single byte must make decryption fail.
  for (size_t i = 0; i < enc->size(); ++i) {
    std::string bad = *enc;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    Result<std::string> dec = ring.Decrypt(bad, "ep/job-1/payload");
    EXPECT_FALSE(dec.ok()) << "flipped byte " << i << " went unnoticed";
  }
  // A flipped bit in the ciphertext or tag is an authentication failure.
  std::string bad = *enc;
  bad[4 + kNonceBytes + 3] ^= 0x20;
  Result<std::string> dec = ring.Decrypt(bad, "ep/job-1/payload");
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code(), ErrorCode::kPermissionDenied);
  // Truncation and wrong associated data fail too.
  EXPECT_FALSE(
      ring.Decrypt(enc->substr(0, enc->size() - 1), "ep/job-1/payload").ok());
  EXPECT_FALSE(ring.Decrypt(enc->substr(0, 10), "ep/job-1/payload").ok());
  Result<std::string> swapped = ring.Decrypt(*enc, "ep/job-2/payload");
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code(), ErrorCode::kPermissionDenied);
  // The error never echoes the plaintext.
  EXPECT_EQ(swapped.error().message().find("DOE"), std::string::npos);
}

TEST(KeyRingTest, RotationOldKeyDecryptsNewKeyEncrypts) {
  KeyRing old_ring = MustParse(std::string("2025 = hex:") + kHexA);
  Result<std::string> old_ct = old_ring.Encrypt("old secret");
  ASSERT_TRUE(old_ct.ok());

  KeyRing ring = MustParse(std::string("active = 2026\n2025 = hex:") + kHexA +
                           "\n2026 = base64:" + kB64B + "\n");
  EXPECT_EQ(ring.active_id(), "2026");
  Result<std::string> dec = ring.Decrypt(*old_ct);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, "old secret");
  Result<std::string> new_ct = ring.Encrypt("new secret");
  ASSERT_TRUE(new_ct.ok());
  Result<std::string> id = KeyRing::KeyIdOf(*new_ct);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "2026");
  // The old ring does not know the new key: a clear "unknown key id" error.
  Result<std::string> unknown = old_ring.Decrypt(*new_ct);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().message().find("unknown key id '2026'"),
            std::string::npos);
}

TEST(KeyRingTest, ParseErrors) {
  EXPECT_EQ(KeyRing::Parse("").error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(KeyRing::Parse("k1 = hex:0011").ok());  // too short
  EXPECT_FALSE(KeyRing::Parse(std::string("k1 = raw:") + kHexA).ok());
  EXPECT_FALSE(KeyRing::Parse(std::string("bad id = hex:") + kHexA).ok());
  EXPECT_FALSE(
      KeyRing::Parse(std::string("k1 = hex:") + kHexA + ";k1 = base64:" + kB64B)
          .ok());
  EXPECT_EQ(
      KeyRing::Parse(std::string("k1 = hex:") + kHexA + ";k2 = base64:" + kB64B)
          .error()
          .code(),
      ErrorCode::kFailedPrecondition);  // no active
  EXPECT_FALSE(
      KeyRing::Parse(std::string("active = k9; k1 = hex:") + kHexA).ok());
  // Errors never contain key material.
  Result<KeyRing> r = KeyRing::Parse(std::string("k1 = hex:") + kHexA + "ff");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find(kHexA), std::string::npos);
}

TEST(KeyRingTest, EmptyRingCannotEncrypt) {
  KeyRing ring;
  EXPECT_EQ(ring.Encrypt("x").error().code(), ErrorCode::kFailedPrecondition);
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/genogate-keyring-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/keys";
    std::ofstream(path_) << "# test keys\nactive = a\na = hex:" << kHexA
                         << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(KeyFileTest, LoadsPrivateFile) {
  ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  Result<KeyRing> ring = KeyRing::LoadFile(path_);
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  EXPECT_EQ(ring->active_id(), "a");
  ASSERT_EQ(chmod(path_.c_str(), 0640), 0);
  EXPECT_TRUE(KeyRing::LoadFile(path_).ok());
}

TEST_F(KeyFileTest, RefusesWorldReadableFile) {
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  Result<KeyRing> ring = KeyRing::LoadFile(path_);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ring.error().message().find(kHexA), std::string::npos);
  ASSERT_EQ(chmod(path_.c_str(), 0602), 0);  // world-writable
  EXPECT_FALSE(KeyRing::LoadFile(path_).ok());
}

TEST_F(KeyFileTest, MissingFileIsIoError) {
  EXPECT_EQ(KeyRing::LoadFile(dir_ + "/nope").error().code(), ErrorCode::kIo);
}

TEST(KeyRingEnvTest, LoadsFromEnvironment) {
  const char* var = "GENOGATE_TEST_KEYRING_ENV";
  ::unsetenv(var);
  EXPECT_EQ(KeyRing::FromEnv(var).error().code(), ErrorCode::kNotFound);
  std::string value =
      std::string("active = b; a = hex:") + kHexA + "; b = base64:" + kB64B;
  ASSERT_EQ(::setenv(var, value.c_str(), 1), 0);
  Result<KeyRing> ring = KeyRing::FromEnv(var);
  ::unsetenv(var);
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  EXPECT_EQ(ring->active_id(), "b");
  EXPECT_EQ(ring->size(), 2u);
}

TEST(DecodeTest, Base64AndHex) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_FALSE(DecodeBase64("a*==").ok());
  EXPECT_EQ(*DecodeHex("68656C6c6f"), "hello");
  EXPECT_FALSE(DecodeHex("6g").ok());
}

}  // namespace
}  // namespace genogate::gateway
