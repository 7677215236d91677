#include "cli/commands.h"

namespace genogate::cli {

CommandList RegisterAll(CLI::App& app) {
  CommandList list;
  list.push_back(RegisterFormat(app));
  list.push_back(RegisterConvert(app));
  list.push_back(RegisterFhirPath(app));
  list.push_back(RegisterValidate(app));
  list.push_back(RegisterPush(app));
  list.push_back(RegisterPull(app));
  list.push_back(RegisterQueue(app));
  list.push_back(RegisterMllp(app));
  list.push_back(RegisterServe(app));
  list.push_back(RegisterKeys(app));
  return list;
}

}  // namespace genogate::cli
