#include "gateway/security/provenance.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "gateway/security/audit.h"

namespace genogate::gateway {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

Value S(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

Value CodingConcept(std::string_view system, std::string_view code,
                    std::string_view display, Alloc& a) {
  Value coding(rapidjson::kObjectType);
  coding.AddMember("system", S(system, a), a);
  coding.AddMember("code", S(code, a), a);
  coding.AddMember("display", S(display, a), a);
  Value codings(rapidjson::kArrayType);
  codings.PushBack(coding, a);
  Value cc(rapidjson::kObjectType);
  cc.AddMember("coding", codings, a);
  return cc;
}

Value IdentifierRef(std::string_view system, std::string_view value,
                    std::string_view display, Alloc& a) {
  Value id(rapidjson::kObjectType);
  id.AddMember("system", S(system, a), a);
  id.AddMember("value", S(value, a), a);
  Value ref(rapidjson::kObjectType);
  ref.AddMember("identifier", id, a);
  if (!display.empty()) ref.AddMember("display", S(display, a), a);
  return ref;
}

Result<rapidjson::Document> ParseBundle(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Error(ErrorCode::kInvalidInput, "not a JSON Bundle");
  }
  // Const iterators only: clang (C++20) refuses to compare RapidJSON's
  // mutable member iterators.
  const Value& cdoc = doc;
  auto rt = cdoc.FindMember("resourceType");
  if (rt == cdoc.MemberEnd() || !rt->value.IsString() ||
      std::string_view(rt->value.GetString()) != "Bundle") {
    return Error(ErrorCode::kInvalidInput, "not a JSON Bundle");
  }
  return doc;
}

// Builds the Provenance into `doc`'s allocator.
Result<Value> Build(const rapidjson::Document& bundle,
                    const ProvenanceInfo& info, Alloc& a) {
  if (info.lab.empty()) {
    return Error(ErrorCode::kInvalidInput, "Provenance needs the lab id");
  }
  Value targets(rapidjson::kArrayType);
  auto entries = bundle.FindMember("entry");
  if (entries != bundle.MemberEnd() && entries->value.IsArray()) {
    for (const Value& e : entries->value.GetArray()) {
      if (!e.IsObject()) continue;
      auto fu = e.FindMember("fullUrl");
      if (fu == e.MemberEnd() || !fu->value.IsString() ||
          fu->value.GetStringLength() == 0 || !e.HasMember("resource")) {
        continue;
      }
      Value ref(rapidjson::kObjectType);
      ref.AddMember("reference", Value(fu->value, a), a);
      targets.PushBack(ref, a);
    }
  }
  if (targets.Empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "the Bundle has no entry with a fullUrl to attribute");
  }
  Value p(rapidjson::kObjectType);
  p.AddMember("resourceType", "Provenance", a);
  p.AddMember("target", targets, a);
  p.AddMember("recorded", S(FormatInstant(info.recorded), a), a);
  p.AddMember(
      "activity",
      CodingConcept("http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "CREATE", "create", a),
      a);
  Value agents(rapidjson::kArrayType);
  {
    Value author(rapidjson::kObjectType);
    author.AddMember(
        "type",
        CodingConcept(
            "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
            "author", "Author", a),
        a);
    author.AddMember(
        "who", IdentifierRef("urn:genogate:lab", info.lab, info.lab_display, a),
        a);
    agents.PushBack(author, a);
  }
  {
    Value gg(rapidjson::kObjectType);
    gg.AddMember(
        "type",
        CodingConcept(
            "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
            "assembler", "Assembler", a),
        a);
    Value role(rapidjson::kObjectType);
    role.AddMember("text", "transmitter", a);
    Value roles(rapidjson::kArrayType);
    roles.PushBack(role, a);
    gg.AddMember("role", roles, a);
    gg.AddMember(
        "who", IdentifierRef("urn:genogate", "genogate", info.software, a), a);
    gg.AddMember(
        "onBehalfOf",
        IdentifierRef("urn:genogate:lab", info.lab, info.lab_display, a), a);
    agents.PushBack(gg, a);
  }
  p.AddMember("agent", agents, a);
  if (!info.submission_id.empty()) {
    Value entity(rapidjson::kObjectType);
    entity.AddMember("role", "source", a);
    entity.AddMember(
        "what",
        IdentifierRef("urn:genogate:submission", info.submission_id, "", a), a);
    Value entities(rapidjson::kArrayType);
    entities.PushBack(entity, a);
    p.AddMember("entity", entities, a);
  }
  return p;
}

std::string Write(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

Result<std::string> BuildProvenanceJson(std::string_view bundle_json,
                                        const ProvenanceInfo& info) {
  Result<rapidjson::Document> doc = ParseBundle(bundle_json);
  if (!doc.ok()) return doc.error();
  Result<Value> p = Build(*doc, info, doc->GetAllocator());
  if (!p.ok()) return p.error();
  return Write(*p);
}

Result<std::string> AddProvenance(std::string_view bundle_json,
                                  const ProvenanceInfo& info) {
  Result<rapidjson::Document> parsed = ParseBundle(bundle_json);
  if (!parsed.ok()) return parsed.error();
  rapidjson::Document& doc = *parsed;
  Alloc& a = doc.GetAllocator();
  const Value& cdoc = doc;
  auto type = cdoc.FindMember("type");
  std::string_view t = type != cdoc.MemberEnd() && type->value.IsString()
                           ? std::string_view(type->value.GetString())
                           : std::string_view();
  if (t != "transaction" && t != "batch") {
    return Error(ErrorCode::kInvalidInput,
                 "Provenance is added to transaction or batch Bundles only");
  }
  Result<Value> p = Build(doc, info, a);
  if (!p.ok()) return p.error();
  std::string full_url = info.full_url;
  if (full_url.empty()) full_url = "urn:uuid:" + RandomIdGenerator().NewId();
  Value entry(rapidjson::kObjectType);
  entry.AddMember("fullUrl", S(full_url, a), a);
  entry.AddMember("resource", std::move(p).value(), a);
  Value request(rapidjson::kObjectType);
  request.AddMember("method", "POST", a);
  request.AddMember("url", "Provenance", a);
  entry.AddMember("request", request, a);
  if (!doc.HasMember("entry")) {
    doc.AddMember("entry", Value(rapidjson::kArrayType), a);
  }
  Value& entries = doc["entry"];
  if (!entries.IsArray()) {
    return Error(ErrorCode::kInvalidInput, "Bundle.entry is not an array");
  }
  entries.PushBack(entry, a);
  return Write(doc);
}

}  // namespace genogate::gateway
