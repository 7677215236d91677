// The JSON and XML readers on small, hand-written inputs: typing, exact
// decimals, primitive extensions, contained resources, and every kind of
// malformed or hostile input giving a clear error or issue.
#include "fhir/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fhir/package.h"
#include "fhir/schema.h"
#include "testing/json_equal.h"
#include "testing/schema_test.h"
#include "testing/test_env.h"

namespace genogate::fhir {
namespace {

using ::testing::HasSubstr;

class CodecTest : public genogate::testing::SchemaTest {
 protected:
  static Document MustParseJson(const std::string& text) {
    Result<Document> d = ParseJson(text, schema_);
    EXPECT_TRUE(d.ok()) << d.error().message();
    return d.ok() ? std::move(d).value() : Document{};
  }
  static std::string IssueText(const Document& d) { return d.issues.ToText(); }
};

TEST_F(CodecTest, TypesChoiceElementsAndKeepsDecimalText) {
  Document d = MustParseJson(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"x"},"valueQuantity":{"value":1.500,"unit":"mg"}})");
  ASSERT_TRUE(d.issues.empty()) << IssueText(d);
  const Node* v = d.root.Child("value");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->type_name(), "Quantity");
  EXPECT_EQ(v->json_name(), "valueQuantity");
  const Node* num = v->Child("value");
  ASSERT_NE(num, nullptr);
  EXPECT_EQ(num->value(), "1.500");
  EXPECT_EQ(num->json_kind(), JsonKind::kNumber);
  EXPECT_EQ(num->type_name(), "decimal");
  EXPECT_EQ(d.root.type_name(), "Observation");
  EXPECT_TRUE(d.root.type()->IsA("DomainResource"));
}

TEST_F(CodecTest, MergesPrimitiveExtensionsAndNulls) {
  const std::string text = R"({"resourceType":"Patient",
    "name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://x","valueString":"B"}]},{"id":"g3"}]}],
    "birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://t","valueDateTime":"1970-01-01T10:00:00Z"}]}})";
  Document d = MustParseJson(text);
  ASSERT_TRUE(d.issues.empty()) << IssueText(d);
  std::vector<const Node*> given = d.root.Child("name")->Children("given");
  ASSERT_EQ(given.size(), 3u);
  EXPECT_TRUE(given[0]->has_value());
  EXPECT_FALSE(given[1]->has_value());
  ASSERT_NE(given[1]->Child("extension"), nullptr);
  EXPECT_EQ(given[2]->ChildValue("id"), "g3");
  EXPECT_NE(d.root.Child("birthDate")->Child("extension"), nullptr);
  // And it writes back the same document, as JSON and through XML.
  Result<std::string> json = WriteJson(d.root);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(genogate::testing::JsonDifference(text, *json), "");
  Result<std::string> xml = WriteXml(d.root);
  ASSERT_TRUE(xml.ok()) << xml.error().message();
  EXPECT_THAT(*xml, HasSubstr(R"(<given id="g3" value="C"/>)"));
  Result<Document> back = ParseXml(*xml, *schema_);
  ASSERT_TRUE(back.ok()) << back.error().message();
  Result<std::string> json2 = WriteJson(back->root);
  ASSERT_TRUE(json2.ok());
  EXPECT_EQ(genogate::testing::JsonDifference(text, *json2), "");
}

TEST_F(CodecTest, ContainedResourcesAndResourceTypeAnywhere) {
  Document d =
      MustParseJson(R"({"id":"o1","resourceType":"Observation","status":"final",
    "code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p"}],
    "subject":{"reference":"#p"}})");
  ASSERT_TRUE(d.issues.empty()) << IssueText(d);
  const Node* c = d.root.Child("contained");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->is_resource());
  EXPECT_EQ(c->type_name(), "Patient");
  Result<std::string> xml = WriteXml(d.root);
  ASSERT_TRUE(xml.ok());
  EXPECT_THAT(
      *xml,
      HasSubstr("<contained><Patient><id value=\"p\"/></Patient></contained>"));
}

TEST_F(CodecTest, XmlOrderFollowsTheDefinition) {
  Document d =
      MustParseJson(R"({"resourceType":"Patient","gender":"male","id":"x",
    "active":true,"name":[{"family":"F"}]})");
  Result<std::string> xml = WriteXml(d.root);
  ASSERT_TRUE(xml.ok());
  size_t id = xml->find("<id "), active = xml->find("<active "),
         name = xml->find("<name>"), gender = xml->find("<gender ");
  EXPECT_LT(id, active);
  EXPECT_LT(active, name);
  EXPECT_LT(name, gender);
}

TEST_F(CodecTest, StructureIssuesHaveLocationsAndLines) {
  Document d = MustParseJson(
      "{\"resourceType\":\"Patient\",\n"
      " \"name\":{\"family\":\"F\"},\n"
      " \"gender\":5,\n"
      " \"foo\":\"bar\",\n"
      " \"birthDate\":[\"2000\"]}");
  std::string t = IssueText(d);
  EXPECT_THAT(t, HasSubstr("[expected-array] Patient.name[0] (line 2, col 2)"));
  EXPECT_THAT(t, HasSubstr("[wrong-json-type] Patient.gender (line 3, col 2)"));
  EXPECT_THAT(t, HasSubstr("[unknown-element] Patient.foo (line 4, col 2)"));
  EXPECT_THAT(
      t, HasSubstr("[unexpected-array] Patient.birthDate (line 5, col 15)"));
  EXPECT_EQ(d.issues.size(), 4u) << t;
}

TEST_F(CodecTest, JsonStructureProblems) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {R"({"resourceType":"Patient","active":true,"active":false})",
       "[duplicate-key] Patient.active"},
      {R"({"resourceType":"Patient","name":[]})", "[empty-array]"},
      {R"({"resourceType":"Patient","name":[{}]})",
       "[empty-object] Patient.name[0]"},
      {R"({"resourceType":"Patient","gender":null})",
       "[null-value] Patient.gender"},
      {R"({"resourceType":"Patient","name":[{"given":["a",null]}]})",
       "[null-value] Patient.name[0].given[1]"},
      {R"({"resourceType":"Patient","name":[{"given":["a"],"_given":[{"id":"1"},{"id":"2"}]}]})",
       "[underscore-alignment] Patient.name[0].given"},
      {R"({"resourceType":"Nonsense"})", "[unknown-resource-type]"},
      {R"({"id":"x"})", "[missing-resource-type]"},
      {R"({"resourceType":"Patient","name":[[{"family":"x"}]]})",
       "[nested-array]"},
      {R"({"resourceType":"Patient","active":"true"})", "[wrong-json-type]"},
      {R"({"resourceType":"Patient","multipleBirthFoo":1})",
       "[unknown-element]"},
      {R"({"resourceType":"Patient","text":{"status":"generated","div":{"a":1}}})",
       "[expected-primitive]"},
      {R"({"resourceType":"Patient","name":[{"family":"F","period":"2020"}]})",
       "[expected-object]"},
  };
  for (const Case& c : cases) {
    Result<Document> d = ParseJson(c.text, schema_);
    ASSERT_TRUE(d.ok()) << c.text;
    EXPECT_THAT(IssueText(*d), HasSubstr(c.expected)) << c.text;
  }
}

TEST_F(CodecTest, MalformedJsonGivesLineAndColumn) {
  struct Case {
    std::string text;
    const char* expected;
  } cases[] = {
      {"{\"resourceType\":\"Patient\",\n\"active\":tru}", "line 2, column"},
      {"{\"resourceType\":\"Patient\"",
       "JSON syntax error at line 1, column 26"},
      {"{\"resourceType\":\"Patient\"}}", "JSON syntax error"},
      {"[1,2]", "must be a JSON object"},
      {"\"x\"", "must be a JSON object"},
      {"", "JSON syntax error"},
      {std::string("{\"resourceType\":\"Pa\xff\"}"), "invalid UTF-8"},
      {std::string("{\"resourceType\":\"Patient\"}\0x", 28), "NUL"},
  };
  for (const Case& c : cases) {
    Result<Document> d = ParseJson(c.text, schema_);
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidInput);
    EXPECT_THAT(d.error().message(), HasSubstr(c.expected)) << c.text;
  }
}

TEST_F(CodecTest, JsonLimits) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 10000; ++i) deep += "}";
  Result<Document> d = ParseJson(deep, schema_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(d.error().message(),
              HasSubstr("nesting deeper than the limit of 128"));

  std::string arrays(10000, '[');
  d = ParseJson(arrays, schema_);
  ASSERT_FALSE(d.ok());

  std::string big = "{\"resourceType\":\"Patient\",\"id\":\"" +
                    std::string(100 << 20, 'a') + "\"}";
  d = ParseJson(big, schema_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(d.error().message(), HasSubstr("longer than the limit"));

  ParseOptions small;
  small.max_bytes = 10;
  d = ParseJson("{\"resourceType\":\"Patient\"}", schema_, small);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kLimitExceeded);
}

TEST_F(CodecTest, XmlRefusesDoctypesEntitiesAndExternalReferences) {
  const char* billion_laughs = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol3;"/></Patient>)";
  const char* xxe = R"(<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>)";
  const char* external_dtd = R"(<?xml version="1.0"?>
<!DOCTYPE Patient SYSTEM "http://127.0.0.1:9/evil.dtd">
<Patient xmlns="http://hl7.org/fhir"/>)";
  const char* undefined_entity =
      R"(<Patient xmlns="http://hl7.org/fhir"><id value="&nbsp;"/></Patient>)";
  for (const char* text : {billion_laughs, xxe, external_dtd}) {
    Result<Document> d = ParseXml(text, *schema_);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_THAT(d.error().message(),
                HasSubstr("DOCTYPE declarations are not allowed"));
  }
  Result<Document> d = ParseXml(undefined_entity, *schema_);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().message(), HasSubstr("nbsp"));
}

TEST_F(CodecTest, XmlStructureAndSyntaxProblems) {
  Result<Document> d = ParseXml(
      "<Patient xmlns=\"http://hl7.org/fhir\">\n  <gender value=\"male\"/>\n  "
      "<foo value=\"x\"/>\n  <active value=\"yes\"/>\n  "
      "<id>text</id>\n</Patient>",
      *schema_);
  ASSERT_TRUE(d.ok()) << d.error().message();
  std::string t = IssueText(*d);
  EXPECT_THAT(t, HasSubstr("[unknown-element] Patient.foo (line 3, col 3)"));
  EXPECT_THAT(t, HasSubstr("[invalid-primitive] Patient.active (line 4, col "
                           "3): 'yes' is not a valid boolean"));
  EXPECT_THAT(t, HasSubstr("[text-content]"));

  struct Case {
    const char* text;
    const char* expected;
  } bad[] = {
      {"<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/>",
       "XML syntax error at line 1"},
      {"<Patient><id value=\"x\"/></Patient>", "not in the FHIR namespace"},
      {"<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"x\"></Patient>",
       "XML syntax error"},
      {"<Patient xmlns=\"http://hl7.org/fhir\" a=\"1\" a=\"2\"/>",
       "XML syntax error"},
      {"not xml", "XML syntax error"},
  };
  for (const Case& c : bad) {
    Result<Document> r = ParseXml(c.text, *schema_);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.error().message(), HasSubstr(c.expected)) << c.text;
  }
}

TEST_F(CodecTest, XmlLimits) {
  std::string deep = "<Patient xmlns=\"http://hl7.org/fhir\">";
  for (int i = 0; i < 10000; ++i) deep += "<extension>";
  for (int i = 0; i < 10000; ++i) deep += "</extension>";
  deep += "</Patient>";
  Result<Document> d = ParseXml(deep, *schema_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kLimitExceeded);

  std::string big = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"" +
                    std::string(100 << 20, 'a') + "\"/></Patient>";
  d = ParseXml(big, *schema_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kLimitExceeded);
}

TEST_F(CodecTest, NarrativeIsKeptVerbatim) {
  const std::string div =
      "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p class='a'>x &amp; y "
      "&#160;<br/></p></div>";
  std::string xml =
      "<Patient xmlns=\"http://hl7.org/fhir\"><text><status "
      "value=\"generated\"/>" +
      div + "</text></Patient>";
  Result<Document> d = ParseXml(xml, *schema_);
  ASSERT_TRUE(d.ok()) << d.error().message();
  ASSERT_TRUE(d->issues.empty()) << IssueText(*d);
  EXPECT_EQ(d->root.Child("text")->ChildValue("div"), div);
  // Malformed narrative cannot be written as XML.
  Document j =
      MustParseJson(R"({"resourceType":"Patient","text":{"status":"generated",
     "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>unclosed</div>"}})");
  Result<std::string> out = WriteXml(j.root);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message(), HasSubstr("not well-formed XHTML"));
}

TEST_F(CodecTest, WritersRefuseWhatTheyCannotRepresent) {
  Document d = MustParseJson(R"({"resourceType":"Patient","foo":1})");
  Result<std::string> xml = WriteXml(d.root);
  ASSERT_FALSE(xml.ok());
  EXPECT_THAT(xml.error().message(), HasSubstr("'foo'"));
  Result<Document> x = ParseXml(
      "<Patient xmlns=\"http://hl7.org/fhir\"><multipleBirthInteger "
      "value=\"1x\"/></Patient>",
      *schema_);
  ASSERT_TRUE(x.ok());
  EXPECT_THAT(IssueText(*x), HasSubstr("'1x' is not a valid integer"));
}

TEST_F(CodecTest, DetectFormat) {
  EXPECT_EQ(*DetectFormat("  {\"a\":1}"), Format::kJson);
  EXPECT_EQ(*DetectFormat("\xEF\xBB\xBF<x/>"), Format::kXml);
  EXPECT_FALSE(DetectFormat("MSH|^~\\&").ok());
  EXPECT_FALSE(DetectFormat("   ").ok());
}

}  // namespace
}  // namespace genogate::fhir
