#pragma once
// A tenant's OAuth2 tokens for one connector in PostgreSQL (schema/0005_oauth_tokens.sql).
// The daemon adapts this to connectors::TokenStore; the store does not depend on connectors.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "store/pg.hpp"

namespace concord::store {

struct OAuthTokenRow {
  std::string refresh_token;
  std::string access_token;  // empty: none
  std::int64_t access_expires_ms = 0;
  std::string seed_fingerprint;

  [[nodiscard]] bool operator==(const OAuthTokenRow&) const = default;
};

// One tenant's tokens for one connector. Not thread-safe (it uses the caller's connection,
// which must have no transaction open); safe across processes.
class OAuthTokenStore {
 public:
  // Receives the stored row (nullopt: none) and returns the row to store, or nullopt to keep it.
  using Updater =
      std::function<std::optional<OAuthTokenRow>(const std::optional<OAuthTokenRow>& stored)>;

  // conn must outlive the store.
  OAuthTokenStore(Connection& conn, std::string tenant_id, std::string connector);

  // The stored row, or nullopt.
  [[nodiscard]] std::optional<OAuthTokenRow> Load();
  // In one transaction: locks the tenant's connector (an advisory lock and the row itself),
  // calls `update` with the row, and stores what it returns with a compare-and-set on the
  // refresh token read. Returns the row stored afterwards. Throws std::runtime_error when
  // nothing is stored and `update` keeps nothing, or when the compare-and-set finds the row
  // changed; DbError on database failures; whatever `update` throws (nothing is stored).
  OAuthTokenRow Update(const Updater& update);

 private:
  Connection& conn_;
  std::string tenant_id_;
  std::string connector_;
};

}  // namespace concord::store
