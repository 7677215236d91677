#include "conformance/fhirpath/regex_cache.h"

#include <re2/re2.h>

namespace genogate::fhirpath {

std::shared_ptr<const re2::RE2> RegexCache::CompileRegex(
    std::string_view pattern) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingUTF8);
  o.set_dot_nl(true);
  o.set_log_errors(false);
  o.set_max_mem(8 << 20);
  auto re = std::make_shared<const re2::RE2>(
      re2::StringPiece(pattern.data(), pattern.size()), o);
  if (!re->ok()) return nullptr;
  return re;
}

std::shared_ptr<const re2::RE2> RegexCache::Get(std::string_view pattern) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(std::string(pattern));
    if (it != map_.end()) return it->second;
  }
  auto re = CompileRegex(pattern);
  if (!re) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_.emplace(std::string(pattern), re);
  return re;
}

}  // namespace genogate::fhirpath
