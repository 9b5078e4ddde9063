#include "connectors/rate_limiter.hpp"

#include <algorithm>
#include <boost/algorithm/string/case_conv.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "connectors/vendor_http.hpp"
#include "connectors/wire_time.hpp"

namespace concord::connectors {
namespace {

constexpr reconcile::Millis kMinuteMs = 60'000;
constexpr reconcile::Millis kDayMs = 86'400'000;
// While all concurrent slots are taken, look again this often.
constexpr std::chrono::milliseconds kSlotPoll{50};
// A 429 without a usable Retry-After waits this long (Xero's minute window).
constexpr std::int64_t kDefaultRetryAfterSeconds = 60;
// Minute-limit refusals of one request in a row before its 429 is handed back to the caller.
constexpr int kMaxMinuteRefusals = 5;

std::optional<std::int64_t> HeaderInteger(const HttpResponse& response, std::string_view name) {
  const auto header = response.Header(name);
  if (!header) return std::nullopt;
  try {
    std::size_t used = 0;
    const std::string text(*header);
    const long long value = std::stoll(text, &used);
    if (used != text.size() || value < 0) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

reconcile::Millis SystemNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RateLimiter::RateLimiter(RateLimits limits) : limits_(limits) {
  if (limits_.concurrent < 1 || limits_.per_minute < 1 || limits_.per_day < 1) {
    throw std::invalid_argument("rate limits must each be at least 1");
  }
}

void RateLimiter::Add(std::deque<Bucket>& window, std::int64_t& total, reconcile::Millis at,
                      std::int64_t calls) {
  if (!window.empty() && window.back().at >= at) {
    window.back().calls += calls;  // same instant (or a clock step back): one bucket
  } else {
    window.push_back({at, calls});
  }
  total += calls;
}

void RateLimiter::Prune(reconcile::Millis now) {
  while (!minute_.empty() && minute_.front().at + kMinuteMs <= now) {
    minute_calls_ -= minute_.front().calls;
    minute_.pop_front();
  }
  while (!day_.empty() && day_.front().at + kDayMs <= now) {
    day_calls_ -= day_.front().calls;
    day_.pop_front();
  }
}

RateLimiter::Decision RateLimiter::TryStart(reconcile::Millis now) {
  std::lock_guard lock(mutex_);
  Prune(now);
  using Kind = Decision::Kind;
  if (now < day_blocked_until_) return {Kind::kDayExhausted, {}, day_blocked_until_};
  if (day_calls_ >= limits_.per_day) {
    // The oldest calls leave the 24 h window first; until then the budget stays used up.
    return {Kind::kDayExhausted, {}, day_.front().at + kDayMs};
  }
  if (now < minute_blocked_until_) {
    return {Kind::kWait, std::chrono::milliseconds(minute_blocked_until_ - now), 0};
  }
  if (minute_calls_ >= limits_.per_minute) {
    return {Kind::kWait, std::chrono::milliseconds(minute_.front().at + kMinuteMs - now), 0};
  }
  if (in_flight_ >= limits_.concurrent) return {Kind::kWait, kSlotPoll, 0};
  ++in_flight_;
  Add(minute_, minute_calls_, now, 1);
  Add(day_, day_calls_, now, 1);
  return {Kind::kGo, {}, 0};
}

void RateLimiter::Finish() {
  std::lock_guard lock(mutex_);
  if (in_flight_ > 0) --in_flight_;
}

void RateLimiter::Observe(reconcile::Millis now, std::optional<std::int64_t> minute_remaining,
                          std::optional<std::int64_t> day_remaining) {
  std::lock_guard lock(mutex_);
  Prune(now);
  if (minute_remaining) {
    const std::int64_t used = limits_.per_minute - *minute_remaining;
    if (used > minute_calls_) Add(minute_, minute_calls_, now, used - minute_calls_);
  }
  if (day_remaining) {
    const std::int64_t used = limits_.per_day - *day_remaining;
    if (used > day_calls_) Add(day_, day_calls_, now, used - day_calls_);
  }
}

void RateLimiter::BlockMinuteUntil(reconcile::Millis until) {
  std::lock_guard lock(mutex_);
  minute_blocked_until_ = std::max(minute_blocked_until_, until);
}

void RateLimiter::BlockDayUntil(reconcile::Millis until) {
  std::lock_guard lock(mutex_);
  day_blocked_until_ = std::max(day_blocked_until_, until);
}

std::string FormatResetTime(reconcile::Millis at) { return FormatIsoSecondsZ(at); }

RateLimitedTransport::RateLimitedTransport(std::string connector, HttpTransport& inner,
                                           RateLimiter& limiter, SleepFunction sleep,
                                           NowFunction now, LimitHit on_limit)
    : connector_(std::move(connector)),
      inner_(inner),
      limiter_(limiter),
      sleep_(std::move(sleep)),
      now_(now ? std::move(now) : NowFunction(SystemNow)),
      on_limit_(std::move(on_limit)) {}

reconcile::Millis RateLimitedTransport::Now() { return std::max(now_(), floor_); }

void RateLimitedTransport::Wait(std::chrono::milliseconds pause) {
  // However the sleep is done (tests only record it), at least this much time has passed.
  floor_ = Now() + pause.count();
  if (sleep_) {
    sleep_(pause);
  } else {
    std::this_thread::sleep_for(pause);
  }
}

void RateLimitedTransport::DayExhausted(reconcile::Millis reset_at, std::string_view why) {
  if (on_limit_) on_limit_("day");
  throw DayLimitError("the day limit of " + connector_ + " calls for this tenant was reached (" +
                          std::string(why) + "; " + std::to_string(limiter_.limits().per_day) +
                          " calls a day configured): the run stopped instead of waiting; calls "
                          "are allowed again from " +
                          FormatResetTime(reset_at),
                      reset_at);
}

HttpResponse RateLimitedTransport::Get(const HttpRequest& request) {
  for (int refusals = 0;;) {
    for (;;) {
      const RateLimiter::Decision decision = limiter_.TryStart(Now());
      if (decision.kind == RateLimiter::Decision::Kind::kGo) break;
      if (decision.kind == RateLimiter::Decision::Kind::kDayExhausted) {
        DayExhausted(decision.reset_at, "the local day budget is used up");
      }
      Wait(decision.wait);
    }
    HttpResponse response;
    try {
      response = inner_.Get(request);
    } catch (...) {
      limiter_.Finish();
      throw;
    }
    limiter_.Finish();
    const reconcile::Millis now = Now();
    limiter_.Observe(now, HeaderInteger(response, "X-MinLimit-Remaining"),
                     HeaderInteger(response, "X-DayLimit-Remaining"));
    if (response.status != 429) return response;

    std::string problem = boost::algorithm::to_lower_copy(
        std::string(response.Header("X-Rate-Limit-Problem").value_or("unnamed")));
    // A metric label: only the values Xero is known or expected to send.
    if (problem != "minute" && problem != "day" && problem != "concurrent" &&
        problem != "appminute") {
      problem = "other";
    }
    const std::int64_t retry_after =
        detail::RetryAfterSeconds(response).value_or(kDefaultRetryAfterSeconds);
    const reconcile::Millis until = now + retry_after * 1000;
    if (problem == "day") {
      limiter_.BlockDayUntil(until);
      DayExhausted(until, "429 with X-Rate-Limit-Problem: day, Retry-After: " +
                              std::to_string(retry_after) + " s");
    }
    if (on_limit_) on_limit_(problem);
    limiter_.BlockMinuteUntil(until);
    // A limit that will not lift soon is the caller's to handle (its retry policy gives up on
    // a long Retry-After).
    if (++refusals > kMaxMinuteRefusals || retry_after > kDefaultRetryAfterSeconds * 5) {
      return response;
    }
    Wait(std::chrono::seconds(retry_after));
  }
}

}  // namespace concord::connectors
