// Snapshot generation from differentials, checked against the snapshots the
// Genomics Reporting IG ships: regenerated from the differential and the
// base, each IG profile has the same elements with the same constraints,
// and the IG examples validate the same with generated snapshots as with
// the shipped ones.
#include "conformance/validator/snapshot.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "conformance/validator/validator.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/test_env.h"

namespace genogate::conformance {
namespace {

std::string Str(const fhir::JsonValue& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

std::string Dump(const fhir::JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

// The constraints of one element that the validator compiles, as text.
std::string KeyFields(const fhir::JsonValue& e) {
  std::string out;
  for (const char* k : {"sliceName", "min", "max", "type", "binding", "slicing",
                        "maxLength", "contentReference"}) {
    auto it = e.FindMember(k);
    if (it == e.MemberEnd()) continue;
    const fhir::JsonValue* v = &it->value;
    fhir::Json copy;
    if (std::string_view(k) == "slicing" || std::string_view(k) == "binding") {
      // Descriptions and extensions are prose; compare what is checked.
      copy.CopyFrom(*v, copy.GetAllocator());
      copy.RemoveMember("description");
      copy.RemoveMember("extension");
      v = &copy;
    }
    out += std::string(k) + "=" + Dump(*v) + " ";
  }
  for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
    std::string_view k = m->name.GetString();
    if (k.rfind("fixed", 0) == 0 || k.rfind("pattern", 0) == 0)
      out += std::string(k) + "=" + Dump(m->value) + " ";
  }
  std::vector<std::string> keys;
  if (auto c = e.FindMember("constraint");
      c != e.MemberEnd() && c->value.IsArray())
    for (const auto& k : c->value.GetArray()) keys.push_back(Str(k, "key"));
  std::sort(keys.begin(), keys.end());
  out += "constraints=";
  for (const std::string& k : keys) out += k + ",";
  return out;
}

const fhir::JsonValue& Elements(const fhir::JsonValue& sd, const char* which) {
  return sd[which]["element"];
}

class SnapshotTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto set = fhir::PackageSet::Open(genogate::testing::DefaultPackageDirs());
    ASSERT_TRUE(set.ok()) << set.error().message();
    packages_ = std::move(set).value().release();
  }
  static void TearDownTestSuite() { delete packages_; }

  static std::vector<const fhir::ResourceEntry*> IgProfiles() {
    std::vector<const fhir::ResourceEntry*> out;
    for (const fhir::ResourceEntry* e :
         packages_->EntriesOfType("StructureDefinition"))
      if (e->url.find("/genomics-reporting/") != std::string::npos)
        out.push_back(e);
    return out;
  }

  // The shipped definitions (all have snapshots).
  static const fhir::JsonValue* Shipped(std::string_view url) {
    return packages_->Find(url);
  }

  static fhir::PackageSet* packages_;
};
fhir::PackageSet* SnapshotTest::packages_ = nullptr;

TEST_F(SnapshotTest, RegeneratedIgSnapshotsMatchTheShippedOnes) {
  std::vector<const fhir::ResourceEntry*> profiles = IgProfiles();
  ASSERT_EQ(profiles.size(), 42u);
  internal::SnapshotSource types = [](std::string_view url) {
    return Shipped(url);
  };
  size_t compared = 0;
  for (const fhir::ResourceEntry* entry : profiles) {
    SCOPED_TRACE(entry->url);
    const fhir::Json* sd = packages_->Load(*entry);
    ASSERT_NE(sd, nullptr);
    ASSERT_TRUE(internal::HasSnapshot(*sd));
    const fhir::JsonValue* base = Shipped(Str(*sd, "baseDefinition"));
    ASSERT_NE(base, nullptr);
    fhir::Json stripped;
    stripped.CopyFrom(*sd, stripped.GetAllocator());
    stripped.RemoveMember("snapshot");
    ASSERT_FALSE(internal::HasSnapshot(stripped));
    auto gen = internal::GenerateSnapshot(stripped, *base, types);
    ASSERT_TRUE(gen.ok()) << gen.error().message();
    const fhir::JsonValue& want = Elements(*sd, "snapshot");
    const fhir::JsonValue& got = Elements(**gen, "snapshot");
    // The same elements in the same order.
    std::vector<std::string> want_ids, got_ids;
    for (const auto& e : want.GetArray()) want_ids.push_back(Str(e, "id"));
    for (const auto& e : got.GetArray()) got_ids.push_back(Str(e, "id"));
    EXPECT_EQ(got_ids, want_ids);
    for (size_t i = 0; i < std::min(got_ids.size(), want_ids.size()); ++i) {
      if (got_ids[i] == want_ids[i]) continue;
      ADD_FAILURE() << "element " << i << ": generated " << got_ids[i]
                    << ", shipped " << want_ids[i];
      break;
    }
    // The same constraints on every element the differential touches.
    for (const auto& d : Elements(*sd, "differential").GetArray()) {
      std::string id = Str(d, "id");
      const fhir::JsonValue* w = nullptr;
      const fhir::JsonValue* g = nullptr;
      for (const auto& e : want.GetArray())
        if (Str(e, "id") == id) w = &e;
      for (const auto& e : got.GetArray())
        if (Str(e, "id") == id) g = &e;
      ASSERT_NE(w, nullptr) << id;
      ASSERT_NE(g, nullptr) << id;
      EXPECT_EQ(KeyFields(*g), KeyFields(*w)) << id;
      ++compared;
    }
  }
  EXPECT_GT(compared, 450u);
}

TEST_F(SnapshotTest, MissingBaseElementIsReported) {
  const fhir::JsonValue* base =
      Shipped("http://hl7.org/fhir/StructureDefinition/Observation");
  ASSERT_NE(base, nullptr);
  fhir::Json sd;
  sd.Parse(R"({"resourceType":"StructureDefinition","url":"http://x/sd",
    "differential":{"element":[{"id":"Observation.noSuchElement",
    "path":"Observation.noSuchElement","min":1}]}})");
  auto gen = internal::GenerateSnapshot(
      sd, *base, [](std::string_view u) { return Shipped(u); });
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.error().message().find("Observation.noSuchElement"),
            std::string::npos)
      << gen.error().message();
}

TEST_F(SnapshotTest, TypedChoiceNameAndDataTypeChildren) {
  const fhir::JsonValue* base =
      Shipped("http://hl7.org/fhir/StructureDefinition/Observation");
  ASSERT_NE(base, nullptr);
  fhir::Json sd;
  sd.Parse(R"({"resourceType":"StructureDefinition","url":"http://x/sd",
    "differential":{"element":[
      {"id":"Observation.valueQuantity","path":"Observation.valueQuantity",
       "min":1},
      {"id":"Observation.valueQuantity.system",
       "path":"Observation.valueQuantity.system",
       "fixedUri":"http://unitsofmeasure.org"}]}})");
  auto gen = internal::GenerateSnapshot(
      sd, *base, [](std::string_view u) { return Shipped(u); });
  ASSERT_TRUE(gen.ok()) << gen.error().message();
  const fhir::JsonValue* value = nullptr;
  const fhir::JsonValue* system = nullptr;
  for (const auto& e : Elements(**gen, "snapshot").GetArray()) {
    if (Str(e, "id") == "Observation.value[x]") value = &e;
    if (Str(e, "id") == "Observation.value[x].system") system = &e;
  }
  ASSERT_NE(value, nullptr);
  ASSERT_NE(system, nullptr);
  EXPECT_EQ((*value)["min"].GetUint(), 1u);
  ASSERT_EQ((*value)["type"].Size(), 1u);
  EXPECT_EQ(Str((*value)["type"][0], "code"), "Quantity");
  EXPECT_EQ(Str(*system, "fixedUri"), "http://unitsofmeasure.org");
  EXPECT_EQ(Str(*system, "path"), "Observation.value[x].system");
}

// The IG's profiles loaded without snapshots (a folder that overrides the
// package), so every plan comes from a generated snapshot: the IG examples
// must give exactly the issues they give with the shipped snapshots.
TEST_F(SnapshotTest, IgExamplesValidateTheSameWithGeneratedSnapshots) {
  std::filesystem::path tmp =
      std::filesystem::temp_directory_path() /
      ("genogate-snapshot-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  size_t written = 0;
  for (const fhir::ResourceEntry* entry : IgProfiles()) {
    const fhir::Json* sd = packages_->Load(*entry);
    ASSERT_NE(sd, nullptr);
    fhir::Json stripped;
    stripped.CopyFrom(*sd, stripped.GetAllocator());
    stripped.RemoveMember("snapshot");
    std::ofstream(tmp / ("StructureDefinition-" + entry->id + ".json"))
        << Dump(stripped);
    ++written;
  }
  ASSERT_EQ(written, 42u);
  std::vector<std::string> dirs = genogate::testing::DefaultPackageDirs();
  for (const std::string& d : BundledResourceDirs()) dirs.push_back(d);
  auto shipped_set = fhir::PackageSet::Open(dirs);
  dirs.push_back(tmp.string());
  auto generated_set = fhir::PackageSet::Open(dirs);
  ASSERT_TRUE(shipped_set.ok() && generated_set.ok());
  {
    // The override took: the variant profile now has no snapshot.
    const fhir::Json* v =
        (*generated_set)
            ->Find(
                "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
                "variant");
    ASSERT_NE(v, nullptr);
    ASSERT_FALSE(internal::HasSnapshot(*v));
  }
  fhir::Schema shipped_schema(shipped_set->get());
  fhir::Schema generated_schema(generated_set->get());
  Validator shipped(shipped_set->get(), &shipped_schema);
  Validator generated(generated_set->get(), &generated_schema);
  const std::string dir = genogate::testing::GenomicsPackageDir() + "/example";
  size_t files = 0, errors = 0, issues = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    std::string text = genogate::testing::ReadTestFile(f.path().string());
    auto a = shipped.ValidateText(text);
    auto b = generated.ValidateText(text);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(b->ToText(), a->ToText()) << f.path().filename();
    errors += b->Count(Severity::kError);
    issues += b->issues().size();
    ++files;
  }
  EXPECT_EQ(files, 204u);
  EXPECT_EQ(errors, 0u);
  EXPECT_GT(issues, 100u);
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
}

}  // namespace
}  // namespace genogate::conformance
