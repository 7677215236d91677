// Element model -> FHIR XML: children in definition order, id/url as
// attributes, primitives as value attributes, resources wrapped in their
// container element, narrative XHTML written verbatim.
#include <libxml/parser.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fhir/codec.h"
#include "fhir/schema.h"

namespace genogate::fhir {
namespace {

class XmlOut {
 public:
  explicit XmlOut(bool pretty) : pretty_(pretty) {}
  std::string& out() { return out_; }
  const std::string& error() const { return error_; }

  bool Resource(const Node& n, int depth, bool root) {
    Indent(depth);
    out_ += '<';
    out_ += n.resource_type();
    if (root) out_ += " xmlns=\"http://hl7.org/fhir\"";
    out_ += '>';
    if (!Children(n, depth + 1)) return false;
    Indent(depth);
    out_ += "</";
    out_ += n.resource_type();
    out_ += '>';
    return true;
  }

 private:
  void Indent(int depth) {
    if (!pretty_) return;
    if (!out_.empty()) out_ += '\n';
    out_.append(static_cast<size_t>(depth) * 2, ' ');
  }

  bool Escape(std::string_view s) {
    for (char ch : s) {
      unsigned char c = static_cast<unsigned char>(ch);
      switch (ch) {
        case '&':
          out_ += "&amp;";
          break;
        case '<':
          out_ += "&lt;";
          break;
        case '>':
          out_ += "&gt;";
          break;
        case '"':
          out_ += "&quot;";
          break;
        // Attribute-value normalisation would turn these into spaces.
        case '\n':
          out_ += "&#10;";
          break;
        case '\r':
          out_ += "&#13;";
          break;
        case '\t':
          out_ += "&#9;";
          break;
        default:
          if (c < 0x20) {
            error_ = "control character U+" + std::to_string(c) +
                     " cannot be written in XML 1.0";
            return false;
          }
          out_ += ch;
      }
    }
    return true;
  }

  bool Xhtml(const Node& n, int depth) {
    // Must be one well-formed element, without DTDs or entities.
    xmlDocPtr doc = xmlReadMemory(
        n.value().data(), static_cast<int>(n.value().size()), nullptr, "UTF-8",
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    bool ok = doc != nullptr && doc->intSubset == nullptr;
    if (doc) xmlFreeDoc(doc);
    if (!ok) {
      error_ = "narrative " + n.name() + " is not well-formed XHTML";
      return false;
    }
    Indent(depth);
    out_ += n.value();
    return true;
  }

  // Writes children of `n` in definition order; attributes were written by
  // the caller.
  bool Children(const Node& n, int depth) {
    const std::vector<Node>& kids = n.children();
    std::vector<const Node*> order;
    order.reserve(kids.size());
    for (const Node& c : kids) {
      if (!c.def()) {
        error_ = "element '" + c.name() + "' in " + std::string(n.type_name()) +
                 " is not part of FHIR and cannot be written as XML";
        return false;
      }
      if (c.def()->xml == XmlRepresentation::kAttribute) continue;
      order.push_back(&c);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const Node* a, const Node* b) {
                       return a->def()->order < b->def()->order;
                     });
    for (const Node* c : order) {
      if (!Element(*c, depth)) return false;
    }
    return true;
  }

  bool Element(const Node& c, int depth) {
    if (c.def()->xml == XmlRepresentation::kXhtml) return Xhtml(c, depth);
    std::string name = c.json_name();
    if (c.is_resource()) {
      Indent(depth);
      out_ += '<' + name + '>';
      if (!Resource(c, depth + 1, false)) return false;
      Indent(depth);
      out_ += "</" + name + '>';
      return true;
    }
    Indent(depth);
    out_ += '<';
    out_ += name;
    for (const Node& a : c.children()) {
      if (a.def() && a.def()->xml == XmlRepresentation::kAttribute) {
        out_ += ' ';
        out_ += a.name();
        out_ += "=\"";
        if (!Escape(a.value())) return false;
        out_ += '"';
      }
    }
    if (c.has_value()) {
      out_ += " value=\"";
      if (!Escape(c.value())) return false;
      out_ += '"';
    }
    bool has_elements = false;
    for (const Node& a : c.children()) {
      if (!a.def() || a.def()->xml != XmlRepresentation::kAttribute) {
        has_elements = true;
        break;
      }
    }
    if (!has_elements) {
      out_ += "/>";
      return true;
    }
    out_ += '>';
    if (!Children(c, depth + 1)) return false;
    Indent(depth);
    out_ += "</" + name + '>';
    return true;
  }

  bool pretty_;
  std::string out_;
  std::string error_;
};

}  // namespace

Result<std::string> WriteXml(const Node& resource,
                             const WriteOptions& options) {
  if (!resource.is_resource() || !resource.type()) {
    return Error(ErrorCode::kInvalidInput,
                 "only a resource of a known type can be written as XML");
  }
  XmlOut out(options.pretty);
  out.out() = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  if (!options.pretty) out.out() += '\n';
  if (!out.Resource(resource, 0, true)) {
    return Error(ErrorCode::kInvalidInput, out.error());
  }
  out.out() += '\n';
  return std::move(out.out());
}

}  // namespace genogate::fhir
