// MllpListener on loopback with a scripted handler: framing, order, limits,
// timeouts, TLS / mTLS, graceful stop; MllpClient and SplitMessages.
#include "gateway/mllp/mllp_listener.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gateway/mllp/mllp_client.h"
#include "gateway/mllp/mllp_test_util.h"

namespace genogate::gateway {
namespace {

using mappers::hl7v2::MllpEvent;
using testing::Frame;
using testing::RawMllp;

// Answers "ACK|<message>" (or "FRAMING|<kind>"); a message "BLOCK..." waits
// until Release(); a message "SLOW..." sleeps a little first.
class ScriptedHandler : public MllpHandler {
 public:
  std::string OnMessage(std::string_view er7, const MllpPeer& peer) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      peers_.push_back(peer);
      if (er7.substr(0, 5) == "BLOCK") {
        ++blocked_;
        cv_.notify_all();
        cv_.wait(lock, [this] { return released_; });
      }
    }
    if (er7.substr(0, 4) == "SLOW") {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    if (er7 == "NOACK") return "";
    return "ACK|" + std::string(er7);
  }
  std::string OnFramingError(const MllpEvent& e, const MllpPeer&) override {
    return "FRAMING|" + std::to_string(static_cast<int>(e.kind)) + "|" +
           std::to_string(e.payload.size());
  }
  void WaitBlocked(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return blocked_ >= n; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<MllpPeer> peers() {
    std::lock_guard<std::mutex> lock(mu_);
    return peers_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool released_ = false;
  std::vector<MllpPeer> peers_;
};

MllpListenerOptions Loopback() {
  MllpListenerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  return o;
}

std::unique_ptr<MllpListener> StartOrDie(const MllpListenerOptions& o,
                                         MllpHandler* h) {
  auto l = MllpListener::Start(o, h);
  EXPECT_TRUE(l.ok()) << l.error().ToString();
  return l.ok() ? std::move(l).value() : nullptr;
}

TEST(MllpListenerTest, AnswersEachFrameInOrderOnOneConnection) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.handler_threads = 4;
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  // Pipelined, with the first ones slower: the answers keep the order.
  std::string bytes;
  for (std::string m : {"SLOW-1", "SLOW-2", "3", "SLOW-4", "5"}) {
    bytes += Frame(m) + "\r\n";  // whitespace between frames is ignored
  }
  ASSERT_TRUE(c.Write(bytes));
  std::vector<std::string> acks = c.ReadFrames(5);
  EXPECT_EQ(acks, (std::vector<std::string>{"ACK|SLOW-1", "ACK|SLOW-2", "ACK|3",
                                            "ACK|SLOW-4", "ACK|5"}));
  EXPECT_EQ(l->stats().messages, 5u);
  EXPECT_EQ(l->stats().framing_errors, 0u);
  std::vector<MllpPeer> peers = h.peers();
  ASSERT_EQ(peers.size(), 5u);
  EXPECT_EQ(peers[0].address.rfind("127.0.0.1:", 0), 0u) << peers[0].address;
  EXPECT_FALSE(peers[0].tls);
}

TEST(MllpListenerTest, HandlerBlockingDoesNotStallOtherConnections) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.network_threads = 1;
  o.handler_threads = 2;
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp a(l->port());
  ASSERT_TRUE(a.Write(Frame("BLOCK-A")));
  h.WaitBlocked(1);
  // The network thread is free: another connection is served meanwhile.
  RawMllp b(l->port());
  ASSERT_TRUE(b.Write(Frame("B")));
  EXPECT_EQ(b.ReadFrames(1), std::vector<std::string>{"ACK|B"});
  h.Release();
  EXPECT_EQ(a.ReadFrames(1), std::vector<std::string>{"ACK|BLOCK-A"});
}

TEST(MllpListenerTest, FramingErrorsAreAnsweredInOrder) {
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  // A frame cut by a new start block, a good one, an end block without CR.
  std::string bytes = std::string("\x0BMSH|cut") + Frame("ok") +
                      "\x0B"
                      "bad\x1CX" +
                      Frame("after");
  ASSERT_TRUE(c.Write(bytes));
  std::vector<std::string> acks = c.ReadFrames(5);
  ASSERT_EQ(acks.size(), 5u);
  EXPECT_EQ(acks[0], "FRAMING|" + std::to_string(MllpEvent::kTruncated) + "|7");
  EXPECT_EQ(acks[1], "ACK|ok");
  EXPECT_EQ(acks[2],
            "FRAMING|" + std::to_string(MllpEvent::kBadEndBlock) + "|3");
  EXPECT_EQ(acks[3],
            "FRAMING|" + std::to_string(MllpEvent::kBytesOutsideFrame) + "|0");
  EXPECT_EQ(acks[4], "ACK|after");
  EXPECT_EQ(l->stats().framing_errors, 3u);
}

TEST(MllpListenerTest, TruncatedFrameAtEndOfStreamIsAnswered) {
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame("one") + "\x0BMSH|half"));
  c.HalfClose();
  std::vector<std::string> acks = c.ReadFrames(2);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0], "ACK|one");
  EXPECT_EQ(acks[1], "FRAMING|" + std::to_string(MllpEvent::kTruncated) + "|8");
  EXPECT_TRUE(c.WaitForClose());
}

TEST(MllpListenerTest, OversizeFrameIsAnsweredAndTheConnectionGoesOn) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.max_message_bytes = 1000;
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame(std::string(1000, 'A')) +
                      Frame(std::string(300000, 'B')) + Frame("small")));
  std::vector<std::string> acks = c.ReadFrames(3);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0], "ACK|" + std::string(1000, 'A'));  // exactly the limit
  EXPECT_EQ(acks[1].substr(0, 9),
            "FRAMING|" + std::to_string(MllpEvent::kOversize));
  EXPECT_EQ(acks[2], "ACK|small");
}

TEST(MllpListenerTest, RandomBytesNeverStopTheListener) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.max_message_bytes = 4096;
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  std::mt19937 rng(7);
  const char alphabet[] = {'\x0B', '\x1C', '\r', '\n', 'M', 'S', 'H', '|'};
  for (int round = 0; round < 20; ++round) {
    RawMllp c(l->port());
    std::string bytes;
    size_t n = rng() % 20000;
    for (size_t i = 0; i < n; ++i) {
      bytes += rng() % 4 == 0 ? static_cast<char>(rng() & 0xff)
                              : alphabet[rng() % sizeof(alphabet)];
    }
    ASSERT_TRUE(c.Write(bytes));
    c.HalfClose();
    // Every frame, good or broken, is answered; then the listener closes.
    c.ReadFrames(SIZE_MAX);
    EXPECT_TRUE(c.closed()) << "round " << round;
  }
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame("still here")));
  EXPECT_EQ(c.ReadFrames(1), std::vector<std::string>{"ACK|still here"});
  // One ACK per frame (the last write's counter may trail the bytes).
  auto answered = [&] {
    MllpListenerStats st = l->stats();
    return st.messages + st.framing_errors == st.acks_written;
  };
  for (int i = 0; i < 500 && !answered(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(answered());
}

TEST(MllpListenerTest, EmptyAckClosesTheConnection) {
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame("NOACK")));
  EXPECT_TRUE(c.WaitForClose());
}

TEST(MllpListenerTest, IdleConnectionIsClosed) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.idle_timeout = std::chrono::milliseconds(200);
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame("first")));
  EXPECT_EQ(c.ReadFrames(1), std::vector<std::string>{"ACK|first"});
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(l->stats().idle_timeouts, 1u);
  EXPECT_EQ(l->stats().read_timeouts, 0u);
}

TEST(MllpListenerTest, StalledFrameHitsTheReadTimeout) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.read_timeout = std::chrono::milliseconds(200);
  o.idle_timeout = std::chrono::minutes(10);
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write("\x0BMSH|^~\\&|start of a frame that never ends"));
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(l->stats().read_timeouts, 1u);
  EXPECT_EQ(l->stats().idle_timeouts, 0u);
}

TEST(MllpListenerTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.max_connections = 2;
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp a(l->port()), b(l->port());
  ASSERT_TRUE(a.Write(Frame("a")));
  ASSERT_TRUE(b.Write(Frame("b")));
  EXPECT_EQ(a.ReadFrames(1).size(), 1u);
  EXPECT_EQ(b.ReadFrames(1).size(), 1u);
  RawMllp c(l->port());
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(l->stats().connections_refused, 1u);
  // Once one closes, a new connection is served.
  a.HalfClose();
  EXPECT_TRUE(a.WaitForClose());
  for (int i = 0; i < 500 && l->stats().connections_open > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RawMllp d(l->port());
  ASSERT_TRUE(d.Write(Frame("d")));
  EXPECT_EQ(d.ReadFrames(1), std::vector<std::string>{"ACK|d"});
}

TEST(MllpListenerTest, StopLetsTheMessageInFlightBeAnswered) {
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  RawMllp busy(l->port());
  RawMllp idle(l->port());
  ASSERT_TRUE(idle.Write(Frame("x")));
  EXPECT_EQ(idle.ReadFrames(1).size(), 1u);
  ASSERT_TRUE(busy.Write(Frame("BLOCK")));
  h.WaitBlocked(1);
  std::thread stopper([&] { l->Stop(); });
  EXPECT_TRUE(idle.WaitForClose());  // idle connections close at once
  h.Release();
  EXPECT_EQ(busy.ReadFrames(1), std::vector<std::string>{"ACK|BLOCK"});
  EXPECT_TRUE(busy.WaitForClose());
  stopper.join();
  EXPECT_EQ(gateway::testing::ConnectLoopback(l->port()), -1);
}

TEST(MllpListenerTest, BadOptionsAreRefused) {
  ScriptedHandler h;
  MllpListenerOptions o = Loopback();
  o.handler_threads = 0;
  EXPECT_EQ(MllpListener::Start(o, &h).error().code(),
            ErrorCode::kInvalidInput);
  o = Loopback();
  o.tls = true;
  o.tls_options.cert_file = "/nonexistent/cert.pem";
  o.tls_options.key_file = "/nonexistent/key.pem";
  EXPECT_EQ(MllpListener::Start(o, &h).error().code(),
            ErrorCode::kFailedPrecondition);
  auto first = StartOrDie(Loopback(), &h);
  ASSERT_NE(first, nullptr);
  o = Loopback();
  o.port = first->port();
  EXPECT_EQ(MllpListener::Start(o, &h).error().code(), ErrorCode::kUnavailable);
}

class MllpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs_.ok()); }
  MllpListenerOptions TlsOptions(bool mutual) {
    MllpListenerOptions o = Loopback();
    o.tls = true;
    o.tls_options.cert_file = certs_.server_cert();
    o.tls_options.key_file = certs_.server_key();
    if (mutual) o.tls_options.client_ca_file = certs_.ca();
    return o;
  }
  MllpClientOptions Client(int port) {
    MllpClientOptions c;
    c.host = "127.0.0.1";
    c.port = static_cast<uint16_t>(port);
    c.tls = true;
    c.ca_file = certs_.ca();
    c.server_name = "localhost";
    c.connect_timeout = std::chrono::seconds(20);
    c.timeout = std::chrono::seconds(20);
    return c;
  }
  testing::TestCerts certs_;
};

TEST_F(MllpTlsTest, RoundTrip) {
  ScriptedHandler h;
  auto l = StartOrDie(TlsOptions(false), &h);
  ASSERT_NE(l, nullptr);
  auto c = MllpClient::Connect(Client(l->port()));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  for (std::string m : {"one", "two"}) {
    Result<std::string> ack = (*c)->Send(m);
    ASSERT_TRUE(ack.ok()) << ack.error().ToString();
    EXPECT_EQ(*ack, "ACK|" + m);
  }
  std::vector<MllpPeer> peers = h.peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_TRUE(peers[0].tls);
  EXPECT_EQ(peers[0].client_subject, "");
}

TEST_F(MllpTlsTest, ClientRefusesAServerItCannotVerify) {
  ScriptedHandler h;
  auto l = StartOrDie(TlsOptions(false), &h);
  ASSERT_NE(l, nullptr);
  MllpClientOptions c = Client(l->port());
  c.ca_file = certs_.other_ca();
  auto r = MllpClient::Connect(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("certificate"), std::string::npos)
      << r.error().message();
  c = Client(l->port());
  c.server_name = "not-the-server.example";
  r = MllpClient::Connect(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(h.peers().size(), 0u);
}

TEST_F(MllpTlsTest, MutualTlsRequiresAClientCertificate) {
  ScriptedHandler h;
  auto l = StartOrDie(TlsOptions(true), &h);
  ASSERT_NE(l, nullptr);
  MllpClientOptions with = Client(l->port());
  with.cert_file = certs_.client_cert();
  with.key_file = certs_.client_key();
  auto c = MllpClient::Connect(with);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  Result<std::string> ack = (*c)->Send("hello");
  ASSERT_TRUE(ack.ok()) << ack.error().ToString();
  EXPECT_EQ(*ack, "ACK|hello");
  ASSERT_EQ(h.peers().size(), 1u);
  EXPECT_NE(h.peers()[0].client_subject.find("CN=lab-client"),
            std::string::npos)
      << h.peers()[0].client_subject;

  // Without a certificate: the handshake (TLS 1.3: the first read) fails
  // and nothing reaches the handler.
  auto bare = MllpClient::Connect(Client(l->port()));
  if (bare.ok()) {
    Result<std::string> r = (*bare)->Send("sneaky");
    EXPECT_FALSE(r.ok());
  }
  for (int i = 0; i < 500 && l->stats().tls_failures < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(l->stats().tls_failures, 1u);
  EXPECT_EQ(h.peers().size(), 1u);
}

TEST_F(MllpTlsTest, PlainClientOnATlsPortGetsNothing) {
  ScriptedHandler h;
  MllpListenerOptions o = TlsOptions(false);
  auto l = StartOrDie(o, &h);
  ASSERT_NE(l, nullptr);
  RawMllp c(l->port());
  ASSERT_TRUE(c.Write(Frame("MSH|^~\\&|plain")));
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(h.peers().size(), 0u);
}

TEST(MllpClientTest, ConnectionRefusedAndTimeouts) {
  MllpClientOptions c;
  c.host = "127.0.0.1";
  c.port = static_cast<uint16_t>(gateway::testing::FreePort());
  auto r = MllpClient::Connect(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);

  // A listener whose handler never answers in time.
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  c.port = l->port();
  c.timeout = std::chrono::milliseconds(200);
  auto client = MllpClient::Connect(c);
  ASSERT_TRUE(client.ok());
  Result<std::string> ack = (*client)->Send("BLOCK");
  ASSERT_FALSE(ack.ok());
  EXPECT_EQ(ack.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ((*client)->Send("again").error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ((*client)->Send(std::string("a\x0B")).error().code(),
            ErrorCode::kUnavailable);
  h.Release();
}

TEST(MllpClientTest, RefusesMessagesThatBreakTheFraming) {
  ScriptedHandler h;
  auto l = StartOrDie(Loopback(), &h);
  ASSERT_NE(l, nullptr);
  MllpClientOptions c;
  c.host = "127.0.0.1";
  c.port = l->port();
  auto client = MllpClient::Connect(c);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Send(std::string("MSH|\x1C")).error().code(),
            ErrorCode::kInvalidInput);
}

TEST(ParseHostPortTest, Forms) {
  auto p = ParseHostPort("127.0.0.1:2575");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first, "127.0.0.1");
  EXPECT_EQ(p->second, 2575);
  p = ParseHostPort("[::1]:6661");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->first, "::1");
  EXPECT_EQ(p->second, 6661);
  EXPECT_TRUE(ParseHostPort("lis.example.org:1").ok());
  EXPECT_TRUE(ParseHostPort("0.0.0.0:0", true).ok());
  for (const char* bad :
       {"127.0.0.1", "127.0.0.1:", ":2575", "::1:2575", "[::1]2575",
        "host:65536", "host:0", "host:12a", "host:-1"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

TEST(SplitMessagesTest, MshStartsAndBlankLines) {
  EXPECT_TRUE(SplitMessages("").empty());
  EXPECT_TRUE(SplitMessages("\n\r\n  \n").empty());
  EXPECT_EQ(SplitMessages("MSH|a\nPID|1\n"),
            std::vector<std::string>{"MSH|a\rPID|1\r"});
  EXPECT_EQ(SplitMessages("MSH|a\rPID|1\rMSH|b\rPID|2"),
            (std::vector<std::string>{"MSH|a\rPID|1\r", "MSH|b\rPID|2\r"}));
  EXPECT_EQ(SplitMessages("MSH|a\r\nPID|1\r\n\r\nXXX|b\r\n"),
            (std::vector<std::string>{"MSH|a\rPID|1\r", "XXX|b\r"}));
  EXPECT_EQ(SplitMessages("FHS|x\nBHS|y\nMSH|a\nBTS|1\nFTS|1\n"),
            std::vector<std::string>{"MSH|a\r"});
  // A captured MLLP stream.
  EXPECT_EQ(SplitMessages("\x0BMSH|a\rPID|1\r\x1C\r\x0BMSH|b\x1C\r"),
            (std::vector<std::string>{"MSH|a\rPID|1\r", "MSH|b\r"}));
}

}  // namespace
}  // namespace genogate::gateway
