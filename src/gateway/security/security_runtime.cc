#include "gateway/security/security_runtime.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace genogate::gateway {
namespace {

// Reads <dir>/audit-pseudonym.key, creating it (0600, 64 hex digits) if it
// does not exist.
Result<std::string> DataDirKey(const std::string& dir) {
  const std::string path =
      (dir.empty() ? std::string(".") : dir) + "/audit-pseudonym.key";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      return Error(ErrorCode::kInternal, "random generator failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key;
    for (unsigned char b : raw) {
      key.push_back(kHex[b >> 4]);
      key.push_back(kHex[b & 15]);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Error(ErrorCode::kIo,
                   "cannot create " + path + ": " + std::strerror(errno));
    }
    std::string line = key + "\n";
    bool ok = ::write(fd, line.data(), line.size()) ==
                  static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    OPENSSL_cleanse(line.data(), line.size());
    if (!ok) return Error(ErrorCode::kIo, "cannot write " + path);
  }
  SecurityConfig c;
  c.pseudonym_key_file = path;
  return LoadPseudonymKey(c);
}

std::string Summary(const SecurityConfig& c) {
  if (!AuthConfigured(c)) {
    return "no authentication configured: serving on loopback only, every "
           "local caller may act as any lab and as admin (configure "
           "'security:' to serve other addresses)";
  }
  std::string s = "authentication:";
  if (!c.jwt.empty())
    s += " " + std::to_string(c.jwt.size()) + " JWT issuer(s)";
  if (!c.api_keys.empty()) {
    s += " " + std::to_string(c.api_keys.size()) + " API key(s)";
  }
  if (!c.mtls.empty()) {
    s += " " + std::to_string(c.mtls.size()) + " mTLS mapping(s)";
  }
  if (c.require_mtls) s += ", client certificate required";
  return s;
}

}  // namespace

Result<SecurityRuntime> StartSecurity(const SecurityRuntimeOptions& options,
                                      const Clock* clock,
                                      HttpClient* jwks_client) {
  SecurityRuntime rt;
  if (!options.config_file.empty()) {
    Result<SecurityConfig> c = LoadSecurityFile(options.config_file);
    if (!c.ok()) return c.error();
    rt.config = std::move(c).value();
  }
  Status listen = CheckListenAllowed(rt.config, options.listen);
  if (!listen.ok()) return listen.error();
  if (clock == nullptr) clock = SystemClock::Get();
  if (AuthConfigured(rt.config)) {
    Result<std::unique_ptr<Authenticator>> a =
        Authenticator::Create(rt.config, clock, jwks_client);
    if (!a.ok()) return a.error().WithContext("security");
    rt.authenticator =
        std::shared_ptr<const Authenticator>(std::move(a).value());
  }
  rt.access = std::make_shared<const AccessControl>(rt.authenticator,
                                                    DefaultRouteRules());
  Result<std::string> key = rt.config.pseudonym_key_file.empty() &&
                                    rt.config.pseudonym_key_env.empty()
                                ? DataDirKey(options.data_dir)
                                : LoadPseudonymKey(rt.config);
  if (!key.ok()) return key.error();
  Result<Pseudonymizer> p = Pseudonymizer::Create(std::move(key).value());
  if (!p.ok()) return p.error();
  AuditLogOptions ao;
  ao.redis = options.redis;
  Result<std::unique_ptr<AuditLog>> log =
      AuditLog::Open(std::move(ao), std::move(p).value());
  if (!log.ok()) return log.error();
  rt.audit = std::shared_ptr<AuditLog>(std::move(log).value());
  rt.summary = Summary(rt.config);
  return rt;
}

}  // namespace genogate::gateway
