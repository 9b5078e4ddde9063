#include "connectors/wire_time.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

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

// UTC milliseconds → calendar fields, rounding down (so -1 is 1969-12-31T23:59:59.999).
struct Civil {
  std::chrono::year_month_day date;
  std::chrono::weekday weekday;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
};

Civil ToCivil(Millis at) {
  namespace chrono = std::chrono;
  const chrono::sys_time<chrono::milliseconds> point{chrono::milliseconds{at}};
  const auto day = chrono::floor<chrono::days>(point);
  const chrono::hh_mm_ss time{point - day};
  return Civil{chrono::year_month_day{day},
               chrono::weekday{day},
               static_cast<int>(time.hours().count()),
               static_cast<int>(time.minutes().count()),
               static_cast<int>(time.seconds().count()),
               static_cast<int>(time.subseconds().count())};
}

enum class Fraction { kNone, kWhenNonZero };

std::string Format(Millis at, Fraction fraction, bool zulu) {
  const Civil c = ToCivil(at);
  std::array<char, 8> millis{};
  if (fraction == Fraction::kWhenNonZero && c.millis != 0) {
    std::snprintf(millis.data(), millis.size(), ".%03d", c.millis);
  }
  std::array<char, 48> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d%s%s",
                static_cast<int>(c.date.year()), static_cast<unsigned>(c.date.month()),
                static_cast<unsigned>(c.date.day()), c.hour, c.minute, c.second, millis.data(),
                zulu ? "Z" : "");
  return buffer.data();
}

// IMF-fixdate names; the weekdays in std::chrono::weekday::c_encoding() order.
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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

std::string FormatXeroDate(Millis at, bool with_offset) {
  return "/Date(" + std::to_string(at) + (with_offset ? "+0000" : "") + ")/";
}

std::optional<Millis> ParseIsoDateTime(std::string_view text) {
  Cursor in(text);
  const auto year = in.Digits(4);
  if (!year || !in.Char('-')) return std::nullopt;
  const auto month = in.Digits(2);
  if (!month || !in.Char('-')) return std::nullopt;
  const auto day = in.Digits(2);
  if (!day || !(in.Char('T') || in.Char('t'))) return std::nullopt;
  const auto hour = in.Digits(2);
  if (!hour || !in.Char(':')) return std::nullopt;
  const auto minute = in.Digits(2);
  if (!minute || !in.Char(':')) return std::nullopt;
  const auto second = in.Digits(2);
  if (!second) return std::nullopt;
  int millis = 0;
  if (in.Char('.')) {
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

std::string FormatIsoDateTime(Millis at) { return Format(at, Fraction::kWhenNonZero, true); }

std::optional<Millis> ParseHttpDate(std::string_view text) {
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

std::string FormatHttpDate(Millis at) {
  const Civil c = ToCivil(at);
  std::array<char, 40> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kWeekdays[c.weekday.c_encoding()].data(), static_cast<unsigned>(c.date.day()),
                kMonths[static_cast<unsigned>(c.date.month()) - 1].data(),
                static_cast<int>(c.date.year()), c.hour, c.minute, c.second);
  return buffer.data();
}

std::string FormatIsoSeconds(Millis at) { return Format(at, Fraction::kNone, false); }

std::string FormatIsoSecondsZ(Millis at) { return Format(at, Fraction::kNone, true); }

}  // namespace concord::connectors
