// Delivery throughput: DeliveryWorkers draining a MemoryQueue into
//   * a file:// outbox (one atomic, fsync'ed file per bundle), and
//   * the HAPI test EHR when GENOGATE_TEST_EHR_URL is set (run through
//     scripts/e2e-ehr.sh -- build-release/bench/delivery_bench).
//
//   build/bench/delivery_bench [jobs=200] [bundle.json]
//
// With GENOGATE_BENCH_REDIS_URL (bench/delivery_figures.sh starts a
// redis-server for it) the same targets are also fed through the real
// path: RedisQueue (encrypted payloads, AOF) and a DeliveryService with 1
// and 4 workers; it prints enqueues/s and deliveries/s.
//
// The bundle defaults to the Genomics Reporting IG oncology report example
// (17 entries, conditional creates for Organization, Patient, Specimen) from
// the package cache; every job sends it again, so the EHR creates a new
// report each time and matches the shared resources.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "gateway/delivery/delivery_service.h"
#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/queue/redis_queue.h"

namespace gw = genogate::gateway;
using Steady = std::chrono::steady_clock;

namespace {

std::string DefaultBundle() {
  const char* cache = std::getenv("GENOGATE_PACKAGE_CACHE");
  std::string dir =
      cache ? cache
            : std::string(std::getenv("HOME")) + "/.cache/genogate/packages";
  return dir +
         "/hl7.fhir.uv.genomics-reporting#3.0.0/package/example/"
         "Bundle-bundle-oncology-report-example.json";
}

// Enqueues `jobs` copies and drains them with `threads` workers; returns
// deliveries per second, or -1 if not all were delivered.
double Measure(gw::DeliveryTarget* target, const std::string& bundle, int jobs,
               int threads) {
  gw::MemoryQueue queue;
  static int run = 0;
  ++run;
  for (int i = 0; i < jobs; ++i) {
    gw::Job job;
    job.id = "r" + std::to_string(run) + "-" + std::to_string(i);
    job.report_key = job.id;
    job.payload = bundle;
    if (!queue.Enqueue("bench", job).ok()) return -1;
  }
  gw::CircuitBreaker breaker({}, gw::SystemClock::Get());
  gw::RandomJitter jitter;
  std::vector<std::unique_ptr<gw::DeliveryWorker>> workers;
  for (int t = 0; t < threads; ++t) {
    gw::WorkerOptions o;
    o.endpoint = "bench";
    o.consumer = "w" + std::to_string(t);
    o.batch = 4;
    workers.push_back(std::make_unique<gw::DeliveryWorker>(
        o, &queue, target, &breaker, gw::SystemClock::Get(), &jitter));
  }
  auto t0 = Steady::now();
  std::vector<std::thread> pool;
  for (auto& w : workers) {
    pool.emplace_back([&w] {
      for (;;) {
        genogate::Result<int> n = w->RunOnce();
        if (!n.ok() || *n == 0) return;
      }
    });
  }
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  int64_t delivered = 0;
  for (auto& w : workers) delivered += w->stats().delivered;
  if (delivered != jobs) {
    std::fprintf(stderr, "only %lld of %d delivered\n",
                 static_cast<long long>(delivered), jobs);
    return -1;
  }
  return jobs / secs;
}

// Through Redis: enqueues `jobs` copies into a RedisQueue (prints
// enqueues/s), then a DeliveryService with `concurrency` workers drains them
// into `endpoint`; returns deliveries per second, or -1.
double MeasureRedis(const std::string& redis_url, const gw::Endpoint& endpoint,
                    const std::string& bundle, int jobs, int concurrency) {
  static int run = 0;
  ++run;
  genogate::Result<gw::RedisOptions> ro = gw::RedisOptions::FromUrl(redis_url);
  genogate::Result<gw::KeyRing> keys = gw::KeyRing::Parse(
      "active = bench\nbench = "
      "hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
  if (!ro.ok() || !keys.ok()) return -1;
  gw::RedisQueueOptions o;
  o.redis = *ro;
  o.key_prefix =
      "bench" + std::to_string(::getpid()) + "-" + std::to_string(run) + ":";
  o.durability = gw::RedisQueueOptions::Durability::kAof;
  genogate::Result<std::unique_ptr<gw::RedisQueue>> queue =
      gw::RedisQueue::Create(
          o, std::make_shared<const gw::KeyRing>(std::move(keys).value()));
  if (!queue.ok()) {
    std::fprintf(stderr, "%s\n", queue.error().ToString().c_str());
    return -1;
  }
  auto t0 = Steady::now();
  for (int i = 0; i < jobs; ++i) {
    gw::Job job;
    job.id = "r" + std::to_string(i);
    job.report_key = job.id;
    job.payload = bundle;
    if (!(*queue)->Enqueue(endpoint.name, job).ok()) return -1;
  }
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("  RedisQueue enqueue (1 thread, %zu-byte payload): %.0f/s\n",
              bundle.size(), jobs / secs);
  gw::Endpoint e = endpoint;
  e.concurrency = concurrency;
  gw::DeliveryServiceOptions so;
  so.idle_wait = std::chrono::milliseconds(5);
  genogate::Result<std::unique_ptr<gw::DeliveryService>> service =
      gw::DeliveryService::Create({e}, queue->get(), so);
  if (!service.ok()) return -1;
  t0 = Steady::now();
  (*service)->Start();
  for (;;) {
    auto st = (*service)->Stats()[0];
    if (st.delivered + st.dead_lettered >= jobs) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  secs = std::chrono::duration<double>(Steady::now() - t0).count();
  (*service)->Stop();
  if ((*service)->Stats()[0].delivered != jobs) return -1;
  return jobs / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string path = argc > 2 ? argv[2] : DefaultBundle();
  genogate::Result<std::string> bundle = genogate::ReadFile(path);
  if (!bundle.ok()) {
    std::fprintf(stderr, "%s\n", bundle.error().ToString().c_str());
    return 2;
  }
  std::printf("bundle: %zu bytes, %d jobs per run\n", bundle->size(), jobs);

  std::string dir = (std::filesystem::temp_directory_path() /
                     ("genogate-bench-outbox-" + std::to_string(::getpid())))
                        .string();
  std::filesystem::create_directories(dir);
  gw::FileOutbox outbox(dir);
  for (int threads : {1, 4}) {
    std::printf("file:// outbox, %d worker(s): %.0f deliveries/s\n", threads,
                Measure(&outbox, *bundle, jobs, threads));
  }
  const char* redis = std::getenv("GENOGATE_BENCH_REDIS_URL");
  const char* ehr = std::getenv("GENOGATE_TEST_EHR_URL");
  if (redis != nullptr) {
    genogate::Result<gw::Endpoint> sink = gw::EndpointFromUrl("file://" + dir);
    for (int threads : {1, 4}) {
      std::printf("Redis queue -> DeliveryService -> file:// outbox:\n");
      std::printf("  %d worker(s): %.0f deliveries/s\n", threads,
                  MeasureRedis(redis, *sink, *bundle, jobs, threads));
    }
  }
  std::filesystem::remove_all(dir);

  if (ehr == nullptr) {
    std::printf("HAPI: skipped (GENOGATE_TEST_EHR_URL is not set)\n");
    return 0;
  }
  genogate::Result<gw::Endpoint> e = gw::EndpointFromUrl(ehr);
  if (!e.ok()) return 2;
  e->concurrency = 4;
  genogate::Result<std::unique_ptr<gw::DeliveryTarget>> target =
      gw::MakeTarget(*e);
  if (!target.ok()) return 2;
  Measure(target->get(), *bundle, 10, 1);  // warm-up (JIT, connections)
  for (int threads : {1, 4}) {
    std::printf("HAPI %s, %d worker(s): %.1f deliveries/s\n", ehr, threads,
                Measure(target->get(), *bundle, jobs / 4, threads));
  }
  if (redis != nullptr) {
    for (int threads : {1, 4}) {
      std::printf("Redis queue -> DeliveryService -> HAPI:\n");
      std::printf("  %d worker(s): %.1f deliveries/s\n", threads,
                  MeasureRedis(redis, *e, *bundle, jobs / 4, threads));
    }
  }
  return 0;
}
