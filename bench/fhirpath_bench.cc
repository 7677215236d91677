// FHIRPath throughput: every invariant of the R4 base resource definitions
// evaluated on every R4 example where it applies (the workload of
// tests/conformance/fhirpath/differential_test.cc), by genogate and, in the
// same run, by HL7 FHIRPath.js (tests/conformance/fhirpath/fhirpath_js.js).
// Resources are parsed and expressions compiled before timing; the timed
// work is finding the context nodes and evaluating the invariants, single
// threaded, on both sides.
//
//   fhirpath_bench [--rounds N] [--no-js] [--examples DIR]
//
// Prints evaluations per CPU second for each engine (CPU time, so that other
// load on a shared machine does not skew the ratio; FHIRPath.js's includes
// its garbage collector threads) and the ratio.
#include <dirent.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/invariants.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"

namespace {

using namespace genogate;  // NOLINT

std::string SourceDir() {
  std::string f = __FILE__;
  size_t p = f.rfind("/bench/");
  return p == std::string::npos ? "." : f.substr(0, p);
}

std::vector<std::string> JsonFiles(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 &&
        n[0] != '.' && n != "package.json") {
      out.push_back(n);
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Site {
  fhirpath::Expression path;
  std::vector<fhirpath::Expression> checks;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  bool js = true;
  std::string examples;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else if (a == "--no-js")
      js = false;
    else if (a == "--examples" && i + 1 < argc)
      examples = argv[++i];
    else {
      std::fprintf(
          stderr,
          "usage: fhirpath_bench [--rounds N] [--no-js] [--examples DIR]\n");
      return 2;
    }
  }
  std::vector<std::string> dirs = fhir::PackageSet::DefaultDirs();
  if (examples.empty()) {
    for (const std::string& d : dirs) {
      if (d.find("hl7.fhir.r4.examples") != std::string::npos) examples = d;
    }
  }
  auto set = fhir::PackageSet::Open(dirs);
  if (!set.ok()) {
    std::fprintf(stderr, "fhirpath_bench: %s\n", set.error().message().c_str());
    return 2;
  }
  fhir::Schema schema(set->get());
  auto invariants = fhirpath::BaseResourceInvariants(**set);

  std::map<std::string, std::vector<Site>> sites;
  for (const auto& [type, list] : invariants) {
    for (const auto& s : list) {
      auto p = fhirpath::Compile(s.path);
      if (!p.ok()) continue;
      Site site{*p, {}};
      for (const auto& inv : s.invariants) {
        auto e = fhirpath::Compile(inv.expression);
        if (e.ok()) site.checks.push_back(*e);
      }
      sites[type].push_back(std::move(site));
    }
  }

  std::vector<std::string> files;
  std::vector<std::unique_ptr<fhir::Document>> docs;
  for (const std::string& name : JsonFiles(examples)) {
    auto doc = fhir::ParseJson(ReadFile(examples + "/" + name), &schema);
    if (!doc.ok() || !sites.count(doc->root.resource_type())) continue;
    files.push_back(name);
    docs.push_back(std::make_unique<fhir::Document>(std::move(doc).value()));
  }

  auto run_all = [&]() {
    uint64_t n = 0;
    for (const auto& doc : docs) {
      const fhir::Node& root = doc->root;
      fhirpath::EvalContext ctx;
      ctx.resource = &root;
      ctx.root_resource = &root;
      ctx.schema = &schema;
      ctx.focus = {fhirpath::Item::Of(&root)};
      for (const Site& site : sites[root.resource_type()]) {
        auto nodes = fhirpath::Evaluate(site.path, ctx);
        if (!nodes.ok() || nodes->empty()) continue;
        fhirpath::EvalContext c = ctx;
        for (const fhirpath::Item& node : *nodes) {
          c.focus = {node};
          for (const auto& check : site.checks) {
            auto r = fhirpath::Evaluate(check, c);
            (void)r;
            ++n;
          }
        }
      }
    }
    return n;
  };
  run_all();  // warm-up
  auto cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  auto t0 = std::chrono::steady_clock::now();
  double c0 = cpu();
  uint64_t n = 0;
  for (int k = 0; k < rounds; ++k) n += run_all();
  double cpu_secs = cpu() - c0;
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  double cpp_rate = n / cpu_secs;
  std::printf(
      "genogate:    %zu resources, %llu evaluations, %.3f s CPU (%.3f s wall): "
      "%.0f evaluations per CPU second\n",
      docs.size(), static_cast<unsigned long long>(n), cpu_secs, secs,
      cpp_rate);
  if (!js) return 0;

  // The same job for FHIRPath.js.
  std::string here = SourceDir() + "/tests/conformance/fhirpath";
  if (std::system(("\"" + here + "/setup.sh\"").c_str()) != 0) {
    std::fprintf(stderr, "fhirpath_bench: cannot install FHIRPath.js\n");
    return 2;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("dir");
  w.String(examples.c_str());
  w.Key("files");
  w.StartArray();
  for (const auto& f : files) w.String(f.c_str());
  w.EndArray();
  w.Key("types");
  w.StartObject();
  for (const auto& [type, list] : invariants) {
    w.Key(type.c_str());
    w.StartArray();
    for (const auto& s : list) {
      w.StartObject();
      w.Key("path");
      w.String(s.path.c_str());
      w.Key("checks");
      w.StartArray();
      for (const auto& inv : s.invariants) {
        w.StartObject();
        w.Key("key");
        w.String(inv.key.c_str());
        w.Key("expr");
        w.String(inv.expression.c_str());
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  char tmpl[] = "/tmp/fhirpath-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 2;
  std::string job = std::string(tmpl) + "/job.json";
  std::ofstream(job) << buf.GetString();
  std::string cmd = "node \"" + here + "/fhirpath_js.js\" bench \"" + job +
                    "\" " + std::to_string(rounds);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char line[4096];
  while (p && fgets(line, sizeof line, p)) out += line;
  int rc = p ? pclose(p) : -1;
  std::remove(job.c_str());
  rmdir(tmpl);
  rapidjson::Document d;
  d.Parse(out.c_str());
  if (rc != 0 || d.HasParseError() || !d.HasMember("per_second")) {
    std::fprintf(stderr, "fhirpath_bench: FHIRPath.js failed: %s\n",
                 out.c_str());
    return 1;
  }
  double js_rate = d["per_cpu_second"].GetDouble();
  std::printf(
      "FHIRPath.js: %llu evaluations, %.3f s CPU (%.3f s wall): %.0f "
      "evaluations "
      "per CPU second\n",
      static_cast<unsigned long long>(d["evaluations"].GetUint64()),
      d["cpu_seconds"].GetDouble(), d["seconds"].GetDouble(), js_rate);
  std::printf("ratio (CPU time): genogate is %.1fx FHIRPath.js\n",
              cpp_rate / js_rate);
  return 0;
}
