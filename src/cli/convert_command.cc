// genogate convert FILE --from vcf [...] [-o OUT]: maps a lab result file to
// a FHIR transaction Bundle of Genomics Reporting IG 3.0.0 resources (or
// NDJSON, one resource per line).
//
// Exit 1 when the input is malformed (the line and reason on standard error,
// no output written: the output is written atomically only on success), 2
// when the command cannot run. With --keep-going malformed records are
// skipped and listed in an OperationOutcome written to OUT.outcome.json
// (standard error when writing to standard output).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "fhir/codec.h"
#include "fhir/schema.h"
#include "mappers/convert.h"
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
  DefinitionOptions defs;
};

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

int Malformed(const std::string& input, const std::string& message) {
  std::cerr << "genogate convert: " << input << ": " << message << "\n";
  return 1;
}

// NDJSON output, streamed: to a temporary file beside OUT that is renamed
// over OUT on Commit (removed otherwise), or, for standard output, kept in
// memory until Commit so that a malformed input writes nothing.
class NdjsonOutput {
 public:
  ~NdjsonOutput() {
    if (file_) {
      std::fclose(file_);
      std::remove(temp_.c_str());
    }
  }
  Status Open(const std::string& path) {
    path_ = path;
    if (path.empty() || path == "-") return Status::Ok();
    temp_ = path + ".tmp-XXXXXX";
    int fd = mkstemp(temp_.data());
    if (fd < 0) return Error(ErrorCode::kIo, "cannot create " + temp_);
    file_ = fdopen(fd, "w");
    if (!file_) {
      close(fd);
      std::remove(temp_.c_str());
      return Error(ErrorCode::kIo, "cannot open " + temp_);
    }
    return Status::Ok();
  }
  Status Write(std::string_view line) {
    if (!file_) {
      buffer_.append(line);
      buffer_.push_back('\n');
      return Status::Ok();
    }
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
        std::fputc('\n', file_) == EOF) {
      return Error(ErrorCode::kIo, "cannot write " + temp_);
    }
    return Status::Ok();
  }
  Status Commit() {
    if (!file_) return WriteOutput(path_, buffer_);
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
  std::string path_, temp_, buffer_;
  FILE* file_ = nullptr;
};

// Receives the builder's entries: NDJSON lines go out as they are built;
// for a Bundle each entry's text is appended as soon as it is built (one
// entry per line), so only the output text is held, not the element trees.
class BundleSink {
 public:
  explicit BundleSink(bool ndjson) : ndjson_(ndjson) {}
  Status Open(const std::string& output) {
    return ndjson_ ? ndjson_out_.Open(output) : Status::Ok();
  }
  mappers::EntrySink Callback() {
    return [this](fhir::Node entry) -> Status { return Add(std::move(entry)); };
  }
  Status Commit(const std::string& output) {
    if (ndjson_) return ndjson_out_.Commit();
    out_ += "\n]}\n";
    return WriteOutput(output, out_);
  }

 private:
  Status Add(fhir::Node entry) {
    const fhir::Node* resource = entry.Child("resource");
    const fhir::Node* request = entry.Child("request");
    if (!resource || !request) {
      return Error(ErrorCode::kInternal, "entry without resource");
    }
    Result<std::string> json = fhir::WriteJson(*resource);
    if (!json.ok()) return json.error();
    if (ndjson_) return ndjson_out_.Write(*json);
    out_ += first_entry_ ? "\n" : ",\n";
    first_entry_ = false;
    out_ +=
        "{\"fullUrl\":" + JsonString(entry.ChildValue("fullUrl")) +
        ",\"resource\":" + *json + ",\"request\":{\"method\":" +
        JsonString(request->ChildValue("method")) +
        ",\"url\":" + JsonString(request->ChildValue("url")) +
        ",\"ifNoneExist\":" + JsonString(request->ChildValue("ifNoneExist")) +
        "}}";
    return Status::Ok();
  }

  bool ndjson_;
  NdjsonOutput ndjson_out_;
  std::string out_ =
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[";
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
  if (m.format == mappers::InputFormat::kVcf) {
    if (m.patient.value.empty()) {
      return Fail("convert", Error(ErrorCode::kInvalidInput,
                                   "--patient SYSTEM|VALUE is required"));
    }
    if (m.accession.value.empty()) {
      return Fail("convert", Error(ErrorCode::kInvalidInput,
                                   "--accession SYSTEM|VALUE is required"));
    }
  }
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

  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("convert", defs.error());
  BundleSink sink(o.ndjson);
  if (Status s = sink.Open(o.output); !s.ok()) {
    return Fail("convert", s.error());
  }
  Result<mappers::ConvertReport> report =
      mappers::ConvertFile(o.input, m, *defs->schema, sink.Callback());
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
  Status written = sink.Commit(o.output);
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
                  "The lab's patient identifier (required for vcf; "
                  "overrides the message/document otherwise)")
      ->type_name("SYSTEM|VALUE");
  cmd->add_option("--accession", o->accession,
                  "The report's accession identifier (required for vcf; "
                  "overrides the message/document otherwise)")
      ->type_name("SYSTEM|VALUE");
  cmd->add_option("--lab", o->lab, "Lab name (keys the identifiers)")
      ->type_name("NAME");
  cmd->add_option("--specimen", o->specimen, "Specimen identifier")
      ->type_name("ID");
  cmd->add_flag("--keep-going", o->keep_going,
                "Skip malformed records; list them in OUT.outcome.json");
  cmd->add_flag("--ndjson", o->ndjson, "Write one resource per line");
  cmd->add_option("-o,--output", o->output,
                  "Write here (atomically) instead of standard output")
      ->type_name("OUT");
  AddDefinitionOptions(cmd, &o->defs);
  return {cmd, [o] { return RunConvert(*o); }};
}

}  // namespace genogate::cli
