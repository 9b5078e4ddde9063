#include "store/lease.hpp"

#include "store/sql.hpp"

namespace concord::store {

std::optional<Lease> TakeLease(Connection& conn, const std::string& tenant_id,
                               const std::string& owner, std::chrono::seconds ttl) {
  conn.Exec(sql::kEnsureTenant, {tenant_id});
  auto result = conn.Exec(sql::kTakeLease, {tenant_id, owner, std::to_string(ttl.count())});
  if (result.Rows() == 0) return std::nullopt;
  return Lease{tenant_id, owner, result.Int(0, 0)};
}

bool ProlongLease(Connection& conn, const Lease& lease, std::chrono::seconds ttl) {
  return conn.Exec(sql::kProlongLease, {lease.tenant_id, lease.owner, std::to_string(lease.fence),
                                        std::to_string(ttl.count())})
             .AffectedRows() == 1;
}

void ReleaseLease(Connection& conn, const Lease& lease) {
  conn.Exec(sql::kReleaseLease, {lease.tenant_id, lease.owner, std::to_string(lease.fence)});
}

std::int64_t ReleaseLeasesOf(Connection& conn, const std::string& owner_prefix) {
  return conn.Exec(sql::kReleaseLeasesOf, {owner_prefix}).AffectedRows();
}

}  // namespace concord::store
