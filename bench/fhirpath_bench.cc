// FHIRPath throughput: every constraint of the R4 base definitions
// (resources and datatypes) evaluated on the R4 examples at every node where
// it applies — resource invariants on each resource (root, contained,
// Bundle entries), element and datatype constraints on each node of their
// path or type — the workload of
// tests/conformance/fhirpath/differential_test.cc, with the same
// deterministic sampling (every (constraint key, node type) pair at least
// once, of the rest one in N; --sample 1 for everything). Evaluated by
// genogate and, in the same run, by HL7 FHIRPath.js
// (tests/conformance/fhirpath/fhirpath_js.js). Resources are parsed, context
// nodes found and expressions compiled before timing; the timed work is
// evaluating the constraints, single threaded, on both sides.
//
//   fhirpath_bench [--rounds N] [--sample N] [--no-js] [--examples DIR]
//
// Prints evaluations per CPU second for each engine (CPU time, so that other
// load on a shared machine does not skew the ratio; FHIRPath.js's includes
// its garbage collector threads) and the ratio.
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
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/invariants.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/resource_files.h"
#include "fhir/schema.h"

namespace {

using namespace genogate;  // NOLINT

std::string SourceDir() {
  std::string f = __FILE__;
  size_t p = f.rfind("/bench/");
  return p == std::string::npos ? "." : f.substr(0, p);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Work {
  fhirpath::EvalContext ctx;
  std::vector<size_t> checks;  // indexes into the compiled expressions
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 1;
  uint64_t sample = 4;
  bool js = true;
  std::string examples;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sample" && i + 1 < argc) {
      sample = std::max<uint64_t>(1, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--no-js") {
      js = false;
    } else if (a == "--examples" && i + 1 < argc) {
      examples = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: fhirpath_bench [--rounds N] [--sample N] [--no-js] "
                   "[--examples DIR]\n");
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
  fhirpath::BaseConstraints constraints(**set);

  // Every distinct expression compiled once; checks.json indexes them.
  std::map<std::string, size_t> check_ids;
  std::vector<fhirpath::Expression> compiled;
  std::vector<std::string> texts;
  fhirpath::ConstraintSampler sampler(sample);  // as the differential test
  std::vector<std::unique_ptr<fhir::Document>> docs;
  std::vector<Work> work;
  std::string cases;  // the same work for FHIRPath.js
  size_t evaluations = 0;
  for (const std::string& name : fhir::ListResourceFiles(examples, {".json"})) {
    auto doc = fhir::ParseJson(ReadFile(examples + "/" + name), &schema);
    if (!doc.ok() || !doc->root.is_resource()) continue;
    docs.push_back(std::make_unique<fhir::Document>(std::move(doc).value()));
    std::vector<fhirpath::ConstraintSite> found =
        fhirpath::ConstraintSites(docs.back()->root, constraints);
    std::map<const fhir::Node*, const std::string*> where =
        fhirpath::ResourceLocations(found);
    for (const auto& s : found) {
      Work w;
      std::vector<size_t> ids;
      for (const fhirpath::Invariant* inv : sampler.Pick(name, s)) {
        auto [it, added] = check_ids.emplace(inv->expression, compiled.size());
        if (added) {
          auto e = fhirpath::Compile(inv->expression);
          if (!e.ok()) {
            check_ids.erase(it);
            continue;
          }
          compiled.push_back(*e);
          texts.push_back(inv->expression);
        }
        ids.push_back(it->second);
      }
      if (ids.empty()) continue;
      w.checks = ids;
      evaluations += ids.size();
      w.ctx.focus = {fhirpath::Item::Of(s.node)};
      w.ctx.resource = s.resource;
      w.ctx.root_resource = s.root_resource;
      w.ctx.schema = &schema;
      work.push_back(std::move(w));
      if (!js) continue;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> jw(buf);
      jw.StartObject();
      jw.Key("f");
      jw.String(name.c_str());
      jw.Key("n");
      jw.String(s.location.c_str());
      jw.Key("res");
      jw.String(where[s.resource]->c_str());
      jw.Key("root");
      jw.String(where[s.root_resource]->c_str());
      jw.Key("c");
      jw.StartArray();
      for (size_t id : ids) jw.Uint64(id);
      jw.EndArray();
      jw.EndObject();
      cases += buf.GetString();
      cases += '\n';
    }
  }

  auto run_all = [&]() {
    uint64_t n = 0;
    for (const Work& w : work) {
      for (size_t id : w.checks) {
        auto r = fhirpath::Evaluate(compiled[id], w.ctx);
        (void)r;
        ++n;
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
      "work: %zu resources, %zu context nodes, %zu distinct expressions, %zu "
      "evaluations per round (1 in %llu sampled), %d round(s)\n"
      "genogate:    %llu evaluations, %.3f s CPU (%.3f s wall): "
      "%.0f evaluations per CPU second\n",
      docs.size(), work.size(), compiled.size(), evaluations,
      static_cast<unsigned long long>(sample), rounds,
      static_cast<unsigned long long>(n), cpu_secs, secs, cpp_rate);
  if (!js) return 0;

  // The same job for FHIRPath.js.
  std::string here = SourceDir() + "/tests/conformance/fhirpath";
  if (std::system(("\"" + here + "/setup.sh\"").c_str()) != 0) {
    std::fprintf(stderr, "fhirpath_bench: cannot install FHIRPath.js\n");
    return 2;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const std::string& t : texts) {
    w.StartObject();
    w.Key("key");
    w.String("");
    w.Key("expr");
    w.String(t.c_str());
    w.EndObject();
  }
  w.EndArray();
  char tmpl[] = "/tmp/fhirpath-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 2;
  const std::string checks_file = std::string(tmpl) + "/checks.json";
  const std::string cases_file = std::string(tmpl) + "/cases.jsonl";
  std::ofstream(checks_file) << buf.GetString();
  std::ofstream(cases_file) << cases;
  cases.clear();
  std::string cmd = "node \"" + here + "/fhirpath_js.js\" bench \"" +
                    checks_file + "\" \"" + cases_file + "\" \"" + examples +
                    "\" " + std::to_string(rounds);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char line[4096];
  while (p && fgets(line, sizeof line, p)) out += line;
  int rc = p ? pclose(p) : -1;
  std::remove(checks_file.c_str());
  std::remove(cases_file.c_str());
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
