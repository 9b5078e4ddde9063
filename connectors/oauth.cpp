#include "connectors/oauth.hpp"

#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "connectors/json_fields.hpp"
#include "connectors/source.hpp"
#include "connectors/vendor_http.hpp"

namespace concord::connectors {
namespace {

namespace json = boost::json;

constexpr std::int64_t kDefaultExpiresInSeconds = 1800;  // Xero's access tokens live 30 min

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// application/x-www-form-urlencoded value: unreserved characters as they are, the rest %XX.
std::string FormEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

reconcile::Millis SystemNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const json::string* StringMember(const json::object& object, std::string_view key) {
  const json::value* member = object.if_contains(key);
  if (member == nullptr || !member->is_string() || member->get_string().empty()) return nullptr;
  return &member->get_string();
}

}  // namespace

std::string OAuthFingerprint(std::string_view refresh_token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(refresh_token.data(), refresh_token.size(), digest, &length, EVP_sha256(),
                 nullptr) != 1) {
    throw std::runtime_error("SHA-256 of a refresh token failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  // 16 bytes are plenty to tell two configured tokens apart.
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

OAuthTokens ParseTokenResponse(std::string_view connector, std::string_view body,
                               reconcile::Millis now) {
  const std::string prefix = std::string(connector) + ": the token endpoint's answer ";
  boost::system::error_code error;
  const json::value document = json::parse(body, error);
  if (error || !document.is_object()) {
    throw FetchError(prefix + "is not a JSON object");
  }
  const json::object& object = document.get_object();
  const json::string* access = StringMember(object, "access_token");
  const json::string* refresh = StringMember(object, "refresh_token");
  if (access == nullptr) throw FetchError(prefix + "has no access_token");
  // Xero rotates on every use, so an answer without a new refresh token would strand us.
  if (refresh == nullptr) throw FetchError(prefix + "has no refresh_token");
  std::int64_t expires_in = kDefaultExpiresInSeconds;
  if (const json::value* member = object.if_contains("expires_in")) {
    const std::optional<std::int64_t> seconds = detail::ToInteger(*member);
    if (!seconds || *seconds <= 0) {
      throw FetchError(prefix + "has an expires_in that is not a positive number of seconds");
    }
    expires_in = *seconds;
  }
  OAuthTokens tokens;
  tokens.access_token = std::string(*access);
  tokens.refresh_token = std::string(*refresh);
  tokens.access_expires_at = now + expires_in * 1000;
  return tokens;
}

OAuthAccessTokens::OAuthAccessTokens(std::string connector, OAuthSettings settings,
                                     TokenStore& store, HttpTransport& transport, NowFunction now)
    : connector_(std::move(connector)),
      settings_(std::move(settings)),
      store_(store),
      transport_(transport),
      now_(now ? std::move(now) : NowFunction(SystemNow)) {
  try {
    detail::RequireBaseUrl(connector_, settings_.token_url);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(connector_ + ": token_url '" + settings_.token_url +
                                "' is not an absolute http:// or https:// URL without a query");
  }
  if (settings_.client_id.empty()) {
    throw std::invalid_argument(connector_ + ": client_id is empty");
  }
  if (settings_.client_secret.empty()) {
    throw std::invalid_argument(connector_ + ": client_secret is empty");
  }
  if (settings_.refresh_margin.count() < 0) {
    throw std::invalid_argument(connector_ + ": the refresh margin must not be negative");
  }
}

bool OAuthAccessTokens::Usable(const OAuthTokens& tokens, reconcile::Millis now) const {
  return !tokens.access_token.empty() && tokens.access_token != refused_ &&
         tokens.access_expires_at - std::chrono::milliseconds(settings_.refresh_margin).count() >
             now;
}

std::string OAuthAccessTokens::Get() {
  const reconcile::Millis now = now_();
  if (current_ && Usable(*current_, now)) return current_->access_token;

  // The configured initial token is read once per Get that needs the store, so a changed
  // secret (a re-authorisation) is picked up by the next run.
  std::optional<std::string> seed;
  if (settings_.initial_refresh_token) seed = settings_.initial_refresh_token();
  const std::string seed_fingerprint = seed ? OAuthFingerprint(*seed) : std::string();
  const auto reseed = [&](const std::optional<OAuthTokens>& stored) {
    return !stored || (seed && stored->seed_fingerprint != seed_fingerprint);
  };

  if (!current_) {
    std::optional<OAuthTokens> stored = store_.Load();
    if (stored && !reseed(stored) && Usable(*stored, now)) {
      current_ = std::move(stored);
      return current_->access_token;
    }
  }
  current_ =
      store_.Update([&](const std::optional<OAuthTokens>& stored) -> std::optional<OAuthTokens> {
        if (reseed(stored)) {
          if (!seed) {
            throw FetchError(connector_ +
                             ": no refresh token is stored for this tenant and none is configured "
                             "(refresh_token): authorise concord with " +
                             connector_ + " and configure the refresh token it was given");
          }
          OAuthTokens fresh = Refresh(*seed);
          fresh.seed_fingerprint = seed_fingerprint;
          return fresh;
        }
        // Another process may have refreshed while this one waited for the lock.
        if (Usable(*stored, now_())) return std::nullopt;
        OAuthTokens fresh = Refresh(stored->refresh_token);
        fresh.seed_fingerprint = stored->seed_fingerprint;
        return fresh;
      });
  return current_->access_token;
}

void OAuthAccessTokens::Refused(const std::string& access_token) {
  refused_ = access_token;
  if (current_ && current_->access_token == access_token) current_.reset();
}

OAuthTokens OAuthAccessTokens::Refresh(const std::string& refresh_token) {
  HttpRequest request;
  request.url = settings_.token_url;
  request.headers = {
      {"Authorization", "Basic " + Base64(settings_.client_id + ":" + settings_.client_secret)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"}};
  request.body = "grant_type=refresh_token&refresh_token=" + FormEncode(refresh_token);
  request.timeout = std::chrono::seconds(30);
  request.max_body_bytes = 64 * 1024;

  const std::string where = connector_ + ": refreshing the access token at " + request.url;
  HttpResponse response;
  try {
    response = transport_.Get(request);
  } catch (const FetchError& error) {
    // The stored refresh token is unchanged; the next run tries again (a token whose answer
    // was lost stays valid for a grace period).
    throw FetchError(where + " failed: " + error.what());
  }
  const reconcile::Millis now = now_();
  if (response.Ok()) {
    ++refreshes_;
    return ParseTokenResponse(connector_, response.body, now);
  }
  // {"error":"invalid_grant"} and friends (RFC 6749 §5.2). Only the error code is repeated:
  // a description could echo what was sent.
  std::string code;
  boost::system::error_code parse_error;
  const json::value body = json::parse(response.body, parse_error);
  if (!parse_error && body.is_object()) {
    if (const json::string* error = StringMember(body.get_object(), "error")) {
      code = std::string(*error);
    }
  }
  std::string message = where + " returned " + std::to_string(response.status);
  if (!response.reason.empty()) message += " " + response.reason;
  if (!code.empty()) message += " (" + code + ")";
  if (code == "invalid_grant") {
    message +=
        ": the stored refresh token is no longer valid (revoked, unused for 60 days, or already "
        "used); re-authorise concord with " +
        connector_ +
        " and configure the new refresh token as finance.refresh_token (a changed one replaces "
        "the stored tokens)";
  } else if (code == "invalid_client" || response.status == 401) {
    message += ": check finance.client_id and finance.client_secret";
  }
  throw HttpStatusError(message, response.status, detail::RetryAfterSeconds(response));
}

}  // namespace concord::connectors
