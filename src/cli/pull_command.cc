// genogate pull (ENDPOINT --config FILE | --from URL) 'Type?params'
// [-o out.ndjson] [--audit-key-file FILE --redis URL]: runs a FHIR search,
// follows the pages, writes NDJSON. With an audit key (--audit-key-file, or
// security.audit of --config) the pull is recorded as one "pull"
// AuditEvent in the audit stream of --redis (who: "cli:<user>", the
// endpoint, the parameter names, the patient identifier searched for,
// pseudonymised, and the outcome); if it cannot be recorded, nothing is
// written and the exit code is 2.
#include <pwd.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/delivery/target.h"
#include "gateway/security/audit.h"
#include "gateway/security/security_config.h"

namespace genogate::cli {
namespace {

struct PullOptions {
  std::vector<std::string> args;  // [ENDPOINT] QUERY
  EndpointOptions endpoint;
  std::string output;
  std::string audit_key_file;
  std::string redis = "redis://127.0.0.1:6379/0";
};

// "cli:<login name>" (or "cli:uid-<n>").
std::string CliCaller() {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 &&
      found != nullptr) {
    return std::string("cli:") + found->pw_name;
  }
  return "cli:uid-" + std::to_string(getuid());
}

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
  Result<std::unique_ptr<gateway::AuditLog>> audit =
      OpenCommandAuditLog(o.audit_key_file, o.endpoint.config, o.redis);
  if (!audit.ok()) return Fail("pull", audit.error());
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
  if (*audit) {
    gateway::AuditRecord r;
    r.action = gateway::AuditAction::kPull;
    r.when = gateway::SystemClock::Get()->Now();
    r.caller = CliCaller();
    r.endpoint = endpoint->name.empty() ? endpoint->url : endpoint->name;
    gateway::DescribeSearch(query, &r);
    r.outcome = s.ok() ? gateway::AuditOutcome::kSuccess
                       : gateway::AuditOutcome::kSeriousFailure;
    r.outcome_text =
        s.ok() ? "pulled"
               : "failed: " + std::string(ErrorCodeName(s.error().code()));
    r.details.emplace_back("resources", std::to_string(count));
    Status a = (*audit)->Record(r);
    if (!a.ok()) return Fail("pull", a.error());
  }
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
  cmd->add_option("--audit-key-file", o->audit_key_file,
                  "Record the pull in the audit trail with this pseudonym key "
                  "(the server's, e.g. DATA_DIR/audit-pseudonym.key); "
                  "default: security.audit of --config");
  cmd->add_option("--redis", o->redis, "The audit trail's Redis")
      ->capture_default_str();
  return {cmd, [o] { return RunPull(*o); }};
}

}  // namespace genogate::cli
