// FHIRPath (normative N1, as used by FHIR R4, with the FHIR additions):
// compile an expression once, evaluate it many times.
//
//   Result<Expression> e = Compile("name.given.first()");
//   if (!e.ok()) return e.error();          // position + what was expected
//   EvalContext ctx;
//   ctx.focus = {Item::Of(&patient_root)};
//   ctx.resource = ctx.root_resource = &patient_root;
//   ctx.schema = &schema;
//   Result<Collection> r = Evaluate(*e, ctx);
//
// Thread-safety: an Expression is immutable (its regex cache is internally
// synchronised) and may be evaluated from many threads at once, each with
// its own EvalContext. Nothing here has global mutable state.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_FHIRPATH_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_FHIRPATH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "conformance/fhirpath/item.h"
#include "fhir/element.h"

namespace genogate::fhir {
class Schema;
}

namespace genogate::fhirpath {

struct Ast;
class RegexCache;

struct CompileOptions {
  // Longer expression text fails with kLimitExceeded.
  size_t max_length = 64 * 1024;
  // Nesting of sub-expressions (parentheses, operands, arguments).
  uint32_t max_depth = 256;
};

// A compiled expression. Cheap to copy (shares the immutable AST).
class Expression {
 public:
  const std::string& text() const { return text_; }
  // The AST root (for tools and tests); never null.
  const Ast& ast() const { return *ast_; }

 private:
  friend Result<Expression> Compile(std::string_view, const CompileOptions&);
  friend class Evaluator;
  std::string text_;
  std::shared_ptr<const Ast> ast_;
  std::shared_ptr<RegexCache> regex_cache_;
};

// Parses and type-checks `text` (function names and argument counts are
// resolved here). Fails with kInvalidInput and a message
// "line L, column C: expected X, found Y" on a syntax error or an unknown
// function, kLimitExceeded when text or nesting exceed `options`.
Result<Expression> Compile(std::string_view text,
                           const CompileOptions& options = {});

// Terminology and profile services for memberOf(), subsumes(),
// subsumedBy(), conformsTo() and resolve() of references outside the
// resource. Implemented by the
// validator; every method may answer "unknown" (nullopt / null), which
// makes the FHIRPath function return empty. Must be thread-safe if the
// same instance is used from several evaluations at once.
class Services {
 public:
  virtual ~Services() = default;
  // Whether the coded item (code, Coding, CodeableConcept, or a string
  // code) is in the value set with canonical `valueset`.
  virtual std::optional<bool> MemberOf(const Item& coded,
                                       std::string_view valueset) const {
    (void)coded;
    (void)valueset;
    return std::nullopt;
  }
  // Whether `resource` conforms to the profile with canonical `profile`.
  virtual std::optional<bool> ConformsTo(const fhir::Node& resource,
                                         std::string_view profile) const {
    (void)resource;
    (void)profile;
    return std::nullopt;
  }
  // Whether the concept `general` subsumes (is an ancestor of, or is the
  // same concept as) `specific`; each a code, Coding or CodeableConcept
  // (true if any of its codings does).
  virtual std::optional<bool> Subsumes(const Item& general,
                                       const Item& specific) const {
    (void)general;
    (void)specific;
    return std::nullopt;
  }
  // A resource for a reference that is not contained and not in the
  // Bundle being evaluated; null if unknown.
  virtual const fhir::Node* Resolve(std::string_view reference) const {
    (void)reference;
    return nullptr;
  }
};

// Receives trace(name [, projection]) output.
using TraceSink =
    std::function<void(std::string_view name, const Collection& items)>;

struct EvalContext {
  // The input collection (usually one node: the element the expression is
  // about). Also %context.
  Collection focus;
  // %resource: the resource holding the focus; %rootResource: the outermost
  // resource (a Bundle, or the container of a contained resource). Null
  // makes the variable empty. resolve() searches %rootResource's contained
  // resources and, when it is a Bundle, its entries.
  const fhir::Node* resource = nullptr;
  const fhir::Node* root_resource = nullptr;
  // Caller variables, referred to as %name (without the '%').
  std::map<std::string, Collection, std::less<>> variables;
  // Used by is/as/ofType for the FHIR type hierarchy of FHIR.* types that
  // no node in the tree carries; may be null (node types then come only
  // from the tree).
  const fhir::Schema* schema = nullptr;
  const Services* services = nullptr;  // may be null
  TraceSink trace;                     // may be empty: trace output dropped
  // Evaluation budget: each AST node evaluated per input costs one step.
  // 0 = unbounded. Exceeding either fails with kLimitExceeded / kTimeout.
  uint64_t max_steps = 0;
  std::chrono::steady_clock::duration max_time{0};
  // now(), today(), timeOfDay() — fixed for an evaluation; when unset the
  // system clock at the start of Evaluate is used (in UTC).
  std::optional<DateTimeValue> now;
};

// Evaluates `expr`. Fails with kInvalidInput for a FHIRPath run-time error
// (a function applied to a collection of more than one item where one is
// required, an undefined %variable, a type mismatch in an operator),
// kLimitExceeded / kTimeout when the budget is spent.
Result<Collection> Evaluate(const Expression& expr, const EvalContext& ctx);

// Convenience: Compile + Evaluate with the focus (and %resource and
// %rootResource) set to `resource`.
Result<Collection> EvaluateOn(std::string_view expression,
                              const fhir::Node& resource,
                              const fhir::Schema* schema = nullptr);

// The collection as a JSON array: booleans, integers and decimals as JSON
// numbers/booleans, strings as strings, dates/times as their ISO text,
// quantities as {"value": n, "unit": "..."} (FHIR Quantity shape, the
// calendar keywords as the unit), primitive nodes as their JSON value and
// complex nodes as FHIR JSON objects.
std::string ToJson(const Collection& items);

// The singleton Boolean a constraint evaluates to: true/false for a single
// Boolean (or a single non-Boolean item: true), nullopt for empty; an error
// for more than one item.
Result<std::optional<bool>> ToBoolean(const Collection& items);

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_FHIRPATH_H_
