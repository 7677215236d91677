// The servers bench/server_figures.sh drives with wrk:
//
//   server_bench genogate PORT   genogate's HttpServer (router, handler
//                                threads, metrics, JSON request logs on
//                                stderr) with one trivial route, GET /ping
//   server_bench minimal PORT    the ceiling: a minimal asynchronous Beast
//                                HTTP/1.1 server on two threads (one per
//                                core of the reference machine) that answers
//                                every request "ok" (keep-alive, no
//                                limits, no logs, no metrics)
//
// Each runs until SIGTERM/SIGINT. Without arguments it prints this usage
// and exits 0 (scripts/bench.sh runs bench binaries without arguments; the
// figures come from bench/server_figures.sh).
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "gateway/server/http_server.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class MinimalSession : public std::enable_shared_from_this<MinimalSession> {
 public:
  explicit MinimalSession(tcp::socket s) : stream_(std::move(s)) {}
  void Read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;
                       self->Write();
                     });
  }

 private:
  void Write() {
    res_ = {};
    res_.version(11);
    res_.result(http::status::ok);
    res_.set(http::field::content_type, "text/plain");
    res_.body() = "ok";
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    http::async_write(
        stream_, res_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec || !self->res_.keep_alive()) return;
          self->Read();
        });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void Accept(tcp::acceptor& acceptor, asio::io_context& ioc) {
  acceptor.async_accept(
      asio::make_strand(ioc), [&](beast::error_code ec, tcp::socket s) {
        if (!ec) {
          s.set_option(tcp::no_delay(true));
          std::make_shared<MinimalSession>(std::move(s))->Read();
        }
        if (acceptor.is_open()) Accept(acceptor, ioc);
      });
}

int RunMinimal(uint16_t port) {
  asio::io_context ioc(2);
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
  Accept(acceptor, ioc);
  std::thread second([&] { ioc.run(); });
  ioc.run();
  second.join();
  return 0;
}

int RunGenogate(uint16_t port) {
  using namespace genogate::gateway;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto router = std::make_shared<Router>();
  genogate::Status added =
      router->Add("GET", "/ping", "ping", [](const HttpRequest&) {
        HttpResponse r;
        r.SetHeader("Content-Type", "text/plain");
        r.body = "ok";
        return r;
      });
  if (!added.ok()) return 2;
  MetricsRegistry metrics;
  Logger logger(LogLevel::kInfo);
  HttpServerOptions o;
  o.port = port;
  o.network_threads = 1;
  o.handler_threads = 2;
  o.handler_queue = 1024;
  o.max_connections = 4096;
  auto server = HttpServer::Start(o, router, &metrics, &logger);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.error().ToString().c_str());
    return 2;
  }
  int sig = 0;
  sigwait(&set, &sig);
  (*server)->Stop(std::chrono::milliseconds(1000));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::printf(
        "server_bench: run bench/server_figures.sh for the HTTP server "
        "figures (wrk against genogate's server and a minimal Beast "
        "server)\n");
    return 0;
  }
  auto port = static_cast<uint16_t>(std::atoi(argv[2]));
  if (std::strcmp(argv[1], "minimal") == 0) return RunMinimal(port);
  if (std::strcmp(argv[1], "genogate") == 0) return RunGenogate(port);
  std::fprintf(stderr, "usage: server_bench genogate|minimal PORT\n");
  return 2;
}
