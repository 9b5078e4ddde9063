#include "connectors/wire_time.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace concord::connectors {
namespace {

using reconcile::Millis;

// A forward-only reader over the text being parsed.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Literal(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }

  bool Char(char expected) {
    if (Peek() != expected || AtEnd()) return false;
    ++pos_;
    return true;
  }

  // Exactly `count` decimal digits.
  std::optional<int> Digits(int count) {
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (!IsDigit(Peek())) return std::nullopt;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return value;
  }

  // One or more decimal digits; nullopt on overflow.
  std::optional<std::int64_t> Number() {
    if (!IsDigit(Peek())) return std::nullopt;
    std::int64_t value = 0;
    while (IsDigit(Peek())) {
      const int digit = text_[pos_++] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return std::nullopt;
      value = value * 10 + digit;
    }
    return value;
  }

  // Reads digits after a decimal point; returns the first three as milliseconds.
  std::optional<int> FractionMillis() {
    if (!IsDigit(Peek())) return std::nullopt;
    int millis = 0;
    int scale = 100;
    while (IsDigit(Peek())) {
      millis += (text_[pos_++] - '0') * scale;
      scale /= 10;
    }
    return millis;
  }

  std::string_view Take(std::size_t count) {
    if (text_.size() - pos_ < count) return {};
    const std::string_view taken = text_.substr(pos_, count);
    pos_ += count;
    return taken;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Calendar fields → UTC milliseconds; nullopt for an impossible date or time.
std::optional<Millis> ToMillis(int year, int month, int day, int hour, int minute, int second,
                               int millis) {
  namespace chrono = std::chrono;
  const chrono::year_month_day date{chrono::year{year}, chrono::month{static_cast<unsigned>(month)},
                                    chrono::day{static_cast<unsigned>(day)}};
  // Second 60 is a leap second; the epoch count has no room for it, so it is refused.
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const auto days = chrono::sys_days{date}.time_since_epoch().count();
  return ((static_cast<Millis>(days) * 24 + hour) * 60 + minute) * 60 * 1000 +
         static_cast<Millis>(second) * 1000 + millis;
}

std::string Format(Millis at, bool zulu) {
  namespace chrono = std::chrono;
  const chrono::sys_time<chrono::milliseconds> point{chrono::milliseconds{at}};
  const auto day = chrono::floor<chrono::days>(point);
  const chrono::year_month_day date{day};
  const chrono::hh_mm_ss time{chrono::floor<chrono::seconds>(point - day)};
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d%s",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                zulu ? "Z" : "");
  return buffer.data();
}

}  // namespace

std::optional<Millis> ParseXeroDate(std::string_view text) {
  Cursor in(text);
  if (!in.Literal("/Date(")) return std::nullopt;
  const bool negative = in.Char('-');
  const std::optional<std::int64_t> number = in.Number();
  if (!number) return std::nullopt;
  if (in.Peek() == '+' || in.Peek() == '-') {
    in.Char(in.Peek());
    if (!in.Digits(4)) return std::nullopt;
  }
  if (!in.Literal(")/") || !in.AtEnd()) return std::nullopt;
  return negative ? -*number : *number;
}

std::optional<Millis> ParseIsoDateTime(std::string_view text) {
  Cursor in(text);
  const auto year = in.Digits(4);
  if (!year || !in.Char('-')) return std::nullopt;
  const auto month = in.Digits(2);
  if (!month || !in.Char('-')) return std::nullopt;
  const auto day = in.Digits(2);
  if (!day || !(in.Char('T') || in.Char('t') || in.Char(' '))) return std::nullopt;
  const auto hour = in.Digits(2);
  if (!hour || !in.Char(':')) return std::nullopt;
  const auto minute = in.Digits(2);
  if (!minute || !in.Char(':')) return std::nullopt;
  const auto second = in.Digits(2);
  if (!second) return std::nullopt;
  int millis = 0;
  if (in.Char('.') || in.Char(',')) {
    const auto fraction = in.FractionMillis();
    if (!fraction) return std::nullopt;
    millis = *fraction;
  }
  Millis offset_minutes = 0;
  if (in.Char('Z') || in.Char('z')) {
    // UTC.
  } else if (in.Peek() == '+' || in.Peek() == '-') {
    const int sign = in.Peek() == '-' ? -1 : 1;
    in.Char(in.Peek());
    const auto offset_hours = in.Digits(2);
    if (!offset_hours) return std::nullopt;
    in.Char(':');  // both +hh:mm and +hhmm occur
    const auto offset_mins = in.Digits(2);
    if (!offset_mins || *offset_hours > 23 || *offset_mins > 59) return std::nullopt;
    offset_minutes = sign * (*offset_hours * 60 + *offset_mins);
  }
  if (!in.AtEnd()) return std::nullopt;
  const auto local = ToMillis(*year, *month, *day, *hour, *minute, *second, millis);
  if (!local) return std::nullopt;
  return *local - offset_minutes * 60 * 1000;
}

std::optional<Millis> ParseHttpDate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kWeekdays = {"Mon", "Tue", "Wed", "Thu",
                                                                "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Cursor in(text);
  const std::string_view weekday = in.Take(3);
  bool known_weekday = false;
  for (const std::string_view name : kWeekdays) known_weekday = known_weekday || name == weekday;
  if (!known_weekday || !in.Literal(", ")) return std::nullopt;
  const auto day = in.Digits(2);
  if (!day || !in.Char(' ')) return std::nullopt;
  const std::string_view month_name = in.Take(3);
  int month = 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == month_name) month = static_cast<int>(i) + 1;
  }
  if (month == 0 || !in.Char(' ')) return std::nullopt;
  const auto year = in.Digits(4);
  if (!year || !in.Char(' ')) return std::nullopt;
  const auto hour = in.Digits(2);
  if (!hour || !in.Char(':')) return std::nullopt;
  const auto minute = in.Digits(2);
  if (!minute || !in.Char(':')) return std::nullopt;
  const auto second = in.Digits(2);
  if (!second || !in.Literal(" GMT") || !in.AtEnd()) return std::nullopt;
  return ToMillis(*year, month, *day, *hour, *minute, *second, 0);
}

std::string FormatIsoSeconds(Millis at) { return Format(at, false); }

std::string FormatIsoSecondsZ(Millis at) { return Format(at, true); }

}  // namespace concord::connectors
