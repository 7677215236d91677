// Internal: a StructureDefinition snapshot compiled into a validation plan.
// A plan is built once per profile and never changes afterwards; it points
// into the PackageSet's parsed JSON (which lives as long as the set).
#ifndef GENOGATE_CONFORMANCE_VALIDATOR_PLAN_H_
#define GENOGATE_CONFORMANCE_VALIDATOR_PLAN_H_

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/issue.h"
#include "conformance/fhirpath/fhirpath.h"
#include "fhir/package.h"

namespace genogate::conformance::internal {

struct TypeRef {
  std::string code;  // "CodeableConcept", "Reference", "Extension"
  std::vector<std::string> profiles;
  std::vector<std::string> target_profiles;
};

struct Discriminator {
  enum class Kind { kValue, kPattern, kType, kProfile, kExists };
  Kind kind = Kind::kValue;
  std::string path;
  // Null for "$this".
  std::shared_ptr<const fhirpath::Expression> expr;
  // When the path is a plain dot path of element names ("code",
  // "coding.system"), its steps: the validator then walks the children
  // itself instead of evaluating `expr`. Empty otherwise.
  std::vector<std::string> steps;
};

struct Slicing {
  enum class Rules { kOpen, kClosed, kOpenAtEnd };
  std::vector<Discriminator> discriminators;
  Rules rules = Rules::kOpen;
  bool ordered = false;
};

struct Constraint {
  std::string key;
  // The same pointer for every constraint with this key in every plan.
  const std::string* key_id = nullptr;
  Severity severity = Severity::kError;
  std::string human;
  std::string expression;
  // Null: not compiled. Shared by every plan with the same expression text,
  // so the pointer identifies the expression across plans.
  std::shared_ptr<const fhirpath::Expression> expr;
  std::string compile_error;
  // False when the result may depend on the depth of profile checks
  // (conformsTo()), so it must not be reused across nested checks.
  bool cacheable = true;
  // Worth remembering across nested checks: walks a whole subtree
  // (descendants(), htmlChecks(), resolve()). Cheap ones are re-evaluated,
  // which costs less than the cache look-up.
  bool expensive = false;
  // Invariants the validator checks in C++ rather than through FHIRPath:
  // ele-1 and ext-1 (everywhere), and R4's bdl-7 and csd-1, an isDistinct()
  // over every entry or concept (only when the expression is R4's, word for
  // word; FHIRPath remains the fallback for unusual input).
  enum class Native {
    kNone,
    kEle1,
    kExt1,
    kBdl7,
    kCsd1
  } native = Native::kNone;
};

struct ElemDef {
  std::string id;
  std::string path;
  std::string name;  // last path segment without [x]
  std::string slice_name;
  bool is_choice = false;
  uint32_t min = 0;
  uint32_t max = 0xffffffff;
  std::vector<TypeRef> types;
  const fhir::JsonValue* fixed = nullptr;
  const fhir::JsonValue* pattern = nullptr;
  std::string binding_strength;
  std::string binding_vs;
  int max_length = 0;
  std::vector<Constraint> constraints;
  std::optional<Slicing> slicing;
  std::vector<const ElemDef*> children;  // not slices, in order
  std::vector<const ElemDef*> slices;    // when sliced
  const ElemDef* slice_owner = nullptr;  // for a slice
  // For a slice: per discriminator of the owner's slicing, the element at
  // the discriminator's path inside this slice (null if not found), and for
  // "url" paths of extension slices the URL implied by the type profile.
  std::vector<const ElemDef*> disc_targets;
  std::vector<std::string> disc_urls;
};

struct Plan {
  std::string url;
  std::string name;
  std::string type;        // StructureDefinition.type
  std::string kind;        // resource, complex-type, primitive-type
  std::string derivation;  // specialization | constraint
  std::vector<std::unique_ptr<ElemDef>> elems;
  const ElemDef* root = nullptr;
  // The first element with children that is not a slice, by path: the targets
  // of contentReference ("#Questionnaire.item").
  std::unordered_map<std::string, const ElemDef*> by_path;
  // For primitive types: the value regex (null if none or not RE2).
  std::unique_ptr<re2::RE2> regex;
  // For extensions: the contexts.
  struct Context {
    std::string type;  // element | extension | fhirpath
    std::string expression;
  };
  std::vector<Context> contexts;
  bool is_extension = false;
};

// Compiles `sd` (a StructureDefinition with a snapshot). Fails with
// kInvalidInput when there is no snapshot.
Result<std::unique_ptr<Plan>> CompilePlan(const fhir::JsonValue& sd);

}  // namespace genogate::conformance::internal

#endif  // GENOGATE_CONFORMANCE_VALIDATOR_PLAN_H_
