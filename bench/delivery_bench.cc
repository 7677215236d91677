// Delivery throughput: DeliveryWorkers draining a MemoryQueue into
//   * a file:// outbox (one atomic, fsync'ed file per bundle), and
//   * the HAPI test EHR when GENOGATE_TEST_EHR_URL is set (run through
//     scripts/e2e-ehr.sh -- build-release/bench/delivery_bench).
//
//   build/bench/delivery_bench [jobs=200] [bundle.json]
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
#include "gateway/delivery/target.h"
#include "gateway/delivery/worker.h"
#include "gateway/queue/memory_queue.h"

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
  std::filesystem::remove_all(dir);

  const char* ehr = std::getenv("GENOGATE_TEST_EHR_URL");
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
  return 0;
}
