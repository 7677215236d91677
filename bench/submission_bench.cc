// Submissions through the SubmissionService (map or parse, validate, record,
// enqueue on one endpoint) over MemoryQueue + MemorySubmissionStore, so the
// figure is the gateway's own work per submission without Redis or HTTP.
//
//   build/bench/submission_bench [n=200] [vcf] [labjson]
//
// Defaults: examples/panel-grch38-vep.vcf and examples/lab-result.json
// relative to the working directory (run from the checkout). Prints
// submissions/s and p50/p99 latency per format, on one thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file.h"
#include "conformance/validator/validator.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "gateway/queue/memory_queue.h"
#include "gateway/submission/submission_service.h"

namespace gw = genogate::gateway;
using Steady = std::chrono::steady_clock;

namespace {

void Run(gw::SubmissionService& service, const char* name,
         gw::SubmissionRequest request, int n) {
  std::vector<double> ms;
  auto t0 = Steady::now();
  for (int i = 0; i < n; ++i) {
    auto s = Steady::now();
    genogate::Result<gw::SubmitResult> r = service.Submit(request);
    ms.push_back(
        std::chrono::duration<double, std::milli>(Steady::now() - s).count());
    if (!r.ok() || !r->accepted) {
      std::fprintf(
          stderr, "submission_bench: %s: %s\n", name,
          r.ok() ? r->issues.ToText().c_str() : r.error().ToString().c_str());
      std::exit(1);
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  std::sort(ms.begin(), ms.end());
  std::printf("%-10s %4d submissions: %7.1f /s  p50 %6.2f ms  p99 %6.2f ms\n",
              name, n, n / secs, ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::string vcf_path =
      argc > 2 ? argv[2] : "examples/panel-grch38-vep.vcf";
  const std::string lab_path = argc > 3 ? argv[3] : "examples/lab-result.json";
  std::vector<std::string> dirs = genogate::fhir::PackageSet::DefaultDirs();
  for (const std::string& d : genogate::conformance::BundledResourceDirs()) {
    dirs.push_back(d);
  }
  auto packages = genogate::fhir::PackageSet::Open(dirs);
  auto vcf = genogate::ReadFile(vcf_path, size_t{64} << 20);
  auto lab = genogate::ReadFile(lab_path, size_t{64} << 20);
  if (!packages.ok() || !vcf.ok() || !lab.ok()) {
    std::fprintf(stderr, "submission_bench: packages or inputs not found\n");
    return 2;
  }
  genogate::fhir::Schema schema(packages->get());
  genogate::conformance::Validator validator(packages->get(), &schema);
  gw::MemoryQueue queue;
  gw::MemorySubmissionStore store;
  gw::SubmissionServiceOptions o;
  o.endpoints = {"ehr"};
  auto service =
      gw::DefaultSubmissionService::Create(o, &validator, &queue, &store);
  if (!service.ok()) return 2;

  gw::SubmissionRequest v;
  v.format = gw::SubmissionFormat::kVcf;
  v.body = *vcf;
  v.params.patient = "urn:oid:1.2.3|P-1";
  v.params.accession = "urn:oid:1.2.4|A-1";
  gw::SubmissionRequest l;
  l.format = gw::SubmissionFormat::kLabJson;
  l.body = *lab;
  // Warm-up: compiles the validation plans once.
  Run(**service, "warm-up", v, 1);
  Run(**service, "vcf", v, n);
  Run(**service, "labjson", l, n);
  auto converted = (*service)->Convert(l);
  if (!converted.ok() || !converted->bundle) return 2;
  gw::SubmissionRequest f;
  f.format = gw::SubmissionFormat::kFhirJson;
  f.body = *genogate::fhir::WriteJson(*converted->bundle);
  Run(**service, "fhir-json", f, n);
  return 0;
}
