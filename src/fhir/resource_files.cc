#include "fhir/resource_files.h"

#include <dirent.h>

#include <algorithm>

namespace genogate::fhir {

std::vector<std::string> ListResourceFiles(
    const std::string& dir,
    std::initializer_list<std::string_view> extensions) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || name == "package.json") continue;
    for (std::string_view ext : extensions) {
      if (name.size() > ext.size() &&
          name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
        out.push_back(name);
        break;
      }
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace genogate::fhir
