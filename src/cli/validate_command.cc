// genogate validate FILE... [--profile URL] [--package DIR]: validates FHIR
// JSON or XML resources against the R4 base definitions, the profiles they
// declare and the requested profiles, and prints OperationOutcomes.
//
// One file: its OperationOutcome as JSON. Several: one NDJSON line per file,
// {"file": ..., "outcome": ...}. Exit 0 when no error was found, 1 when an
// error was found, 2 when the command could not run.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <iostream>

#include "base/json_text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "conformance/validator/validator.h"
#include "fhir/codec.h"
#include "fhir/operation_outcome.h"

namespace genogate::cli {
namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  std::vector<std::string> profiles;
  bool compact = false;
  DefinitionOptions defs;
};

int RunValidate(const ValidateOptions& o) {
  DefinitionOptions defs_options = o.defs;
  std::vector<std::string> bundled = conformance::BundledResourceDirs();
  defs_options.packages.insert(defs_options.packages.begin(), bundled.begin(),
                               bundled.end());
  Result<Definitions> defs = LoadDefinitions(defs_options);
  if (!defs.ok()) return Fail("validate", defs.error());
  conformance::Validator validator(defs->packages.get(), defs->schema.get());
  conformance::ValidationOptions vo;
  vo.profiles = o.profiles;
  bool any_error = false;
  bool several = o.files.size() > 1;
  fhir::ParseOptions parse_options;
  for (const std::string& file : o.files) {
    IssueList issues;
    Result<std::string> text = ReadInput(file, parse_options.max_bytes);
    if (!text.ok()) {
      if (!several) return Fail("validate", text.error());
      issues = fhir::IssuesFromError(text.error(), "not-found");
    } else {
      Result<IssueList> r = validator.ValidateText(*text, vo);
      if (r.ok()) {
        issues = std::move(r).value();
      } else {
        issues = fhir::IssuesFromError(r.error(), "structure");
      }
    }
    if (issues.HasErrors()) any_error = true;
    if (several) {
      std::cout << "{\"file\":" << JsonString(file)
                << ",\"outcome\":" << fhir::OperationOutcomeJson(issues, false)
                << "}\n";
    } else {
      std::cout << fhir::OperationOutcomeJson(issues, !o.compact) << "\n";
    }
  }
  std::cout.flush();
  return any_error ? 1 : 0;
}

}  // namespace

Command RegisterValidate(CLI::App& app) {
  auto o = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Validate FHIR resources against the R4 base definitions, their "
      "meta.profile and the given profiles; prints an OperationOutcome (one "
      "NDJSON line per file for several files). Exit 0: no error, 1: errors "
      "found, 2: could not run");
  cmd->add_option("FILE", o->files,
                  "FHIR JSON or XML resources ('-' for standard input)")
      ->required();
  cmd->add_option("--profile", o->profiles,
                  "Canonical URL of a profile the resources must conform to; "
                  "repeatable")
      ->type_name("URL");
  cmd->add_flag("--compact", o->compact, "No indentation (single file)");
  AddDefinitionOptions(cmd, &o->defs);
  return {cmd, [o] { return RunValidate(*o); }};
}

}  // namespace genogate::cli
