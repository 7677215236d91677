// The one FHIR builder: a neutral GenomicReportInput becomes a FHIR R4
// transaction Bundle of Genomics Reporting IG 3.0.0 resources.
//
// What is built (each resource with meta.profile set to its IG profile):
//   - Patient            conditional create on the lab's patient identifier;
//                        name / birthDate / gender only when given.
//   - Specimen           when input.specimen is set.
//   - GenomicStudy and GenomicStudyAnalysis (Procedure, IG 3.0.0 R4 form):
//                        build, method, source class, regions studied.
//   - one Variant Observation per VariantCall (components per the IG's
//     slices: gene, assembly, chromosome, ref seqs, coordinates, alleles,
//     HGVS, change type, source class, frequency, depth, allelic state,
//     variation codes, copy number, and the call's ExtraComponents);
//   - one DiagnosticImplication per Classification and one
//     MolecularConsequence per Consequence (derivedFrom their variant);
//   - one SequencePhaseRelationship per PhaseRelation;
//   - the genomic-report DiagnosticReport (identifier = the accession).
//
// Idempotence and amendments. The Patient is a conditional create
// (request.method POST, url "Patient", ifNoneExist
// "identifier=<system>|<value>"): the EHR owns the patient record. Every
// other entry is a conditional update (request.method PUT, url
// "<Type>?identifier=<system>|<value>", no ifNoneExist), so a corrected or
// amended report (or a newer version of the same accession) replaces the
// DiagnosticReport and the Observations an earlier version wrote; an
// Observation of a variant the amended report no longer has is left in the
// EHR (no longer in the report's results). Keeping an older version from
// overwriting a newer one is the delivery queue's job (report versions).
// Identifiers are deterministic: system "urn:genogate:lab:<lab-slug>", value
// derived from the accession and, for a variant, "chrom:start:ref:alt"; so
// posting the same submission twice creates nothing the second time and
// changes nothing. References to the
// patient are conditional ("Patient?identifier=<system>|<value>"); other
// references use the entries' fullUrl "urn:uuid:<name-based UUID>" (UUID
// version 5 over the identifier), which a transaction resolves.
//
// Determinism: no clock and no randomness. The same input and options give
// the same Bundle, byte for byte, once written.
//
// Thread-safety: BuildReportBundle is reentrant; the Schema may be shared.
#ifndef GENOGATE_MAPPERS_COMMON_REPORT_BUILDER_H_
#define GENOGATE_MAPPERS_COMMON_REPORT_BUILDER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "fhir/element.h"
#include "fhir/schema.h"
#include "mappers/common/genomic_report.h"

namespace genogate::mappers {

// IG 3.0.0 profile canonicals.
inline constexpr std::string_view kProfileBase =
    "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/";

struct BuildOptions {
  // DiagnosticReport/Observation.issued when input.issued is empty (an
  // instant, e.g. "2024-05-01T10:00:00Z"). When both are empty, issued is
  // omitted: the builder never reads the clock.
  std::string issued;
  // Prefix of the per-lab identifier system; the lab slug (input.lab_name,
  // else input.lab_identifier.value, else "default", lower-cased, characters
  // outside [a-z0-9-] replaced by '-') is appended.
  std::string identifier_system_prefix = "urn:genogate:lab:";
  // Makes the fullUrl of an entry from its deterministic key (the
  // identifier "system|value"). Must be deterministic and injective in
  // practice. Default: "urn:uuid:" + UUID v5 (SHA-1) of the key.
  std::function<std::string(std::string_view key)> full_url_for_key;
  // Build the GenomicStudy / GenomicStudyAnalysis Procedures.
  bool include_study = true;
  // Per-variant state (variant keys, the report's result list) beyond this
  // many variants goes to an unlinked temporary file in $TMPDIR, so memory
  // stays flat with input size; the output is the same for any value >= 1
  // (tests set it small). A failure of that file is a kIo error.
  size_t spill_after_variants = 65536;
};

// Receives each finished Bundle.entry (fullUrl, resource, request), typed
// against the schema and in definition order. A non-ok Status stops the
// build and is returned by the builder call that emitted the entry.
using EntrySink = std::function<Status(fhir::Node entry)>;

// Receives each finished Bundle.entry as FHIR JSON text instead of a tree:
// the fast path for callers that write JSON anyway (convert, NDJSON). The
// builder writes the per-variant resources (variant, implication,
// consequence, phase Observations and the DiagnosticReport) directly as
// text, byte for byte what fhir::WriteJson writes for the tree the
// EntrySink form builds, so neither the trees nor the report's list of
// results are ever held (the per-variant state is as for the tree form).
// Calls come in the order BeginEntry, one or more
// ResourceText, EndEntry per entry; a non-ok Status stops the build and is
// returned by the builder call that wrote the entry.
class JsonEntrySink {
 public:
  struct EntryHead {
    std::string_view full_url;
    std::string_view method;  // "POST" (Patient) or "PUT"
    // POST: the resource type; PUT: "<Type>?identifier=<system>|<value>".
    std::string_view url;
    // POST: "identifier=<system>|<value>"; PUT: empty (no ifNoneExist).
    std::string_view if_none_exist;
  };
  virtual ~JsonEntrySink() = default;
  virtual Status BeginEntry(const EntryHead& head) = 0;
  // A piece of the resource's compact JSON; the pieces of one entry,
  // concatenated, are the resource (a very large DiagnosticReport comes in
  // many pieces).
  virtual Status ResourceText(std::string_view json) = 0;
  virtual Status EndEntry() = 0;
};

// The builder in streaming form, so a very large report (a whole-genome VCF)
// can be written entry by entry (e.g. as NDJSON) without holding every
// variant. Memory grows only by ~35 bytes per variant (its key, stored
// compactly, and a slot in a set of keys) and 4-12 bytes per result group:
// the fullUrls of the results are recomputed from the keys for the report.
// kLimitExceeded beyond 2^32 variants or 4 GiB of keys.
//
//   ReportStreamBuilder b(header, options, schema, sink);
//   b.Begin();                    // Patient, Specimen, study, analysis
//   b.AddVariant(call);           // the variant, its implications and
//                                 // consequences; repeat
//   b.AddPhaseRelation(rel);      // indexes count AddVariant calls from 0
//   b.Finish();                   // the DiagnosticReport (result = all)
//
// `report` supplies everything but variants and phase relations (which are
// ignored); it and `options` must outlive the builder. Errors as
// BuildReportBundle; kInternal when the calls are out of order. Entries
// come out in the same order as in BuildReportBundle's Bundle.
class ReportStreamBuilder {
 public:
  // `report`, `options` and `schema` are referenced, not copied: they must
  // outlive the builder.
  ReportStreamBuilder(const GenomicReportInput& report,
                      const BuildOptions& options, const fhir::Schema& schema,
                      EntrySink sink);
  // The same entries as JSON text (see JsonEntrySink); `sink` must outlive
  // the builder.
  ReportStreamBuilder(const GenomicReportInput& report,
                      const BuildOptions& options, const fhir::Schema& schema,
                      JsonEntrySink* sink);
  ~ReportStreamBuilder();
  ReportStreamBuilder(const ReportStreamBuilder&) = delete;
  ReportStreamBuilder& operator=(const ReportStreamBuilder&) = delete;

  Status Begin();
  Status AddVariant(const VariantCall& call);
  Status AddPhaseRelation(const PhaseRelation& relation);
  Status Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds the transaction Bundle (ReportStreamBuilder over the whole input,
// entries collected). Errors (kInvalidInput): no patient
// identifier value, no accession value, a phase relation pointing outside
// `variants`, a numeric text (allele frequency, extra quantity) that is not
// a decimal. The messages name the field and the variant's
// source_location, never a patient identifier or name.
// kInternal if the schema lacks an element the builder uses (definitions
// not loaded).
Result<fhir::Node> BuildReportBundle(const GenomicReportInput& input,
                                     const BuildOptions& options,
                                     const fhir::Schema& schema);

// The deterministic identifier system for a lab (see BuildOptions).
std::string LabIdentifierSystem(const GenomicReportInput& input,
                                const BuildOptions& options);

// The variant key used in identifiers: "chrom:start:ref:alt" (alt is the
// symbolic ALT when there is no sequence ALT; start is "" when unknown).
std::string VariantKey(const VariantCall& call);

// "urn:uuid:" + RFC 4122 version-5 UUID of `name` in genogate's namespace.
std::string NameBasedUrnUuid(std::string_view name);

}  // namespace genogate::mappers

#endif  // GENOGATE_MAPPERS_COMMON_REPORT_BUILDER_H_
