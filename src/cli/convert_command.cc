// genogate convert FILE --from vcf [...] [-o OUT]: maps a lab result file to
// a FHIR transaction Bundle of Genomics Reporting IG 3.0.0 resources (or
// NDJSON, one resource per line).
//
// Exit 1 when the input is malformed (the line and reason on standard error,
// no output written: the output is written atomically only on success), 2
// when the command cannot run. With --keep-going malformed records are
// skipped and listed in an OperationOutcome written to OUT.outcome.json
// (standard error when writing to standard output).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/json_text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "fhir/codec.h"
#include "fhir/schema.h"
#include "mappers/convert.h"
#include "mappers/lab_profile.h"
#include "mappers/vcf/bed.h"

namespace genogate::cli {
namespace {

struct ConvertOptions {
  std::string input;
  std::string from;
  std::string build;
  std::string sample;
  std::string regions;
  std::string studied;
  bool pass_only = false;
  std::string source_class;
  std::string patient;
  std::string accession;
  std::string lab;
  std::string specimen;
  bool keep_going = false;
  bool ndjson = false;
  std::string output;
  std::string mapping;
  DefinitionOptions defs;
};

// A progress line on standard error while a large VCF converts, redrawn at
// most four times a second: bytes read / total (gzip: compressed bytes),
// records, records per second. Only when standard error is a terminal and
// the input is at least kMinBytes (or its size is unknown); erased at the
// end, so nothing of it stays in the terminal or reaches a log.
class ProgressBar {
 public:
  static constexpr uint64_t kMinBytes = uint64_t{1} << 20;

  explicit ProgressBar(const std::string& input) {
    if (!isatty(STDERR_FILENO)) return;
    struct stat st;
    if (input != "-" && ::stat(input.c_str(), &st) == 0 &&
        S_ISREG(st.st_mode)) {
      total_ = static_cast<uint64_t>(st.st_size);
      if (total_ < kMinBytes) return;
    }
    enabled_ = true;
    start_ = std::chrono::steady_clock::now();
  }
  ~ProgressBar() { Clear(); }
  bool enabled() const { return enabled_; }

  void Update(const mappers::ConvertProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    drawn_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate =
        seconds > 0 ? static_cast<double>(p.records) / seconds : 0;
    char line[160];
    const double mb = static_cast<double>(p.source_bytes) / 1e6;
    if (total_ > 0) {
      const double f = std::min(1.0, static_cast<double>(p.source_bytes) /
                                         static_cast<double>(total_));
      char bar[21];
      const int filled = static_cast<int>(f * 20);
      for (int i = 0; i < 20; ++i) bar[i] = i < filled ? '#' : '-';
      bar[20] = '\0';
      std::snprintf(line, sizeof(line),
                    "\r[%s] %3.0f%%  %.1f/%.1f MB  %llu records  %.0f "
                    "records/s\033[K",
                    bar, f * 100, mb, static_cast<double>(total_) / 1e6,
                    static_cast<unsigned long long>(p.records), rate);
    } else {
      std::snprintf(line, sizeof(line),
                    "\r%.1f MB  %llu records  %.0f records/s\033[K", mb,
                    static_cast<unsigned long long>(p.records), rate);
    }
    std::fputs(line, stderr);
    std::fflush(stderr);
  }

  void Clear() {
    if (!drawn_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  bool enabled_ = false;
  bool drawn_ = false;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

int Malformed(const std::string& input, const std::string& message) {
  std::cerr << "genogate convert: " << input << ": " << message << "\n";
  return 1;
}

// The output, streamed: to a temporary file beside OUT that is renamed
// over OUT on Commit (removed otherwise), or, for standard output, to an
// anonymous temporary file copied out on Commit, so that a malformed input
// writes nothing and memory stays flat whatever the output size.
class StreamOutput {
 public:
  ~StreamOutput() {
    if (file_) {
      std::fclose(file_);
      if (!temp_.empty()) std::remove(temp_.c_str());
    }
  }
  Status Open(const std::string& path) {
    path_ = path;
    if (path.empty() || path == "-") {
      // In $TMPDIR, unlinked at once: gone however the process ends.
      const char* dir = std::getenv("TMPDIR");
      std::string name =
          std::string(dir && *dir ? dir : "/tmp") + "/genogate-convert-XXXXXX";
      int fd = mkstemp(name.data());
      if (fd < 0) return Error(ErrorCode::kIo, "cannot create " + name);
      std::remove(name.c_str());
      file_ = fdopen(fd, "w+");
      if (!file_) {
        close(fd);
        return Error(ErrorCode::kIo, "cannot open a temporary file");
      }
    } else {
      temp_ = path + ".tmp-XXXXXX";
      int fd = mkstemp(temp_.data());
      if (fd < 0) return Error(ErrorCode::kIo, "cannot create " + temp_);
      fchmod(fd, 0640);
      file_ = fdopen(fd, "w");
      if (!file_) {
        close(fd);
        std::remove(temp_.c_str());
        return Error(ErrorCode::kIo, "cannot open " + temp_);
      }
    }
    std::setvbuf(file_, nullptr, _IOFBF, size_t{1} << 20);
    return Status::Ok();
  }
  Status Write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
      return Error(ErrorCode::kIo, "cannot write " + Name());
    }
    return Status::Ok();
  }
  Status Commit() {
    if (temp_.empty()) return CopyToStdout();
    bool ok = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0) {
      std::remove(temp_.c_str());
      return Error(ErrorCode::kIo, "cannot write " + path_);
    }
    return Status::Ok();
  }

 private:
  std::string Name() const {
    return temp_.empty() ? "a temporary file" : temp_;
  }
  Status CopyToStdout() {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
      return Error(ErrorCode::kIo, "cannot read back a temporary file");
    }
    std::vector<char> buf(size_t{1} << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), file_)) > 0) {
      if (std::fwrite(buf.data(), 1, n, stdout) != n) {
        return Error(ErrorCode::kIo, "cannot write to standard output");
      }
    }
    if (std::ferror(file_) || std::fflush(stdout) != 0) {
      return Error(ErrorCode::kIo, "cannot write to standard output");
    }
    return Status::Ok();
  }

  std::string path_, temp_;
  FILE* file_ = nullptr;
};

// Receives the builder's entries as JSON text and writes them as they come:
// NDJSON (one resource per line) or a transaction Bundle (one entry per
// line).
class BundleSink : public mappers::JsonEntrySink {
 public:
  explicit BundleSink(bool ndjson) : ndjson_(ndjson) {}
  Status Open(const std::string& output) {
    if (Status s = out_.Open(output); !s.ok()) return s;
    if (ndjson_) return Status::Ok();
    return out_.Write(
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
  }
  Status Commit() {
    if (!ndjson_) {
      if (Status s = out_.Write("\n]}\n"); !s.ok()) return s;
    }
    return out_.Commit();
  }

  Status BeginEntry(const EntryHead& head) override {
    if (ndjson_) return Status::Ok();
    request_ = ",\"request\":{\"method\":" + JsonString(head.method) +
               ",\"url\":" + JsonString(head.url);
    if (!head.if_none_exist.empty()) {
      request_ += ",\"ifNoneExist\":" + JsonString(head.if_none_exist);
    }
    request_ += "}}";
    std::string start = first_entry_ ? "\n" : ",\n";
    first_entry_ = false;
    start += "{\"fullUrl\":" + JsonString(head.full_url) + ",\"resource\":";
    return out_.Write(start);
  }
  Status ResourceText(std::string_view json) override {
    return out_.Write(json);
  }
  Status EndEntry() override {
    return out_.Write(ndjson_ ? std::string_view("\n")
                              : std::string_view(request_));
  }

 private:
  bool ndjson_;
  StreamOutput out_;
  std::string request_;
  bool first_entry_ = true;
};

int RunConvert(const ConvertOptions& o) {
  mappers::ConvertOptions m;
  m.format = *mappers::ParseInputFormat(o.from);
  m.build = o.build;
  m.sample = o.sample;
  m.pass_only = o.pass_only;
  m.source_class = o.source_class;
  if (!o.patient.empty()) m.patient = mappers::ParseIdentifierText(o.patient);
  if (!o.accession.empty()) {
    m.accession = mappers::ParseIdentifierText(o.accession);
  }
  m.lab = o.lab;
  if (!o.specimen.empty()) {
    m.specimen = mappers::ParseIdentifierText(o.specimen);
  }
  m.keep_going = o.keep_going;
  for (const auto& [path, target] :
       {std::pair{o.regions, &m.regions}, std::pair{o.studied, &m.studied}}) {
    if (path.empty()) continue;
    mappers::vcf::VcfError where;
    Result<mappers::vcf::RegionSet> bed =
        mappers::vcf::RegionSet::ReadFile(path, &where);
    if (!bed.ok()) {
      if (bed.error().code() == ErrorCode::kNotFound ||
          bed.error().code() == ErrorCode::kIo) {
        return Fail("convert", bed.error());
      }
      return Malformed(path, mappers::DescribeVcfError(where));
    }
    *target = std::move(bed).value();
  }
  // The lab's profile fills what the command line leaves unset.
  if (!o.mapping.empty()) {
    Result<mappers::LabProfile> profile = mappers::LoadLabProfile(o.mapping);
    if (!profile.ok()) return Fail("convert", profile.error());
    mappers::ApplyLabProfile(*profile, &m);
  }
  if (m.format == mappers::InputFormat::kVcf) {
    if (m.patient.value.empty() && !m.patient_from_sample) {
      return Fail("convert", Error(ErrorCode::kInvalidInput,
                                   "--patient SYSTEM|VALUE is required"));
    }
    if (m.accession.value.empty()) {
      return Fail("convert", Error(ErrorCode::kInvalidInput,
                                   "--accession SYSTEM|VALUE is required"));
    }
  }

  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("convert", defs.error());
  BundleSink sink(o.ndjson);
  if (Status s = sink.Open(o.output); !s.ok()) {
    return Fail("convert", s.error());
  }
  ProgressBar progress(o.input);
  if (progress.enabled() && m.format == mappers::InputFormat::kVcf) {
    m.progress = [&progress](const mappers::ConvertProgress& p) {
      progress.Update(p);
    };
  }
  Result<mappers::ConvertReport> report =
      mappers::ConvertFileToJson(o.input, m, *defs->schema, &sink);
  progress.Clear();
  if (!report.ok()) return Fail("convert", report.error());
  // Malformed input: the findings on standard error (for HL7 v2 all of
  // them, warnings too), nothing written.
  const bool hl7v2 = m.format == mappers::InputFormat::kHl7v2;
  if (!report->ok()) {
    for (const Issue& issue : report->issues.issues()) {
      if (hl7v2 || issue.severity == Severity::kFatal ||
          issue.severity == Severity::kError) {
        Malformed(o.input, issue.message);
      }
    }
    return 1;
  }
  if (hl7v2) {
    for (const Issue& issue : report->issues.issues()) {
      Malformed(o.input, issue.message);
    }
  }
  if (o.keep_going) {
    std::string outcome = mappers::SkippedRecordsOutcome(*report);
    if (o.output.empty() || o.output == "-") {
      std::cerr << outcome;
    } else if (Status s = WriteOutput(o.output + ".outcome.json", outcome);
               !s.ok()) {
      return Fail("convert", s.error());
    }
  }
  Status written = sink.Commit();
  if (!written.ok()) return Fail("convert", written.error());
  if (report->skipped_count > 0) {
    std::cerr << "genogate convert: " << o.input << ": skipped "
              << report->skipped_count << " malformed records\n";
  }
  return 0;
}

}  // namespace

Command RegisterConvert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert a lab result file to a FHIR transaction Bundle of Genomics "
      "Reporting IG 3.0.0 resources (exit 1 if the input is malformed, 2 if "
      "the command cannot run)");
  cmd->add_option("FILE", o->input,
                  "Input file (VCF: plain, gzip or bgzip; HL7 v2: an ORU^R01 "
                  "message in ER7; labjson: docs/lab-json.md)")
      ->required();
  cmd->add_option("--from", o->from, "Input format")
      ->required()
      ->check(CLI::IsMember({"vcf", "hl7v2", "labjson"}));
  cmd->add_option("--build", o->build,
                  "Genome build (GRCh37 | GRCh38); default: from the header");
  cmd->add_option("--sample", o->sample, "VCF sample column (default: first)");
  cmd->add_option("--regions", o->regions,
                  "BED: keep only variants in these regions")
      ->type_name("BED");
  cmd->add_option("--studied", o->studied,
                  "BED: the regions the test studied (recorded in the report)")
      ->type_name("BED");
  cmd->add_flag("--pass-only", o->pass_only,
                "Keep only records whose FILTER is PASS");
  cmd->add_option("--source-class", o->source_class, "Genomic source class")
      ->check(CLI::IsMember({"germline", "somatic", "mixed"}));
  cmd->add_option("--patient", o->patient,
                  "The lab's patient identifier (vcf: required unless the "
                  "--mapping profile supplies it; others: overrides the "
                  "message/document); VALUE alone takes the profile's system")
      ->type_name("SYSTEM|VALUE");
  cmd->add_option("--accession", o->accession,
                  "The report's accession identifier (vcf: required; others: "
                  "overrides the message/document); VALUE alone takes the "
                  "profile's system")
      ->type_name("SYSTEM|VALUE");
  cmd->add_option("--lab", o->lab, "Lab name (keys the identifiers)")
      ->type_name("NAME");
  cmd->add_option("--specimen", o->specimen, "Specimen identifier")
      ->type_name("ID");
  cmd->add_flag("--keep-going", o->keep_going,
                "Skip malformed records; list them in OUT.outcome.json");
  cmd->add_option("--mapping", o->mapping,
                  "The lab's mapping profile (YAML, docs/lab-profile.md): "
                  "defaults for the options above; flags given here win")
      ->type_name("FILE");
  cmd->add_flag("--ndjson", o->ndjson, "Write one resource per line");
  cmd->add_option("-o,--output", o->output,
                  "Write here (atomically) instead of standard output")
      ->type_name("OUT");
  AddDefinitionOptions(cmd, &o->defs);
  return {cmd, [o] { return RunConvert(*o); }};
}

}  // namespace genogate::cli
