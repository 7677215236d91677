// genogate fhirpath EXPR [--input FILE] [--expressions FILE]: evaluates
// FHIRPath expressions against a FHIR resource (JSON or XML) and prints the
// results as JSON. trace() output goes to standard error.
//
// One expression: prints its result collection as a JSON array; exit 1
// with a message on a parse or evaluation error. --expressions FILE (one
// expression per line, or a JSON array of strings): prints one JSON line per
// expression, {"result": [...]} or {"error": "..."}; exit 1 if any failed.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <iostream>
#include <optional>

#include "base/json_text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "conformance/fhirpath/fhirpath.h"
#include "fhir/codec.h"

namespace genogate::cli {
namespace {

struct FhirPathOptions {
  std::string expression;
  std::string input;
  std::string expressions;
  DefinitionOptions defs;
};

// One expression per non-blank line, or a JSON array of strings.
Result<std::vector<std::string>> ReadExpressions(const std::string& text) {
  std::vector<std::string> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsArray()) {
      return Error(ErrorCode::kInvalidInput,
                   "expressions file: not a JSON array of strings");
    }
    for (const auto& v : d.GetArray()) {
      if (!v.IsString()) {
        return Error(ErrorCode::kInvalidInput,
                     "expressions file: not a JSON array of strings");
      }
      out.emplace_back(v.GetString(), v.GetStringLength());
    }
    return out;
  }
  size_t p = 0;
  while (p <= text.size()) {
    size_t e = text.find('\n', p);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(p, e - p);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
    p = e + 1;
  }
  return out;
}

int RunFhirPath(const FhirPathOptions& o) {
  if (o.expression.empty() == o.expressions.empty()) {
    std::cerr << "genogate fhirpath: give either EXPR or --expressions FILE\n";
    return 2;
  }
  Result<Definitions> defs = LoadDefinitions(o.defs);
  if (!defs.ok()) return Fail("fhirpath", defs.error());
  std::optional<fhir::Document> doc;
  if (!o.input.empty()) {
    fhir::ParseOptions parse_options;
    Result<std::string> text = ReadInput(o.input, parse_options.max_bytes);
    if (!text.ok()) return Fail("fhirpath", text.error());
    Result<fhir::Document> parsed =
        fhir::ParseResource(*text, *defs->schema, parse_options);
    if (!parsed.ok()) {
      std::cerr << "genogate fhirpath: " << o.input << ": "
                << parsed.error().message() << "\n";
      return 1;
    }
    doc = std::move(parsed).value();
  }
  fhirpath::EvalContext ctx;
  if (doc) {
    ctx.focus = {fhirpath::Item::Of(&doc->root)};
    ctx.resource = &doc->root;
    ctx.root_resource = &doc->root;
  }
  ctx.schema = defs->schema.get();
  ctx.trace = [](std::string_view name, const fhirpath::Collection& items) {
    std::cerr << "trace: " << name << ": " << fhirpath::ToJson(items) << "\n";
  };
  auto run = [&](const std::string& expr) -> Result<std::string> {
    Result<fhirpath::Expression> e = fhirpath::Compile(expr);
    if (!e.ok()) return e.error();
    Result<fhirpath::Collection> r = fhirpath::Evaluate(*e, ctx);
    if (!r.ok()) return r.error();
    return fhirpath::ToJson(*r);
  };
  if (!o.expression.empty()) {
    Result<std::string> r = run(o.expression);
    if (!r.ok()) {
      std::cerr << "genogate fhirpath: " << r.error().message() << "\n";
      return 1;
    }
    std::cout << *r << "\n";
    return 0;
  }
  Result<std::string> text = ReadInput(o.expressions, size_t{64} << 20);
  if (!text.ok()) return Fail("fhirpath", text.error());
  Result<std::vector<std::string>> exprs = ReadExpressions(*text);
  if (!exprs.ok()) return Fail("fhirpath", exprs.error());
  int rc = 0;
  for (const std::string& expr : *exprs) {
    Result<std::string> r = run(expr);
    if (r.ok()) {
      std::cout << "{\"result\":" << *r << "}\n";
    } else {
      std::cout << "{\"error\":" << JsonString(r.error().message()) << "}\n";
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

Command RegisterFhirPath(CLI::App& app) {
  auto o = std::make_shared<FhirPathOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fhirpath",
      "Evaluate FHIRPath expressions on a FHIR resource and print the results "
      "as JSON (exit 1 on a syntax or evaluation error)");
  cmd->add_option("EXPR", o->expression, "The FHIRPath expression");
  cmd->add_option("-i,--input", o->input,
                  "FHIR JSON or XML resource ('-' for standard input); "
                  "without it the focus is empty")
      ->type_name("FILE");
  cmd->add_option("--expressions", o->expressions,
                  "Evaluate each expression of FILE (one per line, or a JSON "
                  "array of strings); prints one JSON object per line")
      ->type_name("FILE");
  AddDefinitionOptions(cmd, &o->defs);
  return {cmd, [o] { return RunFhirPath(*o); }};
}

}  // namespace genogate::cli
