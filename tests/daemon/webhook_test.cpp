// Webhook signatures against known vectors, and what a payload of either source says about a
// tenant. The expected signatures were computed outside concord, as in each comment.

#include "daemon/webhook.hpp"

#include <gtest/gtest.h>

namespace concord::daemon {
namespace {

constexpr std::string_view kXeroTenant = "b5a3c1d2-0000-4000-8000-000000000001";
constexpr std::string_view kRealm = "9130350000000001";

// Xero's intent-to-receive payload.
constexpr std::string_view kHandshake =
    R"({"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"})";

TEST(WebhookSignatureTest, KnownVectors) {
  // RFC 4231 test case 2 (hex 5bdcc146...64ec3843), in base64:
  // printf '%s' 'what do ya want for nothing?' | openssl dgst -sha256 -hmac Jefe -binary | base64
  EXPECT_EQ(WebhookSignature("Jefe", "what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  // printf '%s' "$kHandshake" | openssl dgst -sha256 -hmac xero-webhook-key -binary | base64
  EXPECT_EQ(WebhookSignature("xero-webhook-key", kHandshake),
            "Jk5oeRqkvxspr6ZqkjgzOcJkUe7yZPsZrwBHTeueGFc=");
}

TEST(WebhookSignatureTest, VerifiesTheRawBytes) {
  const std::string signature = "Jk5oeRqkvxspr6ZqkjgzOcJkUe7yZPsZrwBHTeueGFc=";
  EXPECT_TRUE(VerifyWebhookSignature("xero-webhook-key", kHandshake, signature));
  // Another key, one more byte of body (a re-serialised body is another body), a signature
  // changed in one character, cut short, or absent.
  EXPECT_FALSE(VerifyWebhookSignature("xero-webhook-kez", kHandshake, signature));
  EXPECT_FALSE(
      VerifyWebhookSignature("xero-webhook-key", std::string(kHandshake) + " ", signature));
  auto changed = signature;
  changed[5] = 'A';
  EXPECT_FALSE(VerifyWebhookSignature("xero-webhook-key", kHandshake, changed));
  EXPECT_FALSE(VerifyWebhookSignature("xero-webhook-key", kHandshake, signature.substr(0, 43)));
  EXPECT_FALSE(VerifyWebhookSignature("xero-webhook-key", kHandshake, ""));
}

TEST(XeroWebhookTest, HandshakeHasNoEvents) {
  auto notice = ReadXeroWebhook(kHandshake, kXeroTenant);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->events, 0);
  EXPECT_EQ(notice->contact_changes, 0);
}

TEST(XeroWebhookTest, CountsContactEventsOfTheOrganisation) {
  const std::string body = R"({"events":[
    {"resourceUrl":"https://api.xero.com/api.xro/2.0/Contacts/c-1","resourceId":"c-1",
     "eventDateUtc":"2024-06-21T01:15:39.902","eventType":"UPDATE","eventCategory":"CONTACT",
     "tenantId":"B5A3C1D2-0000-4000-8000-000000000001","tenantType":"ORGANISATION"},
    {"resourceId":"i-1","eventType":"CREATE","eventCategory":"INVOICE",
     "tenantId":"b5a3c1d2-0000-4000-8000-000000000001"},
    {"resourceId":"c-2","eventType":"CREATE","eventCategory":"CONTACT",
     "tenantId":"00000000-0000-0000-0000-000000000009"},
    {"resourceId":"c-3","eventType":"UPDATE","eventCategory":"CONTACT"},
    "not an event"
  ],"firstEventSequence":1,"lastEventSequence":4,"entropy":"x"})";
  auto notice = ReadXeroWebhook(body, kXeroTenant);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->events, 5);
  // c-1 (tenant ids compare without case) and c-3 (no tenantId: the URL names the tenant);
  // not the invoice, not c-2 of another organisation.
  EXPECT_EQ(notice->contact_changes, 2);
}

TEST(XeroWebhookTest, RejectsWhatIsNotAPayload) {
  for (std::string_view body : {"", "{", "[]", R"({"events":{}})", R"({"entropy":"x"})"}) {
    SCOPED_TRACE(body);
    EXPECT_FALSE(ReadXeroWebhook(body, kXeroTenant));
  }
}

TEST(QboWebhookTest, ClassicShape) {
  const std::string body = R"({"eventNotifications":[
    {"realmId":"9130350000000001","dataChangeEvent":{"entities":[
      {"name":"Customer","id":"58","operation":"Update","lastUpdated":"2024-06-09T16:40:11.000Z"},
      {"name":"Invoice","id":"7","operation":"Create","lastUpdated":"2024-06-09T16:40:11.000Z"},
      {"name":"Customer","id":"59","operation":"Merge","lastUpdated":"2024-06-09T16:40:12.000Z"}]}},
    {"realmId":"4620816365000000000","dataChangeEvent":{"entities":[
      {"name":"Customer","id":"1","operation":"Create"}]}}]})";
  auto notice = ReadQboWebhook(body, kRealm);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->events, 4);
  EXPECT_EQ(notice->contact_changes, 2);  // 58 and 59; not the invoice, not the other realm
}

TEST(QboWebhookTest, CloudEventsShape) {
  const std::string body = R"([
    {"specversion":"1.0","id":"3f1c","source":"intuit.abc","type":"qbo.customer.updated.v1",
     "datacontenttype":"application/json","time":"2024-06-09T23:40:11.000Z",
     "intuitentityid":"58","intuitaccountid":"9130350000000001","data":{}},
    {"specversion":"1.0","id":"3f1d","type":"qbo.invoice.created.v1",
     "intuitentityid":"7","intuitaccountid":"9130350000000001"},
    {"specversion":"1.0","id":"3f1e","type":"qbo.customer.merged.v1",
     "intuitentityid":"9","intuitaccountid":"4620816365000000000"},
    {"specversion":"1.0","id":"3f1f","type":"qbo.customerx.updated.v1",
     "intuitaccountid":"9130350000000001"}])";
  auto notice = ReadQboWebhook(body, kRealm);
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->events, 4);
  EXPECT_EQ(notice->contact_changes, 1);
}

TEST(QboWebhookTest, RejectsWhatIsNotAPayload) {
  for (std::string_view body : {"", "nope", "{}", R"({"eventNotifications":{}})", "42"}) {
    SCOPED_TRACE(body);
    EXPECT_FALSE(ReadQboWebhook(body, kRealm));
  }
}

}  // namespace
}  // namespace concord::daemon
