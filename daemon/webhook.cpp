#include "daemon/webhook.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>

namespace concord::daemon {
namespace json = boost::json;

namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view StringAt(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string_view(value->get_string()) : std::string_view();
}

// An id the payload names for the account: absent counts as ours (the URL names the tenant,
// and the signature proves the sender); present, it must be ours (one app's webhook key can
// sign for several organisations).
bool ForAccount(std::string_view named, std::string_view ours) {
  return named.empty() || EqualsIgnoringCase(named, ours);
}

std::optional<json::value> Parse(std::string_view body) {
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) return std::nullopt;
  return value;
}

}  // namespace

std::string_view ToString(WebhookSource source) {
  return source == WebhookSource::kXero ? "xero" : "qbo";
}

std::string WebhookSignature(std::string_view key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_size);
  // Base64 of n bytes is 4 * ceil(n / 3) characters, plus the NUL EVP_EncodeBlock writes.
  std::string out(4 * ((mac_size + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                                      static_cast<int>(mac_size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool VerifyWebhookSignature(std::string_view key, std::string_view body,
                            std::string_view signature) {
  const auto expected = WebhookSignature(key, body);
  // The length of a SHA-256 signature is public; only its bytes are compared in constant time.
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

std::optional<WebhookNotice> ReadXeroWebhook(std::string_view body,
                                             std::string_view xero_tenant_id) {
  auto value = Parse(body);
  if (!value || !value->is_object()) return std::nullopt;
  const auto* events = value->get_object().if_contains("events");
  if (!events || !events->is_array()) return std::nullopt;
  WebhookNotice notice;
  for (const auto& event : events->get_array()) {
    ++notice.events;
    if (!event.is_object()) continue;
    const auto& e = event.get_object();
    if (EqualsIgnoringCase(StringAt(e, "eventCategory"), "CONTACT") &&
        ForAccount(StringAt(e, "tenantId"), xero_tenant_id)) {
      ++notice.contact_changes;
    }
  }
  return notice;
}

std::optional<WebhookNotice> ReadQboWebhook(std::string_view body, std::string_view realm_id) {
  auto value = Parse(body);
  if (!value) return std::nullopt;
  WebhookNotice notice;
  if (value->is_array()) {
    // CloudEvents: one change a element; type "qbo.<entity>.<operation>.v1".
    for (const auto& event : value->get_array()) {
      ++notice.events;
      if (!event.is_object()) continue;
      const auto& e = event.get_object();
      const auto type = StringAt(e, "type");
      if (type.size() > 13 && EqualsIgnoringCase(type.substr(0, 13), "qbo.customer.") &&
          ForAccount(StringAt(e, "intuitaccountid"), realm_id)) {
        ++notice.contact_changes;
      }
    }
    return notice;
  }
  if (!value->is_object()) return std::nullopt;
  const auto* notifications = value->get_object().if_contains("eventNotifications");
  if (!notifications || !notifications->is_array()) return std::nullopt;
  for (const auto& notification : notifications->get_array()) {
    if (!notification.is_object()) continue;
    const auto& n = notification.get_object();
    const bool ours = ForAccount(StringAt(n, "realmId"), realm_id);
    const auto* change = n.if_contains("dataChangeEvent");
    if (!change || !change->is_object()) continue;
    const auto* entities = change->get_object().if_contains("entities");
    if (!entities || !entities->is_array()) continue;
    for (const auto& entity : entities->get_array()) {
      ++notice.events;
      if (ours && entity.is_object() &&
          EqualsIgnoringCase(StringAt(entity.get_object(), "name"), "Customer")) {
        ++notice.contact_changes;
      }
    }
  }
  return notice;
}

}  // namespace concord::daemon
