#pragma once
// OAuth2 refresh-token rotation for a connector (wire-formats §1.8): the tokens live in a
// TokenStore shared by every replica, the access token is reused until shortly before it
// expires, and every refresh writes the new (rotated) refresh token in the same transaction
// that read the old one. No token ever appears in an error message.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/http_client.hpp"
#include "reconcile/model.hpp"

namespace concord::connectors {

// One tenant's tokens for one connector, as stored.
struct OAuthTokens {
  std::string refresh_token;
  std::string access_token;                 // empty: none issued yet
  reconcile::Millis access_expires_at = 0;  // Unix ms; 0 with no access token
  // OAuthFingerprint of the configured initial refresh token these tokens descend from
  // (empty: none was configured). A different configured one means the operator
  // re-authorised: the stored tokens are replaced by it.
  std::string seed_fingerprint;

  [[nodiscard]] bool operator==(const OAuthTokens&) const = default;
};

// Where a tenant's tokens for one connector live (store/oauth_tokens.* in production, an
// in-memory fake in tests). Implementations must make Update exclusive across processes.
class TokenStore {
 public:
  // Receives the stored tokens (nullopt: none stored yet) and returns the tokens to store
  // instead, or nullopt to keep them as they are.
  using Updater =
      std::function<std::optional<OAuthTokens>(const std::optional<OAuthTokens>& stored)>;

  virtual ~TokenStore() = default;
  // The stored tokens, or nullopt when none are stored. A plain read, no lock.
  [[nodiscard]] virtual std::optional<OAuthTokens> Load() = 0;
  // Calls `update` while holding the tokens exclusively (a concurrent Update, in this or any
  // other process, waits), and stores what it returns in the same transaction, guarded by a
  // compare on the refresh token it read. Returns the tokens stored afterwards. An exception
  // from `update` stores nothing and propagates; throws std::runtime_error when storing fails.
  virtual OAuthTokens Update(const Updater& update) = 0;
};

// The unix time in milliseconds; tests inject their own.
using NowFunction = std::function<reconcile::Millis()>;

struct OAuthSettings {
  std::string token_url;  // e.g. https://identity.xero.com/connect/token
  std::string client_id;
  std::string client_secret;  // resolved secret
  // The refresh token to start from when the store holds none, or when its fingerprint
  // differs from the stored seed_fingerprint (a re-authorisation); resolved only when
  // called. Empty function: none configured.
  std::function<std::string()> initial_refresh_token;
  // An access token is used until this long before it expires, then refreshed.
  std::chrono::seconds refresh_margin{60};
};

// A short, one-way fingerprint of a refresh token (hex SHA-256 prefix), so the store can tell
// whether the configured initial token changed without keeping it.
[[nodiscard]] std::string OAuthFingerprint(std::string_view refresh_token);

// A parsed token-endpoint answer: {"access_token","expires_in","refresh_token",...}. Throws
// FetchError (naming the connector and what is missing, never a token) when the body is not
// such an object. expires_in defaults to 1800 s when absent.
[[nodiscard]] OAuthTokens ParseTokenResponse(std::string_view connector, std::string_view body,
                                             reconcile::Millis now);

// Hands a connector a valid access token, refreshing through the token endpoint when the
// stored one is missing, about to expire, or was refused. Not thread-safe: one per fetch.
class OAuthAccessTokens {
 public:
  // `connector` names the source in error messages ("xero"). store and transport must outlive
  // this object. Throws std::invalid_argument naming the setting when settings are unusable.
  OAuthAccessTokens(std::string connector, OAuthSettings settings, TokenStore& store,
                    HttpTransport& transport, NowFunction now = {});

  // An access token valid for at least refresh_margin. Throws FetchError when the refresh
  // fails (invalid_grant: the message tells the operator to re-authorise).
  [[nodiscard]] std::string Get();
  // The API refused `access_token` (401): the next Get refreshes unless another process has
  // stored a different access token meanwhile.
  void Refused(const std::string& access_token);
  // How many refreshes this object made (for tests and logs).
  [[nodiscard]] int refreshes() const { return refreshes_; }

 private:
  bool Usable(const OAuthTokens& tokens, reconcile::Millis now) const;
  OAuthTokens Refresh(const std::string& refresh_token);

  std::string connector_;
  OAuthSettings settings_;
  TokenStore& store_;
  HttpTransport& transport_;
  NowFunction now_;
  std::optional<OAuthTokens> current_;
  std::string refused_;
  int refreshes_ = 0;
};

}  // namespace concord::connectors
