#include "wire_time.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace concord::fake {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr EpochMillis kMillisPerSecond = 1000;
constexpr EpochMillis kMillisPerDay = 86'400'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at `pos`; advances `pos`.
std::optional<int> ReadFixed(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool Expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// Floor division, so negative epoch values split into a day and a non-negative remainder.
EpochMillis FloorDiv(EpochMillis a, EpochMillis b) { return a / b - ((a % b != 0) && (a < 0)); }

struct Civil {
  int year;
  unsigned month;
  unsigned day;
  int hour;
  int minute;
  int second;
  int millis;
};

Civil ToCivil(EpochMillis ms) {
  const EpochMillis day_index = FloorDiv(ms, kMillisPerDay);
  const EpochMillis in_day = ms - day_index * kMillisPerDay;
  const std::chrono::year_month_day ymd{sys_days{days{day_index}}};
  return Civil{static_cast<int>(ymd.year()),           static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()),       static_cast<int>(in_day / 3'600'000),
               static_cast<int>(in_day / 60'000 % 60), static_cast<int>(in_day / 1000 % 60),
               static_cast<int>(in_day % 1000)};
}

}  // namespace

std::optional<EpochMillis> ParseXeroDate(std::string_view text) {
  constexpr std::string_view kPrefix = "/Date(";
  constexpr std::string_view kSuffix = ")/";
  if (!text.starts_with(kPrefix) || !text.ends_with(kSuffix)) return std::nullopt;
  std::string_view inner = text.substr(kPrefix.size(), text.size() - kPrefix.size() - 2);
  // An optional trailing offset: [+-]hhmm, after at least one digit of the number.
  if (inner.size() > 5 && (inner[inner.size() - 5] == '+' || inner[inner.size() - 5] == '-')) {
    for (std::size_t i = inner.size() - 4; i < inner.size(); ++i) {
      if (!IsDigit(inner[i])) return std::nullopt;
    }
    inner.remove_suffix(5);
  }
  EpochMillis ms = 0;
  const auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), ms);
  if (ec != std::errc{} || end != inner.data() + inner.size() || inner.empty()) {
    return std::nullopt;
  }
  return ms;
}

std::string FormatXeroDate(EpochMillis ms, bool with_offset) {
  return "/Date(" + std::to_string(ms) + (with_offset ? "+0000" : "") + ")/";
}

std::optional<EpochMillis> ParseIsoDateTime(std::string_view text) {
  std::size_t pos = 0;
  const auto year = ReadFixed(text, pos, 4);
  if (!year || !Expect(text, pos, '-')) return std::nullopt;
  const auto month = ReadFixed(text, pos, 2);
  if (!month || !Expect(text, pos, '-')) return std::nullopt;
  const auto day = ReadFixed(text, pos, 2);
  if (!day || !(Expect(text, pos, 'T') || Expect(text, pos, 't'))) return std::nullopt;
  const auto hour = ReadFixed(text, pos, 2);
  if (!hour || !Expect(text, pos, ':')) return std::nullopt;
  const auto minute = ReadFixed(text, pos, 2);
  if (!minute || !Expect(text, pos, ':')) return std::nullopt;
  const auto second = ReadFixed(text, pos, 2);
  if (!second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;

  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t first = pos;
    int scale = 100;
    while (pos < text.size() && IsDigit(text[pos])) {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }

  EpochMillis offset_ms = 0;
  if (pos < text.size()) {
    const char zone = text[pos++];
    if (zone == 'Z' || zone == 'z') {
      // UTC.
    } else if (zone == '+' || zone == '-') {
      const auto oh = ReadFixed(text, pos, 2);
      if (!oh) return std::nullopt;
      Expect(text, pos, ':');
      const auto om = ReadFixed(text, pos, 2);
      if (!om || *oh > 23 || *om > 59) return std::nullopt;
      offset_ms = (*oh * 60 + *om) * 60'000LL * (zone == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;

  const std::chrono::year_month_day ymd{std::chrono::year{*year},
                                        std::chrono::month{static_cast<unsigned>(*month)},
                                        std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;
  const EpochMillis day_index = sys_days{ymd}.time_since_epoch().count();
  return day_index * kMillisPerDay + ((*hour * 60LL + *minute) * 60 + *second) * kMillisPerSecond +
         millis - offset_ms;
}

std::string FormatIsoDateTime(EpochMillis ms) {
  const Civil c = ToCivil(ms);
  std::array<char, 40> buf{};
  int n = 0;
  if (c.millis == 0) {
    n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ", c.year, c.month,
                      c.day, c.hour, c.minute, c.second);
  } else {
    n = std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", c.year,
                      c.month, c.day, c.hour, c.minute, c.second, c.millis);
  }
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::string FormatHttpDate(EpochMillis ms) {
  static constexpr std::array<const char*, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                           "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = ToCivil(ms);
  const sys_days day_point{days{FloorDiv(ms, kMillisPerDay)}};
  const unsigned weekday = std::chrono::weekday{day_point}.c_encoding();
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                              kWeekdays[weekday], c.day, kMonths[c.month - 1], c.year, c.hour,
                              c.minute, c.second);
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

EpochMillis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace concord::fake
