// Profile validator throughput: start-up (open the definitions, first
// validation including plan compilation), validations per second for the
// Genomics IG variant Observations and for HL7's R4 examples, and peak
// memory (getrusage).
//
// Usage: validator_bench [PACKAGE_CACHE [PROFILES_DIR]]
//   PROFILES_DIR defaults to genogate's profiles/ lookup
//   ($GENOGATE_PROFILES_DIR, ../profiles next to the executable, ...).
//   VALIDATOR_BENCH_ONLY=ig or =r4 runs only that part (for profiling).
#include <dirent.h>
#include <sys/resource.h>
#include <time.h>

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

using namespace genogate;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time of this thread: on a shared machine the rate per CPU-second is
// steadier than the wall-clock one.
double CpuNow() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

std::vector<std::string> Load(const std::string& dir,
                              const std::string& contains = "") {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d ? readdir(d) : nullptr) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 &&
        n[0] != '.' && n != "package.json")
      names.push_back(n);
  }
  if (d) closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  for (const std::string& n : names) {
    Result<std::string> t = ReadFile(dir + "/" + n, size_t{1} << 28);
    if (!t.ok()) continue;
    if (!contains.empty() && t->find(contains) == std::string::npos) continue;
    out.push_back(std::move(t).value());
  }
  return out;
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cache = argc > 1 ? argv[1] : "";
  const char* only_env = std::getenv("VALIDATOR_BENCH_ONLY");
  const std::string only = only_env != nullptr ? only_env : "";
  const bool run_ig = only.empty() || only == "ig";
  const bool run_r4 = only.empty() || only == "r4";
  std::vector<std::string> dirs = fhir::PackageSet::DefaultDirs(cache);
  if (argc > 2) {
    dirs.push_back(std::string(argv[2]) + "/loinc");
  } else {
    for (const std::string& d : conformance::BundledResourceDirs())
      dirs.push_back(d);
  }
  if (dirs.size() < 2) {
    std::fprintf(stderr, "validator_bench: FHIR packages not found\n");
    return 2;
  }
  const std::string r4 = dirs[0];
  const std::string ig = dirs[1] + "/example";

  auto variants = Load(ig, "StructureDefinition/variant\"");
  std::vector<std::string> variant_obs;
  for (auto& v : variants)
    if (v.find("\"resourceType\":\"Observation\"") != std::string::npos)
      variant_obs.push_back(v);
  std::vector<std::string> r4_examples;
  if (run_r4) r4_examples = Load(r4);

  Clock::time_point t0 = Clock::now();
  auto set = fhir::PackageSet::Open(dirs);
  if (!set.ok()) {
    std::fprintf(stderr, "validator_bench: %s\n",
                 set.error().message().c_str());
    return 2;
  }
  fhir::Schema schema(set->get());
  conformance::Validator validator(set->get(), &schema);
  Clock::time_point t1 = Clock::now();
  if (variant_obs.empty()) return 2;
  (void)validator.ValidateText(variant_obs[0]);
  Clock::time_point t2 = Clock::now();
  std::printf(
      "start-up: open definitions %.3f s; first variant validation "
      "(compiles the plans) %.3f s\n",
      Seconds(t0, t1), Seconds(t1, t2));

  // IG variant Observations: parse + validate, and validate only.
  std::vector<fhir::Document> docs;
  for (const auto& t : variant_obs) {
    auto d = fhir::ParseJson(t, &schema);
    if (d.ok()) docs.push_back(std::move(d).value());
  }
  size_t n = 0, errors = 0;
  Clock::time_point a = Clock::now();
  double cpu = CpuNow();
  while (run_ig && Seconds(a, Clock::now()) < 3.0) {
    for (const auto& t : variant_obs) {
      auto r = validator.ValidateText(t);
      if (r.ok() && r->HasErrors()) ++errors;
      ++n;
    }
  }
  double s = Seconds(a, Clock::now());
  std::printf(
      "IG variant Observations (%zu distinct): %.0f validations/s "
      "(parse + validate; %.0f per CPU-second), %zu with errors\n",
      variant_obs.size(), n / s, n / (CpuNow() - cpu), errors);
  n = 0;
  a = Clock::now();
  cpu = CpuNow();
  while (run_ig && Seconds(a, Clock::now()) < 3.0) {
    for (const auto& d : docs) {
      (void)validator.Validate(d.root);
      ++n;
    }
  }
  s = Seconds(a, Clock::now());
  std::printf(
      "IG variant Observations: %.0f validations/s (validate only; %.0f per "
      "CPU-second)\n",
      n / s, n / (CpuNow() - cpu));
  // The same, for the examples that are Observations themselves (the rest
  // are Bundles holding variant Observations).
  size_t plain = 0;
  for (const auto& d : docs)
    if (d.root.resource_type() == "Observation") ++plain;
  n = 0;
  a = Clock::now();
  cpu = CpuNow();
  while (run_ig && plain > 0 && Seconds(a, Clock::now()) < 3.0) {
    for (const auto& d : docs) {
      if (d.root.resource_type() != "Observation") continue;
      (void)validator.Validate(d.root);
      ++n;
    }
  }
  s = Seconds(a, Clock::now());
  std::printf(
      "  of which %zu are Observations (not Bundles): %.0f validations/s "
      "(validate only; %.0f per CPU-second)\n",
      plain, n / s, n / (CpuNow() - cpu));

  // R4 examples: two passes (the first compiles the plans of every type).
  for (int pass = 1; run_r4 && pass <= 2; ++pass) {
    size_t bytes = 0, failed = 0;
    a = Clock::now();
    cpu = CpuNow();
    for (const auto& t : r4_examples) {
      auto r = validator.ValidateText(t);
      if (!r.ok() || r->HasErrors()) ++failed;
      bytes += t.size();
    }
    s = Seconds(a, Clock::now());
    std::printf(
        "R4 examples pass %d: %zu files in %.2f s = %.0f "
        "validations/s, %.1f MB/s (%.0f per CPU-second); %zu with errors\n",
        pass, r4_examples.size(), s, r4_examples.size() / s, bytes / s / 1e6,
        r4_examples.size() / (CpuNow() - cpu), failed);
  }
  std::printf(
      "peak RSS: %.1f MB (includes the %zu example files held in "
      "memory)\n",
      PeakRssKb() / 1024.0, r4_examples.size() + variants.size());
  return 0;
}
