// genogate format FILE --to json|xml [-o OUT]: converts a FHIR resource
// between JSON and XML through the element model.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "fhir/codec.h"

namespace genogate::cli {
namespace {

struct FormatOptions {
  std::string input;
  std::string to;
  std::string output;
  bool compact = false;
  DefinitionOptions defs;
};

int RunFormat(const FormatOptions& o) {
  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("format", defs.error());
  fhir::ParseOptions parse_options;
  Result<std::string> text = ReadInput(o.input, parse_options.max_bytes);
  if (!text.ok()) return Fail("format", text.error());
  Result<fhir::Document> doc =
      fhir::ParseResource(*text, *defs->schema, parse_options);
  if (!doc.ok()) {
    std::cerr << "genogate format: " << o.input << ": " << doc.error().message()
              << "\n";
    return 1;
  }
  if (doc->issues.HasErrors()) {
    std::cerr << "genogate format: " << o.input << " is not valid FHIR:\n"
              << doc->issues.ToText();
    return 1;
  }
  fhir::WriteOptions write_options;
  write_options.pretty = !o.compact;
  Result<std::string> out = fhir::Write(
      doc->root, o.to == "xml" ? fhir::Format::kXml : fhir::Format::kJson,
      write_options);
  if (!out.ok()) {
    std::cerr << "genogate format: " << o.input << ": " << out.error().message()
              << "\n";
    return 1;
  }
  if (o.to == "json") out->push_back('\n');
  Status s = WriteOutput(o.output, *out);
  if (!s.ok()) return Fail("format", s.error());
  return 0;
}

}  // namespace

Command RegisterFormat(CLI::App& app) {
  auto o = std::make_shared<FormatOptions>();
  CLI::App* cmd = app.add_subcommand(
      "format",
      "Convert a FHIR resource between JSON and XML (exit 1 if the input is "
      "not valid FHIR, 2 if it cannot be read)");
  cmd->add_option("FILE", o->input,
                  "FHIR JSON or XML resource ('-' for standard input)")
      ->required();
  cmd->add_option("--to", o->to, "Output format")
      ->required()
      ->check(CLI::IsMember({"json", "xml"}));
  cmd->add_option("-o,--output", o->output,
                  "Write here (atomically) instead of standard output")
      ->type_name("OUT");
  cmd->add_flag("--compact", o->compact, "No indentation");
  AddDefinitionOptions(cmd, &o->defs);
  return {cmd, [o] { return RunFormat(*o); }};
}

}  // namespace genogate::cli
