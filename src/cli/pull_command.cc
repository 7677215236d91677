// genogate pull (ENDPOINT --config FILE | --from URL) 'Type?params'
// [-o out.ndjson]: runs a FHIR search, follows the pages, writes NDJSON.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/delivery/target.h"

namespace genogate::cli {
namespace {

struct PullOptions {
  std::vector<std::string> args;  // [ENDPOINT] QUERY
  EndpointOptions endpoint;
  std::string output;
};

int RunPull(PullOptions o) {
  std::string query;
  if (o.args.size() == 2) {
    o.endpoint.name = o.args[0];
    query = o.args[1];
  } else if (o.args.size() == 1) {
    query = o.args[0];
  } else {
    return Fail("pull", Error(ErrorCode::kInvalidInput,
                              "expected [ENDPOINT] 'Type?params'"));
  }
  Result<gateway::Endpoint> endpoint = ResolveEndpoint(o.endpoint);
  if (!endpoint.ok()) return Fail("pull", endpoint.error());
  std::unique_ptr<gateway::HttpClient> http;
  std::unique_ptr<gateway::AuthProvider> auth;
  Result<gateway::FhirClient> client =
      gateway::MakeFhirClient(*endpoint, &http, &auth);
  if (!client.ok()) return Fail("pull", client.error());
  size_t q = query.find('?');
  std::string type = query.substr(0, q);
  std::string params = q == std::string::npos ? "" : query.substr(q + 1);
  std::string out;
  int64_t count = 0;
  Status s = client->Search(type, params, [&](std::string_view json) {
    out.append(json);
    out.push_back('\n');
    ++count;
    return Status::Ok();
  });
  if (!s.ok()) return Fail("pull", s.error());
  Status w = WriteOutput(o.output, out);
  if (!w.ok()) return Fail("pull", w.error());
  std::cerr << "genogate pull: " << count << " resources\n";
  return 0;
}

}  // namespace

Command RegisterPull(CLI::App& app) {
  auto o = std::make_shared<PullOptions>();
  CLI::App* cmd = app.add_subcommand(
      "pull",
      "Search an endpoint ('Type?params'), follow the result pages and write "
      "the resources as NDJSON (exit 2 on any failure)");
  cmd->add_option("ARGS", o->args, "[ENDPOINT] 'Type?params'")
      ->required()
      ->expected(1, 2);
  cmd->add_option("--config", o->endpoint.config,
                  "YAML configuration with the endpoints");
  cmd->add_option("--from", o->endpoint.url, "FHIR base URL");
  cmd->add_option("-o,--output", o->output,
                  "Write here (atomically) instead of standard output")
      ->type_name("OUT");
  return {cmd, [o] { return RunPull(*o); }};
}

}  // namespace genogate::cli
