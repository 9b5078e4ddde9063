#pragma once
// `concord serve` (issue 4): the long-running daemon. One io_context runs the admin API
// listener, the scheduler's timer and the signal handling; database work and runs happen on
// worker pools. Wiring only: everything it builds is tested on its own.

#include <string>

#include "daemon/config.hpp"

namespace concord::daemon {

struct ServeOptions {
  std::string config_path;  // re-read on SIGHUP (tenants, tokens)
  bool migrate = false;     // apply pending migrations instead of refusing to start
};

// Runs until SIGTERM/SIGINT; SIGHUP reloads the configuration from `options.config_path`
// (docs/operations.md). Returns the process exit code (0 after a clean shutdown).
// Throws ConfigError for what must be fixed before it can start (bad listen address, a secret
// that cannot be read, an old schema without --migrate) and store::DbError when the database
// cannot be reached at start.
int Serve(const Config& config, const ServeOptions& options);

}  // namespace concord::daemon
