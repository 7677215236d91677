#include "gateway/delivery/target.h"

#include <unistd.h>

#include "base/file.h"

namespace genogate::gateway {

std::string FileOutbox::FileName(std::string_view job_id) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < job_id.size(); ++i) {
    char c = job_id[i];
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 (c == '.' && i > 0);
    if (plain) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out += {'%', kHex[b >> 4], kHex[b & 15]};
    }
  }
  return out + ".json";
}

TransactionOutcome FileOutbox::Deliver(std::string_view job_id,
                                       std::string_view bundle_json) {
  TransactionOutcome out;
  std::string name = FileName(job_id);
  Status s = WriteFileAtomic(dir_ + "/" + name, bundle_json);
  if (!s.ok()) {
    out.error = Error(ErrorCode::kIo, "cannot write to outbox " + dir_ + ": " +
                                          s.error().message());
    return out;
  }
  out.resource_ids.push_back("file:" + name);
  return out;
}

Status FileOutbox::Probe() {
  if (!IsDirectory(dir_)) {
    return Error(ErrorCode::kNotFound,
                 "outbox " + dir_ + " is not a directory");
  }
  if (::access(dir_.c_str(), W_OK) != 0) {
    return Error(ErrorCode::kIo, "outbox " + dir_ + " is not writable");
  }
  return Status::Ok();
}

TransactionOutcome FhirTarget::Deliver(std::string_view /*job_id*/,
                                       std::string_view bundle_json) {
  return client_.PostTransaction(bundle_json);
}

Status FhirTarget::Probe() {
  Result<std::string> m = client_.Metadata();
  if (!m.ok()) return m.error();
  return Status::Ok();
}

bool FhirTarget::RefreshAuth() { return auth_ != nullptr && auth_->Refresh(); }

Result<FhirClient> MakeFhirClient(const Endpoint& endpoint,
                                  std::unique_ptr<HttpClient>* http,
                                  std::unique_ptr<AuthProvider>* auth,
                                  const Clock* clock) {
  if (endpoint.kind != Endpoint::Kind::kFhir) {
    return Error(ErrorCode::kInvalidInput,
                 "endpoint '" + endpoint.name + "' is not a FHIR server");
  }
  Result<std::unique_ptr<HttpClient>> h = NewHttpClient(endpoint.HttpOptions());
  if (!h.ok()) return h.error().WithContext("endpoint '" + endpoint.name + "'");
  Result<std::unique_ptr<AuthProvider>> a = MakeAuthProvider(endpoint, clock);
  if (!a.ok()) return a.error();
  *http = std::move(h).value();
  *auth = std::move(a).value();
  FhirClientOptions o;
  o.base_url = endpoint.url;
  o.auth = auth->get();
  o.clock = clock;
  return FhirClient::Create(http->get(), o);
}

Result<std::unique_ptr<DeliveryTarget>> MakeTarget(const Endpoint& endpoint,
                                                   const Clock* clock) {
  if (endpoint.kind == Endpoint::Kind::kFile) {
    if (!IsDirectory(endpoint.directory)) {
      return Error(ErrorCode::kNotFound,
                   "endpoint '" + endpoint.name + "': outbox directory " +
                       endpoint.directory + " does not exist");
    }
    return std::unique_ptr<DeliveryTarget>(
        std::make_unique<FileOutbox>(endpoint.directory));
  }
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<AuthProvider> auth;
  Result<FhirClient> client = MakeFhirClient(endpoint, &http, &auth, clock);
  if (!client.ok()) return client.error();
  return std::unique_ptr<DeliveryTarget>(std::make_unique<FhirTarget>(
      std::move(client).value(), std::move(http), std::move(auth)));
}

}  // namespace genogate::gateway
