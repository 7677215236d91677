// Differential test against HL7's FHIRPath.js: every invariant of every R4
// base resource StructureDefinition (snapshot elements), evaluated on every
// R4 example of that resource type at each node of its element path, with
// %resource and %rootResource set to the example. genogate's results and
// FHIRPath.js's (the pinned npm package in this folder, R4 model) must be
// equal, except for the differences listed in known_differences.json, each
// with the section of the specification that says who is right. A listed
// difference that no longer occurs also fails the test (the list stays
// exact).
#include <dirent.h>
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
#include <vector>

#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/invariants.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::fhirpath {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

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

std::string Str(const rapidjson::Value& o, const char* k) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return it->value.GetString();
}

TEST(FhirPathDifferential, R4InvariantsOnR4ExamplesAgreeWithFhirPathJs) {
  const std::string here =
      genogate::testing::SourceDir() + "/tests/conformance/fhirpath";
  ASSERT_EQ(std::system(("\"" + here + "/setup.sh\"").c_str()), 0)
      << "cannot install FHIRPath.js (node and npm are required)";

  auto set = fhir::PackageSet::Open(genogate::testing::DefaultPackageDirs());
  ASSERT_TRUE(set.ok()) << set.error().message();
  fhir::Schema schema(set->get());
  std::map<std::string, std::vector<InvariantSite>> types =
      BaseResourceInvariants(**set);
  ASSERT_GT(types.size(), 140u);

  const std::string dir = genogate::testing::R4ExamplesDir();
  const std::string work =
      genogate::testing::BinaryDir() + "/fhirpath-differential";
  ASSERT_EQ(std::system(("mkdir -p \"" + work + "\"").c_str()), 0);

  // Compile every expression once.
  std::map<std::string, Result<Expression>> compiled;
  auto compile = [&](const std::string& text) -> const Result<Expression>& {
    auto it = compiled.find(text);
    if (it == compiled.end()) it = compiled.emplace(text, Compile(text)).first;
    return it->second;
  };

  std::ofstream cpp(work + "/cpp.jsonl");
  std::vector<std::string> files;
  size_t evaluations = 0, compile_errors = 0;
  for (const std::string& name : JsonFiles(dir)) {
    std::string text = genogate::testing::ReadTestFile(dir + "/" + name);
    Result<fhir::Document> doc = fhir::ParseJson(text, &schema);
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.error().message();
    const fhir::Node& root = doc->root;
    auto t = types.find(root.resource_type());
    if (t == types.end()) continue;
    files.push_back(name);
    EvalContext ctx;
    ctx.resource = &root;
    ctx.root_resource = &root;
    ctx.schema = &schema;
    for (const InvariantSite& site : t->second) {
      const Result<Expression>& path = compile(site.path);
      ASSERT_TRUE(path.ok()) << site.path;
      EvalContext pctx = ctx;
      pctx.focus = {Item::Of(&root)};
      Result<Collection> nodes = Evaluate(*path, pctx);
      ASSERT_TRUE(nodes.ok()) << site.path << ": " << nodes.error().message();
      if (nodes->empty()) continue;
      for (const Invariant& inv : site.invariants) {
        const Result<Expression>& e = compile(inv.expression);
        rapidjson::StringBuffer buf;
        Writer w(buf);
        w.StartObject();
        w.Key("f");
        w.String(name.c_str());
        w.Key("p");
        w.String(site.path.c_str());
        w.Key("k");
        w.String(inv.key.c_str());
        w.Key("r");
        w.StartArray();
        for (const Item& node : *nodes) {
          ++evaluations;
          std::string error;
          if (!e.ok()) {
            ++compile_errors;
            error = e.error().message();
          } else {
            ctx.focus = {node};
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
        cpp << buf.GetString() << "\n";
      }
    }
  }
  cpp.close();
  EXPECT_EQ(compile_errors, 0u);

  // The job for FHIRPath.js.
  {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("dir");
    w.String(dir.c_str());
    w.Key("files");
    w.StartArray();
    for (const std::string& f : files) w.String(f.c_str());
    w.EndArray();
    w.Key("types");
    w.StartObject();
    for (const auto& [type, sites] : types) {
      w.Key(type.c_str());
      w.StartArray();
      for (const InvariantSite& s : sites) {
        w.StartObject();
        w.Key("path");
        w.String(s.path.c_str());
        w.Key("checks");
        w.StartArray();
        for (const Invariant& inv : s.invariants) {
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
    std::ofstream(work + "/job.json") << buf.GetString();
  }
  std::string cmd = "node \"" + here + "/fhirpath_js.js\" diff \"" + work +
                    "/job.json\" \"" + work + "/cpp.jsonl\" \"" + work +
                    "/diff.json\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  rapidjson::Document diff;
  std::string diff_text = genogate::testing::ReadTestFile(work + "/diff.json");
  diff.Parse(diff_text.c_str());
  ASSERT_FALSE(diff.HasParseError());
  const uint64_t js_evaluations = diff["evaluations"].GetUint64();
  const uint64_t agree = diff["agree"].GetUint64();
  const uint64_t differ = diff["differ"].GetUint64();
  std::printf(
      "fhirpath differential: %zu files, %zu genogate evaluations, %llu "
      "FHIRPath.js "
      "evaluations, %llu agree, %llu differ\n",
      files.size(), evaluations,
      static_cast<unsigned long long>(js_evaluations),
      static_cast<unsigned long long>(agree),
      static_cast<unsigned long long>(differ));
  // Both engines found the same context nodes.
  EXPECT_EQ(js_evaluations, evaluations);
  EXPECT_GT(evaluations, 100000u);

  // Every difference must be listed, and every listed one must occur.
  rapidjson::Document known;
  std::string known_text =
      genogate::testing::ReadTestFile(here + "/known_differences.json");
  known.Parse(known_text.c_str());
  ASSERT_FALSE(known.HasParseError()) << "known_differences.json is not JSON";
  std::map<std::string, std::string> listed;  // id -> reason
  for (const auto& d : known["differences"].GetArray()) {
    std::string id = Str(d, "f") + " " + Str(d, "p") + " " + Str(d, "k") +
                     " [" + std::to_string(d["i"].GetInt()) +
                     "] genogate=" + Str(d, "genogate") +
                     " fhirpath.js=" + Str(d, "fhirpath.js");
    std::string reason = Str(d, "reason");
    ASSERT_TRUE(known["reasons"].HasMember(reason.c_str()))
        << "unknown reason " << reason;
    const auto& r = known["reasons"][reason.c_str()];
    ASSERT_FALSE(Str(r, "spec").empty()) << reason << " names no spec section";
    ASSERT_TRUE(Str(r, "right") == "genogate" ||
                Str(r, "right") == "fhirpath.js")
        << reason << ": 'right' must be genogate or fhirpath.js";
    listed[id] = reason;
  }
  std::set<std::string> seen;
  std::vector<std::string> unexplained;
  for (const auto& d : diff["differences"].GetArray()) {
    std::string id = Str(d, "f") + " " + Str(d, "p") + " " + Str(d, "k") +
                     " [" + std::to_string(d["i"].GetInt()) +
                     "] genogate=" + Str(d, "cpp") +
                     " fhirpath.js=" + Str(d, "js");
    if (listed.count(id)) {
      seen.insert(id);
    } else {
      unexplained.push_back(id + "  expr: " + Str(d, "expr") +
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
  for (const auto& [id, reason] : listed) {
    EXPECT_TRUE(seen.count(id)) << "listed difference no longer occurs: " << id;
  }
}

}  // namespace
}  // namespace genogate::fhirpath
