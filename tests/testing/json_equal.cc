#include "testing/json_equal.h"

#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace genogate::testing {
namespace {

// Builds a DOM in which numbers are strings tagged with a \x01 prefix.
struct Canon : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Canon> {
  explicit Canon(rapidjson::Document& d) : doc(d) {}
  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    std::string t = "\x01" + std::string(s, n);
    return doc.String(t.data(), static_cast<rapidjson::SizeType>(t.size()),
                      true);
  }
  bool String(const char* s, rapidjson::SizeType n, bool c) {
    return doc.String(s, n, c);
  }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool c) {
    return doc.Key(s, n, c);
  }
  bool EndObject(rapidjson::SizeType n) { return doc.EndObject(n); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc.EndArray(n); }
  rapidjson::Document& doc;
};

bool Parse(std::string_view text, rapidjson::Document& d) {
  std::string buf(text);
  rapidjson::StringStream ss(buf.c_str());
  rapidjson::Reader reader;
  Canon h(d);
  return !reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(ss, h).IsError();
}

std::string Show(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  std::string s = b.GetString();
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

std::string Diff(const rapidjson::Value& a, const rapidjson::Value& b,
                 const std::string& path) {
  if (a.GetType() != b.GetType()) {
    return path + ": expected " + Show(a) + " but got " + Show(b);
  }
  if (a.IsObject()) {
    for (auto it = a.MemberBegin(); it != a.MemberEnd(); ++it) {
      auto jt = b.FindMember(it->name);
      std::string p = path + "." + it->name.GetString();
      if (jt == b.MemberEnd()) return p + ": missing";
      std::string d = Diff(it->value, jt->value, p);
      if (!d.empty()) return d;
    }
    for (auto jt = b.MemberBegin(); jt != b.MemberEnd(); ++jt) {
      if (!a.HasMember(jt->name))
        return path + "." + jt->name.GetString() + ": unexpected";
    }
    if (a.MemberCount() != b.MemberCount())
      return path + ": member count differs";
    return "";
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) {
      return path + ": expected " + std::to_string(a.Size()) +
             " items but got " + std::to_string(b.Size());
    }
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      std::string d = Diff(a[i], b[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  if (a != b) return path + ": expected " + Show(a) + " but got " + Show(b);
  return "";
}

}  // namespace

std::string JsonDifference(std::string_view expected, std::string_view actual) {
  rapidjson::Document a, b;
  if (!Parse(expected, a)) return "expected text is not JSON";
  if (!Parse(actual, b)) return "actual text is not JSON";
  return Diff(a, b, "$");
}

}  // namespace genogate::testing
