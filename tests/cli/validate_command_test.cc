// `genogate validate`: OperationOutcome for one file, NDJSON for several,
// exit codes, and --package with a user's profiles that come without
// snapshots (tests/data/validator/national: a national variant profile and
// an extension in JSON, a stricter profile and a value set in FHIR XML).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_test_util.h"
#include "testing/test_env.h"

namespace genogate::cli {
namespace {

using testing::CliRun;

// Runs the genogate binary with `args` (a shell fragment) over the test
// package cache; stderr is dropped.
CliRun Genogate(const std::string& args) {
  setenv("GENOGATE_PACKAGE_CACHE", genogate::testing::PackageCache().c_str(),
         1);
  return testing::RunGenogate(args, "2>/dev/null");
}

constexpr char kNational[] =
    "http://example.org/fhir/national/StructureDefinition/national-variant";
constexpr char kStrict[] =
    "http://example.org/fhir/national/StructureDefinition/"
    "national-variant-strict";
constexpr char kAccreditation[] =
    "http://example.org/fhir/national/StructureDefinition/lab-accreditation";

std::string NationalDir() {
  // A copy, so the package index is written outside the source tree.
  static const std::string dir = [] {
    std::string to = ::testing::TempDir() + "/genogate-national-package";
    std::filesystem::remove_all(to);
    std::filesystem::copy(
        genogate::testing::SourceDir() + "/tests/data/validator/national", to);
    return to;
  }();
  return dir;
}

// The IG's EGFR variant example, changed by `edit`, written to a file.
std::string EgfrFile(const std::string& name,
                     const std::function<void(rapidjson::Document&)>& edit) {
  rapidjson::Document d;
  std::string text = genogate::testing::ReadTestFile(
      genogate::testing::GenomicsPackageDir() +
      "/example/Observation-EGFR-L858R-var.json");
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError());
  edit(d);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << buf.GetString();
  return path;
}

void NoEdit(rapidjson::Document&) {}

// Removes the component with LOINC code `loinc`.
std::function<void(rapidjson::Document&)> WithoutComponent(
    const std::string& loinc) {
  return [loinc](rapidjson::Document& d) {
    auto& comps = d["component"];
    for (auto it = comps.Begin(); it != comps.End(); ++it) {
      if ((*it)["code"]["coding"][0]["code"].GetString() == loinc) {
        comps.Erase(it);
        return;
      }
    }
    ADD_FAILURE() << "no component " << loinc;
  };
}

void AddAccreditation(rapidjson::Document& d, const char* value_member,
                      rapidjson::Value value) {
  auto& a = d.GetAllocator();
  rapidjson::Value ext(rapidjson::kObjectType);
  ext.AddMember("url", rapidjson::StringRef(kAccreditation), a);
  ext.AddMember(rapidjson::StringRef(value_member), value, a);
  rapidjson::Value exts(rapidjson::kArrayType);
  exts.PushBack(ext, a);
  d.AddMember("extension", exts, a);
}

struct Finding {
  std::string severity, code, location, text;
};

// The issues of one OperationOutcome (severity, genogate code, location).
std::vector<Finding> Findings(const rapidjson::Value& oo) {
  std::vector<Finding> out;
  if (!oo.IsObject() || !oo.HasMember("issue")) return out;
  for (const auto& i : oo["issue"].GetArray()) {
    Finding f;
    f.severity = i["severity"].GetString();
    for (const auto& x : i["extension"].GetArray())
      if (std::string(x["url"].GetString()).find("message-id") !=
          std::string::npos)
        f.code = x["valueString"].GetString();
    if (i.HasMember("expression")) f.location = i["expression"][0].GetString();
    if (i.HasMember("details")) f.text = i["details"]["text"].GetString();
    out.push_back(f);
  }
  return out;
}

std::vector<Finding> Errors(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  EXPECT_FALSE(d.HasParseError()) << json.substr(0, 200);
  std::vector<Finding> out;
  for (Finding& f : Findings(d))
    if (f.severity == "error" || f.severity == "fatal") out.push_back(f);
  return out;
}

std::string Describe(const std::vector<Finding>& fs) {
  std::string out;
  for (const Finding& f : fs)
    out += "  [" + f.code + "] " + f.location + ": " + f.text + "\n";
  return out;
}

// Exactly these (code, location) errors.
void ExpectErrors(const CliRun& r,
                  std::vector<std::pair<std::string, std::string>> want) {
  std::vector<Finding> got = Errors(r.out);
  std::vector<std::pair<std::string, std::string>> have;
  for (const Finding& f : got) have.emplace_back(f.code, f.location);
  std::sort(have.begin(), have.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(have, want) << Describe(got);
  EXPECT_EQ(r.exit_code, want.empty() ? 0 : 1);
}

TEST(ValidateCommand, OneFilePrintsItsOperationOutcome) {
  std::string f = EgfrFile("egfr.json", NoEdit);
  CliRun r = Genogate("validate \"" + f + "\"");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["resourceType"].GetString(), "OperationOutcome");
  // The HGNC gene code is reported as not checked.
  bool unchecked = false;
  for (const Finding& x : Findings(d))
    unchecked |= x.code == "code-unchecked" &&
                 x.location == "Observation.component[4].value";
  EXPECT_TRUE(unchecked) << r.out;
}

TEST(ValidateCommand, SeveralFilesPrintOneNdjsonLineEach) {
  std::string good = EgfrFile("egfr-good.json", NoEdit);
  std::string bad = EgfrFile("egfr-bad.json", [](rapidjson::Document& d) {
    d.RemoveMember("status");
  });
  CliRun r = Genogate("validate \"" + good + "\" \"" + bad + "\"");
  EXPECT_EQ(r.exit_code, 1);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> files;
  std::vector<size_t> errors;
  while (std::getline(lines, line)) {
    rapidjson::Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError()) << line;
    files.push_back(d["file"].GetString());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d["outcome"].Accept(w);
    errors.push_back(Errors(buf.GetString()).size());
  }
  EXPECT_EQ(files, (std::vector<std::string>{good, bad}));
  EXPECT_EQ(errors, (std::vector<size_t>{0, 1}));
}

TEST(ValidateCommand, CannotRunExitsTwo) {
  EXPECT_EQ(Genogate("validate /nonexistent/file.json").exit_code, 2);
  std::string f = EgfrFile("egfr-2.json", NoEdit);
  EXPECT_EQ(
      Genogate("validate \"" + f + "\" --package /nonexistent/dir").exit_code,
      2);
}

// --package DIR with profiles that have only a differential: the snapshots
// are generated from the IG's variant profile.
TEST(ValidateCommand, NationalProfileWithoutSnapshotPasses) {
  std::string f = EgfrFile("national-ok.json", [](rapidjson::Document& d) {
    AddAccreditation(d, "valueString", rapidjson::Value("ACC-123"));
  });
  for (const char* profile : {kNational, kStrict}) {
    SCOPED_TRACE(profile);
    ExpectErrors(Genogate("validate \"" + f + "\" --package \"" +
                          NationalDir() + "\" --profile " + profile),
                 {});
  }
  // The same file without the national package: its extension is unknown
  // (a warning), the profile too (an error).
  ExpectErrors(Genogate("validate \"" + f + "\" --profile " + kNational),
               {{"profile-unknown", "Observation"}});
}

TEST(ValidateCommand, NationalProfileRequiresTheGenomicHgvsComponent) {
  // Fine for the IG's variant profile, not for the national one.
  std::string f =
      EgfrFile("national-no-ghgvs.json", WithoutComponent("81290-9"));
  ExpectErrors(Genogate("validate \"" + f + "\""), {});
  ExpectErrors(Genogate("validate \"" + f + "\" --package \"" + NationalDir() +
                        "\" --profile " + kNational),
               {{"slice-min", "Observation"}});
}

TEST(ValidateCommand, NationalBindingFromAnXmlValueSet) {
  // Fetal is in the IG's extensible LOINC answer list, not in the national
  // required value set (FHIR XML in the package folder).
  std::string f = EgfrFile("national-fetal.json", [](rapidjson::Document& d) {
    for (auto& c : d["component"].GetArray()) {
      if (std::string(c["code"]["coding"][0]["code"].GetString()) != "48002-0")
        continue;
      auto& coding = c["valueCodeableConcept"]["coding"][0];
      coding["code"].SetString("LA10429-1");
      coding["display"].SetString("Fetal");
    }
  });
  CliRun r = Genogate("validate \"" + f + "\" --package \"" + NationalDir() +
                      "\" --profile " + kNational);
  ExpectErrors(r, {{"binding-required", "Observation.component[6].value"}});
  EXPECT_NE(r.out.find("http://example.org/fhir/national/ValueSet/"
                       "genomic-source"),
            std::string::npos);
}

TEST(ValidateCommand, NationalExtensionDefinitionWithoutSnapshot) {
  std::string wrong_type =
      EgfrFile("national-ext-bool.json", [](rapidjson::Document& d) {
        AddAccreditation(d, "valueBoolean", rapidjson::Value(true));
      });
  ExpectErrors(Genogate("validate \"" + wrong_type + "\" --package \"" +
                        NationalDir() + "\" --profile " + kNational),
               {{"type-not-allowed", "Observation.extension[0].value"}});
  std::string too_long =
      EgfrFile("national-ext-long.json", [](rapidjson::Document& d) {
        AddAccreditation(d, "valueString", rapidjson::Value("ACC-1234567890"));
      });
  ExpectErrors(Genogate("validate \"" + too_long + "\" --package \"" +
                        NationalDir() + "\" --profile " + kNational),
               {{"max-length", "Observation.extension[0].value"}});
}

// The stricter profile is FHIR XML and derives from the national one, so
// both snapshots are generated, one on top of the other.
TEST(ValidateCommand, XmlProfileDerivedFromAnotherProfileWithoutSnapshot) {
  std::string f = EgfrFile("strict.json", [](rapidjson::Document& d) {
    d["status"].SetString("preliminary");
    d.RemoveMember("method");
  });
  // Fine for the national profile (and the IG's).
  ExpectErrors(Genogate("validate \"" + f + "\" --package \"" + NationalDir() +
                        "\" --profile " + kNational),
               {});
  ExpectErrors(Genogate("validate \"" + f + "\" --package \"" + NationalDir() +
                        "\" --profile " + kStrict),
               {{"fixed-value", "Observation.status"},
                {"cardinality-min", "Observation"}});
  // Still checks what the base profiles require.
  std::string g = EgfrFile("strict-no-ghgvs.json", WithoutComponent("81290-9"));
  ExpectErrors(Genogate("validate \"" + g + "\" --package \"" + NationalDir() +
                        "\" --profile " + kStrict),
               {{"slice-min", "Observation"}});
}

}  // namespace
}  // namespace genogate::cli
