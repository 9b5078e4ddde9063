#pragma once
// Tenant leases (DESIGN.md §4 step 1): at most one process runs a tenant at a time, and a
// process that lost its lease cannot commit (the apply transaction re-checks the fence).

#include <chrono>
#include <optional>
#include <string>

#include "store/pg.hpp"

namespace concord::store {

struct Lease {
  std::string tenant_id;
  std::string owner;
  std::int64_t fence = 0;
};

// Takes the tenant's lease for `ttl`; nullopt when another owner holds an unexpired one.
[[nodiscard]] std::optional<Lease> TakeLease(Connection& conn, const std::string& tenant_id,
                                             const std::string& owner, std::chrono::seconds ttl);
// Extends a held lease; false when it was lost (expired and taken by someone else).
[[nodiscard]] bool ProlongLease(Connection& conn, const Lease& lease, std::chrono::seconds ttl);
void ReleaseLease(Connection& conn, const Lease& lease);
// Releases every lease whose owner starts with `owner_prefix` (a process giving up at a
// forced shutdown, so other replicas need not wait for expiry); returns how many.
std::int64_t ReleaseLeasesOf(Connection& conn, const std::string& owner_prefix);

}  // namespace concord::store
