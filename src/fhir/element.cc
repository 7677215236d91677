#include "fhir/element.h"

#include "fhir/schema.h"

namespace genogate::fhir {

std::string_view Node::type_name() const {
  if (type_) return type_->name();
  return resource_type_;
}

std::string Node::json_name() const {
  if (!def_ || !def_->is_choice || !type_) return name_;
  std::string out = name_;
  const std::string& t = type_->name();
  if (!t.empty()) {
    char c = t[0];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out += c;
    out.append(t, 1, std::string::npos);
  }
  return out;
}

bool Node::is_primitive() const {
  if (type_) return type_->is_primitive();
  return has_value_;
}

const Node* Node::Child(std::string_view name) const {
  for (const Node& c : children_) {
    if (c.name_ == name) return &c;
  }
  return nullptr;
}

Node* Node::MutableChild(std::string_view name) {
  for (Node& c : children_) {
    if (c.name_ == name) return &c;
  }
  return nullptr;
}

std::vector<const Node*> Node::Children(std::string_view name) const {
  std::vector<const Node*> out;
  for (const Node& c : children_) {
    if (c.name_ == name) out.push_back(&c);
  }
  return out;
}

std::string_view Node::ChildValue(std::string_view name) const {
  const Node* c = Child(name);
  return c ? std::string_view(c->value_) : std::string_view();
}

}  // namespace genogate::fhir
