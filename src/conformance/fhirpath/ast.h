// The typed AST of a compiled FHIRPath expression (internal to the engine;
// users hold an Expression, see fhirpath.h).
//
// Thread-safety: an AST is immutable after Compile and may be read from any
// number of threads.
#ifndef GENOGATE_CONFORMANCE_FHIRPATH_AST_H_
#define GENOGATE_CONFORMANCE_FHIRPATH_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/fhirpath/item.h"

namespace re2 {
class RE2;
}

namespace genogate::fhirpath {

enum class Op : uint8_t {
  kNone,
  // unary
  kNeg,
  kPos,
  // binary, by precedence
  kMul,
  kDiv,
  kIntDiv,
  kMod,
  kAdd,
  kSub,
  kConcat,
  kIs,
  kAs,
  kUnion,
  kLt,
  kGt,
  kLe,
  kGe,
  kEq,
  kEquiv,
  kNe,
  kNotEquiv,
  kIn,
  kContains,
  kAnd,
  kOr,
  kXor,
  kImplies,
};

std::string_view OpName(Op op);

enum class Fn : uint8_t {
  kEmpty,
  kExists,
  kAll,
  kAllTrue,
  kAnyTrue,
  kAllFalse,
  kAnyFalse,
  kSubsetOf,
  kSupersetOf,
  kCount,
  kDistinct,
  kIsDistinct,
  kWhere,
  kSelect,
  kRepeat,
  kOfType,
  kSingle,
  kFirst,
  kLast,
  kTail,
  kSkip,
  kTake,
  kIntersect,
  kExclude,
  kUnion,
  kCombine,
  kIif,
  kToBoolean,
  kConvertsToBoolean,
  kToInteger,
  kConvertsToInteger,
  kToDecimal,
  kConvertsToDecimal,
  kToString,
  kConvertsToString,
  kToDate,
  kConvertsToDate,
  kToDateTime,
  kConvertsToDateTime,
  kToTime,
  kConvertsToTime,
  kToQuantity,
  kConvertsToQuantity,
  kIndexOf,
  kSubstring,
  kStartsWith,
  kEndsWith,
  kContains,
  kUpper,
  kLower,
  kReplace,
  kMatches,
  kReplaceMatches,
  kLength,
  kToChars,
  kAbs,
  kCeiling,
  kExp,
  kFloor,
  kLn,
  kLog,
  kPower,
  kRound,
  kSqrt,
  kTruncate,
  kChildren,
  kDescendants,
  kTrace,
  kNow,
  kTimeOfDay,
  kToday,
  kAggregate,
  kNot,
  kHasValue,
  kIs,
  kAs,
  // FHIR additions
  kExtension,
  kResolve,
  kGetValue,
  kConformsTo,
  kMemberOf,
  kSubsumes,
  kSubsumedBy,
  kHtmlChecks,
  kElementDefinition,
  kSlice,
  kCheckModifiers,
};

struct FunctionInfo {
  std::string_view name;
  Fn fn;
  uint8_t min_args;
  uint8_t max_args;
  // Arguments evaluated per input item with $this (where, select, ...)
  // rather than once against the expression's context.
  bool lazy_args;
  // First argument is a type specifier (ofType, is, as).
  bool type_arg;
};

// The process-wide immutable function table; null if unknown.
const FunctionInfo* FindFunction(std::string_view name);

enum class NodeKind : uint8_t {
  kLiteral,   // literal (one item)
  kEmpty,     // {}
  kMember,    // args[0]? . name  (no target: on the focus)
  kFunction,  // args[0]? . fn(args[1..])
  kIndexer,   // args[0][args[1]]
  kUnary,     // op args[0]
  kBinary,    // args[0] op args[1]
  kTypeOp,    // args[0] is|as type
  kThis,
  kIndex,
  kTotal,
  kVariable,         // %name (caller-supplied or an environment constant)
  kResourceVar,      // %resource
  kRootResourceVar,  // %rootResource
  kContextVar,       // %context
};

struct TypeSpec {
  std::string ns;    // "FHIR", "System" or "" (unqualified)
  std::string name;  // "Quantity", "string", "Patient"
};

struct Ast {
  NodeKind kind;
  Op op = Op::kNone;
  const FunctionInfo* fn = nullptr;
  uint32_t pos = 0;    // 0-based offset in the expression text
  uint32_t depth = 1;  // height of this subtree
  // The value does not depend on the focus, $this, $index or $total (only
  // on literals and %variables), so one evaluation may compute it once and
  // reuse it (e.g. `%resource.type` inside `entry.all(...)`). Set by Compile.
  bool context_free = false;
  // Member / variable name; for a member, also a choice-type form helper.
  std::string name;
  // Literal value.
  Item literal;
  TypeSpec type;  // kTypeOp, and functions with type_arg
  // kMember/kFunction: args[0] is the target (may be null: the focus).
  std::vector<std::unique_ptr<Ast>> args;
  // matches/replaceMatches with a literal pattern: compiled once.
  std::shared_ptr<const re2::RE2> regex;
};

// A compact S-expression of the AST, for tests and debugging:
// "(+ 1 (* 2 3))", "(. (. Patient name) given)", "(where name (= $this 'x'))".
std::string DebugString(const Ast& ast);

}  // namespace genogate::fhirpath

#endif  // GENOGATE_CONFORMANCE_FHIRPATH_AST_H_
