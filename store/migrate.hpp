#pragma once
// Applies schema/ migrations. Each pending migration runs in its own transaction.

#include "store/pg.hpp"

namespace concord::store {

struct SchemaStatus {
  int current = 0;  // highest applied version (0: empty database)
  int latest = 0;   // highest version this binary knows
  bool UpToDate() const { return current == latest; }
};

[[nodiscard]] SchemaStatus CheckSchema(Connection& conn);

// Applies every pending migration in order; returns how many were applied (0 when current).
// Safe to run concurrently from several processes (an advisory lock serialises them).
int Migrate(Connection& conn);

}  // namespace concord::store
