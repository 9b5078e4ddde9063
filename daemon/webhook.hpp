#pragma once
// Finance webhooks (docs/operations.md "Webhooks"): Xero and QuickBooks Online tell concord
// that a tenant's contacts changed, so its next incremental run starts now instead of at its
// interval. Both sign the raw body with a per-app key; both send ids only, so a notice never
// carries data into the sync: it only says "look again". Pure: verifying a signature and
// reading a payload, for the admin API's webhook routes (api.cpp).

#include <optional>
#include <string>
#include <string_view>

namespace concord::daemon {

enum class WebhookSource { kXero, kQbo };

// "xero" or "qbo": the route's path segment and the metrics label.
[[nodiscard]] std::string_view ToString(WebhookSource source);

// base64(HMAC-SHA256(key, body)): the x-xero-signature and intuit-signature header value.
[[nodiscard]] std::string WebhookSignature(std::string_view key, std::string_view body);

// Whether `signature` (the header, "" when absent) is the body's signature under `key`,
// compared in constant time so the answer's timing tells nothing about the right one.
[[nodiscard]] bool VerifyWebhookSignature(std::string_view key, std::string_view body,
                                          std::string_view signature);

// What a verified payload says about one tenant.
struct WebhookNotice {
  int events = 0;           // events (Xero) or entity changes (QBO) in the payload
  int contact_changes = 0;  // of them, changes to this tenant's contacts or customers
};

// A Xero payload ({"events":[...], ...}, wire-formats.md §1.7): CONTACT events for the
// organisation `xero_tenant_id` (an event without a tenantId counts, as the URL names the
// tenant). The intent-to-receive payload has no events. nullopt: not a Xero payload.
[[nodiscard]] std::optional<WebhookNotice> ReadXeroWebhook(std::string_view body,
                                                           std::string_view xero_tenant_id);

// A QuickBooks Online payload in either shape (wire-formats.md §2.7): the classic
// {"eventNotifications":[{"realmId", "dataChangeEvent":{"entities":[...]}}]} or the
// CloudEvents array [{"type":"qbo.customer.updated.v1","intuitaccountid", ...}]. Customer
// changes of the company `realm_id`. nullopt: neither shape.
[[nodiscard]] std::optional<WebhookNotice> ReadQboWebhook(std::string_view body,
                                                          std::string_view realm_id);

}  // namespace concord::daemon
