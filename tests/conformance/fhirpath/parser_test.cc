#include <gtest/gtest.h>

#include <string>

#include "conformance/fhirpath/ast.h"
#include "conformance/fhirpath/fhirpath.h"

namespace genogate::fhirpath {
namespace {

std::string P(std::string_view text) {
  Result<Expression> e = Compile(text);
  if (!e.ok()) return "ERROR " + e.error().message();
  return DebugString(e->ast());
}

std::string Err(std::string_view text) {
  Result<Expression> e = Compile(text);
  if (e.ok()) return "OK " + DebugString(e->ast());
  return e.error().message();
}

TEST(FhirPathParser, Paths) {
  EXPECT_EQ(P("Patient.name.given"), "(. (. Patient name) given)");
  EXPECT_EQ(P("name[0].given"), "(. ([] name 0) given)");
  EXPECT_EQ(P("`div`.`name with space`"), "(. div name with space)");
  EXPECT_EQ(P("name.where(use = 'official')"),
            "(where name (= use 'official'))");
  EXPECT_EQ(P("exists()"), "(exists _)");
  EXPECT_EQ(P("$this.length() > 0"), "(> (length $this) 0)");
  EXPECT_EQ(P("aggregate($total + $this, 0)"),
            "(aggregate _ (+ $total $this) 0)");
  EXPECT_EQ(P("$index"), "$index");
  // Keywords may be used as identifiers after '.' and as functions.
  EXPECT_EQ(P("a.contains('x')"), "(contains a 'x')");
  EXPECT_EQ(P("a.as(Quantity).unit"), "(. (as a Quantity) unit)");
  EXPECT_EQ(P("a.is(FHIR.Quantity)"), "(is a FHIR.Quantity)");
  EXPECT_EQ(P("a.ofType(System.String)"), "(ofType a System.String)");
  EXPECT_EQ(P("as(uri)"), "(as _ uri)");
}

TEST(FhirPathParser, Precedence) {
  EXPECT_EQ(P("1 + 2 * 3"), "(+ 1 (* 2 3))");
  EXPECT_EQ(P("(1 + 2) * 3"), "(* (+ 1 2) 3)");
  EXPECT_EQ(P("1 - 2 - 3"), "(- (- 1 2) 3)");
  EXPECT_EQ(P("6 div 4 mod 3"), "(mod (div 6 4) 3)");
  EXPECT_EQ(P("'a' & 'b' + 'c'"), "(+ (& 'a' 'b') 'c')");
  EXPECT_EQ(P("a | b = c | d"), "(= (| a b) (| c d))");
  EXPECT_EQ(P("a < b = c > d"), "(= (< a b) (> c d))");
  EXPECT_EQ(P("a = b and c ~ d"), "(and (= a b) (~ c d))");
  EXPECT_EQ(P("a in b and c contains d"), "(and (in a b) (contains c d))");
  EXPECT_EQ(P("a and b or c xor d"), "(xor (or (and a b) c) d)");
  EXPECT_EQ(P("a or b and c"), "(or a (and b c))");
  EXPECT_EQ(P("a implies b or c"), "(implies a (or b c))");
  EXPECT_EQ(P("a implies b implies c"), "(implies (implies a b) c)");
  EXPECT_EQ(P("a is Quantity and b"), "(and (is a Quantity) b)");
  EXPECT_EQ(P("a as FHIR.Quantity | b"), "(| (as a FHIR.Quantity) b)");
  EXPECT_EQ(P("a + b is Integer"), "(is (+ a b) Integer)");
  EXPECT_EQ(P("a != b !~ c"), "(!~ (!= a b) c)");
  EXPECT_EQ(P("a <= b >= c"), "(>= (<= a b) c)");
  EXPECT_EQ(P("-a.b"), "(- (. a b))");
  EXPECT_EQ(P("-2 * 3"), "(* -2 3)");
  EXPECT_EQ(P("5 - -2"), "(- 5 -2)");
  EXPECT_EQ(P("+x"), "(+ x)");
  EXPECT_EQ(P("a.b[1 + 1].c"), "(. ([] (. a b) (+ 1 1)) c)");
  EXPECT_EQ(P("a.where(b).exists() = true"), "(= (exists (where a b)) true)");
}

TEST(FhirPathParser, Literals) {
  EXPECT_EQ(P("true"), "true");
  EXPECT_EQ(P("false"), "false");
  EXPECT_EQ(P("{}"), "{}");
  EXPECT_EQ(P("42"), "42");
  EXPECT_EQ(P("-9223372036854775807"), "-9223372036854775807");
  EXPECT_EQ(P("3.14159"), "3.14159");
  EXPECT_EQ(P("1.50"), "1.50");
  EXPECT_EQ(P("@2019"), "@2019");
  EXPECT_EQ(P("@2019-02"), "@2019-02");
  EXPECT_EQ(P("@2019-02-03"), "@2019-02-03");
  EXPECT_EQ(P("@2019T"), "@2019T");
  EXPECT_EQ(P("@2019-02-03T"), "@2019-02-03T");
  EXPECT_EQ(P("@2019-02-03T10:20"), "@2019-02-03T10:20");
  EXPECT_EQ(P("@2019-02-03T10:20:30.123Z"), "@2019-02-03T10:20:30.123Z");
  EXPECT_EQ(P("@2019-02-03T10:20:30+05:30"), "@2019-02-03T10:20:30+05:30");
  EXPECT_EQ(P("@2019-02-03T10:20:30-05:00"), "@2019-02-03T10:20:30-05:00");
  EXPECT_EQ(P("@T12:00"), "@T12:00");
  EXPECT_EQ(P("@T12"), "@T12");
  EXPECT_EQ(P("@T12:00:01.5"), "@T12:00:01.500");
  EXPECT_EQ(P("@2019-02-03 - 1 day"), "(- @2019-02-03 1 day)");
  EXPECT_EQ(P("4 'mg'"), "4 'mg'");
  EXPECT_EQ(P("4.5 'mg/dL'"), "4.5 'mg/dL'");
  EXPECT_EQ(P("3 days"), "3 days");
  EXPECT_EQ(P("1 year"), "1 year");
  EXPECT_EQ(P("-3 'cm'"), "-3 'cm'");
  EXPECT_EQ(P("%ucum"), "'http://unitsofmeasure.org'");
  EXPECT_EQ(P("%sct"), "'http://snomed.info/sct'");
  EXPECT_EQ(P("%loinc"), "'http://loinc.org'");
  EXPECT_EQ(P("%vs-administrative-gender"),
            "'http://hl7.org/fhir/ValueSet/administrative-gender'");
  EXPECT_EQ(P("%'vs-observation-status'"),
            "'http://hl7.org/fhir/ValueSet/observation-status'");
  EXPECT_EQ(P("%ext-patient-birthPlace"),
            "'http://hl7.org/fhir/StructureDefinition/patient-birthPlace'");
  EXPECT_EQ(P("%resource.id"), "(. %resource id)");
  EXPECT_EQ(P("%rootResource"), "%rootResource");
  EXPECT_EQ(P("%context"), "%context");
  EXPECT_EQ(P("%myVar"), "%myVar");
  EXPECT_EQ(P("%`my var`"), "%my var");
  EXPECT_EQ(P("%a-b"), "(- %a b)");
}

TEST(FhirPathParser, StringEscapes) {
  EXPECT_EQ(P(R"('it\'s')"), "'it's'");
  EXPECT_EQ(P(R"('\"q\"')"), "'\"q\"'");
  EXPECT_EQ(P(R"('\`')"), "'`'");
  EXPECT_EQ(P(R"('a\\b\/c')"), "'a\\b/c'");
  EXPECT_EQ(P(R"('\r\n\t\f')"), "'\r\n\t\f'");
  EXPECT_EQ(P(R"('\u00e9\u0041')"),
            "'\xC3\xA9"
            "A'");
  EXPECT_EQ(P(R"('\uD83D\uDE00')"), "'\xF0\x9F\x98\x80'");
  EXPECT_EQ(P(R"(`a\`b`)"), "a`b");
  EXPECT_EQ(P("'unicode \xC3\xA9'"), "'unicode \xC3\xA9'");
}

TEST(FhirPathParser, Comments) {
  EXPECT_EQ(P("1 + // one\n 2"), "(+ 1 2)");
  EXPECT_EQ(P("1 /* inline */ + 2"), "(+ 1 2)");
  EXPECT_EQ(P("2 / 1"), "(/ 2 1)");
}

TEST(FhirPathParser, ErrorsHavePositions) {
  EXPECT_EQ(
      Err("1 +"),
      "line 1, column 4: expected an expression, found end of expression");
  EXPECT_EQ(Err("name.where(use = 'x'"),
            "line 1, column 21: expected ',' or ')', found end of expression");
  EXPECT_EQ(Err("a b"),
            "line 1, column 3: expected an operator or end of expression, "
            "found 'b'");
  EXPECT_EQ(Err("'abc"),
            "line 1, column 1: expected closing ' for the string begun here");
  EXPECT_EQ(Err("'a\\qb'"), "line 1, column 3: invalid escape sequence '\\q'");
  EXPECT_EQ(Err("name.foo()"), "line 1, column 6: unknown function 'foo'");
  EXPECT_EQ(Err("name.first(1)"),
            "line 1, column 6: function 'first' takes 0 argument(s), found 1");
  EXPECT_EQ(Err("substring()"),
            "line 1, column 1: function 'substring' takes 1 to 2 argument(s), "
            "found 0");
  EXPECT_EQ(Err("a.\n  #"), "line 2, column 3: unexpected character '#'");
  EXPECT_EQ(Err("a."),
            "line 1, column 3: expected an identifier or function after '.', "
            "found end of expression");
  EXPECT_EQ(Err("a[1"),
            "line 1, column 4: expected ']', found end of expression");
  EXPECT_EQ(Err("(1"),
            "line 1, column 3: expected ')', found end of expression");
  EXPECT_EQ(Err("{ 1 }"), "line 1, column 3: expected '}', found number 1");
  EXPECT_EQ(Err("a is 1"),
            "line 1, column 6: expected a type name, found number 1");
  EXPECT_EQ(
      Err("ofType('x')"),
      "line 1, column 8: expected a type name as the argument of 'ofType'");
  EXPECT_EQ(Err("@2019-13"),
            "line 1, column 1: invalid date/time literal: "
            "date/time @2019-13");
  EXPECT_EQ(Err("@T25:00"),
            "line 1, column 1: invalid date/time literal: "
            "time @T25:00");
  EXPECT_EQ(Err("a.``"), "line 1, column 3: expected a name inside ``");
  EXPECT_EQ(Err("$foo"), "line 1, column 1: expected $this, $index or $total");
  EXPECT_EQ(Err("99999999999999999999"),
            "line 1, column 1: integer out of range: 99999999999999999999");
  EXPECT_EQ(Err("a.matches('(')"),
            "line 1, column 11: invalid regular expression: (");
  EXPECT_EQ(Err("/* open"),
            "line 1, column 1: expected '*/' to close the comment");
  EXPECT_EQ(
      Err(""),
      "line 1, column 1: expected an expression, found end of expression");
}

TEST(FhirPathParser, Limits) {
  CompileOptions o;
  o.max_length = 10;
  Result<Expression> e = Compile("Patient.name.given", o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kLimitExceeded);

  std::string deep(1000, '(');
  deep += "1";
  deep += std::string(1000, ')');
  e = Compile(deep);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kLimitExceeded);

  std::string chain = "a";
  for (int i = 0; i < 1000; ++i) chain += ".b";
  e = Compile(chain);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kLimitExceeded);

  std::string sum = "1";
  for (int i = 0; i < 1000; ++i) sum += "+1";
  e = Compile(sum);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kLimitExceeded);

  std::string ok = "a";
  for (int i = 0; i < 100; ++i) ok += ".b";
  EXPECT_TRUE(Compile(ok).ok());
}

TEST(FhirPathParser, R4InvariantsParse) {
  const char* kExprs[] = {
      "hasValue() or (children().count() > id.count())",
      "extension.exists() != value.exists()",
      "contained.contained.empty()",
      "contained.where((('#'+id in (%resource.descendants().reference | "
      "%resource.descendants().as(canonical) | "
      "%resource.descendants().as(uri) | %resource.descendants().as(url))) or "
      "descendants().where(reference = '#').exists() or "
      "descendants().where(as(canonical) = '#').exists() or "
      "descendants().where(as(canonical) = '#').exists()).not()).trace("
      "'unmatched', id).empty()",
      "text.`div`.exists()",
      "(low.empty() or ((low.code = '%') and (low.system = %ucum))) and "
      "(high.empty() or ((high.code = '%') and (high.system = %ucum)))",
      "code.empty() or system.exists()",
      "start.hasValue().not() or end.hasValue().not() or (start <= end)",
      "value.empty() or value.toString().matches('^\\\\S+$')",
      "(component.empty() and hasMember.empty()) implies (dataAbsentReason "
      "or value)",
      "htmlChecks()",
      "entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)."
      "isDistinct()",
      "type = 'document' implies (timestamp.hasValue())",
  };
  for (const char* x : kExprs) {
    Result<Expression> e = Compile(x);
    EXPECT_TRUE(e.ok()) << x << ": " << (e.ok() ? "" : e.error().message());
  }
}

}  // namespace
}  // namespace genogate::fhirpath
