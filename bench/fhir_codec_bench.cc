// FHIR JSON/XML codec throughput on HL7's R4 examples, beside a raw
// RapidJSON DOM parse of the same bytes in the same run, and the time to
// load the R4 core + Genomics IG definitions.
//
// Usage: fhir_codec_bench [PACKAGE_CACHE]   (prints a table of figures)
#include <dirent.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"

using namespace genogate;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<std::string> LoadExamples(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d ? readdir(d) : nullptr) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 &&
        n[0] != '.' && n != "package.json") {
      names.push_back(n);
    }
  }
  if (d) closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  for (const std::string& n : names) {
    Result<std::string> t = ReadFile(dir + "/" + n);
    if (t.ok()) out.push_back(std::move(*t));
  }
  return out;
}

// Runs `fn` over all inputs `rounds` times; returns MB/s of `bytes`.
template <typename Fn>
double Throughput(size_t bytes, int rounds, Fn fn) {
  auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) fn();
  double s = Seconds(t0, Clock::now());
  return static_cast<double>(bytes) * rounds / s / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cache = argc > 1 ? argv[1] : "";
  std::vector<std::string> dirs = fhir::PackageSet::DefaultDirs(cache);

  // Start-up: open the packages (indexes only), then compile the types a
  // Genomics report uses, then every resource type.
  auto t0 = Clock::now();
  auto set = fhir::PackageSet::Open(dirs);
  if (!set.ok()) {
    std::fprintf(stderr, "%s\n", set.error().message().c_str());
    return 2;
  }
  auto t1 = Clock::now();
  fhir::Schema schema(set->get());
  for (const char* t : {"Bundle", "Observation", "DiagnosticReport", "Patient",
                        "Specimen", "Procedure", "ServiceRequest"}) {
    schema.FindType(t);
  }
  auto t2 = Clock::now();
  size_t sds = 0;
  for (const fhir::ResourceEntry* e :
       (*set)->EntriesOfType("StructureDefinition")) {
    if (e->kind == "resource" && e->derivation == "specialization") {
      schema.FindType(e->type);
      ++sds;
    }
  }
  auto t3 = Clock::now();
  size_t conformance = 0;
  for (const fhir::ResourceEntry& e : (*set)->entries())
    conformance += !e.url.empty();

  std::printf(
      "definitions: %zu packages, %zu indexed resources (%zu with a canonical "
      "URL)\n",
      (*set)->packages().size(), (*set)->entries().size(), conformance);
  std::printf("  open packages (read indexes)        %8.1f ms\n",
              Seconds(t0, t1) * 1e3);
  std::printf("  compile genomics report types       %8.1f ms\n",
              Seconds(t1, t2) * 1e3);
  std::printf("  compile all %zu resource types      %8.1f ms\n", sds,
              Seconds(t2, t3) * 1e3);

  std::string examples_dir = dirs[0];
  std::vector<std::string> inputs = LoadExamples(examples_dir);
  size_t json_bytes = 0;
  for (const std::string& s : inputs) json_bytes += s.size();

  std::vector<fhir::Document> docs;
  std::vector<std::string> xmls;
  size_t xml_bytes = 0;
  for (const std::string& s : inputs) {
    Result<fhir::Document> d = fhir::ParseJson(s, &schema);
    if (!d.ok()) continue;
    Result<std::string> x = fhir::WriteXml(d->root);
    if (x.ok()) {
      xml_bytes += x->size();
      xmls.push_back(std::move(*x));
    }
    docs.push_back(std::move(*d));
  }
  const int rounds = 3;
  double raw = Throughput(json_bytes, rounds, [&] {
    for (const std::string& s : inputs) {
      rapidjson::Document d;
      d.Parse<rapidjson::kParseFullPrecisionFlag>(s.data(), s.size());
    }
  });
  double json_parse = Throughput(json_bytes, rounds, [&] {
    for (const std::string& s : inputs) (void)fhir::ParseJson(s, &schema);
  });
  double json_write = Throughput(json_bytes, rounds, [&] {
    for (const fhir::Document& d : docs) (void)fhir::WriteJson(d.root);
  });
  double xml_parse = Throughput(xml_bytes, rounds, [&] {
    for (const std::string& s : xmls) (void)fhir::ParseXml(s, schema);
  });
  double xml_write = Throughput(xml_bytes, rounds, [&] {
    for (const fhir::Document& d : docs) (void)fhir::WriteXml(d.root);
  });
  std::printf(
      "R4 examples: %zu resources, %.1f MB JSON, %.1f MB XML, %d rounds\n",
      inputs.size(), json_bytes / 1e6, xml_bytes / 1e6, rounds);
  std::printf("  raw RapidJSON DOM parse            %8.1f MB/s\n", raw);
  std::printf(
      "  FHIR JSON parse (typed tree)       %8.1f MB/s  (%.2fx of raw "
      "RapidJSON)\n",
      json_parse, json_parse / raw);
  std::printf("  FHIR JSON serialize                %8.1f MB/s\n", json_write);
  std::printf(
      "  FHIR XML parse (typed tree)        %8.1f MB/s  (%.2fx of raw "
      "RapidJSON)\n",
      xml_parse, xml_parse / raw);
  std::printf("  FHIR XML serialize                 %8.1f MB/s\n", xml_write);
  return 0;
}
