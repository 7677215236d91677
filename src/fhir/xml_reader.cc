// FHIR XML -> element model with libxml2's SAX2 interface: an untyped tree
// (value/id/url attributes become values and children; narrative XHTML is
// kept as its exact source text), then the typing pass.
//
// Security: DOCTYPE declarations are refused outright, so there are no
// entity definitions to expand (billion laughs) or fetch (XXE); the parser
// runs with XML_PARSE_NONET and never loads external subsets.
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <cstring>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/internal/typing.h"
#include "fhir/schema.h"

namespace genogate::fhir {
namespace {

constexpr char kFhirNs[] = "http://hl7.org/fhir";
constexpr char kXhtmlNs[] = "http://www.w3.org/1999/xhtml";

struct State {
  std::string_view text;
  xmlParserCtxtPtr ctxt = nullptr;
  const ParseOptions* options = nullptr;
  Document* doc = nullptr;
  internal::LineCounter* lines = nullptr;
  std::vector<Node*> stack;
  uint32_t depth = 0;
  // Inside narrative XHTML: nesting depth and where it started.
  int xhtml_depth = 0;
  size_t xhtml_start = 0;
  Node* xhtml_node = nullptr;
  bool root_seen = false;
  std::string error;
  ErrorCode error_code = ErrorCode::kInvalidInput;
};

size_t Offset(State* s) {
  xmlParserInputPtr in = s->ctxt->input;
  return static_cast<size_t>(in->consumed) +
         static_cast<size_t>(in->cur - in->base);
}

void Stop(State* s, ErrorCode code, std::string msg) {
  if (s->error.empty()) {
    s->error = std::move(msg);
    s->error_code = code;
  }
  xmlStopParser(s->ctxt);
}

void AddIssue(State* s, const Node* at, size_t offset, const char* code,
              std::string msg) {
  Issue i;
  i.severity = Severity::kError;
  i.type = "structure";
  i.code = code;
  i.message = std::move(msg);
  if (at) {
    i.line = at->line();
    i.column = at->column();
  } else {
    s->lines->At(offset, &i.line, &i.column);
  }
  s->doc->issues.Add(std::move(i));
}

// The start of the tag whose end the parser is at: the last '<' before it
// ('<' cannot appear literally inside attribute values).
size_t TagStart(State* s, size_t cur) {
  size_t p = std::min(cur, s->text.size());
  while (p > 0 && s->text[p - 1] != '<') --p;
  return p > 0 ? p - 1 : 0;
}

void OnStart(void* ctx, const xmlChar* localname, const xmlChar*,
             const xmlChar* uri, int, const xmlChar**, int nb_attributes, int,
             const xmlChar** attributes) {
  State* s = static_cast<State*>(ctx);
  if (!s->error.empty()) return;
  if (s->xhtml_depth > 0) {
    ++s->xhtml_depth;
    return;
  }
  if (++s->depth > s->options->max_depth) {
    Stop(s, ErrorCode::kLimitExceeded,
         "nesting deeper than the limit of " +
             std::to_string(s->options->max_depth) + " levels");
    return;
  }
  const char* name = reinterpret_cast<const char*>(localname);
  const char* ns = uri ? reinterpret_cast<const char*>(uri) : "";
  size_t start = TagStart(s, Offset(s));

  if (s->stack.empty()) {
    if (s->root_seen) {
      Stop(s, ErrorCode::kInvalidInput, "more than one root element");
      return;
    }
    s->root_seen = true;
    if (std::strcmp(ns, kFhirNs) != 0) {
      Stop(s, ErrorCode::kInvalidInput,
           std::string("the root element <") + name +
               "> is not in the FHIR namespace " + kFhirNs);
      return;
    }
    Node& root = s->doc->root;
    root.set_name(name);
    root.set_resource(true);
    root.set_resource_type(name);
    uint32_t line, col;
    s->lines->At(start, &line, &col);
    root.set_position(line, col);
    s->stack.push_back(&root);
    for (int i = 0; i < nb_attributes; ++i) {
      const xmlChar** a = attributes + i * 5;
      if (a[2] == nullptr) {
        AddIssue(s, &root, 0, "unexpected-attribute",
                 std::string("unexpected attribute '") +
                     reinterpret_cast<const char*>(a[0]) + "' on <" + name +
                     ">");
      }
    }
    return;
  }

  Node* parent = s->stack.back();
  Node& n = parent->AddChild(Node(name, nullptr));
  uint32_t line, col;
  s->lines->At(start, &line, &col);
  n.set_position(line, col);

  if (std::strcmp(ns, kXhtmlNs) == 0) {
    // Narrative: keep the exact source text of the element.
    s->xhtml_depth = 1;
    s->xhtml_start = start;
    s->xhtml_node = &n;
    s->stack.push_back(&n);
    return;
  }
  if (std::strcmp(ns, kFhirNs) != 0) {
    AddIssue(s, &n, 0, "unknown-namespace",
             std::string("element <") + name + "> is in namespace '" + ns +
                 "', not the FHIR namespace");
  }
  for (int i = 0; i < nb_attributes; ++i) {
    const xmlChar** a =
        attributes + i * 5;  // localname, prefix, URI, value, end
    std::string_view aname = reinterpret_cast<const char*>(a[0]);
    size_t len = static_cast<size_t>(a[4] - a[3]);
    if (len > s->options->max_string_bytes) {
      Stop(s, ErrorCode::kLimitExceeded,
           "an attribute value of " + std::to_string(len) +
               " bytes is longer than the limit of " +
               std::to_string(s->options->max_string_bytes));
      return;
    }
    std::string value(reinterpret_cast<const char*>(a[3]), len);
    if (a[2] != nullptr) {
      // xml:lang, xsi:schemaLocation and the like carry no FHIR content.
      continue;
    }
    if (aname == "value") {
      n.set_value(std::move(value), JsonKind::kString);
    } else {
      Node& attr = n.AddChild(Node(std::string(aname), nullptr));
      attr.set_value(std::move(value), JsonKind::kString);
      attr.set_position(line, col);
    }
  }
  s->stack.push_back(&n);
}

void OnEnd(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  State* s = static_cast<State*>(ctx);
  if (!s->error.empty()) return;
  if (s->xhtml_depth > 0) {
    if (--s->xhtml_depth > 0) return;
    size_t end = std::min(Offset(s), s->text.size());
    std::string raw(s->text.substr(s->xhtml_start, end - s->xhtml_start));
    if (raw.size() > s->options->max_string_bytes) {
      Stop(s, ErrorCode::kLimitExceeded,
           "narrative longer than the string limit");
      return;
    }
    s->xhtml_node->set_value(std::move(raw), JsonKind::kString);
    s->xhtml_node = nullptr;
    s->stack.pop_back();
    --s->depth;
    return;
  }
  --s->depth;
  if (!s->stack.empty()) s->stack.pop_back();
}

void OnCharacters(void* ctx, const xmlChar* ch, int len) {
  State* s = static_cast<State*>(ctx);
  if (!s->error.empty() || s->xhtml_depth > 0) return;
  for (int i = 0; i < len; ++i) {
    char c = static_cast<char>(ch[i]);
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      Node* at = s->stack.empty() ? nullptr : s->stack.back();
      AddIssue(s, at, 0, "text-content",
               "text content is not allowed in FHIR XML elements" +
                   (at ? " (in <" + at->name() + ">)" : std::string()));
      return;
    }
  }
}

void OnInternalSubset(void* ctx, const xmlChar*, const xmlChar*,
                      const xmlChar*) {
  Stop(static_cast<State*>(ctx), ErrorCode::kInvalidInput,
       "DOCTYPE declarations are not allowed in FHIR XML (they enable entity "
       "expansion and external entities)");
}

void OnEntityDecl(void* ctx, const xmlChar*, int, const xmlChar*,
                  const xmlChar*, xmlChar*) {
  Stop(static_cast<State*>(ctx), ErrorCode::kInvalidInput,
       "entity declarations are not allowed in FHIR XML");
}

xmlEntityPtr OnGetEntity(void* ctx, const xmlChar* name) {
  // Only the predefined entities exist; anything else is an error.
  xmlEntityPtr e = xmlGetPredefinedEntity(name);
  if (!e) {
    Stop(static_cast<State*>(ctx), ErrorCode::kInvalidInput,
         std::string("undefined entity &") +
             reinterpret_cast<const char*>(name) + ";");
  }
  return e;
}

void OnCdata(void* ctx, const xmlChar* value, int len) {
  State* s = static_cast<State*>(ctx);
  if (s->xhtml_depth > 0) return;
  OnCharacters(ctx, value, len);
}

void OnStructuredError(void* ctx, xmlErrorPtr err) {
  State* s = static_cast<State*>(ctx);
  if (!err || err->level < XML_ERR_ERROR) return;
  if (!s->error.empty()) return;
  std::string msg = err->message ? err->message : "malformed XML";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  s->error = "XML syntax error at line " + std::to_string(err->line) +
             ", column " + std::to_string(err->int2) + ": " + msg;
  s->error_code = ErrorCode::kInvalidInput;
}

}  // namespace

Result<Document> ParseXml(std::string_view text, const Schema& schema,
                          const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return Error(ErrorCode::kLimitExceeded,
                 "XML document of " + std::to_string(text.size()) +
                     " bytes is larger than the limit of " +
                     std::to_string(options.max_bytes));
  }
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    return Error(ErrorCode::kLimitExceeded, "XML document too large");
  }
  Document doc;
  internal::LineCounter lines(text);
  State state;
  state.text = text;
  state.options = &options;
  state.doc = &doc;
  state.lines = &lines;

  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof(sax));
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = OnStart;
  sax.endElementNs = OnEnd;
  sax.characters = OnCharacters;
  sax.cdataBlock = OnCdata;
  sax.internalSubset = OnInternalSubset;
  sax.entityDecl = OnEntityDecl;
  sax.getEntity = OnGetEntity;
  sax.serror = OnStructuredError;

  // The pull parser over the whole buffer: exact byte offsets for the
  // narrative text and no look-ahead limits of the push parser.
  xmlParserCtxtPtr ctxt =
      xmlCreateMemoryParserCtxt(text.data(), static_cast<int>(text.size()));
  if (!ctxt) return Error(ErrorCode::kInternal, "cannot create an XML parser");
  xmlSAXHandlerPtr default_sax = ctxt->sax;
  ctxt->sax = &sax;
  ctxt->userData = &state;
  state.ctxt = ctxt;
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_HUGE);
  ctxt->replaceEntities = 0;
  ctxt->loadsubset = 0;
  ctxt->validate = 0;
  int rc = xmlParseDocument(ctxt);
  bool well_formed = ctxt->wellFormed;
  ctxt->sax = default_sax;
  xmlFreeParserCtxt(ctxt);
  if (!state.error.empty()) return Error(state.error_code, state.error);
  if (rc != 0 || !well_formed) {
    return Error(ErrorCode::kInvalidInput, "XML is not well-formed");
  }
  if (!state.root_seen)
    return Error(ErrorCode::kInvalidInput, "no root element");
  internal::TypeResourceTree(doc.root, schema, internal::Origin::kXml,
                             doc.issues);
  return doc;
}

}  // namespace genogate::fhir
