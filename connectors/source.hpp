#pragma once
// The two kinds of source a tenant has, as the sync job sees them. Each connector streams
// pages to a callback so a run never holds more than it needs.

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reconcile/model.hpp"

namespace concord::connectors {

// A failed fetch. The message names the connector, the URL and the HTTP status (or the
// transport error) so an operator can act on it without reading code.
class FetchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FetchRequest {
  // Only records changed since this instant (the stored cursor); nullopt = full read.
  std::optional<reconcile::Millis> since;
};

struct FetchSummary {
  // The source's own clock at the run's first request (Xero DateTimeUTC, the HTTP Date
  // header); the next cursor is derived from it, never from the local clock.
  reconcile::Millis source_clock = 0;
  std::int64_t pages = 0;
  std::int64_t records = 0;
};

struct FinancePage {
  std::vector<reconcile::FinancePerson> persons;
  std::vector<reconcile::QuarantinedRecord> quarantined;
};

struct PortalPage {
  std::vector<reconcile::PortalUser> users;
  std::vector<reconcile::QuarantinedRecord> quarantined;
};

class FinanceSource {
 public:
  virtual ~FinanceSource() = default;
  // Calls on_page once per page, in order. Throws FetchError on any failure.
  virtual FetchSummary Fetch(const FetchRequest& request,
                             const std::function<void(FinancePage&&)>& on_page) = 0;
};

class PortalSource {
 public:
  virtual ~PortalSource() = default;
  virtual FetchSummary Fetch(const FetchRequest& request,
                             const std::function<void(PortalPage&&)>& on_page) = 0;
};

// Transport settings shared by every HTTP connector.
struct HttpSettings {
  std::string ca_file;         // empty: the system trust store
  int timeout_seconds = 30;    // per request, connect to last byte
};

struct XeroSettings {
  std::string base_url;        // e.g. https://api.xero.com/api.xro/2.0
  std::string access_token;    // resolved secret
  std::string xero_tenant_id;
  int page_size = 1000;        // Xero caps at 1000
  HttpSettings http;
};

struct ScimSettings {
  std::string base_url;        // e.g. https://portal.example/scim/v2
  std::string token;           // resolved secret
  int page_size = 500;
  HttpSettings http;
};

std::unique_ptr<FinanceSource> MakeXeroSource(XeroSettings settings);
std::unique_ptr<PortalSource> MakeScimSource(ScimSettings settings);

}  // namespace concord::connectors
