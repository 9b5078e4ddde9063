#pragma once
// SIGHUP (docs/operations.md): `concord serve` reads its configuration file again and runs on
// the new one from then on. What a reload changes is decided here, purely; serve.cpp loads
// the file and applies the result as a whole or not at all.

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config.hpp"

namespace concord::daemon {

// How the tenant list differs between the configuration running and the one read again.
struct TenantChanges {
  std::vector<std::string> added;    // in the new file's order
  std::vector<std::string> removed;  // in the running configuration's order
  std::vector<std::string> changed;  // in both, some setting different; in the new file's order
};

// Tenants are the same tenant when their ids are equal. Pure.
[[nodiscard]] TenantChanges DiffTenants(const std::vector<TenantConfig>& running,
                                        const std::vector<TenantConfig>& fresh);

struct ReloadPlan {
  // What to run on from now: the file read again, except for the settings that need a
  // restart, which keep their running values.
  Config config;
  TenantChanges tenants;
  // The keys of the settings that differ but need a restart to apply ("http.listen").
  std::vector<std::string> restart_required;
};

// The reload of `running` to `fresh` (a successfully loaded file). The database URL, the
// listen address and the logging settings are fixed at start: the pool, the listener and the
// logger are built from them once. Pure.
[[nodiscard]] ReloadPlan PlanReload(const Config& running, Config fresh);

// A value the daemon replaces as a whole on reload (the configuration, the resolved tokens).
// Readers take a snapshot per run or request and keep it for as long as they use it, so a
// reload never changes what a run in progress sees. Thread-safe.
template <typename T>
class Reloadable {
 public:
  explicit Reloadable(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  [[nodiscard]] std::shared_ptr<const T> Current() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  void Replace(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    value_.swap(value);
    // The old value (in `value`) is released after the lock: the last snapshot frees it.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace concord::daemon
