// FHIR JSON and XML codecs over the element model.
//
// Parsing is lenient about the *content* and strict about the *syntax*:
// a document that is not well-formed JSON/XML, or exceeds a limit, gives an
// Error; a well-formed document with unknown elements, wrong JSON types or a
// misaligned `_element` gives a tree plus Issues (structure findings with
// location and line/column), so a validator can report them all at once.
//
// Untrusted input: sizes, depth and string lengths are bounded; XML DTDs
// (and so entity expansion and external entities) are refused, and libxml2
// never touches the network.
//
// Thread-safety: all functions are reentrant; the Schema may be shared.
#ifndef GENOGATE_FHIR_CODEC_H_
#define GENOGATE_FHIR_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/issue.h"
#include "base/result.h"
#include "fhir/element.h"

namespace genogate::fhir {

class Schema;

struct ParseOptions {
  // Whole document; larger input fails with kLimitExceeded.
  size_t max_bytes = size_t{256} << 20;
  // Nesting of JSON objects/arrays or XML elements.
  uint32_t max_depth = 128;
  // One string value (JSON string, XML attribute or text).
  size_t max_string_bytes = size_t{32} << 20;
};

// A parsed resource and the structural findings about it.
struct Document {
  Node root;
  IssueList issues;
};

enum class Format { kJson, kXml };

// "json" / "xml".
std::string_view FormatName(Format f);
// Looks at the first non-blank byte: '<' is XML, '{' is JSON. kInvalidInput
// for anything else.
Result<Format> DetectFormat(std::string_view text);

// Parses FHIR JSON. `schema` types the tree; with null every node is untyped.
Result<Document> ParseJson(std::string_view text, const Schema* schema,
                           const ParseOptions& options = {});

// Parses FHIR XML (namespace http://hl7.org/fhir). `schema` is required:
// XML alone does not say which elements repeat or how values are typed.
Result<Document> ParseXml(std::string_view text, const Schema& schema,
                          const ParseOptions& options = {});

// Parses either, by DetectFormat.
Result<Document> ParseResource(std::string_view text, const Schema& schema,
                               const ParseOptions& options = {});

struct WriteOptions {
  bool pretty = false;
};

// Writes FHIR JSON. Fails with kInvalidInput if a value cannot be written
// as its JSON type (a decimal whose text is not a JSON number).
Result<std::string> WriteJson(const Node& resource,
                              const WriteOptions& options = {});

// Writes FHIR XML, children in definition order. Fails with kInvalidInput
// for an unknown (untyped) element, which XML cannot place, or XHTML that is
// not well-formed.
Result<std::string> WriteXml(const Node& resource,
                             const WriteOptions& options = {});

// True if `text` is a JSON number (RFC 8259), i.e. a valid FHIR JSON
// decimal/integer text as written.
bool IsJsonNumber(std::string_view text);

Result<std::string> Write(const Node& resource, Format format,
                          const WriteOptions& options = {});

}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_CODEC_H_
