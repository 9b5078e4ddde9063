#pragma once
// Client-side call limits of one tenant at one vendor (Xero: 5 calls in flight, 60 a rolling
// minute, 5,000 a day; wire-formats §1.5), and an HttpTransport that keeps to them. The
// limiter counts its own calls and believes the vendor's X-MinLimit-Remaining /
// X-DayLimit-Remaining when they say fewer remain, so replicas sharing a tenant stay honest.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "connectors/http_client.hpp"
#include "connectors/oauth.hpp"
#include "reconcile/model.hpp"

namespace concord::connectors {

struct RateLimits {
  int concurrent = 5;   // calls in flight
  int per_minute = 60;  // calls in any 60 s
  int per_day = 5000;   // calls in any 24 h (plans differ: configurable)

  [[nodiscard]] bool operator==(const RateLimits&) const = default;
};

// The day budget is used up: the run must stop, not wait (the wait is hours).
class DayLimitError : public FetchError {
 public:
  DayLimitError(const std::string& message, reconcile::Millis reset_at)
      : FetchError(message), reset_at_(reset_at) {}
  // When calls may be made again (Unix ms): the vendor's Retry-After, or the local estimate.
  reconcile::Millis reset_at() const noexcept { return reset_at_; }

 private:
  reconcile::Millis reset_at_;
};

// Which calls may start now. Thread-safe; time is passed in, never read.
class RateLimiter {
 public:
  struct Decision {
    enum class Kind { kGo, kWait, kDayExhausted };
    Kind kind = Kind::kGo;
    std::chrono::milliseconds wait{0};  // kWait: try again after this long
    reconcile::Millis reset_at = 0;     // kDayExhausted: when the day budget frees up
  };

  explicit RateLimiter(RateLimits limits);

  // kGo counts the call as started (the caller must call Finish once it ends); otherwise
  // nothing is counted.
  [[nodiscard]] Decision TryStart(reconcile::Millis now);
  // A started call ended (with any outcome).
  void Finish();
  // The vendor's remaining counts after a call that ended at `now`: where they admit fewer
  // calls than counted locally (another replica used some), the difference is counted as
  // calls made at `now`.
  void Observe(reconcile::Millis now, std::optional<std::int64_t> minute_remaining,
               std::optional<std::int64_t> day_remaining);
  // The vendor refused a call for its minute (or concurrency) limit: nothing starts before
  // `until`.
  void BlockMinuteUntil(reconcile::Millis until);
  // The vendor refused a call for its day limit: TryStart answers kDayExhausted until `until`.
  void BlockDayUntil(reconcile::Millis until);

  [[nodiscard]] const RateLimits& limits() const { return limits_; }

 private:
  struct Bucket {
    reconcile::Millis at;
    std::int64_t calls;
  };
  void Prune(reconcile::Millis now);
  static void Add(std::deque<Bucket>& window, std::int64_t& total, reconcile::Millis at,
                  std::int64_t calls);

  const RateLimits limits_;
  std::mutex mutex_;
  int in_flight_ = 0;
  std::deque<Bucket> minute_, day_;
  std::int64_t minute_calls_ = 0, day_calls_ = 0;
  reconcile::Millis minute_blocked_until_ = 0, day_blocked_until_ = 0;
};

// "2026-12-06T14:00:00Z": how reset times appear in messages.
[[nodiscard]] std::string FormatResetTime(reconcile::Millis at);

// Sends every request through `limiter`: waits (through sleep) while the minute or
// concurrency limit is reached, and after a 429 with X-Rate-Limit-Problem other than `day`
// waits Retry-After (60 s when absent) and sends it again, a bounded number of times. A day
// budget used up locally, or a 429 naming `day`, throws DayLimitError naming the limit and the
// reset time. on_limit(limit) is called for every limit hit ("minute", "day", ...), for a
// metric. `inner`, `limiter` must outlive it.
class RateLimitedTransport final : public HttpTransport {
 public:
  using LimitHit = std::function<void(std::string_view limit)>;

  RateLimitedTransport(std::string connector, HttpTransport& inner, RateLimiter& limiter,
                       SleepFunction sleep, NowFunction now, LimitHit on_limit);

  HttpResponse Get(const HttpRequest& request) override;

 private:
  reconcile::Millis Now();
  void Wait(std::chrono::milliseconds pause);
  [[noreturn]] void DayExhausted(reconcile::Millis reset_at, std::string_view why);

  std::string connector_;
  HttpTransport& inner_;
  RateLimiter& limiter_;
  SleepFunction sleep_;
  NowFunction now_;
  LimitHit on_limit_;
  reconcile::Millis floor_ = 0;  // the clock never reads earlier than the end of the last wait
};

}  // namespace concord::connectors
