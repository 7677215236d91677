// Throughput of the Redis delivery queue next to redis-benchmark on the same
// redis-server, started by this program (redis-server and redis-benchmark
// from PATH).
//
//   build/bench/queue_bench [seconds-per-phase=2] [payload-bytes=8192]
//
// For each fsync policy (always, everysec) it measures, with payloads
// encrypted as in production:
//   enqueue                  Enqueue only, 1 thread
//   claim+ack                Claim(1) + Ack of pre-enqueued jobs, 1 thread
//   enqueue+claim+ack        one full job cycle, 1 thread and 8 threads
// and then runs redis-benchmark (SET, GET, XADD) against the same server.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/crypto/key_ring.h"
#include "gateway/queue/redis_queue.h"

namespace gw = genogate::gateway;
using Clock = std::chrono::steady_clock;

namespace {

struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string dir;
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<Server> StartRedis() {
  auto s = std::make_unique<Server>();
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "genogate-bench-XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) return nullptr;
  s->dir = tmpl;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port = 20000 + static_cast<int>(getpid() % 20000) + attempt * 7;
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::string port = std::to_string(s->port);
      std::string log = s->dir + "/redis.log";
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind",
             "127.0.0.1", "--dir", s->dir.c_str(), "--appendonly", "yes",
             "--appendfsync", "always", "--save", "", "--logfile", log.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    s->pid = pid;
    gw::RedisOptions o;
    o.port = s->port;
    for (int i = 0; i < 200; ++i) {
      auto c = gw::RedisClient::Connect(o);
      if (c.ok() && (*c)->Command({"PING"}).ok()) return s;
      if (waitpid(pid, nullptr, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    s->pid = -1;
  }
  return nullptr;
}

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Runs `op(thread, i)` on `threads` threads until `seconds` pass or an op
// returns kStop; returns operations per second, or -1 if an op failed.
enum OpResult { kFail, kDone, kStop };
template <typename Op>
double Measure(int threads, double seconds, Op op) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int64_t i = 0; Clock::now() < end && !failed && !stop; ++i) {
        OpResult r = op(t, i);
        if (r == kFail) failed = true;
        if (r == kStop) stop = true;
        if (r != kDone) return;
        ++done;
      }
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return -1;
  return static_cast<double>(done.load()) / secs;
}

gw::Job MakeJob(const std::string& id, const std::string& payload) {
  gw::Job j;
  j.id = id;
  j.report_key = "bench|" + id;
  j.report_version = 1;
  j.payload = payload;
  j.metadata["content-type"] = "application/fhir+json";
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  double secs = argc > 1 ? std::atof(argv[1]) : 2.0;
  size_t payload_bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 8192;
  std::unique_ptr<Server> server = StartRedis();
  if (!server) {
    std::fprintf(stderr, "queue_bench: cannot start redis-server\n");
    return 1;
  }
  auto ring = gw::KeyRing::Parse(
      "bench = "
      "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  if (!ring.ok()) return 1;
  auto keys = std::make_shared<const gw::KeyRing>(std::move(ring).value());
  gw::RedisOptions ro;
  ro.port = server->port;
  auto admin = gw::RedisClient::Connect(ro);
  if (!admin.ok()) return 1;
  std::string payload(payload_bytes, 'x');
  std::printf(
      "queue_bench: redis-server %s on port %d, payload %zu bytes, "
      "%.1f s per phase\n",
      Run("redis-server --version | cut -d' ' -f3 | tr -d '\\n'").c_str(),
      server->port, payload_bytes, secs);

  for (const char* fsync : {"always", "everysec"}) {
    if (!(*admin)->Command({"CONFIG", "SET", "appendfsync", fsync}).ok()) {
      return 1;
    }
    gw::RedisQueueOptions o;
    o.redis = ro;
    o.key_prefix = std::string("bench-") + fsync + ":";
    o.durability = gw::RedisQueueOptions::Durability::kAof;
    auto q = gw::RedisQueue::Create(o, keys);
    if (!q.ok()) {
      std::fprintf(stderr, "%s\n", q.error().ToString().c_str());
      return 1;
    }
    gw::RedisQueue& queue = **q;
    std::printf("\nappendfsync %s\n", fsync);
    double enq = Measure(1, secs, [&](int, int64_t i) {
      return queue.Enqueue("ehr", MakeJob("e" + std::to_string(i), payload))
                     .ok()
                 ? kDone
                 : kFail;
    });
    std::printf("  %-34s %10.0f ops/s\n", "enqueue (1 thread)", enq);
    double drain = Measure(1, secs, [&](int, int64_t) {
      auto got = queue.Claim("ehr", "w", 1);
      if (!got.ok()) return kFail;
      if (got->empty()) return kStop;  // drained
      return queue.Ack((*got)[0]).ok() ? kDone : kFail;
    });
    std::printf("  %-34s %10.0f ops/s\n", "claim+ack (1 thread)", drain);
    for (int threads : {1, 8}) {
      std::string ep = "cycle" + std::to_string(threads);
      double cyc = Measure(threads, secs, [&](int t, int64_t i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        if (!queue.Enqueue(ep, MakeJob(id, payload)).ok()) return kFail;
        auto got = queue.Claim(ep, "w" + std::to_string(t), 1);
        if (!got.ok() || got->empty()) return kFail;
        return queue.Ack((*got)[0]).ok() ? kDone : kFail;
      });
      std::printf("  enqueue+claim+ack (%d thread%s)%*s %10.0f jobs/s\n",
                  threads, threads == 1 ? "" : "s", threads == 1 ? 5 : 4, "",
                  cyc);
    }
    std::string base = "redis-benchmark -h 127.0.0.1 -p " +
                       std::to_string(server->port) + " -q ";
    std::string d = std::to_string(payload_bytes);
    bool always = std::string(fsync) == "always";
    std::string n1 = always ? "400" : "20000";
    std::string n50 = always ? "5000" : "50000";
    std::printf("  redis-benchmark, same server (-d %s for SET/GET):\n",
                d.c_str());
    std::printf("%s", Run(base + "-c 1 -n " + n1 + " -d " + d +
                          " -t set,get 2>/dev/null | tr '\\r' '\\n' | "
                          "grep 'requests per second' | sed 's/^/    -c 1  /'")
                          .c_str());
    std::printf("%s", Run(base + "-c 1 -n " + n1 +
                          " XADD benchstream '*' f v "
                          "2>/dev/null | tr '\\r' '\\n' | grep "
                          "'requests per second' | sed 's/^/    -c 1  /'")
                          .c_str());
    std::printf("%s", Run(base + "-c 50 -n " + n50 + " -d " + d +
                          " -t set,get 2>/dev/null | tr '\\r' '\\n' | "
                          "grep 'requests per second' | sed 's/^/    -c 50 /'")
                          .c_str());
    std::printf("%s", Run(base + "-c 50 -n " + n50 +
                          " XADD benchstream '*' f v "
                          "2>/dev/null | tr '\\r' '\\n' | grep "
                          "'requests per second' | sed 's/^/    -c 50 /'")
                          .c_str());
  }
  return 0;
}
