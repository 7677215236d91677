#include "gateway/mllp/mllp_listener.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace genogate::gateway {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using mappers::hl7v2::MllpDecoder;
using mappers::hl7v2::MllpEvent;

std::string FormatEndpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

enum class Deadline { kHandshake, kIdle, kRead, kWrite };

}  // namespace

class MllpListener::Impl {
 public:
  class Connection;

  Impl(const MllpListenerOptions& options, MllpHandler* handler)
      : options_(options),
        handler_(handler),
        acceptor_(asio::make_strand(io_)),
        pool_(static_cast<size_t>(options.handler_threads)) {}

  ~Impl() { Stop(); }

  Status Open();
  void Run();
  void Stop();
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }
  void Accept();
  void Forget(uint64_t id);

  const MllpListenerOptions options_;
  MllpHandler* const handler_;
  asio::io_context io_;
  std::unique_ptr<ServerTlsContext> tls_;
  tcp::acceptor acceptor_;
  asio::thread_pool pool_;
  std::vector<std::thread> threads_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::condition_variable all_closed_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> conns_;
  bool stopping_ = false;  // guarded by mu_
  bool stopped_ = false;   // guarded by mu_
  std::atomic<uint64_t> next_id_{1};

  struct Counters {
    std::atomic<uint64_t> accepted{0}, refused{0}, open{0}, messages{0},
        framing_errors{0}, acks{0}, idle_timeouts{0}, read_timeouts{0},
        write_timeouts{0}, tls_failures{0};
  } counters_;
};

class MllpListener::Impl::Connection
    : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl* owner, tcp::socket socket, uint64_t id)
      : owner_(owner),
        executor_(socket.get_executor()),
        timer_(executor_),
        decoder_(DecoderOptions(owner->options_)) {
    peer_.connection_id = id;
    boost::system::error_code ec;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    peer_.address = ec ? "unknown" : FormatEndpoint(remote);
    if (owner->tls_) {
      // The context current now; a reload later does not affect this
      // connection (it keeps the context alive).
      tls_context_ = owner->tls_->Current();
      tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket),
                                                        *tls_context_);
      peer_.tls = true;
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  uint64_t id() const { return peer_.connection_id; }
  asio::any_io_executor executor() const { return executor_; }

  void Begin() {
    Log(std::string("connected") + (tls_ ? " (TLS)" : ""));
    if (!tls_) {
      Read();
      return;
    }
    SetDeadline(Deadline::kHandshake, owner_->options_.read_timeout);
    tls_->async_handshake(
        ssl::stream_base::server,
        [self = shared_from_this()](const boost::system::error_code& ec) {
          if (self->closed_) return;
          if (ec) {
            ++self->owner_->counters_.tls_failures;
            self->Close("TLS handshake failed: " + ec.message());
            return;
          }
          self->ReadPeerCertificate();
          self->Read();
        });
  }

  // Called on the connection's strand when the listener stops.
  void OnStop() {
    stopping_ = true;
    if (!busy_) Close("listener stopping");
  }

  void Close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    ClearDeadline();
    boost::system::error_code ec;
    Socket().shutdown(tcp::socket::shutdown_both, ec);
    Socket().close(ec);
    Log("closed: " + why);
    owner_->Forget(id());
  }

 private:
  static mappers::hl7v2::MllpOptions DecoderOptions(
      const MllpListenerOptions& o) {
    mappers::hl7v2::MllpOptions d;
    d.max_message_bytes = o.max_message_bytes;
    d.ignore_whitespace_between_frames = true;
    return d;
  }

  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : *plain_; }

  void Log(const std::string& what) const {
    owner_->Log("mllp #" + std::to_string(peer_.connection_id) + " " +
                peer_.address + ": " + what);
  }

  void ReadPeerCertificate() {
    X509* cert = SSL_get1_peer_certificate(tls_->native_handle());
    if (cert == nullptr) return;
    char buf[512];
    if (X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf))) {
      peer_.client_subject = buf;
    }
    unsigned char* der = nullptr;
    int n = i2d_X509(cert, &der);
    if (n > 0) peer_.client_cert_der.assign(reinterpret_cast<char*>(der), n);
    OPENSSL_free(der);
    X509_free(cert);
  }

  void SetDeadline(Deadline kind, std::chrono::milliseconds d) {
    uint64_t gen = ++deadline_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen,
                       kind](const boost::system::error_code& ec) {
      if (ec || self->closed_ || gen != self->deadline_gen_) return;
      self->OnTimeout(kind);
    });
  }
  void ClearDeadline() {
    ++deadline_gen_;
    timer_.cancel();
  }

  void OnTimeout(Deadline kind) {
    Counters& c = owner_->counters_;
    switch (kind) {
      case Deadline::kHandshake:
        ++c.tls_failures;
        Close("TLS handshake timed out");
        return;
      case Deadline::kIdle:
        ++c.idle_timeouts;
        Close("idle timeout");
        return;
      case Deadline::kRead:
        ++c.read_timeouts;
        Close("read timeout inside a frame");
        return;
      case Deadline::kWrite:
        ++c.write_timeouts;
        Close("write timeout");
        return;
    }
  }

  void Read() {
    if (stopping_) {
      Close("listener stopping");
      return;
    }
    const MllpListenerOptions& o = owner_->options_;
    if (decoder_.in_frame() || decoder_.skipping()) {
      SetDeadline(Deadline::kRead, o.read_timeout);
    } else {
      SetDeadline(Deadline::kIdle, o.idle_timeout);
    }
    auto on_read = [self = shared_from_this()](
                       const boost::system::error_code& ec, size_t n) {
      self->OnRead(ec, n);
    };
    if (tls_) {
      tls_->async_read_some(asio::buffer(buf_), std::move(on_read));
    } else {
      plain_->async_read_some(asio::buffer(buf_), std::move(on_read));
    }
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (closed_) return;
    ClearDeadline();
    if (ec) {
      // End of stream (or a reset): answer what is left (a truncated frame,
      // if the peer only shut down its sending side), then close.
      decoder_.Finish();
      eof_ = true;
      eof_reason_ = ec == asio::error::eof || ec == ssl::error::stream_truncated
                        ? "closed by peer"
                        : "read failed: " + ec.message();
    } else {
      decoder_.Feed(std::string_view(buf_.data(), n));
    }
    while (std::optional<MllpEvent> e = decoder_.Next()) {
      pending_.push_back(std::move(*e));
    }
    ProcessNext();
  }

  void ProcessNext() {
    if (closed_) return;
    if (pending_.empty()) {
      if (eof_) {
        Close(eof_reason_);
      } else {
        Read();
      }
      return;
    }
    if (stopping_) {
      Close("listener stopping");
      return;
    }
    busy_ = true;
    MllpEvent event = std::move(pending_.front());
    pending_.pop_front();
    Counters& c = owner_->counters_;
    if (event.is_error()) {
      ++c.framing_errors;
      Log("framing error: " + event.detail);
    } else {
      ++c.messages;
    }
    asio::post(owner_->pool_, [self = shared_from_this(),
                               event = std::move(event)]() mutable {
      const bool framing = event.is_error();
      std::string ack;
      bool threw = false;
      try {
        ack =
            framing
                ? self->owner_->handler_->OnFramingError(event, self->peer_)
                : self->owner_->handler_->OnMessage(event.payload, self->peer_);
      } catch (...) {
        threw = true;
      }
      asio::post(self->executor_,
                 [self, ack = std::move(ack), framing, threw]() mutable {
                   self->OnAck(std::move(ack), framing, threw);
                 });
    });
  }

  void OnAck(std::string ack, bool framing, bool threw) {
    if (closed_) return;
    if (threw) {
      busy_ = false;
      Close("handler failed");
      return;
    }
    if (ack.empty()) {
      busy_ = false;
      if (framing) {
        ProcessNext();
      } else {
        Close("handler gave no ACK");
      }
      return;
    }
    Result<std::string> framed = mappers::hl7v2::MllpEncode(ack);
    if (!framed.ok()) {
      busy_ = false;
      Close("handler's ACK cannot be framed");
      return;
    }
    out_ = std::move(framed).value();
    SetDeadline(Deadline::kWrite, owner_->options_.write_timeout);
    auto on_write = [self = shared_from_this()](
                        const boost::system::error_code& ec, size_t) {
      if (self->closed_) return;
      self->ClearDeadline();
      self->busy_ = false;
      if (ec) {
        self->Close("write failed: " + ec.message());
        return;
      }
      ++self->owner_->counters_.acks;
      self->ProcessNext();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(out_), std::move(on_write));
    } else {
      asio::async_write(*plain_, asio::buffer(out_), std::move(on_write));
    }
  }

  Impl* const owner_;
  asio::any_io_executor executor_;
  std::optional<tcp::socket> plain_;
  std::shared_ptr<ssl::context> tls_context_;  // outlives tls_
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
  asio::steady_timer timer_;
  uint64_t deadline_gen_ = 0;
  MllpPeer peer_;
  MllpDecoder decoder_;
  std::deque<MllpEvent> pending_;
  std::array<char, 65536> buf_{};
  std::string out_;
  std::string eof_reason_;
  bool eof_ = false;
  bool busy_ = false;  // a handler call or an ACK write is under way
  bool stopping_ = false;
  bool closed_ = false;
};

Status MllpListener::Impl::Open() {
  const MllpListenerOptions& o = options_;
  if (o.network_threads < 1 || o.handler_threads < 1) {
    return Error(ErrorCode::kInvalidInput,
                 "MLLP listener needs at least one network and one handler "
                 "thread");
  }
  if (o.max_message_bytes == 0 || o.max_connections == 0) {
    return Error(ErrorCode::kInvalidInput,
                 "MLLP listener limits must be positive");
  }
  if (o.tls) {
    const MllpTlsOptions& t = o.tls_options;
    if (t.cert_file.empty() || t.key_file.empty()) {
      return Error(ErrorCode::kInvalidInput,
                   "MLLP over TLS needs a certificate and a key file");
    }
    ServerTlsFiles files;
    files.cert_file = t.cert_file;
    files.key_file = t.key_file;
    files.client_ca_file = t.client_ca_file;
    files.min_version = t.min_version;
    files.watch_interval = t.watch_interval;
    Result<std::unique_ptr<ServerTlsContext>> tls = ServerTlsContext::Create(
        files, "MLLP TLS",
        [this](const Status& result, const std::string& summary) {
          if (result.ok()) {
            Log("mllp: TLS certificate reloaded: " + summary);
          } else {
            Log("mllp: TLS reload failed, keeping the previous certificate: " +
                result.error().message());
          }
        });
    if (!tls.ok()) return tls.error();
    tls_ = std::move(tls).value();
  }

  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(o.host, std::to_string(o.port),
                                  tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "cannot resolve MLLP listen address " + o.host);
  }
  tcp::endpoint ep = results.begin()->endpoint();
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(
        ErrorCode::kUnavailable,
        "cannot listen on " + FormatEndpoint(ep) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::Ok();
}

void MllpListener::Impl::Run() {
  work_.emplace(io_.get_executor());
  Accept();
  for (int i = 0; i < options_.network_threads; ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
}

void MllpListener::Impl::Accept() {
  acceptor_.async_accept(
      asio::make_strand(io_),
      [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        if (!ec) {
          std::shared_ptr<Connection> conn;
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (stopping_) return;
            if (conns_.size() >= options_.max_connections) {
              ++counters_.refused;
              boost::system::error_code ignored;
              socket.close(ignored);
              Log("mllp: connection refused: " +
                  std::to_string(options_.max_connections) +
                  " connections open");
            } else {
              uint64_t id = next_id_++;
              conn = std::make_shared<Connection>(this, std::move(socket), id);
              conns_[id] = conn;
              ++counters_.accepted;
              ++counters_.open;
            }
          }
          if (conn) {
            asio::post(conn->executor(), [conn] { conn->Begin(); });
          }
        }
        Accept();
      });
}

void MllpListener::Impl::Forget(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conns_.erase(id) > 0) --counters_.open;
  if (conns_.empty()) all_closed_.notify_all();
}

void MllpListener::Impl::Stop() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    for (auto& [id, weak] : conns_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  if (tls_) tls_->StopWatching();
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  for (auto& c : live) {
    asio::post(c->executor(), [c] { c->OnStop(); });
  }
  live.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    all_closed_.wait_for(lock, options_.stop_grace,
                         [this] { return conns_.empty(); });
    for (auto& [id, weak] : conns_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) {
    asio::post(c->executor(), [c] { c->Close("stop grace period over"); });
  }
  live.clear();
  work_.reset();
  // Handler calls still running finish; their completions find the
  // connections closed.
  pool_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    all_closed_.wait_for(lock, std::chrono::seconds(5),
                         [this] { return conns_.empty(); });
  }
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  conns_.clear();
}

Result<std::unique_ptr<MllpListener>> MllpListener::Start(
    const MllpListenerOptions& options, MllpHandler* handler) {
  if (handler == nullptr) {
    return Error(ErrorCode::kInvalidInput, "MLLP listener without a handler");
  }
  auto impl = std::make_unique<Impl>(options, handler);
  if (Status s = impl->Open(); !s.ok()) return s.error();
  impl->Run();
  impl->Log("mllp: listening on port " + std::to_string(impl->port_) +
            (options.tls ? " (TLS)" : ""));
  return std::unique_ptr<MllpListener>(new MllpListener(std::move(impl)));
}

MllpListener::MllpListener(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

MllpListener::~MllpListener() { Stop(); }

uint16_t MllpListener::port() const { return impl_->port_; }

void MllpListener::Stop() {
  if (impl_) impl_->Stop();
}

Status MllpListener::ReloadTls() {
  if (!impl_->tls_) {
    return Error(ErrorCode::kFailedPrecondition,
                 "the MLLP listener does not use TLS");
  }
  return impl_->tls_->Reload();
}

MllpListenerStats MllpListener::stats() const {
  const Impl::Counters& c = impl_->counters_;
  MllpListenerStats s;
  s.connections_accepted = c.accepted;
  s.connections_refused = c.refused;
  s.connections_open = c.open;
  s.messages = c.messages;
  s.framing_errors = c.framing_errors;
  s.acks_written = c.acks;
  s.idle_timeouts = c.idle_timeouts;
  s.read_timeouts = c.read_timeouts;
  s.write_timeouts = c.write_timeouts;
  s.tls_failures = c.tls_failures;
  s.tls_reloads = impl_->tls_ ? impl_->tls_->reloads() : 0;
  return s;
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text,
                                                       bool allow_port_zero) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return Error(ErrorCode::kInvalidInput,
                   "expected [IPv6]:PORT, got \"" + std::string(text) + "\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Error(ErrorCode::kInvalidInput,
                   "expected HOST:PORT (IPv6 in brackets), got \"" +
                       std::string(text) + "\"");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "no host in \"" + std::string(text) + "\"");
  }
  uint32_t value = 0;
  if (port.empty() || port.size() > 5) value = 70000;
  for (char c : port) {
    if (c < '0' || c > '9') {
      value = 70000;
      break;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535 || (value == 0 && !allow_port_zero)) {
    return Error(ErrorCode::kInvalidInput,
                 "bad port in \"" + std::string(text) + "\"");
  }
  return std::pair<std::string, uint16_t>(std::string(host),
                                          static_cast<uint16_t>(value));
}

}  // namespace genogate::gateway
