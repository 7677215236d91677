// genogate keys api-key | hash: API keys for the `security.api_keys`
// section (gateway/security/api_key.h).
//
//   genogate keys api-key [--identity ID [--role R]... [--lab LAB]]
//     stdout line 1: a new random key ("gg_" + 43 base64url characters),
//     shown only now; then, as comment + YAML, what to paste under
//     security.api_keys: the full entry when --identity is given, else the
//     line "hash: sha256:<hex>".
//   genogate keys hash
//     reads one key from stdin (surrounding whitespace and a final newline
//     ignored) and prints its stored form "sha256:<hex>".
//
// The key is never written anywhere but stdout, and never into an error
// message. Exit codes: 0, or 2 (unusable key or options).
#include <iostream>
#include <iterator>
#include <set>
#include <string>

#include "cli/commands.h"
#include "gateway/security/api_key.h"
#include "gateway/security/security_config.h"

namespace genogate::cli {
namespace {

struct KeysOptions {
  std::string identity;
  std::vector<std::string> roles;
  std::string lab;
  CLI::App* api_key = nullptr;
  CLI::App* hash = nullptr;
};

int KeysFail(const std::string& message) {
  std::cerr << "genogate keys: " << message << "\n";
  return 2;
}

bool PlainId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int RunApiKey(const KeysOptions& o) {
  std::vector<std::string> roles = o.roles;
  if (roles.empty()) roles.push_back(std::string(gateway::kRoleLab));
  if (o.identity.empty() && (!o.roles.empty() || !o.lab.empty())) {
    return KeysFail("--role and --lab need --identity");
  }
  if (!o.identity.empty() && !PlainId(o.identity)) {
    return KeysFail("--identity must be [A-Za-z0-9._-], 1 to 64 characters");
  }
  static const std::set<std::string> kRoles = {
      std::string(gateway::kRoleLab), std::string(gateway::kRoleAdmin),
      std::string(gateway::kRoleAuditor), std::string(gateway::kRoleRegistry)};
  bool lab_role = false;
  for (const std::string& r : roles) {
    if (!kRoles.count(r)) {
      return KeysFail("--role must be lab, admin, auditor or registry");
    }
    if (r == gateway::kRoleLab) lab_role = true;
  }
  if (!o.lab.empty() && (!lab_role || !PlainId(o.lab))) {
    return KeysFail(
        "--lab needs --role lab and must be [A-Za-z0-9._-], 1 to 64 "
        "characters");
  }
  Result<std::string> key = gateway::GenerateApiKey();
  if (!key.ok()) return KeysFail(key.error().message());
  Result<std::string> hash = gateway::HashApiKey(*key);
  if (!hash.ok()) return KeysFail(hash.error().message());
  std::cout << *key << "\n"
            << "# The key above is shown only now: give it to the caller "
               "and keep no other copy.\n"
            << "# Paste under security.api_keys in genogate's config file:\n";
  if (o.identity.empty()) {
    std::cout << "hash: " << *hash << "\n";
    return 0;
  }
  std::cout << "- identity: " << o.identity << "\n"
            << "  hash: " << *hash << "\n"
            << "  roles: [";
  for (size_t i = 0; i < roles.size(); ++i) {
    std::cout << (i ? ", " : "") << roles[i];
  }
  std::cout << "]\n";
  if (!o.lab.empty()) std::cout << "  lab: " << o.lab << "\n";
  return 0;
}

int RunHash() {
  std::string in((std::istreambuf_iterator<char>(std::cin)),
                 std::istreambuf_iterator<char>());
  const char* ws = " \t\r\n";
  size_t b = in.find_first_not_of(ws);
  if (b == std::string::npos) return KeysFail("no key on standard input");
  size_t e = in.find_last_not_of(ws);
  Result<std::string> hash = gateway::HashApiKey(in.substr(b, e - b + 1));
  if (!hash.ok()) return KeysFail(hash.error().message());
  std::cout << *hash << "\n";
  return 0;
}

}  // namespace

Command RegisterKeys(CLI::App& app) {
  auto o = std::make_shared<KeysOptions>();
  CLI::App* cmd =
      app.add_subcommand("keys", "Make API keys and their configured hashes");
  cmd->require_subcommand(1);
  o->api_key = cmd->add_subcommand(
      "api-key",
      "Generate a random API key: prints the key once, then the hash (or, "
      "with --identity, the whole entry) to paste under security.api_keys");
  o->api_key->add_option("--identity", o->identity,
                         "The caller the key identifies (prints a whole "
                         "security.api_keys entry)");
  o->api_key->add_option("--role", o->roles,
                         "lab, admin, auditor or registry (repeatable; "
                         "default lab)");
  o->api_key->add_option("--lab", o->lab,
                         "The lab id of a lab caller (default: the identity)");
  o->hash = cmd->add_subcommand(
      "hash", "Read an API key from standard input and print its hash");
  return {cmd, [o] {
            if (o->hash->parsed()) return RunHash();
            return RunApiKey(*o);
          }};
}

}  // namespace genogate::cli
