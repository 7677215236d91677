// Differential test against HL7's FHIRPath.js: every constraint of every R4
// base StructureDefinition (resources and datatypes; see BaseConstraints),
// evaluated on every R4 example at every node where it applies: resource
// invariants on each resource (the root, contained resources, Bundle
// entries, Parameters resources), element constraints on each node of
// their element path (backbone elements, contentReference recursion), and
// datatype constraints (Quantity, Reference, Period, Narrative, Extension,
// Element ele-1, ...) on each node of that type, with %resource the nearest
// resource and %rootResource its container for a contained resource.
// CI evaluates a deterministic sample that still covers every (constraint,
// node type) pair at least once (see kSampleEvery below).
// FHIRPath.js (the pinned npm package in this folder, R4 model) is given
// the same node, found by navigating the same location with its model, and
// the same %resource / %rootResource. The results must be equal, except for
// the differences listed in known_differences.json, each with the section
// of the specification that says who is right. A listed difference that no
// longer occurs also fails the test (the list stays exact).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/invariants.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/resource_files.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::fhirpath {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string Str(const rapidjson::Value& o, const char* k) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return it->value.GetString();
}

// Deterministic sampling of the (constraint, context node) pairs
// (ConstraintSampler, as bench/fhirpath_bench.cc), to keep the run within a
// few minutes on two cores: every pair whose constraint and node type (key,
// FHIR type) has not been seen yet is evaluated, and of the others one in
// kSampleEvery, chosen by a hash of the file, node location and key.
// GENOGATE_FHIRPATH_DIFF_SAMPLE=N overrides it (1 evaluates everything:
// about four times the work).
constexpr uint64_t kSampleEvery = 4;

uint64_t SampleEvery() {
  const char* v = std::getenv("GENOGATE_FHIRPATH_DIFF_SAMPLE");
  if (v == nullptr || *v == '\0') return kSampleEvery;
  return std::max<uint64_t>(1, std::strtoull(v, nullptr, 10));
}

TEST(FhirPathDifferential, R4ConstraintsOnR4ExamplesAgreeWithFhirPathJs) {
  const std::string here =
      genogate::testing::SourceDir() + "/tests/conformance/fhirpath";
  ASSERT_EQ(std::system(("\"" + here + "/setup.sh\"").c_str()), 0)
      << "cannot install FHIRPath.js (node and npm are required)";

  auto set = fhir::PackageSet::Open(genogate::testing::DefaultPackageDirs());
  ASSERT_TRUE(set.ok()) << set.error().message();
  fhir::Schema schema(set->get());
  BaseConstraints constraints(**set);
  ASSERT_GT(constraints.contexts(), 400u);

  const std::string dir = genogate::testing::R4ExamplesDir();
  const std::string work =
      genogate::testing::BinaryDir() + "/fhirpath-differential";
  ASSERT_EQ(std::system(("mkdir -p \"" + work + "\"").c_str()), 0);

  // Every constraint gets an index in checks.json; each is compiled once.
  std::map<const Invariant*, size_t> check_ids;
  std::vector<const Invariant*> checks;
  std::vector<Result<Expression>> compiled;

  const uint64_t sample_every = SampleEvery();
  std::ofstream cases(work + "/cases.jsonl");
  size_t files = 0, sites = 0, evaluations = 0, compile_errors = 0;
  ConstraintSampler sampler(sample_every);
  for (const std::string& name : fhir::ListResourceFiles(dir, {".json"})) {
    std::string text = genogate::testing::ReadTestFile(dir + "/" + name);
    Result<fhir::Document> doc = fhir::ParseJson(text, &schema);
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.error().message();
    const fhir::Node& root = doc->root;
    if (!root.is_resource()) continue;
    ++files;
    std::vector<ConstraintSite> found = ConstraintSites(root, constraints);
    std::map<const fhir::Node*, const std::string*> where =
        ResourceLocations(found);
    for (const ConstraintSite& s : found) {
      const std::string type = SiteType(s);
      std::vector<size_t> ids;
      for (const Invariant* inv : sampler.Pick(name, s)) {
        auto [it, added] = check_ids.emplace(inv, checks.size());
        if (added) {
          checks.push_back(inv);
          compiled.push_back(Compile(inv->expression));
          if (!compiled.back().ok()) ++compile_errors;
        }
        ids.push_back(it->second);
      }
      if (ids.empty()) continue;
      ++sites;
      EvalContext ctx;
      ctx.focus = {Item::Of(s.node)};
      ctx.resource = s.resource;
      ctx.root_resource = s.root_resource;
      ctx.schema = &schema;
      rapidjson::StringBuffer buf;
      Writer w(buf);
      w.StartObject();
      w.Key("f");
      w.String(name.c_str());
      w.Key("n");
      w.String(s.location.c_str());
      w.Key("res");
      w.String(where[s.resource]->c_str());
      w.Key("root");
      w.String(where[s.root_resource]->c_str());
      w.Key("t");
      w.String(type.c_str());
      w.Key("c");
      w.StartArray();
      for (size_t id : ids) w.Uint64(id);
      w.EndArray();
      w.Key("r");
      w.StartArray();
      for (size_t id : ids) {
        ++evaluations;
        const Result<Expression>& e = compiled[id];
        std::string error;
        if (!e.ok()) {
          error = e.error().message();
        } else {
          Result<Collection> r = Evaluate(*e, ctx);
          if (r.ok()) {
            std::string json = ToJson(*r);
            w.RawValue(json.data(), json.size(), rapidjson::kArrayType);
            continue;
          }
          error = r.error().message();
        }
        w.StartObject();
        w.Key("error");
        w.String(error.c_str());
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      cases << buf.GetString() << "\n";
    }
  }
  cases.close();
  EXPECT_EQ(compile_errors, 0u);
  {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartArray();
    for (const Invariant* inv : checks) {
      w.StartObject();
      w.Key("key");
      w.String(inv->key.c_str());
      w.Key("expr");
      w.String(inv->expression.c_str());
      w.Key("context");
      w.String(inv->context.c_str());
      w.EndObject();
    }
    w.EndArray();
    std::ofstream(work + "/checks.json") << buf.GetString();
  }

  std::string cmd = "node \"" + here + "/fhirpath_js.js\" diff \"" + work +
                    "/checks.json\" \"" + work + "/cases.jsonl\" \"" + dir +
                    "\" \"" + work + "/diff.json\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  rapidjson::Document diff;
  std::string diff_text = genogate::testing::ReadTestFile(work + "/diff.json");
  diff.Parse(diff_text.c_str());
  ASSERT_FALSE(diff.HasParseError());
  const uint64_t js_evaluations = diff["evaluations"].GetUint64();
  const uint64_t agree = diff["agree"].GetUint64();
  const uint64_t differ = diff["differ"].GetUint64();
  std::printf(
      "fhirpath differential (1 in %llu sampled): %zu files, %zu context "
      "nodes, %zu of %zu "
      "constraint definitions, %zu (constraint key, node type) pairs, "
      "%zu genogate evaluations, %llu FHIRPath.js evaluations, %llu agree, "
      "%llu differ\n",
      static_cast<unsigned long long>(sample_every), files, sites,
      checks.size(), constraints.size(), sampler.pairs(), evaluations,
      static_cast<unsigned long long>(js_evaluations),
      static_cast<unsigned long long>(agree),
      static_cast<unsigned long long>(differ));
  // FHIRPath.js evaluated exactly the same cases.
  EXPECT_EQ(js_evaluations, evaluations);
  EXPECT_GT(evaluations, 4000000u / sample_every);
  EXPECT_GT(files, 2000u);

  // Every difference must be explained by an entry of the list, and every
  // entry must explain at least one. An entry gives the constraint key and
  // both results, and may narrow by file ("f"), node location ("n"), node
  // type ("t") and a piece of FHIRPath.js's error message ("js_error").
  rapidjson::Document known;
  std::string known_text =
      genogate::testing::ReadTestFile(here + "/known_differences.json");
  known.Parse(known_text.c_str());
  ASSERT_FALSE(known.HasParseError()) << "known_differences.json is not JSON";
  const auto& entries = known["differences"];
  ASSERT_TRUE(entries.IsArray());
  for (const auto& d : entries.GetArray()) {
    std::string reason = Str(d, "reason");
    ASSERT_TRUE(known["reasons"].HasMember(reason.c_str()))
        << "unknown reason " << reason;
    const auto& r = known["reasons"][reason.c_str()];
    ASSERT_FALSE(Str(r, "spec").empty()) << reason << " names no spec section";
    ASSERT_TRUE(Str(r, "right") == "genogate" ||
                Str(r, "right") == "fhirpath.js")
        << reason << ": 'right' must be genogate or fhirpath.js";
    ASSERT_FALSE(Str(d, "k").empty());
  }
  auto matches = [](const rapidjson::Value& entry, const rapidjson::Value& d) {
    auto same = [&](const char* ek, const char* dk) {
      return !entry.HasMember(ek) || Str(entry, ek) == Str(d, dk);
    };
    if (!same("k", "k") || !same("f", "f") || !same("n", "n") ||
        !same("t", "t") || !same("genogate", "cpp") ||
        !same("fhirpath.js", "js")) {
      return false;
    }
    std::string piece = Str(entry, "js_error");
    return piece.empty() || Str(d, "js_error").find(piece) != std::string::npos;
  };
  std::vector<size_t> used(entries.Size(), 0);
  std::vector<std::string> unexplained;
  for (const auto& d : diff["differences"].GetArray()) {
    bool found = false;
    for (rapidjson::SizeType i = 0; i < entries.Size() && !found; ++i) {
      if (matches(entries[i], d)) {
        ++used[i];
        found = true;
      }
    }
    if (!found) {
      unexplained.push_back(
          Str(d, "f") + " " + Str(d, "n") + " (" + Str(d, "t") + ") " +
          Str(d, "k") + " genogate=" + Str(d, "cpp") +
          " fhirpath.js=" + Str(d, "js") + "  expr: " + Str(d, "expr") +
          "  js error: " + Str(d, "js_error") +
          "  genogate error: " + Str(d, "cpp_error"));
    }
  }
  EXPECT_TRUE(unexplained.empty())
      << unexplained.size() << " unexplained differences, e.g.:\n"
      << [&] {
           std::string s;
           for (size_t i = 0; i < unexplained.size() && i < 60; ++i)
             s += unexplained[i] + "\n";
           return s;
         }();
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
    std::printf("  %6zu x %s %s (%s)\n", used[i], Str(entries[i], "k").c_str(),
                Str(entries[i], "t").c_str(),
                Str(entries[i], "reason").c_str());
    EXPECT_GT(used[i], 0u) << "listed difference no longer occurs: entry " << i
                           << " (" << Str(entries[i], "k") << ", "
                           << Str(entries[i], "reason") << ")";
  }
}

}  // namespace
}  // namespace genogate::fhirpath
