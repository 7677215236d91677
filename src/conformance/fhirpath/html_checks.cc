#include "conformance/fhirpath/html_checks.h"

#include <vector>

namespace genogate::fhirpath {
namespace {

constexpr std::string_view kElements[] = {
    "p",      "br",      "div",   "h1",         "h2",      "h3",       "h4",
    "h5",     "h6",      "a",     "span",       "b",       "em",       "i",
    "strong", "small",   "big",   "tt",         "dfn",     "q",        "var",
    "abbr",   "acronym", "cite",  "blockquote", "hr",      "address",  "bdo",
    "kbd",    "sub",     "sup",   "ul",         "ol",      "li",       "dl",
    "dt",     "dd",      "pre",   "table",      "caption", "colgroup", "col",
    "thead",  "tr",      "tfoot", "tbody",      "th",      "td",       "code",
    "samp",   "img"};

constexpr std::string_view kGlobalAttrs[] = {
    "title",    "style", "class",   "id",    "lang",    "dir",    "accesskey",
    "tabindex", "xmlns", "span",    "align", "valign",  "char",   "charoff",
    "abbr",     "axis",  "headers", "scope", "rowspan", "colspan"};

constexpr std::string_view kElementAttrs[] = {"a.href",
                                              "a.name",
                                              "img.src",
                                              "img.border",
                                              "img.alt",
                                              "img.longdesc",
                                              "img.height",
                                              "img.width",
                                              "blockquote.cite",
                                              "q.cite",
                                              "table.summary",
                                              "table.width",
                                              "table.border",
                                              "table.frame",
                                              "table.rules",
                                              "table.cellspacing",
                                              "table.cellpadding",
                                              "col.width",
                                              "colgroup.width",
                                              "th.width",
                                              "td.width",
                                              "td.nowrap"};

constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";

bool In(std::string_view x, const std::string_view* b,
        const std::string_view* e) {
  for (; b != e; ++b) {
    if (*b == x) return true;
  }
  return false;
}

bool AllowedElement(std::string_view n) {
  return In(n, std::begin(kElements), std::end(kElements));
}

bool AllowedAttr(std::string_view el, std::string_view at) {
  if (In(at, std::begin(kGlobalAttrs), std::end(kGlobalAttrs))) return true;
  for (std::string_view ea : kElementAttrs) {
    size_t dot = ea.find('.');
    if (ea.substr(0, dot) == el && ea.substr(dot + 1) == at) return true;
  }
  return false;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

bool LegalCodePoint(uint32_t cp) {
  return cp == 9 || cp == 10 || cp == 13 || (cp >= 0x20 && cp < 0xD800) ||
         (cp > 0xDFFF && cp < 0xFFFE) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Validates one UTF-8 sequence at t[i]; returns its length or 0 if the
// character is not a legal XML character.
size_t CharLen(std::string_view t, size_t i) {
  unsigned char c = static_cast<unsigned char>(t[i]);
  if (c < 0x80) return (c >= 0x20 || c == 9 || c == 10 || c == 13) ? 1 : 0;
  size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > t.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(t[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  return LegalCodePoint(cp) ? n : 0;
}

// Character reference at t[i] == '&'; returns the index past ';' or 0.
size_t CharRef(std::string_view t, size_t i) {
  size_t j = i + 1;
  if (j < t.size() && t[j] == '#') {
    ++j;
    uint32_t cp = 0;
    size_t ds;
    if (j < t.size() && t[j] == 'x') {
      ds = ++j;
      while (j < t.size() && std::isxdigit(static_cast<unsigned char>(t[j]))) {
        char h = t[j];
        cp = cp * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        if (cp > 0x10FFFF) return 0;
        ++j;
      }
    } else {
      ds = j;
      while (j < t.size() && t[j] >= '0' && t[j] <= '9') {
        cp = cp * 10 + (t[j] - '0');
        if (cp > 0x10FFFF) return 0;
        ++j;
      }
    }
    if (j == ds || !LegalCodePoint(cp)) return 0;
  } else {
    size_t ns = j;
    while (j < t.size() && std::isalpha(static_cast<unsigned char>(t[j]))) ++j;
    std::string_view name = t.substr(ns, j - ns);
    if (name != "amp" && name != "lt" && name != "gt" && name != "quot" &&
        name != "apos") {
      return 0;
    }
  }
  return j < t.size() && t[j] == ';' ? j + 1 : 0;
}

}  // namespace

std::string CheckNarrativeXhtml(std::string_view t, bool fragment) {
  std::vector<std::string_view> stack;
  std::vector<std::string_view> attrs;
  bool root_seen = false;
  bool content = false;
  size_t i = 0;
  const size_t n = t.size();
  while (i < n) {
    if (t[i] != '<') {
      bool outside = !fragment && stack.empty();
      while (i < n && t[i] != '<') {
        char c = t[i];
        if (IsSpace(c)) {
          ++i;
          continue;
        }
        if (outside) return "text outside the root div";
        if (c == '&') {
          size_t e = CharRef(t, i);
          if (e == 0)
            return "invalid character reference (only the XML entities are "
                   "allowed)";
          content = true;
          i = e;
          continue;
        }
        if (c == ']' && t.substr(i, 3) == "]]>") return "']]>' in text";
        size_t l = CharLen(t, i);
        if (l == 0) return "character not allowed in XML";
        content = true;
        i += l;
      }
      continue;
    }
    char c1 = i + 1 < n ? t[i + 1] : '\0';
    if (c1 == '?') return "processing instructions are not allowed";
    if (c1 == '!') {
      if (t.substr(i, 4) != "<!--") return "DOCTYPE and CDATA are not allowed";
      if (!fragment && stack.empty()) return "comment outside the root div";
      size_t end = t.find("-->", i + 4);
      if (end == std::string_view::npos) return "unterminated comment";
      if (t.find("--", i + 4) < end) return "'--' inside a comment";
      for (size_t k = i + 4; k < end;) {
        size_t l = CharLen(t, k);
        if (l == 0) return "character not allowed in XML";
        k += l;
      }
      i = end + 3;
      continue;
    }
    if (c1 == '/') {
      size_t j = i + 2, ns = j;
      while (j < n && !IsSpace(t[j]) && t[j] != '>') ++j;
      std::string_view name = t.substr(ns, j - ns);
      while (j < n && IsSpace(t[j])) ++j;
      if (j >= n || t[j] != '>') return "malformed end tag";
      if (stack.empty() || stack.back() != name) {
        return "end tag </" + std::string(name) + "> does not match";
      }
      stack.pop_back();
      i = j + 1;
      continue;
    }
    size_t j = i + 1, ns = j;
    while (j < n && !IsSpace(t[j]) && t[j] != '/' && t[j] != '>') ++j;
    if (j == ns) return "malformed start tag";
    std::string_view name = t.substr(ns, j - ns);
    if (!AllowedElement(name))
      return "element <" + std::string(name) + "> is not allowed";
    if (!fragment && stack.empty()) {
      if (root_seen || name != "div")
        return "the narrative must be a single div";
      root_seen = true;
    }
    attrs.clear();
    bool self_closing = false;
    while (true) {
      bool had_space = false;
      while (j < n && IsSpace(t[j])) {
        ++j;
        had_space = true;
      }
      if (j >= n) return "unterminated start tag";
      if (t[j] == '>') {
        ++j;
        break;
      }
      if (t[j] == '/') {
        if (j + 1 < n && t[j + 1] == '>') {
          self_closing = true;
          j += 2;
          break;
        }
        return "malformed start tag";
      }
      if (!had_space) return "attributes must be separated by spaces";
      size_t as = j;
      while (j < n && !IsSpace(t[j]) && t[j] != '=' && t[j] != '/' &&
             t[j] != '>')
        ++j;
      std::string_view an = t.substr(as, j - as);
      if (an.empty()) return "malformed attribute";
      if (!AllowedAttr(name, an)) {
        return "attribute " + std::string(an) + " is not allowed on <" +
               std::string(name) + ">";
      }
      for (std::string_view prev : attrs) {
        if (prev == an) return "duplicate attribute " + std::string(an);
      }
      attrs.push_back(an);
      while (j < n && IsSpace(t[j])) ++j;
      if (j >= n || t[j] != '=')
        return "attribute " + std::string(an) + " has no value";
      ++j;
      while (j < n && IsSpace(t[j])) ++j;
      if (j >= n || (t[j] != '"' && t[j] != '\''))
        return "attribute values must be quoted";
      char q = t[j];
      size_t vs = ++j;
      while (true) {
        if (j >= n) return "unterminated attribute value";
        if (t[j] == q) break;
        if (t[j] == '<') return "'<' in an attribute value";
        if (t[j] == '&') {
          size_t e = CharRef(t, j);
          if (e == 0) return "invalid character reference";
          j = e;
          continue;
        }
        size_t l = CharLen(t, j);
        if (l == 0) return "character not allowed in XML";
        j += l;
      }
      if (an == "xmlns" && t.substr(vs, j - vs) != kXhtmlNs) {
        return "the namespace must be XHTML";
      }
      ++j;
    }
    if (name == "img") {
      for (std::string_view a : attrs) {
        if (a == "src") content = true;
      }
    }
    if (!self_closing) stack.push_back(name);
    i = j;
  }
  if (!stack.empty())
    return "unclosed element <" + std::string(stack.back()) + ">";
  if (!fragment && !root_seen) return "no root div";
  if (!content) return "the narrative has no content";
  return "";
}

}  // namespace genogate::fhirpath
