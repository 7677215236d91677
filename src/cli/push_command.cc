// genogate push FILE (--endpoint NAME --config FILE | --to URL): sends one
// transaction bundle synchronously (no queue) and prints the outcome.
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/delivery/target.h"

namespace genogate::cli {
namespace {

struct PushOptions {
  std::string input;
  EndpointOptions endpoint;
};

std::string JobIdFor(const std::string& path) {
  std::string name = path == "-" ? "stdin" : path;
  size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  return name.empty() ? "bundle" : name;
}

int RunPush(const PushOptions& o) {
  Result<gateway::Endpoint> endpoint = ResolveEndpoint(o.endpoint);
  if (!endpoint.ok()) return Fail("push", endpoint.error());
  Result<std::string> bundle = ReadInput(o.input, endpoint->max_bundle_bytes);
  if (!bundle.ok()) return Fail("push", bundle.error());
  Result<std::unique_ptr<gateway::DeliveryTarget>> target =
      gateway::MakeTarget(*endpoint);
  if (!target.ok()) return Fail("push", target.error());
  gateway::TransactionOutcome out =
      (*target)->Deliver(JobIdFor(o.input), *bundle);
  if (out.ok()) {
    std::cout << "delivered to " << endpoint->name;
    if (out.http_status != 0) std::cout << " (HTTP " << out.http_status << ")";
    std::cout << "\n";
    for (const std::string& id : out.resource_ids) std::cout << id << "\n";
    return 0;
  }
  std::cerr << "genogate push: " << out.error->message() << "\n";
  std::string text = gateway::OperationOutcomeText(out.operation_outcome_json);
  if (!text.empty()) std::cout << "OperationOutcome from the server:\n" << text;
  ErrorCode code = out.error->code();
  bool rejected =
      code == ErrorCode::kInvalidInput || code == ErrorCode::kNotFound ||
      code == ErrorCode::kConflict || code == ErrorCode::kLimitExceeded;
  return rejected && out.http_status != 0 ? 1 : 2;
}

}  // namespace

Command RegisterPush(CLI::App& app) {
  auto o = std::make_shared<PushOptions>();
  CLI::App* cmd = app.add_subcommand(
      "push",
      "Send one FHIR transaction bundle to an endpoint now (no queue) and "
      "print the created ids or the server's OperationOutcome (exit 1 if the "
      "server rejected it, 2 on connection or configuration problems)");
  cmd->add_option("FILE", o->input, "Bundle JSON ('-' for standard input)")
      ->required();
  cmd->add_option("--endpoint", o->endpoint.name,
                  "Endpoint name in the --config file");
  cmd->add_option("--config", o->endpoint.config,
                  "YAML configuration with the endpoints");
  cmd->add_option("--to", o->endpoint.url,
                  "FHIR base URL (http://, https://) or file://DIR");
  return {cmd, [o] { return RunPush(*o); }};
}

}  // namespace genogate::cli
