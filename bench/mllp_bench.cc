// HL7 v2 over MLLP on loopback, beside the in-process figures:
//
//   parse+map            ReadOruR01 + BuildReportBundle, one thread
//   parse+map+validate   + the conformance Validator, one thread
//   MLLP round trips     N connections (each one message in flight, as MLLP
//                        is), with two handlers: "ack" (parse + ACK, no
//                        mapping) and "product" (OruHandler + BundleQueueSink:
//                        parse, map, validate, enqueue on a MemoryQueue);
//                        plain TCP and TLS. Messages/s, p50 and p99 latency.
//
// The message is the BRCA1 panel of bench/hl7v2_message.h (2 variants,
// 37 OBX, ~3.5 KB), each sent with a fresh control id (MSH-10), so the
// product handler never answers from its duplicate check.
//
// Usage: mllp_bench [PACKAGE_CACHE [PROFILES_DIR]] (as validator_bench).
// MLLP_BENCH_SECONDS sets the time per figure (default 3). "cpu ms/msg" is
// the process's CPU time (all threads, the clients' included) per message:
// unlike msg/s it does not depend on what else runs on the machine.
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "conformance/validator/validator.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "gateway/mllp/mllp_client.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/oru_handler.h"
#include "gateway/mllp/queue_sink.h"
#include "gateway/queue/memory_queue.h"
#include "hl7v2_message.h"
#include "mappers/common/report_builder.h"
#include "mappers/hl7v2/ack.h"
#include "mappers/hl7v2/oru_r01.h"

namespace {

using namespace genogate;  // NOLINT: benchmark driver
using Clock = std::chrono::steady_clock;
namespace v2 = mappers::hl7v2;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds of the whole process (all threads) so far.
double CpuNow() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double BenchSeconds() {
  const char* s = std::getenv("MLLP_BENCH_SECONDS");
  double v = s != nullptr ? std::atof(s) : 0;
  return v > 0 ? v : 3.0;
}

// The message with MSH-10 = `id` and its own accession number (a new
// report each time, as real traffic).
std::string WithControlId(const std::string& id) {
  std::string m = bench::Message();
  size_t at = m.find("|MSG00001|");
  m.replace(at, 10, "|" + id + "|");
  const std::string acc = "ACC-2024-0001";
  for (size_t p = m.find(acc); p != std::string::npos; p = m.find(acc, p + 1)) {
    m.replace(p, acc.size(), "ACC-" + id);
  }
  return m;
}

// Parse + ACK only: the transport and the reader, no mapping.
class AckOnlyHandler : public gateway::MllpHandler {
 public:
  std::string OnMessage(std::string_view er7,
                        const gateway::MllpPeer&) override {
    v2::AckOptions o;
    o.control_id = "A" + std::to_string(++n_);
    return v2::BuildAck(v2::ReadOruR01(er7), o);
  }
  std::string OnFramingError(const v2::MllpEvent& e,
                             const gateway::MllpPeer&) override {
    return v2::BuildFramingAck(e, v2::AckOptions());
  }

 private:
  std::atomic<uint64_t> n_{0};
};

struct RoundTrips {
  double per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  double cpu_ms_per_message = 0;  // server and client, all threads
  uint64_t failures = 0;
};

// Control ids are unique across all runs (a repeat would be a duplicate).
std::atomic<uint64_t> next_id{1};

RoundTrips Run(const gateway::MllpClientOptions& base, int connections,
               double seconds) {
  std::atomic<uint64_t> failures{0};
  std::vector<std::vector<double>> lat(connections);
  const double cpu0 = CpuNow();
  Clock::time_point start = Clock::now();
  Clock::time_point end = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      auto client = gateway::MllpClient::Connect(base);
      if (!client.ok()) {
        ++failures;
        return;
      }
      while (Clock::now() < end) {
        std::string msg = WithControlId("BENCH-" + std::to_string(next_id++));
        Clock::time_point t0 = Clock::now();
        Result<std::string> ack = (*client)->Send(msg);
        Clock::time_point t1 = Clock::now();
        if (!ack.ok() || ack->find("\rMSA|AA|") == std::string::npos) {
          ++failures;
          if (!ack.ok()) return;
          continue;
        }
        lat[c].push_back(Seconds(t0, t1) * 1000);
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = Seconds(start, Clock::now());
  const double cpu = CpuNow() - cpu0;
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  RoundTrips r;
  r.failures = failures;
  if (all.empty()) return r;
  std::sort(all.begin(), all.end());
  r.per_second = static_cast<double>(all.size()) / elapsed;
  r.cpu_ms_per_message = cpu * 1000 / static_cast<double>(all.size());
  r.p50_ms = all[all.size() / 2];
  r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// A throw-away CA and server certificate for the TLS figures.
std::string MakeCerts() {
  std::string t =
      (std::filesystem::temp_directory_path() / "genogate-mllp-bench-XXXXXX")
          .string();
  if (::mkdtemp(t.data()) == nullptr) return "";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  bool ok = Sh("cd '" + t + "' && openssl req -x509 " + ec +
               " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca "
               "2>/dev/null && openssl req " +
               ec +
               " -nodes -keyout srv.key -out srv.csr -subj /CN=localhost "
               "2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' > ext "
               "&& openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
               "-CAcreateserial -out srv.pem -days 2 -extfile ext "
               "2>/dev/null");
  return ok ? t : "";
}

void Print(const char* handler, const char* transport, int connections,
           const RoundTrips& r) {
  std::printf(
      "mllp round trips, %-7s handler, %-5s %2d connection(s): %8.0f msg/s  "
      "p50 %7.2f ms  p99 %7.2f ms  cpu %5.2f ms/msg%s\n",
      handler, transport, connections, r.per_second, r.p50_ms, r.p99_ms,
      r.cpu_ms_per_message, r.failures > 0 ? "  (FAILURES)" : "");
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = BenchSeconds();
  std::string cache = argc > 1 ? argv[1] : "";
  std::vector<std::string> dirs = fhir::PackageSet::DefaultDirs(cache);
  if (argc > 2) {
    dirs.push_back(std::string(argv[2]) + "/loinc");
  } else {
    for (const std::string& d : conformance::BundledResourceDirs())
      dirs.push_back(d);
  }
  auto set = fhir::PackageSet::Open(dirs);
  if (!set.ok()) {
    std::fprintf(stderr, "mllp_bench: %s\n", set.error().message().c_str());
    return 2;
  }
  fhir::Schema schema(set->get());
  conformance::Validator validator(set->get(), &schema);
  const mappers::BuildOptions build;

  // In-process: parse+map, parse+map+validate (after one validation that
  // compiles the profiles' plans, a start-up cost).
  {
    v2::OruReadResult r = v2::ReadOruR01(bench::Message());
    Result<fhir::Node> b =
        mappers::BuildReportBundle(r.reports.at(0).input, build, schema);
    if (!b.ok()) return 2;
    (void)validator.Validate(*b);
  }
  for (bool validate : {false, true}) {
    size_t n = 0;
    const double cpu0 = CpuNow();
    Clock::time_point a = Clock::now();
    while (Seconds(a, Clock::now()) < seconds) {
      v2::OruReadResult r = v2::ReadOruR01(bench::Message());
      Result<fhir::Node> b =
          mappers::BuildReportBundle(r.reports.at(0).input, build, schema);
      if (!b.ok()) return 2;
      if (validate && validator.Validate(*b).HasErrors()) {
        std::fprintf(stderr, "mllp_bench: the bundle does not validate\n");
        return 2;
      }
      ++n;
    }
    const double cpu_ms = (CpuNow() - cpu0) * 1000 / static_cast<double>(n);
    std::printf("%-32s %8.0f msg/s (one thread)  cpu %5.2f ms/msg\n",
                validate ? "parse+map+validate" : "parse+map",
                static_cast<double>(n) / Seconds(a, Clock::now()), cpu_ms);
  }

  std::string certs = MakeCerts();
  AckOnlyHandler ack_only;
  gateway::MemoryQueue queue;
  gateway::BundleQueueSinkOptions so;
  so.endpoints = {"ehr"};
  gateway::BundleQueueSink sink(&schema, &validator, &queue, so);
  gateway::OruHandler product(&sink, gateway::OruHandlerOptions());

  struct Setup {
    const char* name;
    gateway::MllpHandler* handler;
    bool tls;
  };
  for (const Setup& s :
       {Setup{"ack", &ack_only, false}, Setup{"product", &product, false},
        Setup{"ack", &ack_only, true}, Setup{"product", &product, true}}) {
    if (s.tls && certs.empty()) continue;
    gateway::MllpListenerOptions lo;
    lo.host = "127.0.0.1";
    lo.port = 0;
    lo.handler_threads = 4;
    if (s.tls) {
      lo.tls = true;
      lo.tls_options.cert_file = certs + "/srv.pem";
      lo.tls_options.key_file = certs + "/srv.key";
    }
    auto listener = gateway::MllpListener::Start(lo, s.handler);
    if (!listener.ok()) {
      std::fprintf(stderr, "mllp_bench: %s\n",
                   listener.error().message().c_str());
      return 2;
    }
    gateway::MllpClientOptions co;
    co.host = "127.0.0.1";
    co.port = (*listener)->port();
    co.tls = s.tls;
    if (s.tls) {
      co.ca_file = certs + "/ca.pem";
      co.server_name = "localhost";
    }
    for (int n : {1, 4, 16}) {
      Print(s.name, s.tls ? "TLS" : "plain", n, Run(co, n, seconds));
    }
  }
  gateway::OruHandler::Counts counts = product.counts();
  std::printf(
      "product handler: %llu accepted (%llu duplicates), %llu AE, "
      "%llu AR\n",
      static_cast<unsigned long long>(counts.accepted),
      static_cast<unsigned long long>(counts.duplicates),
      static_cast<unsigned long long>(counts.errors),
      static_cast<unsigned long long>(counts.rejects));
  if (!certs.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(certs, ec);
  }
  return 0;
}
