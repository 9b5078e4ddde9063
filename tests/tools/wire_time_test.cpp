#include "tools/concord-fake/wire_time.hpp"

#include <gtest/gtest.h>

namespace concord::fake {
namespace {

TEST(WireTimeTest, ParsesXeroDates) {
  EXPECT_EQ(ParseXeroDate("/Date(1503348544227+0000)/"), 1503348544227);
  EXPECT_EQ(ParseXeroDate("/Date(1718000000123)/"), 1718000000123);
  EXPECT_EQ(ParseXeroDate("/Date(-1000-0100)/"), -1000);
  for (const char* bad : {"", "/Date()/", "/Date(12a)/", "Date(1)", "/Date(1+000)/",
                          "/Date(1+00000)/", "/Date(1)", "2026-01-01"}) {
    EXPECT_EQ(ParseXeroDate(bad), std::nullopt) << bad;
  }
}

TEST(WireTimeTest, FormatsXeroDates) {
  EXPECT_EQ(FormatXeroDate(1718001234567, true), "/Date(1718001234567+0000)/");
  EXPECT_EQ(FormatXeroDate(1718000000123, false), "/Date(1718000000123)/");
}

TEST(WireTimeTest, ParsesIsoDateTimes) {
  constexpr EpochMillis kJun1Noon = 1717243200000;  // 2024-06-01T12:00:00Z
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00Z"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00.5Z"), kJun1Noon + 500);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00.123456Z"), kJun1Noon + 123);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T14:00:00+02:00"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T04:00:00.000-0800"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoDateTime("2024-02-29T00:00:00Z"), 1709164800000);
  for (const char* bad : {"", "2024-06-01", "2024-06-01 12:00:00", "2024-06-01T12:00",
                          "2024-13-01T00:00:00", "2023-02-29T00:00:00", "2024-06-01T24:00:00",
                          "2024-06-01T12:00:00.Z", "2024-06-01T12:00:00ZZ", "2024-06-01T12:00:00+2",
                          "Sat, 01 Jun 2024 12:00:00 GMT", "yesterday"}) {
    EXPECT_EQ(ParseIsoDateTime(bad), std::nullopt) << bad;
  }
}

TEST(WireTimeTest, FormatsIsoAndHttpDates) {
  EXPECT_EQ(FormatIsoDateTime(1717243200000), "2024-06-01T12:00:00Z");
  EXPECT_EQ(FormatIsoDateTime(1717243200250), "2024-06-01T12:00:00.250Z");
  EXPECT_EQ(FormatHttpDate(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(1767225600000), "Thu, 01 Jan 2026 00:00:00 GMT");
  for (const EpochMillis ms : {0LL, 1717243200250LL, 1767225600000LL, 4102444799999LL}) {
    EXPECT_EQ(ParseIsoDateTime(FormatIsoDateTime(ms)), ms);
  }
}

}  // namespace
}  // namespace concord::fake
