// Internal to the fhir layer: the pass that types an untyped tree built by
// the JSON or XML reader, and the line counter the readers share.
#ifndef GENOGATE_FHIR_INTERNAL_TYPING_H_
#define GENOGATE_FHIR_INTERNAL_TYPING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/issue.h"
#include "fhir/element.h"

namespace genogate::fhir {
class Schema;

namespace internal {

enum class Origin { kJson, kXml };

// Types `root` (a resource) against `schema`: resolves JSON names to
// elements and choice types, checks JSON kinds and array-ness, hoists XML
// resource containers, and reports unknown elements. Adds structure Issues.
void TypeResourceTree(Node& root, const Schema& schema, Origin origin,
                      IssueList& issues);

// Turns increasing byte offsets into 1-based line/column, in O(n) overall.
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : text_(text) {}
  void At(size_t offset, uint32_t* line, uint32_t* column) {
    if (offset > text_.size()) offset = text_.size();
    if (offset < pos_) {  // rare: restart
      pos_ = 0;
      line_ = 1;
      line_start_ = 0;
    }
    const char* base = text_.data();
    while (pos_ < offset) {
      const void* nl = std::memchr(base + pos_, '\n', offset - pos_);
      if (!nl) {
        pos_ = offset;
        break;
      }
      size_t at = static_cast<const char*>(nl) - base;
      ++line_;
      line_start_ = at + 1;
      pos_ = at + 1;
    }
    *line = line_;
    *column = static_cast<uint32_t>(offset - line_start_ + 1);
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
};

// Builds "Patient.name[0].given[1]" style locations while walking a tree.
class PathBuilder {
 public:
  void Push(std::string_view name, int index) {
    parts_.push_back({name, index});
  }
  void Pop() { parts_.pop_back(); }
  std::string str() const {
    std::string out;
    for (const Part& p : parts_) {
      if (!out.empty()) out += '.';
      out += p.name;
      if (p.index >= 0) {
        out += '[';
        out += std::to_string(p.index);
        out += ']';
      }
    }
    return out;
  }

 private:
  struct Part {
    std::string_view name;
    int index;
  };
  std::vector<Part> parts_;
};

}  // namespace internal
}  // namespace genogate::fhir

#endif  // GENOGATE_FHIR_INTERNAL_TYPING_H_
