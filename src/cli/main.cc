// genogate: one binary, many subcommands. Each subcommand registers itself
// in commands.h and uses the same libraries as the server.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "genogate: clinical genomics results (VCF, HL7 v2, lab JSON, FHIR) to "
      "HL7 FHIR R4 Genomics Reporting IG 3.0.0, validated and delivered to "
      "EHRs and registries."};
  app.set_version_flag("--version",
                       std::string("genogate ") + GENOGATE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  genogate::cli::CommandList commands = genogate::cli::RegisterAll(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (CLI11 reports --help/--version as exit 0).
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return 2;
}
