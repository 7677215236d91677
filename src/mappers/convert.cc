#include "mappers/convert.h"

#include <cstdio>
#include <memory>
#include <utility>

#include "base/file.h"
#include "base/json_text.h"
#include "mappers/hl7v2/oru_r01.h"
#include "mappers/labjson/labjson_mapper.h"
#include "mappers/vcf/vcf_mapper.h"

namespace genogate::mappers {
namespace {

Issue VcfIssue(const vcf::VcfError& e, Severity severity = Severity::kError) {
  Issue issue;
  issue.severity = severity;
  issue.type = e.code == ErrorCode::kLimitExceeded ? "too-long" : "structure";
  issue.message = DescribeVcfError(e);
  issue.line = static_cast<uint32_t>(e.line);
  issue.column = e.column;
  issue.code = e.rule.empty() ? "vcf" : e.rule;
  return issue;
}

Issue DataIssue(std::string type, std::string message, std::string code) {
  Issue issue;
  issue.type = std::move(type);
  issue.message = std::move(message);
  issue.code = std::move(code);
  return issue;
}

std::string ReportKey(const GenomicReportInput& in,
                      const BuildOptions& options) {
  return LabIdentifierSystem(in, options) + "|" + in.accession.system + "|" +
         in.accession.value;
}

// The caller's sink: element trees or JSON text.
struct Sinks {
  EntrySink node;
  JsonEntrySink* json = nullptr;
};

// Counts what goes through to the caller's JSON sink.
class CountingJsonSink : public JsonEntrySink {
 public:
  CountingJsonSink(JsonEntrySink* sink, ConvertReport* report)
      : sink_(sink), report_(report) {}
  Status BeginEntry(const EntryHead& head) override {
    ++report_->entries;
    return sink_->BeginEntry(head);
  }
  Status ResourceText(std::string_view json) override {
    return sink_->ResourceText(json);
  }
  Status EndEntry() override { return sink_->EndEntry(); }

 private:
  JsonEntrySink* sink_;
  ConvertReport* report_;
};

// Builders over the caller's sink, counting the entries into `report`.
class Output {
 public:
  Output(Sinks sinks, ConvertReport* report)
      : json_(sinks.json, report), use_json_(sinks.json != nullptr) {
    if (!use_json_) {
      node_ = [sink = std::move(sinks.node),
               report](fhir::Node entry) -> Status {
        ++report->entries;
        return sink(std::move(entry));
      };
    }
  }
  std::unique_ptr<ReportStreamBuilder> Builder(const GenomicReportInput& in,
                                               const BuildOptions& options,
                                               const fhir::Schema& schema) {
    if (use_json_) {
      return std::make_unique<ReportStreamBuilder>(in, options, schema, &json_);
    }
    return std::make_unique<ReportStreamBuilder>(in, options, schema, node_);
  }

 private:
  EntrySink node_;
  CountingJsonSink json_;
  bool use_json_;
};

// Builder errors: kInvalidInput is about the data (an issue), others are
// about the environment (an Error).
Status BuildFailed(const Error& e, std::string_view where,
                   ConvertReport* report) {
  if (e.code() != ErrorCode::kInvalidInput) return e;
  std::string message(where);
  if (!message.empty()) message += ": ";
  report->issues.Add(
      DataIssue("invalid", message + e.message(), "map-invalid-input"));
  return Status::Ok();
}

// Builds one report whose variants are all in memory (v2, lab JSON).
Status BuildWhole(const GenomicReportInput& in, const ConvertOptions& options,
                  const fhir::Schema& schema, Output& out,
                  std::string_view where, ConvertReport* report) {
  std::unique_ptr<ReportStreamBuilder> built_by =
      out.Builder(in, options.build_options, schema);
  ReportStreamBuilder& builder = *built_by;
  Status built = builder.Begin();
  for (size_t i = 0; built.ok() && i < in.variants.size(); ++i) {
    built = builder.AddVariant(in.variants[i]);
    if (built.ok()) ++report->variants;
  }
  for (size_t i = 0; built.ok() && i < in.phase_relations.size(); ++i) {
    built = builder.AddPhaseRelation(in.phase_relations[i]);
  }
  if (built.ok()) built = builder.Finish();
  if (!built.ok()) return BuildFailed(built.error(), where, report);
  report->report_keys.push_back(ReportKey(in, options.build_options));
  return Status::Ok();
}

void ApplyOverrides(const ConvertOptions& o, GenomicReportInput* in) {
  if (!o.patient.value.empty()) in->patient = o.patient;
  if (!o.accession.value.empty()) in->accession = o.accession;
  if (!o.lab.empty()) in->lab_name = o.lab;
  if (!o.specimen.value.empty()) in->specimen = o.specimen;
  if (!o.source_class.empty()) in->source_class = o.source_class;
  if (!o.build.empty()) {
    in->build = o.build;
    for (VariantCall& v : in->variants) v.build = o.build;
  }
}

Result<ConvertReport> ConvertVcf(const std::string* path, std::string* data,
                                 const ConvertOptions& o,
                                 const fhir::Schema& schema, Sinks sinks) {
  if (o.patient.value.empty() && !o.patient_from_sample) {
    return Error(ErrorCode::kInvalidInput,
                 "a patient identifier (SYSTEM|VALUE) is required for VCF "
                 "input");
  }
  if (o.accession.value.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "an accession identifier (SYSTEM|VALUE) is required for VCF "
                 "input");
  }
  vcf::VcfMapOptions m;
  m.build = o.build;
  m.sample = o.sample;
  m.regions = o.regions;
  m.studied = o.studied;
  m.pass_only = o.pass_only;
  m.source_class = o.source_class;
  m.patient = o.patient;
  m.accession = o.accession;
  m.lab = o.lab;
  m.specimen = o.specimen;
  m.keep_going = o.keep_going;

  ConvertReport report;
  vcf::VcfMapper mapper(m);
  Status opened =
      path ? mapper.OpenFile(*path) : mapper.OpenString(std::move(*data));
  if (!opened.ok()) {
    const ErrorCode code = opened.error().code();
    if (code == ErrorCode::kNotFound || code == ErrorCode::kIo) {
      return opened.error();
    }
    report.issues.Add(VcfIssue(mapper.error()));
    return report;
  }
  GenomicReportInput header = mapper.report();
  // Identifiers from the sample column's name (not quoted in messages: it
  // may identify the patient).
  for (auto [wanted, id] : {std::pair{o.patient_from_sample, &header.patient},
                            {o.specimen_from_sample, &header.specimen}}) {
    if (!wanted || !id->value.empty()) continue;
    if (header.sample_name.empty()) {
      return Error(
          ErrorCode::kInvalidInput,
          "the VCF has no sample column to take the " +
              std::string(id == &header.patient ? "patient" : "specimen") +
              " identifier from");
    }
    id->value = header.sample_name;
  }
  Output out(std::move(sinks), &report);
  std::unique_ptr<ReportStreamBuilder> built_by =
      out.Builder(header, o.build_options, schema);
  ReportStreamBuilder& builder = *built_by;
  uint64_t next_progress = o.progress_every;
  auto progress = [&] {
    o.progress({mapper.source_bytes(), mapper.records_read(), report.variants});
  };
  auto fail = [&](const Error& e) -> Result<ConvertReport> {
    if (Status s = BuildFailed(e, "", &report); !s.ok()) return s.error();
    return std::move(report);
  };
  if (Status s = builder.Begin(); !s.ok()) return fail(s.error());
  VariantCall call;
  while (true) {
    Result<bool> more = mapper.Next(&call);
    if (!more.ok()) {
      if (more.error().code() == ErrorCode::kIo) return more.error();
      report.issues.Add(VcfIssue(mapper.error()));
      return report;
    }
    if (!*more) break;
    if (Status s = builder.AddVariant(call); !s.ok()) return fail(s.error());
    ++report.variants;
    for (const PhaseRelation& p : mapper.TakePhaseRelations()) {
      if (Status s = builder.AddPhaseRelation(p); !s.ok()) {
        return fail(s.error());
      }
    }
    if (o.progress && mapper.records_read() >= next_progress) {
      progress();
      next_progress = mapper.records_read() + o.progress_every;
    }
  }
  if (o.progress) progress();
  if (Status s = builder.Finish(); !s.ok()) return fail(s.error());
  report.skipped = mapper.skipped();
  report.skipped_count = mapper.skipped_count();
  for (const vcf::VcfError& e : report.skipped) {
    report.issues.Add(VcfIssue(e, Severity::kWarning));
  }
  report.report_keys.push_back(ReportKey(header, o.build_options));
  return report;
}

Result<ConvertReport> ConvertHl7v2(std::string_view text,
                                   const ConvertOptions& o,
                                   const fhir::Schema& schema, Sinks sinks) {
  ConvertReport report;
  hl7v2::OruReadResult read = hl7v2::ReadOruR01(text);
  report.hl7v2_problems = read.problems;
  report.hl7v2_rejected = read.rejected();
  for (const hl7v2::Problem& p : read.problems) {
    Issue issue = hl7v2::ToIssue(p);
    issue.message = p.ToString();
    report.issues.Add(std::move(issue));
  }
  if (read.rejected() || read.has_errors()) return report;
  if (read.reports.empty()) {
    report.issues.Add(DataIssue(
        "required", "the message holds no OBR (no report)", "v2-no-report"));
    return report;
  }
  Output out(std::move(sinks), &report);
  for (hl7v2::OruReport& r : read.reports) {
    ApplyOverrides(o, &r.input);
    if (Status s =
            BuildWhole(r.input, o, schema, out, r.source_location, &report);
        !s.ok()) {
      return s.error();
    }
    if (!report.ok()) return report;
  }
  return report;
}

Result<ConvertReport> ConvertLabJson(std::string_view text,
                                     const ConvertOptions& o,
                                     const fhir::Schema& schema, Sinks sinks) {
  ConvertReport report;
  labjson::Limits limits;
  limits.max_bytes = o.max_message_bytes;
  std::vector<labjson::Problem> problems;
  Result<GenomicReportInput> read =
      labjson::ReadLabJson(text, &problems, limits);
  if (!read.ok()) {
    for (const labjson::Problem& p : problems) {
      Issue issue = DataIssue(read.error().code() == ErrorCode::kLimitExceeded
                                  ? "too-long"
                                  : "invalid",
                              p.ToString(), "labjson");
      issue.location = p.pointer;
      report.issues.Add(std::move(issue));
    }
    if (problems.empty()) {
      report.issues.Add(
          DataIssue("invalid", read.error().message(), "labjson"));
    }
    return report;
  }
  ApplyOverrides(o, &*read);
  Output out(std::move(sinks), &report);
  if (Status s = BuildWhole(*read, o, schema, out, "", &report); !s.ok()) {
    return s.error();
  }
  return report;
}

Result<ConvertReport> ConvertText(std::string data, const ConvertOptions& o,
                                  const fhir::Schema& schema, Sinks sinks) {
  if (o.format == InputFormat::kHl7v2) {
    return ConvertHl7v2(data, o, schema, std::move(sinks));
  }
  return ConvertLabJson(data, o, schema, std::move(sinks));
}

Result<std::string> ReadLimited(const std::string& path, size_t max_bytes) {
  if (path != "-") return ReadFile(path, max_bytes);
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) {
    data.append(buf, n);
    if (data.size() > max_bytes) {
      return Error(ErrorCode::kLimitExceeded,
                   "standard input is larger than the limit of " +
                       std::to_string(max_bytes) + " bytes");
    }
  }
  return data;
}

ConvertReport TooLarge(const Error& e) {
  ConvertReport report;
  report.issues.Add(DataIssue("too-long", e.message(), "input-too-large"));
  return report;
}

}  // namespace

std::string_view InputFormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kVcf:
      return "vcf";
    case InputFormat::kHl7v2:
      return "hl7v2";
    case InputFormat::kLabJson:
      return "labjson";
  }
  return "vcf";
}

std::optional<InputFormat> ParseInputFormat(std::string_view name) {
  for (InputFormat f :
       {InputFormat::kVcf, InputFormat::kHl7v2, InputFormat::kLabJson}) {
    if (InputFormatName(f) == name) return f;
  }
  return std::nullopt;
}

IdentifierValue ParseIdentifierText(std::string_view text) {
  size_t bar = text.rfind('|');
  if (bar == std::string_view::npos) return {"", std::string(text)};
  return {std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

std::string DescribeVcfError(const vcf::VcfError& e) {
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

namespace {

Result<ConvertReport> FileTo(const std::string& path,
                             const ConvertOptions& options,
                             const fhir::Schema& schema, Sinks sinks) {
  if (options.format == InputFormat::kVcf) {
    return ConvertVcf(&path, nullptr, options, schema, std::move(sinks));
  }
  Result<std::string> text = ReadLimited(path, options.max_message_bytes);
  if (!text.ok()) {
    if (text.error().code() == ErrorCode::kLimitExceeded) {
      return TooLarge(text.error());
    }
    return text.error();
  }
  return ConvertText(std::move(text).value(), options, schema,
                     std::move(sinks));
}

Result<ConvertReport> BytesTo(std::string data, const ConvertOptions& options,
                              const fhir::Schema& schema, Sinks sinks) {
  if (options.format == InputFormat::kVcf) {
    return ConvertVcf(nullptr, &data, options, schema, std::move(sinks));
  }
  if (data.size() > options.max_message_bytes) {
    return TooLarge(Error(ErrorCode::kLimitExceeded,
                          "the input is larger than the limit of " +
                              std::to_string(options.max_message_bytes) +
                              " bytes"));
  }
  return ConvertText(std::move(data), options, schema, std::move(sinks));
}

}  // namespace

Result<ConvertReport> ConvertFile(const std::string& path,
                                  const ConvertOptions& options,
                                  const fhir::Schema& schema, EntrySink sink) {
  return FileTo(path, options, schema, {std::move(sink), nullptr});
}

Result<ConvertReport> ConvertBytes(std::string data,
                                   const ConvertOptions& options,
                                   const fhir::Schema& schema, EntrySink sink) {
  return BytesTo(std::move(data), options, schema, {std::move(sink), nullptr});
}

Result<ConvertReport> ConvertFileToJson(const std::string& path,
                                        const ConvertOptions& options,
                                        const fhir::Schema& schema,
                                        JsonEntrySink* sink) {
  return FileTo(path, options, schema, {nullptr, sink});
}

Result<ConvertReport> ConvertBytesToJson(std::string data,
                                         const ConvertOptions& options,
                                         const fhir::Schema& schema,
                                         JsonEntrySink* sink) {
  return BytesTo(std::move(data), options, schema, {nullptr, sink});
}

std::string SkippedRecordsOutcome(const ConvertReport& report) {
  std::string out = "{\"resourceType\":\"OperationOutcome\",\"issue\":[";
  bool first = true;
  for (const vcf::VcfError& e : report.skipped) {
    if (!first) out += ",";
    first = false;
    out += "{\"severity\":\"error\",\"code\":";
    out +=
        e.code == ErrorCode::kLimitExceeded ? "\"too-long\"" : "\"structure\"";
    out += ",\"details\":{\"text\":" + JsonString(e.rule) + "}";
    out += ",\"diagnostics\":" + JsonString("skipped: " + DescribeVcfError(e));
    out += "}";
  }
  if (report.skipped_count > report.skipped.size()) {
    if (!first) out += ",";
    first = false;
    out +=
        "{\"severity\":\"warning\",\"code\":\"too-costly\",\"diagnostics\":" +
        JsonString(
            std::to_string(report.skipped_count - report.skipped.size()) +
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

}  // namespace genogate::mappers
