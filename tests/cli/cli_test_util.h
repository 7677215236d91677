// Running the genogate binary of this build from CLI tests.
#ifndef GENOGATE_TESTS_CLI_CLI_TEST_UTIL_H_
#define GENOGATE_TESTS_CLI_CLI_TEST_UTIL_H_

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "testing/test_env.h"

namespace genogate::cli::testing {

struct CliRun {
  int exit_code = -1;  // -1 when it could not run or did not exit
  std::string out;     // standard output
};

// Runs `genogate ARGS` through the shell: `args` is a shell fragment (the
// caller quotes paths), `stderr_to` the redirection of standard error
// ("2>&1": into `out`; "2>/dev/null"; "2>'FILE'"). Standard output is
// captured whole.
inline CliRun RunGenogate(const std::string& args,
                          const std::string& stderr_to = "2>&1") {
  const std::string cmd = "'" + genogate::testing::BinaryDir() + "/genogate' " +
                          args + " " + stderr_to;
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.out.append(buf.data(), n);
  }
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace genogate::cli::testing

#endif  // GENOGATE_TESTS_CLI_CLI_TEST_UTIL_H_
