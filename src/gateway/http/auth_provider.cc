#include "gateway/http/auth_provider.h"

#include <openssl/evp.h>

namespace genogate::gateway {
namespace {

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

class NoAuth final : public AuthProvider {
 public:
  Result<std::string> Authorization() override { return std::string(); }
  bool Refresh() override { return false; }
};

// Shared by basic and bearer: a secret loaded now and on Refresh.
class SecretAuth final : public AuthProvider {
 public:
  SecretAuth(std::function<std::string(const std::string&)> format,
             SecretLoader loader)
      : format_(std::move(format)), loader_(std::move(loader)) {
    Load();
  }

  Result<std::string> Authorization() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!value_.ok()) return value_.error();
    return format_(*value_);
  }

  bool Refresh() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string before = value_.ok() ? *value_ : std::string();
    bool had = value_.ok();
    LoadLocked();
    return value_.ok() && (!had || *value_ != before);
  }

 private:
  void Load() {
    std::lock_guard<std::mutex> lock(mu_);
    LoadLocked();
  }
  void LoadLocked() {
    Result<std::string> v = loader_();
    if (!v.ok()) {
      value_ = Error(ErrorCode::kFailedPrecondition,
                     "credentials: " + v.error().message());
    } else {
      value_ = std::move(v).value();
    }
  }

  std::function<std::string(const std::string&)> format_;
  SecretLoader loader_;
  std::mutex mu_;
  Result<std::string> value_{Error(ErrorCode::kFailedPrecondition, "unset")};
};

}  // namespace

std::unique_ptr<AuthProvider> NewNoAuth() { return std::make_unique<NoAuth>(); }

std::unique_ptr<AuthProvider> NewBasicAuth(std::string user,
                                           SecretLoader password) {
  return std::make_unique<SecretAuth>(
      [user = std::move(user)](const std::string& pw) {
        return "Basic " + Base64(user + ":" + pw);
      },
      std::move(password));
}

std::unique_ptr<AuthProvider> NewBearerAuth(SecretLoader token) {
  return std::make_unique<SecretAuth>(
      [](const std::string& t) { return "Bearer " + t; }, std::move(token));
}

}  // namespace genogate::gateway
