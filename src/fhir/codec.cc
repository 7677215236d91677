#include "fhir/codec.h"

namespace genogate::fhir {

std::string_view FormatName(Format f) {
  return f == Format::kJson ? "json" : "xml";
}

Result<Format> DetectFormat(std::string_view text) {
  size_t i = 0;
  // A UTF-8 byte order mark is tolerated.
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB &&
      static_cast<unsigned char>(text[2]) == 0xBF) {
    i = 3;
  }
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' ||
                             text[i] == '\r' || text[i] == '\n')) {
    ++i;
  }
  if (i == text.size())
    return Error(ErrorCode::kInvalidInput, "the input is empty");
  if (text[i] == '{') return Format::kJson;
  if (text[i] == '<') return Format::kXml;
  return Error(ErrorCode::kInvalidInput,
               "the input is neither FHIR JSON (starts with '{') nor FHIR XML "
               "(starts with '<')");
}

Result<Document> ParseResource(std::string_view text, const Schema& schema,
                               const ParseOptions& options) {
  Result<Format> f = DetectFormat(text);
  if (!f.ok()) return f.error();
  if (*f == Format::kJson) return ParseJson(text, &schema, options);
  return ParseXml(text, schema, options);
}

Result<std::string> Write(const Node& resource, Format format,
                          const WriteOptions& options) {
  return format == Format::kJson ? WriteJson(resource, options)
                                 : WriteXml(resource, options);
}

}  // namespace genogate::fhir
