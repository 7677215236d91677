// Url parsing and HttpResponse helpers (no Beast here).
#include <charconv>

#include "gateway/http/http_client.h"

namespace genogate::gateway {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

uint16_t DefaultPort(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

Error Bad(std::string_view why) {
  return Error(ErrorCode::kInvalidInput, "bad URL: " + std::string(why));
}

}  // namespace

std::string Url::Origin() const {
  std::string out = scheme + "://";
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  if (port != DefaultPort(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::ToString() const { return Origin() + target; }

Result<Url> ParseUrl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Bad("contains a space or control character");
    }
  }
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) return Bad("not an absolute URL");
  Url url;
  for (char c : text.substr(0, colon)) url.scheme.push_back(Lower(c));
  if (url.scheme != "http" && url.scheme != "https") {
    return Bad("scheme must be http or https");
  }
  std::string_view rest = text.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view target =
      end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (target.find('#') != std::string_view::npos) {
    return Bad("fragments are not allowed");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Bad("user info in URLs is not allowed (configure auth instead)");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("unterminated IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad("junk after IPv6 host");
      port = after.substr(1);
    }
  } else {
    size_t p = authority.rfind(':');
    if (p != std::string_view::npos) {
      host = authority.substr(0, p);
      port = authority.substr(p + 1);
    }
  }
  if (host.empty()) return Bad("no host");
  for (char c : host) url.host.push_back(Lower(c));
  url.port = DefaultPort(url.scheme);
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] =
        std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return Bad("bad port");
    }
    url.port = static_cast<uint16_t>(value);
  }
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target[0] == '?') url.target.insert(0, "/");
  return url;
}

std::string_view HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

}  // namespace genogate::gateway
