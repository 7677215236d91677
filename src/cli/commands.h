// Registration of the CLI subcommands. Each subcommand lives in its own
// <name>_command.cc and adds itself in RegisterAll (commands.cc).
//
// Exit codes, for every subcommand: 0 success, 1 the input has errors (a
// finding about the data), 2 the command could not run (usage, missing file,
// configuration).
#ifndef GENOGATE_CLI_COMMANDS_H_
#define GENOGATE_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace genogate::cli {

struct Command {
  CLI::App* app;             // the parsed subcommand
  std::function<int()> run;  // runs it after parsing; returns the exit code
};
using CommandList = std::vector<Command>;

CommandList RegisterAll(CLI::App& app);

// One registration function per subcommand.
Command RegisterFormat(CLI::App& app);
Command RegisterConvert(CLI::App& app);
Command RegisterFhirPath(CLI::App& app);
Command RegisterValidate(CLI::App& app);
Command RegisterPush(CLI::App& app);
Command RegisterPull(CLI::App& app);
Command RegisterQueue(CLI::App& app);
Command RegisterMllp(CLI::App& app);
Command RegisterServe(CLI::App& app);
Command RegisterKeys(CLI::App& app);

}  // namespace genogate::cli

#endif  // GENOGATE_CLI_COMMANDS_H_
