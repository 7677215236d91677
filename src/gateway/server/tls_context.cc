#include "gateway/server/tls_context.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace genogate::gateway {
namespace {

namespace ssl = boost::asio::ssl;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// No passphrase prompt on a terminal for an encrypted key: it fails.
int NoPassword(char*, int, int, void*) { return 0; }

std::string Describe(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "";
  std::string out = "subject ";
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  BIO_puts(bio, ", expires ");
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n > 0) out.append(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

Result<std::shared_ptr<ssl::context>> Build(const ServerTlsFiles& f,
                                            const std::string& label,
                                            std::string* summary) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  boost::system::error_code ignored;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                       ssl::context::no_compression,
                   ignored);
  SSL_CTX_set_min_proto_version(native, f.min_version == TlsMinVersion::kTls13
                                            ? TLS1_3_VERSION
                                            : TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(
      native,
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_default_passwd_cb(native, NoPassword);
  // A private key others can read is a leaked key: refuse it (as the queue's
  // key ring does).
  struct stat st;
  if (::stat(f.key_file.c_str(), &st) == 0 &&
      (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return Error(ErrorCode::kFailedPrecondition,
                 "the " + label + " key " + f.key_file +
                     " is accessible by other users; chmod 600 or 640 it");
  }
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, f.cert_file.c_str()) != 1) {
    return Error(ErrorCode::kFailedPrecondition,
                 "cannot load the " + label + " certificate " + f.cert_file +
                     ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(native, f.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    return Error(
        ErrorCode::kFailedPrecondition,
        "cannot load the " + label + " key " + f.key_file +
            " (or it does not match the certificate): " + OpenSslError());
  }
  static const unsigned char kSessionContext[] = "genogate";
  SSL_CTX_set_session_id_context(native, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  if (!f.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, f.client_ca_file.c_str(),
                                      nullptr) != 1) {
      return Error(ErrorCode::kFailedPrecondition,
                   "cannot load the " + label + " client CA " +
                       f.client_ca_file + ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(f.client_ca_file.c_str());
    if (names == nullptr) {
      return Error(ErrorCode::kFailedPrecondition,
                   "cannot load the " + label + " client CA " +
                       f.client_ca_file + ": no certificate in it");
    }
    SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(
        native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ERR_clear_error();
  *summary = Describe(native);
  return ctx;
}

// What identifies one version of a file: a replaced or rewritten file
// differs in at least one of these.
struct FileStamp {
  int error = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp Stamp(const std::string& path) {
  FileStamp s;
  if (path.empty()) return s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    s.error = errno;
    return s;
  }
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
  return s;
}

}  // namespace

bool ParseTlsMinVersion(std::string_view text, TlsMinVersion* out) {
  if (text == "1.2") {
    *out = TlsMinVersion::kTls12;
    return true;
  }
  if (text == "1.3") {
    *out = TlsMinVersion::kTls13;
    return true;
  }
  return false;
}

class ServerTlsContext::Impl {
 public:
  Impl(const ServerTlsFiles& files, std::string label, OnReload on_reload)
      : files_(files),
        label_(std::move(label)),
        on_reload_(std::move(on_reload)) {}

  ~Impl() { StopWatching(); }

  std::vector<FileStamp> Stamps() const {
    return {Stamp(files_.cert_file), Stamp(files_.key_file),
            Stamp(files_.client_ca_file)};
  }

  Status Load() {
    std::lock_guard reload_lock(reload_mu_);
    seen_ = Stamps();  // before reading: a later change is seen again
    std::string summary;
    Result<std::shared_ptr<ssl::context>> built =
        Build(files_, label_, &summary);
    Status result = Status::Ok();
    if (built.ok()) {
      std::lock_guard lock(mu_);
      if (current_ != nullptr) ++reloads_;
      current_ = std::move(built).value();
      summary_ = summary;
    } else {
      result = built.error();
    }
    if (on_reload_ && started_) on_reload_(result, summary);
    return result;
  }

  void StartWatching() {
    started_ = true;
    if (files_.watch_interval.count() <= 0) return;
    watcher_ = std::thread([this] { Watch(); });
  }

  void Watch() {
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      stop_cv_.wait_for(lock, files_.watch_interval);
      if (stop_) break;
      lock.unlock();
      bool changed;
      {
        std::lock_guard reload_lock(reload_mu_);
        changed = Stamps() != seen_;
      }
      if (changed) (void)Load();  // reported through on_reload_
      lock.lock();
    }
  }

  void StopWatching() {
    {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
  }

  const ServerTlsFiles files_;
  const std::string label_;
  const OnReload on_reload_;
  bool started_ = false;  // set before the watcher starts

  std::mutex reload_mu_;  // one Load at a time
  mutable std::mutex mu_;
  std::shared_ptr<ssl::context> current_;  // guarded by mu_
  std::string summary_;                    // guarded by mu_
  uint64_t reloads_ = 0;                   // guarded by mu_

  std::vector<FileStamp> seen_;  // guarded by reload_mu_
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread watcher_;
};

Result<std::unique_ptr<ServerTlsContext>> ServerTlsContext::Create(
    const ServerTlsFiles& files, std::string label, OnReload on_reload) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 label + " needs both a certificate and a key file");
  }
  auto impl =
      std::make_unique<Impl>(files, std::move(label), std::move(on_reload));
  if (Status s = impl->Load(); !s.ok()) return s.error();
  impl->StartWatching();
  return std::unique_ptr<ServerTlsContext>(
      new ServerTlsContext(std::move(impl)));
}

ServerTlsContext::ServerTlsContext(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

ServerTlsContext::~ServerTlsContext() = default;

std::shared_ptr<ssl::context> ServerTlsContext::Current() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->current_;
}

Status ServerTlsContext::Reload() { return impl_->Load(); }

uint64_t ServerTlsContext::reloads() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->reloads_;
}

void ServerTlsContext::StopWatching() { impl_->StopWatching(); }

std::string ServerTlsContext::summary() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->summary_;
}

}  // namespace genogate::gateway
