// The acceptance test of issue 10 (several replicas on one Redis): three
// `genogate serve` processes share one redis-server (AOF, appendfsync
// always) and deliver to the same endpoint, a FHIR server hosted by the
// test. 300 VCF results are submitted through all three over HTTP
// (POST /submissions, round-robin; a submission whose replica does not
// answer is sent again to the next one with the same Idempotency-Key, as a
// load balancer's client would). Half-way, while the third replica has
// deliveries in flight (the EHR has received and applied them but holds its
// answers), that replica is SIGKILLed. At the end:
//   * every submission was accepted once (one submission id per result),
//     and every one of them, including those the killed replica had
//     answered 202, is delivered: the EHR holds each report once;
//   * the EHR received exactly one transaction per report, except the
//     ones the killed replica had in flight: those were taken over by a
//     surviving replica after the queue's reclaim time and sent once more
//     (and the EHR's conditional update matched the existing report);
//   * the queue is empty: nothing ready, in flight, delayed or dead.
//
// The EHR stands in for a FHIR server: it applies each transaction's
// conditional creates (If-None-Exist) and conditional updates
// (PUT Type?identifier=...) like HAPI does, plain creates (the
// Provenance of each delivery) always, and answers a
// transaction-response. All replicas deliver to the same endpoint name
// ("ehr"); the base URL's last path segment (/fhir/r0 .. /fhir/r2) only
// tells the test which replica sent a transaction.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "gateway/http/test_peers.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

using namespace std::chrono_literals;

constexpr int kReplicas = 3;
constexpr int kSubmissions = 300;
constexpr int kKilled = 2;  // the replica that is SIGKILLed
constexpr int kConcurrency = 2;

// A FHIR server for transactions of conditional creates. Thread-safe.
class TestEhr {
 public:
  TestEhr()
      : server_([this](const std::string& head, const std::string& body) {
          return Handle(head, body);
        }) {}
  ~TestEhr() { Release(); }

  std::string base(int replica) const {
    return server_.url() + "/fhir/r" + std::to_string(replica);
  }

  // From now on, transactions from `replica` are applied but not answered
  // until Release().
  void Hold(int replica) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = replica;
  }
  // Waits until `n` transactions are held (or `timeout`); how many are.
  int WaitHeld(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout,
                 [&] { return static_cast<int>(held_.size()) >= n; });
    return static_cast<int>(held_.size());
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = -1;
    released_ = true;
    cv_.notify_all();
  }

  // Per DiagnosticReport (its conditional URL), the replicas that sent a
  // transaction holding it, in order.
  std::map<std::string, std::vector<int>> transactions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return transactions_;
  }
  // Resources created per type.
  std::map<std::string, int> created() const {
    std::lock_guard<std::mutex> lock(mu_);
    return created_;
  }
  std::set<std::string> held() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_;
  }
  int malformed() const { return malformed_; }

 private:
  std::string Handle(const std::string& head, const std::string& body) {
    using gateway::testing::TestHttpServer;
    // "POST /fhir/rN HTTP/1.1"
    const std::string prefix = "POST /fhir/r";
    if (head.rfind("GET ", 0) == 0 &&
        head.find("/metadata ") != std::string::npos) {
      return TestHttpServer::Response(
          200,
          R"({"resourceType":"CapabilityStatement","status":"active",)"
          R"("kind":"instance","fhirVersion":"4.0.1","format":["json"]})",
          "Content-Type: application/fhir+json\r\n");
    }
    if (head.rfind(prefix, 0) != 0) return TestHttpServer::Response(404, "");
    int replica = std::atoi(head.c_str() + prefix.size());
    rapidjson::Document d;
    d.Parse(body.data(), body.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("entry") ||
        !d["entry"].IsArray()) {
      ++malformed_;
      return TestHttpServer::Response(400, "");
    }
    std::string entries;
    std::string report;
    std::unique_lock<std::mutex> lock(mu_);
    for (const auto& e : d["entry"].GetArray()) {
      // POST Type + ifNoneExist: conditional create; PUT Type?identifier=..:
      // conditional update (created when nothing matches, else replaced).
      if (!e.HasMember("request") || !e["request"].HasMember("url") ||
          !e["request"].HasMember("method")) {
        ++malformed_;
        return TestHttpServer::Response(400, "");
      }
      const std::string method = e["request"]["method"].GetString();
      std::string url = e["request"]["url"].GetString();
      std::string type = url.substr(0, url.find('?'));
      std::string key;
      if (method == "POST" && e["request"].HasMember("ifNoneExist")) {
        key = type + "?" + e["request"]["ifNoneExist"].GetString();
      } else if (method == "PUT" && url.find('?') != std::string::npos) {
        key = url;
      } else if (method == "POST") {
        // A plain create (the Provenance genogate adds to each delivery).
        key = type + "/#" + std::to_string(resources_.size() + 1);
      } else {
        ++malformed_;
        return TestHttpServer::Response(400, "");
      }
      auto [it, created] = resources_.emplace(
          key, type + "/" + std::to_string(resources_.size() + 1));
      if (created) ++created_[type];
      if (type == "DiagnosticReport") report = key;
      if (!entries.empty()) entries += ",";
      entries += std::string(R"({"response":{"status":")") +
                 (created ? "201 Created" : "200 OK") + R"(","location":")" +
                 it->second + R"(/_history/1"}})";
    }
    transactions_[report].push_back(replica);
    if (hold_ == replica && !released_) {
      held_.insert(report);
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    lock.unlock();
    return TestHttpServer::Response(
        200,
        R"({"resourceType":"Bundle","type":"transaction-response","entry":[)" +
            entries + "]}",
        "Content-Type: application/fhir+json\r\n");
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int hold_ = -1;
  bool released_ = false;
  std::set<std::string> held_;
  std::map<std::string, std::string> resources_;  // key -> "Type/id"
  std::map<std::string, int> created_;
  std::map<std::string, std::vector<int>> transactions_;
  std::atomic<int> malformed_{0};
  // Last: its connection threads call Handle until it is destroyed.
  gateway::testing::TestHttpServer server_;
};

// One `genogate serve` process.
class Replica {
 public:
  Replica(std::string config, std::string log)
      : config_(std::move(config)), log_(std::move(log)) {}
  ~Replica() { Kill(); }
  bool Start() {
    std::vector<std::string> args = {
        genogate::testing::BinaryDir() + "/genogate", "serve", "--config",
        config_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  // The HTTP port from the "serve.listening" log line; -1 after `timeout`
  // or if the process exited.
  int WaitForPort(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      std::string logs = Logs();
      size_t at = logs.find("\"event\":\"serve.listening\"");
      size_t k = logs.find("\"port\":", at);
      if (at != std::string::npos && k != std::string::npos) {
        return std::atoi(logs.c_str() + k + 7);
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM; the exit status (-1 if it did not exit normally).
  int Terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Logs() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string config_;
  std::string log_;
  pid_t pid_ = -1;
};

// POSTs one request; the raw answer ("" when the connection failed or was
// closed without an answer).
std::string Post(int port, const std::string& path, const std::string& headers,
                 const std::string& body) {
  int fd = gateway::testing::ConnectLoopback(port);
  if (fd < 0) return "";
  std::string head =
      "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
      headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  gateway::testing::WriteAll(fd, head + body);
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Header(const std::string& answer, const std::string& name) {
  size_t at = answer.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return answer.substr(at, answer.find("\r\n", at) - at);
}

TEST(ReplicasTest, ThreeReplicasOneKilledMidDeliveryDeliverEachReportOnce) {
  const auto started = std::chrono::steady_clock::now();
  genogate::testing::RedisServer::Options ro;
  ro.appendfsync = "always";
  auto redis = genogate::testing::RedisServer::Start(ro);
  ASSERT_NE(redis, nullptr);
  const std::string dir = redis->dir();
  // The key ring every replica shares (the one of queue_test_util.h, so
  // that the test can read the queue too).
  const std::string keys = dir + "/queue.keys";
  ASSERT_TRUE(WriteFileAtomic(
                  keys,
                  "active = test-2026\ntest-2026 = "
                  "hex:8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aab"
                  "bccddeeff\n")
                  .ok());
  ::chmod(keys.c_str(), 0600);

  TestEhr ehr;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<int> ports;
  for (int r = 0; r < kReplicas; ++r) {
    const std::string name = "r" + std::to_string(r);
    const std::string config = dir + "/" + name + ".yaml";
    // A short reclaim time (the delivery timeouts stay below it, so only
    // the work of a replica that is gone is taken over).
    ASSERT_TRUE(WriteFileAtomic(config,
                                "server:\n"
                                "  listen: 127.0.0.1:0\n"
                                "  data_dir: " +
                                    dir + "/" + name +
                                    "\n"
                                    "redis:\n"
                                    "  url: " +
                                    redis->url() +
                                    "\n"
                                    "queue:\n"
                                    "  key_file: " +
                                    keys +
                                    "\n"
                                    "  reclaim_idle_ms: 3000\n"
                                    "  report_lease_ms: 10000\n"
                                    "endpoints:\n"
                                    "  - name: ehr\n"
                                    "    url: " +
                                    ehr.base(r) +
                                    "\n"
                                    "    concurrency: " +
                                    std::to_string(kConcurrency) +
                                    "\n"
                                    "    connect_timeout_ms: 500\n"
                                    "    timeout_ms: 1000\n"
                                    "    max_attempts: 100\n"
                                    "    backoff_base_ms: 100\n"
                                    "    backoff_cap_ms: 500\n")
                    .ok());
    replicas.push_back(
        std::make_unique<Replica>(config, dir + "/" + name + ".log"));
    ASSERT_TRUE(replicas.back()->Start());
  }
  for (auto& r : replicas) {
    ports.push_back(r->WaitForPort(120s));
    ASSERT_GT(ports.back(), 0) << r->Logs();
  }
  const auto serving = std::chrono::steady_clock::now();

  const std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  ASSERT_FALSE(vcf.empty());
  const std::string run = std::to_string(::getpid());

  // Submissions: three clients; submission i goes to replica i % 3 first,
  // then to the next one while a replica does not answer.
  std::mutex mu;
  std::vector<std::string> ids(kSubmissions);      // submission id per i
  std::vector<int> answered_by(kSubmissions, -1);  // replica that said 202
  std::vector<std::string> failures;
  std::atomic<int> accepted{0};
  std::atomic<int> resent{0};
  std::atomic<int> accepted_unanswered{0};
  auto client = [&](int t) {
    for (int i = t; i < kSubmissions; i += kReplicas) {
      const std::string path = "/submissions?patient=urn:oid:1.2.3%7CP-" +
                               std::to_string(i) +
                               "&accession=urn:oid:1.2.4%7CACC-" + run + "-" +
                               std::to_string(i) + "&lab=lab-1";
      const std::string headers =
          "Content-Type: text/x-vcf\r\n"
          "Idempotency-Key: sub-" +
          run + "-" + std::to_string(i) + "\r\n";
      std::string answer;
      int r = i % kReplicas;
      for (int attempt = 0; attempt < 20; ++attempt, r = (r + 1) % kReplicas) {
        answer = Post(ports[r], path, headers, vcf);
        if (answer.rfind("HTTP/1.1 202", 0) == 0) break;
        ++resent;
        std::this_thread::sleep_for(50ms);
      }
      std::lock_guard<std::mutex> lock(mu);
      if (answer.rfind("HTTP/1.1 202", 0) != 0) {
        failures.push_back(std::to_string(i) + ": " + answer.substr(0, 300));
        continue;
      }
      std::string location = Header(answer, "Location");
      ids[i] = location.substr(location.rfind('/') + 1);
      // Accepted before, by a replica whose answer never came.
      if (answer.find("\"duplicate\":true") != std::string::npos) {
        ++accepted_unanswered;
      }
      answered_by[i] = r;
      ++accepted;
    }
  };
  std::vector<std::thread> clients;
  for (int t = 0; t < kReplicas; ++t) clients.emplace_back(client, t);

  // Half-way: the EHR holds the killed replica's transactions (applied,
  // not answered), then the replica is SIGKILLed with them in flight.
  while (accepted < kSubmissions / 2 && failures.empty()) {
    std::this_thread::sleep_for(10ms);
  }
  ehr.Hold(kKilled);
  int in_flight = ehr.WaitHeld(kConcurrency, 20s);
  replicas[kKilled]->Kill();
  ehr.Release();
  const auto kill_time = std::chrono::steady_clock::now();
  for (auto& c : clients) c.join();
  std::set<std::string> accepted_by_killed;
  for (int i = 0; i < kSubmissions; ++i) {
    if (answered_by[i] == kKilled) accepted_by_killed.insert(ids[i]);
  }
  ASSERT_TRUE(failures.empty()) << failures.size() << " submissions failed, "
                                << "first: " << failures.front();
  EXPECT_GE(in_flight, 1) << "the killed replica had nothing in flight";
  EXPECT_FALSE(accepted_by_killed.empty());

  // One submission id per result (a resend with the same Idempotency-Key
  // is answered with the original id).
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(),
            static_cast<size_t>(kSubmissions));

  // Wait until the queue has delivered every job (the killed replica's
  // claims are taken over after reclaim_idle_ms).
  auto queue =
      gateway::testing::MakeRedisQueue(*redis, {}, nullptr, "genogate:");
  ASSERT_NE(queue, nullptr);
  int delivered = 0;
  std::vector<std::string> not_delivered;
  for (int t = 0; t < 600; ++t) {
    delivered = 0;
    not_delivered.clear();
    for (const std::string& id : ids) {
      Result<gateway::JobStatus> s = queue->GetStatus("ehr", id);
      if (s.ok() && s->state == gateway::JobState::kDelivered) {
        ++delivered;
      } else {
        not_delivered.push_back(
            id + (s.ok() ? " " + std::string(gateway::JobStateName(s->state)) +
                               " " + s->last_reason
                         : " " + s.error().ToString()));
      }
    }
    if (delivered == kSubmissions) break;
    std::this_thread::sleep_for(100ms);
  }
  const auto done = std::chrono::steady_clock::now();
  EXPECT_EQ(delivered, kSubmissions)
      << "first not delivered: "
      << (not_delivered.empty() ? "" : not_delivered.front());
  for (int r = 0; r < kReplicas; ++r) {
    if (r == kKilled) continue;
    EXPECT_EQ(replicas[r]->Terminate(), 0) << r;
  }

  Result<gateway::QueueStats> qs = queue->Stats("ehr");
  ASSERT_TRUE(qs.ok()) << qs.error().ToString();
  EXPECT_EQ(qs->ready, 0);
  EXPECT_EQ(qs->in_flight, 0);
  EXPECT_EQ(qs->delayed, 0);
  EXPECT_EQ(qs->dead, 0);

  // The EHR: every report once; one transaction per report except the
  // held ones, each sent once more by a surviving replica.
  EXPECT_EQ(ehr.malformed(), 0);
  std::map<std::string, std::vector<int>> tx = ehr.transactions();
  std::set<std::string> held = ehr.held();
  EXPECT_EQ(static_cast<int>(held.size()), in_flight);
  EXPECT_EQ(tx.size(), static_cast<size_t>(kSubmissions));
  EXPECT_EQ(ehr.created()["DiagnosticReport"], kSubmissions);
  EXPECT_EQ(ehr.created()["Patient"], kSubmissions);
  int sent_twice = 0;
  for (const auto& [report, from] : tx) {
    if (held.count(report) != 0) {
      ++sent_twice;
      ASSERT_EQ(from.size(), 2u) << report;
      EXPECT_EQ(from[0], kKilled) << report;
      EXPECT_NE(from[1], kKilled) << report << " was not taken over";
    } else {
      EXPECT_EQ(from.size(), 1u) << report << " was sent more than once";
    }
  }
  int by_survivors = 0;
  for (const auto& [report, from] : tx) by_survivors += from.back() != kKilled;

  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::cerr << "replicas test: " << kSubmissions << " submissions over "
            << kReplicas << " replicas, " << accepted_by_killed.size()
            << " answered 202 by the killed one, " << resent
            << " resends after no answer (" << accepted_unanswered
            << " of them accepted before, answered with the original id), "
            << in_flight << " deliveries in flight at the SIGKILL ("
            << sent_twice << " sent twice, taken over), " << by_survivors
            << " reports delivered by the survivors; start-up "
            << secs(serving - started) << " s, kill to all delivered "
            << secs(done - kill_time) << " s, total "
            << secs(std::chrono::steady_clock::now() - started) << " s\n";
  if (::testing::Test::HasFailure()) {
    for (int r = 0; r < kReplicas; ++r) {
      std::string logs = replicas[r]->Logs();
      std::cerr << "---- r" << r << ".log (tail)\n"
                << logs.substr(logs.size() > 4000 ? logs.size() - 4000 : 0);
    }
  }
}

}  // namespace
}  // namespace genogate::cli
