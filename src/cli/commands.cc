#include "cli/commands.h"

namespace genogate::cli {

CommandList RegisterAll(CLI::App& app) {
  CommandList list;
  (void)app;
  return list;
}

}  // namespace genogate::cli
