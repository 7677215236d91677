#include "gateway/mllp/mllp_client.h"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "mappers/hl7v2/mllp.h"

namespace genogate::gateway {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

class MllpClient::Impl {
 public:
  explicit Impl(MllpClientOptions o) : options_(std::move(o)), socket_(io_) {}

  Status Connect() {
    const std::string server_name =
        options_.server_name.empty() ? options_.host : options_.server_name;
    if (options_.tls) {
      ctx_.emplace(ssl::context::tls_client);
      boost::system::error_code ec;
      ctx_->set_options(ssl::context::default_workarounds |
                            ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                        ec);
      SSL_CTX_set_min_proto_version(ctx_->native_handle(), TLS1_2_VERSION);
      if (options_.ca_file.empty()) {
        ctx_->set_default_verify_paths(ec);
      } else {
        ctx_->load_verify_file(options_.ca_file, ec);
      }
      if (ec) {
        return Error(ErrorCode::kFailedPrecondition,
                     "cannot load the CA file " + options_.ca_file);
      }
      if (!options_.cert_file.empty() || !options_.key_file.empty()) {
        ctx_->use_certificate_chain_file(options_.cert_file, ec);
        if (!ec) {
          ctx_->use_private_key_file(options_.key_file, ssl::context::pem, ec);
        }
        if (ec) {
          return Error(ErrorCode::kFailedPrecondition,
                       "cannot load the client certificate " +
                           options_.cert_file + " or key " + options_.key_file);
        }
      }
      ctx_->set_verify_mode(ssl::verify_peer);
      ctx_->set_verify_callback(ssl::host_name_verification(server_name));
    }
    const std::string where =
        options_.host + ":" + std::to_string(options_.port);
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints =
        resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable,
                   "cannot resolve " + options_.host + ": " + ec.message());
    }
    bool done = false;
    asio::async_connect(
        socket_, endpoints,
        [&](const boost::system::error_code& e, const tcp::endpoint&) {
          done = true;
          ec = e;
        });
    if (!RunFor(options_.connect_timeout, &done)) {
      return Error(ErrorCode::kTimeout,
                   "connecting to " + where + " timed out");
    }
    if (ec) {
      return Error(ErrorCode::kUnavailable,
                   "cannot connect to " + where + ": " + ec.message());
    }
    if (options_.tls) {
      tls_.emplace(socket_, *ctx_);
      if (!IsIpLiteral(server_name)) {
        SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
      }
      done = false;
      tls_->async_handshake(ssl::stream_base::client,
                            [&](const boost::system::error_code& e) {
                              done = true;
                              ec = e;
                            });
      if (!RunFor(options_.connect_timeout, &done)) {
        return Error(ErrorCode::kTimeout,
                     "TLS handshake with " + where + " timed out");
      }
      if (ec) {
        std::string reason = ec.message();
        long verify = SSL_get_verify_result(tls_->native_handle());
        if (verify != X509_V_OK) {
          reason +=
              " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
        }
        Close();
        return Error(ErrorCode::kUnavailable,
                     "TLS handshake with " + where + " failed: " + reason);
      }
    }
    return Status::Ok();
  }

  Result<std::string> Send(std::string_view message) {
    if (broken_) {
      return Error(ErrorCode::kUnavailable, "the connection is closed");
    }
    Result<std::string> framed = mappers::hl7v2::MllpEncode(message);
    if (!framed.ok()) return framed.error();
    auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    auto left = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
    };
    bool done = false;
    boost::system::error_code ec;
    auto on_write = [&](const boost::system::error_code& e, size_t) {
      done = true;
      ec = e;
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(*framed), on_write);
    } else {
      asio::async_write(socket_, asio::buffer(*framed), on_write);
    }
    if (!RunFor(left(), &done)) {
      return Fail(ErrorCode::kTimeout, "sending the message timed out");
    }
    if (ec) {
      return Fail(ErrorCode::kUnavailable,
                  "sending the message failed: " + ec.message());
    }
    for (;;) {
      while (std::optional<mappers::hl7v2::MllpEvent> e = decoder_.Next()) {
        if (e->kind == mappers::hl7v2::MllpEvent::kMessage) {
          return std::move(e->payload);
        }
        if (e->kind == mappers::hl7v2::MllpEvent::kOversize) {
          return Fail(ErrorCode::kLimitExceeded, "the answer is too large");
        }
        // Stray bytes or a broken frame: keep reading for a good one.
      }
      done = false;
      size_t n = 0;
      auto on_read = [&](const boost::system::error_code& e, size_t k) {
        done = true;
        ec = e;
        n = k;
      };
      if (tls_) {
        tls_->async_read_some(asio::buffer(buf_), on_read);
      } else {
        socket_.async_read_some(asio::buffer(buf_), on_read);
      }
      if (!RunFor(left(), &done)) {
        return Fail(ErrorCode::kTimeout, "no ACK within the timeout");
      }
      if (ec) {
        return Fail(ErrorCode::kUnavailable,
                    ec == asio::error::eof
                        ? std::string("the connection was closed before an ACK")
                        : "reading the ACK failed: " + ec.message());
      }
      decoder_.Feed(std::string_view(buf_.data(), n));
    }
  }

  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  Error Fail(ErrorCode code, std::string message) {
    broken_ = true;
    Close();
    return Error(code, std::move(message));
  }

  // Runs the io_context until *done or `timeout`; on timeout closes the
  // socket, drains the cancelled operation and returns false.
  bool RunFor(std::chrono::milliseconds timeout, bool* done) {
    if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!*done && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
    if (*done) return true;
    Close();
    io_.restart();
    io_.run();
    broken_ = true;
    return false;
  }

  MllpClientOptions options_;
  asio::io_context io_;
  std::optional<ssl::context> ctx_;
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  mappers::hl7v2::MllpDecoder decoder_{[this] {
    mappers::hl7v2::MllpOptions mo;
    mo.max_message_bytes = options_.max_ack_bytes;
    mo.ignore_whitespace_between_frames = true;
    return mo;
  }()};
  std::array<char, 65536> buf_{};
  bool broken_ = false;
};

Result<std::unique_ptr<MllpClient>> MllpClient::Connect(
    const MllpClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (Status s = impl->Connect(); !s.ok()) return s.error();
  return std::unique_ptr<MllpClient>(new MllpClient(std::move(impl)));
}

MllpClient::MllpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MllpClient::~MllpClient() {
  if (impl_) impl_->Close();
}

Result<std::string> MllpClient::Send(std::string_view message) {
  return impl_->Send(message);
}

std::vector<std::string> SplitMessages(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  size_t i = 0;
  while (i <= text.size()) {
    // MLLP framing bytes (a captured stream) end a message like a blank
    // line.
    size_t end = text.find_first_of("\r\n\x0b\x1c", i);
    if (end != std::string_view::npos &&
        (text[end] == '\x0b' || text[end] == '\x1c')) {
      std::string_view line = text.substr(i, end - i);
      if (line.substr(0, 3) == "MSH") flush();
      if (!line.empty()) {
        current.append(line);
        current.push_back('\r');
      }
      flush();
      i = end + 1;
      continue;
    }
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(i, end - i);
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() &&
        text[end + 1] == '\n') {
      ++end;  // CRLF
    }
    i = end + 1;
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (blank) {
      flush();
      continue;
    }
    std::string_view id = line.substr(0, 3);
    if (id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS") {
      flush();
      continue;
    }
    if (id == "MSH") flush();
    current.append(line);
    current.push_back('\r');
  }
  flush();
  return out;
}

}  // namespace genogate::gateway
