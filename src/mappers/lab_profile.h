// Lab mapping profile: one lab's defaults for converting its files, so that
// a lab sends only the VCF. `genogate convert --mapping FILE` reads one; the
// HTTP server loads one per lab. The format is YAML (docs/lab-profile.md,
// examples/lab-profile.yaml):
//
//   lab: ACME Genomics Lab          # keys the identifiers, names performer
//   build: GRCh38                   # else from the VCF header
//   source_class: germline          # germline | somatic | mixed
//   sample: TUMOR                   # VCF sample column (default: first)
//   pass_only: true                 # keep only FILTER=PASS records
//   keep_going: false               # skip malformed records
//   regions: beds/panel.bed         # BED files, relative to this file
//   studied: beds/studied.bed
//   patient:   {system: "urn:oid:1.2.3", from: sample-name}
//   accession: {system: "urn:oid:1.2.4"}
//   specimen:  {system: "urn:oid:1.2.5", from: sample-name}
//
// An identifier's `from` is `submission` (the value comes with each
// submission: --patient VALUE; the default) or `sample-name` (the VCF's
// sample column name is the value). Every key is optional; unknown keys are
// errors. Values given with a submission (command-line flags) override the
// profile: see ApplyLabProfile.
//
// Thread-safety: LabProfile is a value; the functions are reentrant.
#ifndef GENOGATE_MAPPERS_LAB_PROFILE_H_
#define GENOGATE_MAPPERS_LAB_PROFILE_H_

#include <string>
#include <string_view>

#include "base/result.h"
#include "mappers/convert.h"

namespace genogate::mappers {

struct LabProfile {
  // Where it was read from (for messages).
  std::string name;
  // What the profile sets; everything else left at its default. BED files
  // are already read into regions / studied.
  ConvertOptions options;
};

// Reads the profile at `path` (at most 1 MiB) and the BED files it names.
// Errors: kNotFound / kIo when the profile or a BED file cannot be read;
// kInvalidInput for anything wrong in it, the message
// "FILE:LINE: KEY: problem" (a BED file's own error after it, with its line
// and column).
Result<LabProfile> LoadLabProfile(const std::string& path);

// As LoadLabProfile over `text`; `name` is used in messages and BED paths
// are taken relative to `base_dir` (empty: the working directory).
Result<LabProfile> ParseLabProfile(std::string_view text,
                                   const std::string& name,
                                   const std::string& base_dir);

// Fills what `options` leaves unset from the profile: empty strings (build,
// sample, source class, lab), regions / studied not given, the system of an
// identifier given without one ("VALUE" rather than "SYSTEM|VALUE"), the
// `sample-name` rule of an identifier given without a value; pass_only and
// keep_going are on when either says so. `options->format` is kept.
void ApplyLabProfile(const LabProfile& profile, ConvertOptions* options);

}  // namespace genogate::mappers

#endif  // GENOGATE_MAPPERS_LAB_PROFILE_H_
