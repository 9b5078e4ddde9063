#include "store/oauth_tokens.hpp"

#include <stdexcept>
#include <utility>

#include "store/oauth_tokens_sql.hpp"
#include "store/sql.hpp"

namespace concord::store {
namespace {

std::optional<OAuthTokenRow> RowOf(const Result& result) {
  if (result.Rows() == 0) return std::nullopt;
  return OAuthTokenRow{std::string(result.Text(0, 0)), std::string(result.Text(0, 1)),
                       result.Int(0, 2), std::string(result.Text(0, 3))};
}

}  // namespace

OAuthTokenStore::OAuthTokenStore(Connection& conn, std::string tenant_id, std::string connector)
    : conn_(conn), tenant_id_(std::move(tenant_id)), connector_(std::move(connector)) {}

std::optional<OAuthTokenRow> OAuthTokenStore::Load() {
  return RowOf(conn_.Exec(sql::kLoadOAuthTokens, {tenant_id_, connector_}));
}

OAuthTokenRow OAuthTokenStore::Update(const Updater& update) {
  Transaction transaction(conn_);
  conn_.Exec(sql::kLockOAuthTokenKey, {tenant_id_, connector_});
  const std::optional<OAuthTokenRow> stored =
      RowOf(conn_.Exec(sql::kLoadOAuthTokensForUpdate, {tenant_id_, connector_}));
  std::optional<OAuthTokenRow> next = update(stored);
  if (!next) {
    if (!stored) {
      throw std::runtime_error("no OAuth tokens are stored for tenant '" + tenant_id_ + "' (" +
                               connector_ + ") and none were given");
    }
    transaction.Commit();
    return *stored;
  }
  const std::string expires = std::to_string(next->access_expires_ms);
  if (stored) {
    const Result rotated =
        conn_.Exec(sql::kRotateOAuthTokens,
                   {tenant_id_, connector_, stored->refresh_token, next->refresh_token,
                    next->access_token, expires, next->seed_fingerprint});
    if (rotated.AffectedRows() != 1) {
      throw std::runtime_error("the stored OAuth tokens of tenant '" + tenant_id_ + "' (" +
                               connector_ + ") changed during a refresh; nothing was stored");
    }
  } else {
    conn_.Exec(sql::kEnsureTenant, {tenant_id_});
    const Result inserted =
        conn_.Exec(sql::kInsertOAuthTokens, {tenant_id_, connector_, next->refresh_token,
                                             next->access_token, expires, next->seed_fingerprint});
    if (inserted.AffectedRows() != 1) {
      throw std::runtime_error("OAuth tokens of tenant '" + tenant_id_ + "' (" + connector_ +
                               ") were stored by another process during a refresh; nothing "
                               "was stored");
    }
  }
  transaction.Commit();
  return *next;
}

}  // namespace concord::store
