// genogate convert, run as the built binary: a VCF becomes a transaction
// Bundle that parses against the real definitions; malformed input exits 1
// with the line on standard error and writes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "base/file.h"
#include "fhir/codec.h"
#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct CommandRun {
  int exit_code = -1;
  std::string err;
};

class ConvertCommandTest : public genogate::testing::SchemaTest {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gg-convert-XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs genogate convert with `args`; captures standard error.
  CommandRun Convert(const std::string& args) {
    std::string err_path = (dir_ / "stderr.txt").string();
    std::string cmd = genogate::testing::BinaryDir() + "/genogate convert " +
                      args + " 2>'" + err_path + "'";
    int status = std::system(cmd.c_str());
    CommandRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    Result<std::string> err = ReadFile(err_path, 1 << 20);
    if (err.ok()) r.err = *err;
    return r;
  }

  static std::string Vcf(const std::string& name) {
    return "'" + genogate::testing::DataDir() + "/vcf/" + name + "'";
  }
  std::string Out(const std::string& name) const {
    return (dir_ / name).string();
  }
  static std::string Ids() {
    return " --from vcf --patient 'urn:oid:1.2.3|MRN-5' --accession "
           "'urn:oid:1.2.4|ACC-77' --lab 'Test Lab' --specimen "
           "'urn:oid:1.2.5|SP-9'";
  }

  static size_t CountProfile(const fhir::Node& bundle,
                             std::string_view suffix) {
    size_t n = 0;
    for (const fhir::Node* e : bundle.Children("entry")) {
      const fhir::Node* meta = e->Child("resource")->Child("meta");
      if (meta && meta->ChildValue("profile").ends_with(suffix)) ++n;
    }
    return n;
  }

  fs::path dir_;
};

TEST_F(ConvertCommandTest, VcfBecomesBundleOfVariantObservations) {
  CommandRun r = Convert(Vcf("snv_indel.vcf") + Ids() +
                         " --source-class germline -o '" + Out("b.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("b.json"), 64 << 20);
  ASSERT_TRUE(text.ok());
  Result<fhir::Document> d = fhir::ParseJson(*text, schema_);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_TRUE(d->issues.empty()) << d->issues.ToText();
  EXPECT_EQ(d->root.resource_type(), "Bundle");
  EXPECT_EQ(d->root.ChildValue("type"), "transaction");
  // 13 data lines: one no-call, one record with two ALTs in the sample,
  // one 0/1 record with a second ALT not in the sample -> 12 variants.
  EXPECT_EQ(CountProfile(d->root, "/variant"), 12u);
  EXPECT_EQ(CountProfile(d->root, "/sequence-phase-relationship"), 1u);
  EXPECT_EQ(CountProfile(d->root, "/genomic-report"), 1u);
  EXPECT_FALSE(fs::exists(Out("b.json.outcome.json")));

  // The same input again gives the same bytes (idempotent identifiers).
  CommandRun again =
      Convert(Vcf("snv_indel.vcf") + Ids() + " --source-class germline -o '" +
              Out("b2.json") + "'");
  ASSERT_EQ(again.exit_code, 0);
  Result<std::string> text2 = ReadFile(Out("b2.json"), 64 << 20);
  ASSERT_TRUE(text2.ok());
  EXPECT_EQ(*text, *text2);
}

TEST_F(ConvertCommandTest, RegionsAndPassOnlyFilter) {
  CommandRun r =
      Convert(Vcf("snv_indel.vcf") + Ids() + " --pass-only --regions " +
              Vcf("bed/panel.bed") + " --studied " + Vcf("bed/panel.bed") +
              " -o '" + Out("f.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("f.json"), 64 << 20);
  ASSERT_TRUE(text.ok());
  Result<fhir::Document> d = fhir::ParseJson(*text, schema_);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->issues.empty()) << d->issues.ToText();
  EXPECT_EQ(CountProfile(d->root, "/variant"), 3u);
  EXPECT_THAT(*text, HasSubstr("genomic-study-analysis-regions"));
}

TEST_F(ConvertCommandTest, NdjsonWritesOneResourcePerLine) {
  CommandRun r = Convert(Vcf("vep.vcf") + Ids() + " --ndjson -o '" +
                         Out("n.ndjson") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("n.ndjson"), 64 << 20);
  ASSERT_TRUE(text.ok());
  std::istringstream lines(*text);
  std::string line;
  size_t n = 0, variants = 0;
  while (std::getline(lines, line)) {
    Result<fhir::Document> d = fhir::ParseJson(line, schema_);
    ASSERT_TRUE(d.ok()) << d.error().message();
    EXPECT_TRUE(d->issues.empty()) << d->issues.ToText();
    if (line.find("StructureDefinition/variant\"") != std::string::npos) {
      ++variants;
    }
    ++n;
  }
  EXPECT_GT(n, variants);
  EXPECT_EQ(variants, 7u);  // 5 records, two with two ALTs in the sample
}

TEST_F(ConvertCommandTest, MalformedVcfExitsOneWithLineAndWritesNothing) {
  CommandRun r = Convert(Vcf("malformed/pos_not_integer.vcf") + Ids() +
                         " -o '" + Out("bad.json") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("line 13"));
  EXPECT_THAT(r.err, HasSubstr("12a"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("MRN-5")));
  EXPECT_FALSE(fs::exists(Out("bad.json")));
  EXPECT_FALSE(fs::exists(Out("bad.json.outcome.json")));
}

TEST_F(ConvertCommandTest, MalformedVcfWithNdjsonLeavesNoFile) {
  CommandRun r = Convert(Vcf("malformed/pos_not_integer.vcf") + Ids() +
                         " --ndjson -o '" + Out("bad.ndjson") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("line 13"));
  // Neither the output nor the streamed temporary file is left behind.
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    EXPECT_THAT(e.path().filename().string(), HasSubstr("stderr"));
  }
}

TEST_F(ConvertCommandTest, KeepGoingWritesOutcomeBesideOutput) {
  CommandRun r = Convert(Vcf("malformed/pos_not_integer.vcf") + Ids() +
                         " --keep-going -o '" + Out("k.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(Out("k.json")));
  Result<std::string> outcome = ReadFile(Out("k.json.outcome.json"), 1 << 20);
  ASSERT_TRUE(outcome.ok());
  Result<fhir::Document> d = fhir::ParseJson(*outcome, schema_);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_TRUE(d->issues.empty()) << d->issues.ToText();
  EXPECT_EQ(d->root.resource_type(), "OperationOutcome");
  EXPECT_EQ(d->root.Children("issue").size(), 1u);
  EXPECT_THAT(*outcome, HasSubstr("line 13"));
}

TEST_F(ConvertCommandTest, MissingPatientIsAUsageError) {
  CommandRun r =
      Convert(Vcf("snv_indel.vcf") + " --from vcf --accession 'x|y' -o '" +
              Out("p.json") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--patient"));
  EXPECT_FALSE(fs::exists(Out("p.json")));
}

}  // namespace
}  // namespace genogate

namespace genogate {
namespace {

TEST_F(ConvertCommandTest, Hl7v2MessageBecomesBundleWithPatientFromPid) {
  std::string msg = "'" + genogate::testing::DataDir() +
                    "/hl7v2/brca1_germline_two_variants.hl7'";
  CommandRun r = Convert(msg + " --from hl7v2 -o '" + Out("v2.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("v2.json"));
  ASSERT_TRUE(text.ok());
  Result<fhir::Document> doc = fhir::ParseJson(*text, schema_);
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  EXPECT_TRUE(doc->issues.empty()) << doc->issues.ToText();
  EXPECT_EQ(CountProfile(doc->root, "/variant"), 2u);
  EXPECT_EQ(CountProfile(doc->root, "/genomic-report"), 1u);
}

TEST_F(ConvertCommandTest, MalformedHl7v2ExitsOneNamingTheSegment) {
  std::string msg = "'" + genogate::testing::DataDir() +
                    "/hl7v2/malformed/bad_hex_escape.hl7'";
  CommandRun r = Convert(msg + " --from hl7v2 -o '" + Out("bad.json") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("field"));
  EXPECT_FALSE(fs::exists(Out("bad.json")));
}

}  // namespace
}  // namespace genogate

namespace genogate {
namespace {

TEST_F(ConvertCommandTest, LabJsonExampleBecomesBundle) {
  std::string doc =
      "'" + genogate::testing::SourceDir() + "/examples/lab-result.json'";
  CommandRun r = Convert(doc + " --from labjson -o '" + Out("lj.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("lj.json"));
  ASSERT_TRUE(text.ok());
  Result<fhir::Document> d = fhir::ParseJson(*text, schema_);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_TRUE(d->issues.empty()) << d->issues.ToText();
  EXPECT_EQ(d->root.ChildValue("type"), "transaction");
  EXPECT_EQ(CountProfile(d->root, "/variant"), 2u);
  EXPECT_EQ(CountProfile(d->root, "/diagnostic-implication"), 2u);
  EXPECT_EQ(CountProfile(d->root, "/genomic-report"), 1u);
  EXPECT_THAT(*text, HasSubstr("0.4800"));  // the exact text
}

TEST_F(ConvertCommandTest, MalformedLabJsonExitsOneWithPointers) {
  std::string bad = Out("bad-lab.json");
  ASSERT_TRUE(WriteFileAtomic(
                  bad, R"({"format":"genogate-lab-result/1","report":{)"
                       R"("patient":{"identifier":{"system":"urn:x",)"
                       R"("value":"MRN-5"}},"accession":{"system":"urn:y",)"
                       R"("value":"A1"},"lab":{"name":"L"},"build":"GRCh38"},)"
                       R"("variants":[{"chromosome":"1","coordinateSystem":)"
                       R"("1-based","start":0,"ref":"A","alt":"G",)"
                       R"("zygositi":"heterozygous"}]})")
                  .ok());
  CommandRun r =
      Convert("'" + bad + "' --from labjson -o '" + Out("o.json") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/variants/0/start: must be an integer >= 1"));
  EXPECT_THAT(r.err, HasSubstr("/variants/0/zygositi: unknown field"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("MRN-5")));
  EXPECT_FALSE(fs::exists(Out("o.json")));
}

TEST_F(ConvertCommandTest, MappingProfileSuppliesTheLabDefaults) {
  const std::string example = genogate::testing::SourceDir() + "/examples/";
  CommandRun r = Convert("'" + example + "panel-grch38-vep.vcf' --from vcf " +
                         "--mapping '" + example + "lab-profile.yaml' " +
                         "--accession ACC-5 -o '" + Out("b.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<std::string> text = ReadFile(Out("b.json"), 16 << 20);
  ASSERT_TRUE(text.ok());
  // Patient from the sample name with the profile's system; the profile's
  // lab keys the identifiers; its BED is recorded as studied.
  EXPECT_THAT(*text, HasSubstr("\"ifNoneExist\":\"identifier=urn:oid:2.16."
                               "840.1.113883.3.999.1|PATIENT1\""));
  EXPECT_THAT(*text, HasSubstr("urn:genogate:lab:example-genomics-lab"));
  EXPECT_THAT(*text, HasSubstr("3 regions"));
  // A flag wins over the profile.
  r = Convert("'" + example + "panel-grch38-vep.vcf' --from vcf --mapping '" +
              example + "lab-profile.yaml' --accession ACC-5 --patient " +
              "MRN-1 --lab 'Other Lab' -o '" + Out("c.json") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  text = ReadFile(Out("c.json"), 16 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("999.1|MRN-1\""));
  EXPECT_THAT(*text, HasSubstr("urn:genogate:lab:other-lab"));
}

TEST_F(ConvertCommandTest, BadMappingProfileExitsTwoNamingLineAndKey) {
  const std::string profile = Out("lab.yaml");
  ASSERT_TRUE(WriteFileAtomic(profile, "lab: A\nbuild: hg19\n").ok());
  CommandRun r =
      Convert(Vcf("snv_indel.vcf") + " --from vcf --mapping '" + profile +
              "' --patient P --accession A -o '" + Out("x.json") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("lab.yaml:2: build: \"hg19\""));
  EXPECT_FALSE(fs::exists(Out("x.json")));
}

// A VCF over the progress bar's 1 MiB threshold.
std::string WriteLargeVcf(const std::string& path) {
  std::string vcf =
      "##fileformat=VCFv4.2\n##reference=GRCh38\n"
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n";
  for (int i = 0; vcf.size() < (size_t{1} << 20) + 4096; ++i) {
    vcf += "1\t" + std::to_string(10000 + 10 * i) +
           "\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n";
  }
  EXPECT_TRUE(WriteFileAtomic(path, vcf).ok());
  return path;
}

TEST_F(ConvertCommandTest, NoProgressBarWhenStandardErrorIsNotATerminal) {
  const std::string vcf = WriteLargeVcf(Out("large.vcf"));
  CommandRun r = Convert("'" + vcf + "'" + Ids() + " --ndjson -o '" +
                         Out("large.ndjson") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(ConvertCommandTest, ProgressBarOnATerminalLeavesOutputUnchanged) {
  if (std::system("script -V >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "script(1) is not installed";
  }
  const std::string vcf = WriteLargeVcf(Out("large.vcf"));
  // script(1) runs the command on a pseudo-terminal and copies what it
  // shows to its standard output.
  const std::string cmd = "script -qec \"" + genogate::testing::BinaryDir() +
                          "/genogate convert '" + vcf + "'" + Ids() +
                          " --ndjson -o '" + Out("tty.ndjson") +
                          "'\" /dev/null >'" + Out("tty.txt") + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Result<std::string> shown = ReadFile(Out("tty.txt"), 1 << 20);
  ASSERT_TRUE(shown.ok());
  EXPECT_THAT(*shown, HasSubstr("records/s"));
  EXPECT_THAT(*shown, HasSubstr("\r["));
  ASSERT_EQ(Convert("'" + vcf + "'" + Ids() + " --ndjson -o '" +
                    Out("plain.ndjson") + "'")
                .exit_code,
            0);
  // The same output (~100 MB each: compared by cmp(1)).
  EXPECT_EQ(std::system(("cmp -s '" + Out("tty.ndjson") + "' '" +
                         Out("plain.ndjson") + "'")
                            .c_str()),
            0);
}

}  // namespace
}  // namespace genogate
