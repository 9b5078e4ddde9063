#pragma once
// SQL of store/oauth_tokens.cpp (schema/0005_oauth_tokens.sql). Named constants with $n
// parameters; $1 is always the tenant id and $2 the connector.

#include <string_view>

namespace concord::store::sql {

// Serialises every refresh of one tenant's connector, including the first one (when there is
// no row yet to lock). The two-key form keeps these keys apart from the migration lock's.
inline constexpr std::string_view kLockOAuthTokenKey =
    "SELECT pg_advisory_xact_lock(hashtext('concord.oauth_tokens'), hashtext($1 || '/' || $2))";

inline constexpr std::string_view kLoadOAuthTokens = R"(
SELECT refresh_token, access_token, access_expires_ms, seed_fingerprint
FROM oauth_tokens WHERE tenant_id = $1 AND connector = $2)";

inline constexpr std::string_view kLoadOAuthTokensForUpdate = R"(
SELECT refresh_token, access_token, access_expires_ms, seed_fingerprint
FROM oauth_tokens WHERE tenant_id = $1 AND connector = $2 FOR UPDATE)";

// The first tokens of a tenant's connector; no row when another process stored some first.
inline constexpr std::string_view kInsertOAuthTokens = R"(
INSERT INTO oauth_tokens (tenant_id, connector, refresh_token, access_token, access_expires_ms,
                          seed_fingerprint)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, connector) DO NOTHING)";

// Compare-and-set: replaces the tokens only while the refresh token is still $3, the one the
// refresh spent.
inline constexpr std::string_view kRotateOAuthTokens = R"(
UPDATE oauth_tokens
SET refresh_token = $4, access_token = $5, access_expires_ms = $6, seed_fingerprint = $7,
    updated_at = now()
WHERE tenant_id = $1 AND connector = $2 AND refresh_token = $3)";

}  // namespace concord::store::sql
