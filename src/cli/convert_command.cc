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
#include "mappers/common/report_builder.h"
#include "mappers/hl7v2/oru_r01.h"
#include "mappers/labjson/labjson_mapper.h"
#include "mappers/vcf/bed.h"
#include "mappers/vcf/vcf_mapper.h"

namespace genogate::cli {
namespace {

// HL7 v2 messages larger than this are refused (as by the MLLP listener).
constexpr size_t kMaxHl7v2Bytes = mappers::hl7v2::kMaxMessageBytes;

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

// "SYSTEM|VALUE" (or "VALUE") -> identifier.
mappers::IdentifierValue ParseIdentifier(const std::string& text) {
  size_t bar = text.rfind('|');
  if (bar == std::string::npos) return {"", text};
  return {text.substr(0, bar), text.substr(bar + 1)};
}

// Where a VCF/BED error is, without the column name of sample columns
// (sample names can identify a patient).
std::string Where(const mappers::vcf::VcfError& e) {
  std::string out;
  if (e.line > 0) out = "line " + std::to_string(e.line);
  if (e.column > 0) {
    out += ", column " + std::to_string(e.column);
    if (e.column <= 9 && !e.column_name.empty()) {
      out += " (" + e.column_name + ")";
    }
  }
  if (!out.empty()) out += ": ";
  return out + e.reason;
}

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

// An OperationOutcome listing the skipped records.
std::string SkippedOutcome(const std::vector<mappers::vcf::VcfError>& skipped,
                           uint64_t total) {
  std::string out = "{\"resourceType\":\"OperationOutcome\",\"issue\":[";
  bool first = true;
  for (const mappers::vcf::VcfError& e : skipped) {
    if (!first) out += ",";
    first = false;
    out += "{\"severity\":\"error\",\"code\":";
    out +=
        e.code == ErrorCode::kLimitExceeded ? "\"too-long\"" : "\"structure\"";
    out += ",\"details\":{\"text\":" + JsonString(e.rule) + "}";
    out += ",\"diagnostics\":" + JsonString("skipped: " + Where(e));
    out += "}";
  }
  if (total > skipped.size()) {
    if (!first) out += ",";
    first = false;
    out +=
        "{\"severity\":\"warning\",\"code\":\"too-costly\",\"diagnostics\":" +
        JsonString(std::to_string(total - skipped.size()) +
                   " more skipped records not listed") +
        "}";
  }
  if (first) {
    out +=
        "{\"severity\":\"information\",\"code\":\"informational\","
        "\"diagnostics\":\"no records skipped\"}";
  }
  return out + "]}\n";
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

int RunConvertHl7v2(const ConvertOptions& o);
int RunConvertLabJson(const ConvertOptions& o);

int RunConvert(const ConvertOptions& o) {
  if (o.from == "hl7v2") return RunConvertHl7v2(o);
  if (o.from == "labjson") return RunConvertLabJson(o);
  mappers::vcf::VcfMapOptions m;
  m.build = o.build;
  m.sample = o.sample;
  m.pass_only = o.pass_only;
  m.source_class = o.source_class;
  m.patient = ParseIdentifier(o.patient);
  m.accession = ParseIdentifier(o.accession);
  m.lab = o.lab;
  m.specimen = ParseIdentifier(o.specimen);
  m.keep_going = o.keep_going;
  if (m.patient.value.empty()) {
    return Fail("convert", Error(ErrorCode::kInvalidInput,
                                 "--patient SYSTEM|VALUE is required"));
  }
  if (m.accession.value.empty()) {
    return Fail("convert", Error(ErrorCode::kInvalidInput,
                                 "--accession SYSTEM|VALUE is required"));
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
      return Malformed(path, Where(where));
    }
    *target = std::move(bed).value();
  }

  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("convert", defs.error());

  mappers::vcf::VcfMapper mapper(m);
  Status opened = mapper.OpenFile(o.input);
  if (!opened.ok()) {
    const ErrorCode code = opened.error().code();
    if (code == ErrorCode::kNotFound || code == ErrorCode::kIo) {
      return Fail("convert", opened.error());
    }
    return Malformed(o.input, Where(mapper.error()));
  }
  const mappers::GenomicReportInput report = mapper.report();
  mappers::BuildOptions build_options;
  BundleSink sink(o.ndjson);
  if (Status s = sink.Open(o.output); !s.ok())
    return Fail("convert", s.error());
  mappers::ReportStreamBuilder builder(report, build_options, *defs->schema,
                                       sink.Callback());
  // A builder error: kInvalidInput is about the data (exit 1), others are
  // about the environment (exit 2).
  auto build_failed = [&](const Error& e) {
    if (e.code() == ErrorCode::kInvalidInput) {
      return Malformed(o.input, e.message());
    }
    return Fail("convert", e);
  };
  if (Status s = builder.Begin(); !s.ok()) return build_failed(s.error());
  mappers::VariantCall call;
  size_t phase_done = 0;
  while (true) {
    Result<bool> more = mapper.Next(&call);
    if (!more.ok()) {
      if (more.error().code() == ErrorCode::kIo) {
        return Fail("convert", more.error());
      }
      return Malformed(o.input, Where(mapper.error()));
    }
    if (!*more) break;
    if (Status s = builder.AddVariant(call); !s.ok()) {
      return build_failed(s.error());
    }
    const std::vector<mappers::PhaseRelation>& phases =
        mapper.phase_relations();
    for (; phase_done < phases.size(); ++phase_done) {
      if (Status s = builder.AddPhaseRelation(phases[phase_done]); !s.ok()) {
        return build_failed(s.error());
      }
    }
  }
  if (Status s = builder.Finish(); !s.ok()) return build_failed(s.error());

  if (o.keep_going) {
    std::string outcome =
        SkippedOutcome(mapper.skipped(), mapper.skipped_count());
    if (o.output.empty() || o.output == "-") {
      std::cerr << outcome;
    } else if (Status s = WriteOutput(o.output + ".outcome.json", outcome);
               !s.ok()) {
      return Fail("convert", s.error());
    }
  }
  Status written = sink.Commit(o.output);
  if (!written.ok()) return Fail("convert", written.error());
  if (mapper.skipped_count() > 0) {
    std::cerr << "genogate convert: " << o.input << ": skipped "
              << mapper.skipped_count() << " malformed records\n";
  }
  return 0;
}

// HL7 v2 ORU^R01: every ORDER_OBSERVATION (OBR) becomes one genomic report;
// all reports of the message go into one transaction Bundle. The patient,
// accession and lab come from PID, OBR and MSH unless given as options.
int RunConvertHl7v2(const ConvertOptions& o) {
  Result<std::string> text = ReadInput(o.input, kMaxHl7v2Bytes);
  if (!text.ok()) {
    if (text.error().code() == ErrorCode::kLimitExceeded) {
      return Malformed(o.input, text.error().message());
    }
    return Fail("convert", text.error());
  }
  mappers::hl7v2::OruReadResult read = mappers::hl7v2::ReadOruR01(*text);
  bool errors = read.rejected() || read.has_errors();
  for (const mappers::hl7v2::Problem& p : read.problems) {
    std::cerr << "genogate convert: " << o.input << ": " << p.ToString()
              << "\n";
  }
  if (errors) return 1;
  if (read.reports.empty()) {
    return Malformed(o.input, "the message holds no OBR (no report)");
  }
  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("convert", defs.error());
  BundleSink sink(o.ndjson);
  if (Status s = sink.Open(o.output); !s.ok())
    return Fail("convert", s.error());
  for (mappers::hl7v2::OruReport& r : read.reports) {
    mappers::GenomicReportInput& in = r.input;
    if (!o.patient.empty()) in.patient = ParseIdentifier(o.patient);
    if (!o.accession.empty()) in.accession = ParseIdentifier(o.accession);
    if (!o.lab.empty()) in.lab_name = o.lab;
    if (!o.specimen.empty()) in.specimen = ParseIdentifier(o.specimen);
    if (!o.source_class.empty()) in.source_class = o.source_class;
    if (!o.build.empty()) in.build = o.build;
    Status built = Status::Ok();
    const mappers::BuildOptions build_options;  // must outlive the builder
    mappers::ReportStreamBuilder builder(in, build_options, *defs->schema,
                                         sink.Callback());
    built = builder.Begin();
    for (size_t i = 0; built.ok() && i < in.variants.size(); ++i) {
      built = builder.AddVariant(in.variants[i]);
    }
    for (size_t i = 0; built.ok() && i < in.phase_relations.size(); ++i) {
      built = builder.AddPhaseRelation(in.phase_relations[i]);
    }
    if (built.ok()) built = builder.Finish();
    if (!built.ok()) {
      if (built.error().code() == ErrorCode::kInvalidInput) {
        return Malformed(o.input,
                         r.source_location + ": " + built.error().message());
      }
      return Fail("convert", built.error());
    }
  }
  if (Status s = sink.Commit(o.output); !s.ok())
    return Fail("convert", s.error());
  return 0;
}

// Lab JSON (genogate-lab-result/1, docs/lab-json.md): one report per
// document. Every problem is listed on standard error by its JSON pointer
// (exit 1, nothing written). Options override the document's patient,
// accession, lab, specimen, source class and build.
int RunConvertLabJson(const ConvertOptions& o) {
  const mappers::labjson::Limits limits;
  Result<std::string> text = ReadInput(o.input, limits.max_bytes);
  if (!text.ok()) {
    if (text.error().code() == ErrorCode::kLimitExceeded) {
      return Malformed(o.input, text.error().message());
    }
    return Fail("convert", text.error());
  }
  std::vector<mappers::labjson::Problem> problems;
  Result<mappers::GenomicReportInput> read =
      mappers::labjson::ReadLabJson(*text, &problems, limits);
  if (!read.ok()) {
    for (const mappers::labjson::Problem& p : problems) {
      Malformed(o.input, p.ToString());
    }
    return 1;
  }
  mappers::GenomicReportInput& in = *read;
  if (!o.patient.empty()) in.patient = ParseIdentifier(o.patient);
  if (!o.accession.empty()) in.accession = ParseIdentifier(o.accession);
  if (!o.lab.empty()) in.lab_name = o.lab;
  if (!o.specimen.empty()) in.specimen = ParseIdentifier(o.specimen);
  if (!o.source_class.empty()) in.source_class = o.source_class;
  if (!o.build.empty()) {
    in.build = o.build;
    for (mappers::VariantCall& v : in.variants) v.build = o.build;
  }
  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("convert", defs.error());
  BundleSink sink(o.ndjson);
  if (Status s = sink.Open(o.output); !s.ok())
    return Fail("convert", s.error());
  const mappers::BuildOptions build_options;  // must outlive the builder
  mappers::ReportStreamBuilder builder(in, build_options, *defs->schema,
                                       sink.Callback());
  Status built = builder.Begin();
  for (size_t i = 0; built.ok() && i < in.variants.size(); ++i) {
    built = builder.AddVariant(in.variants[i]);
  }
  for (size_t i = 0; built.ok() && i < in.phase_relations.size(); ++i) {
    built = builder.AddPhaseRelation(in.phase_relations[i]);
  }
  if (built.ok()) built = builder.Finish();
  if (!built.ok()) {
    if (built.error().code() == ErrorCode::kInvalidInput) {
      return Malformed(o.input, built.error().message());
    }
    return Fail("convert", built.error());
  }
  if (Status s = sink.Commit(o.output); !s.ok())
    return Fail("convert", s.error());
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
