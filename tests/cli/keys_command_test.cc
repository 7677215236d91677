// `genogate keys api-key` and `genogate keys hash` as an operator runs
// them: the printed entry must be what the security parser and the API key
// table accept, and the hash must be the plain SHA-256 of the key.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "gateway/security/api_key.h"
#include "gateway/security/security_config.h"
#include "testing/test_env.h"

namespace genogate::cli {
namespace {

struct Outcome {
  int code = -1;
  std::string out;
};

// Runs a shell command line; stdout and the exit code.
Outcome Shell(const std::string& cmd) {
  Outcome r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Genogate() { return genogate::testing::BinaryDir() + "/genogate"; }

class KeysCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-keys-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `genogate keys hash` of `input` on stdin (stderr to dir_/err).
  Outcome Hash(const std::string& input) {
    std::ofstream(dir_ + "/in") << input;
    return Shell(Genogate() + " keys hash < '" + dir_ + "/in' 2> '" + dir_ +
                 "/err'");
  }
  std::string Err() {
    std::ifstream in(dir_ + "/err");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
};

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

TEST_F(KeysCommandTest, ApiKeyPrintsAKeyAndAnEntryTheConfigAccepts) {
  Outcome r =
      Shell(Genogate() +
            " keys api-key --identity acme-uploader --lab acme 2>/dev/null");
  ASSERT_EQ(r.code, 0);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 5u) << r.out;
  const std::string key = lines[0];
  ASSERT_EQ(key.size(), 46u) << key;
  EXPECT_EQ(key.rfind("gg_", 0), 0u);
  for (char c : key.substr(3)) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                c == '_')
        << key;
  }
  // The key appears once only: the entry carries its hash.
  EXPECT_EQ(r.out.find(key, 1), std::string::npos);
  // Pasted under security.api_keys, the entry parses and identifies the key.
  std::string yaml = "security:\n  api_keys:\n";
  for (const std::string& l : lines) {
    if (l.empty() || l[0] == '#' || l == key) continue;
    yaml += "    " + l + "\n";
  }
  Result<gateway::SecurityConfig> c =
      gateway::ParseSecurityYaml(yaml, "gw.yaml");
  ASSERT_TRUE(c.ok()) << c.error().ToString() << "\n" << yaml;
  ASSERT_EQ(c->api_keys.size(), 1u);
  EXPECT_EQ(c->api_keys[0].grant.identity, "acme-uploader");
  EXPECT_EQ(c->api_keys[0].grant.lab, "acme");
  EXPECT_EQ(c->api_keys[0].grant.roles, std::vector<std::string>{"lab"});
  Result<gateway::ApiKeyTable> table =
      gateway::ApiKeyTable::Create({c->api_keys[0].hash});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Match(key), std::optional<size_t>(0));
  EXPECT_FALSE(table->Match(key + "x").has_value());

  // Without --identity: the key and the hash line; every key is new.
  std::set<std::string> keys = {key};
  for (int i = 0; i < 3; ++i) {
    Outcome plain = Shell(Genogate() + " keys api-key 2>/dev/null");
    ASSERT_EQ(plain.code, 0);
    std::vector<std::string> pl = Lines(plain.out);
    ASSERT_FALSE(pl.empty());
    EXPECT_TRUE(keys.insert(pl[0]).second);
    EXPECT_EQ(pl.back(), "hash: " + *gateway::HashApiKey(pl[0]));
  }
  // An admin entry.
  r = Shell(Genogate() +
            " keys api-key --identity ops --role admin --role auditor "
            "2>/dev/null");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("  roles: [admin, auditor]\n"), std::string::npos);
  EXPECT_EQ(r.out.find("lab:"), std::string::npos);
}

TEST_F(KeysCommandTest, ApiKeyRefusesUnusableOptions) {
  for (const char* args :
       {"--role lab", "--identity x --role root", "--identity 'a b'",
        "--identity ops --role admin --lab acme",
        "--identity acme --lab 'a/b'"}) {
    Outcome r = Shell(Genogate() + " keys api-key " + args + " 2>/dev/null");
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.out, "") << args;  // no key is printed
  }
  EXPECT_EQ(Shell(Genogate() + " keys 2>/dev/null").code, 2);
}

TEST_F(KeysCommandTest, HashIsTheSha256OfTheKeyAsTheConfigStoresIt) {
  Result<std::string> key = gateway::GenerateApiKey();
  ASSERT_TRUE(key.ok());
  Outcome r = Hash(*key + "\n");
  ASSERT_EQ(r.code, 0) << Err();
  EXPECT_EQ(r.out, *gateway::HashApiKey(*key) + "\n");
  // Independently: sha256sum of the key's bytes.
  std::ofstream(dir_ + "/raw") << *key;
  Outcome sum = Shell("sha256sum '" + dir_ + "/raw'");
  ASSERT_EQ(sum.code, 0);
  EXPECT_EQ(r.out, "sha256:" + sum.out.substr(0, 64) + "\n");
  EXPECT_TRUE(gateway::ParseApiKeyHash(r.out.substr(0, r.out.size() - 1)).ok());
  // Surrounding whitespace (a pasted line, CRLF) does not change it.
  EXPECT_EQ(Hash("  " + *key + "\r\n").out, r.out);
  EXPECT_EQ(Hash(*key).out, r.out);
}

TEST_F(KeysCommandTest, HashRefusesShortOrMissingKeysWithoutQuotingThem) {
  Outcome r = Hash("hunter2-is-too-short\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(Err().find("at least 32 characters"), std::string::npos) << Err();
  EXPECT_EQ(Err().find("hunter2"), std::string::npos);
  r = Hash(std::string(40, 'k') + " " + std::string(40, 'k'));
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(Err().find("kkkk"), std::string::npos);
  r = Hash("\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(Err().find("no key"), std::string::npos);
}

}  // namespace
}  // namespace genogate::cli
