#include "connectors/wire_time.hpp"

#include <gtest/gtest.h>

namespace concord::connectors {
namespace {

constexpr reconcile::Millis k20240609T234011Z = 1717976411000;

TEST(XeroDate, ParsesWithAndWithoutOffset) {
  EXPECT_EQ(ParseXeroDate("/Date(1718001234567+0000)/"), 1718001234567);
  EXPECT_EQ(ParseXeroDate("/Date(1718000000123)/"), 1718000000123);
  // The offset is informational (wire-formats §1.4): the number is already UTC.
  EXPECT_EQ(ParseXeroDate("/Date(1718001234567-0700)/"), 1718001234567);
  EXPECT_EQ(ParseXeroDate("/Date(-86400000)/"), -86400000);
  EXPECT_EQ(ParseXeroDate("/Date(0)/"), 0);
}

TEST(XeroDate, RejectsAnythingElse) {
  for (const char* text :
       {"", "/Date()/", "/Date(abc)/", "/Date(123", "Date(123)/", "/Date(123+00)/",
        "/Date(123+00000)/", "/Date(123)/ ", "\\/Date(123)\\/", "2024-06-09T23:40:11Z",
        "/Date(99999999999999999999)/", "/Date(12 3)/"}) {
    EXPECT_EQ(ParseXeroDate(text), std::nullopt) << text;
  }
}

TEST(IsoDateTime, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T23:40:11Z"), k20240609T234011Z);
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T23:40:11.250Z"), k20240609T234011Z + 250);
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T23:40:11.5Z"), k20240609T234011Z + 500);
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T23:40:11.123456789Z"), k20240609T234011Z + 123);
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T16:40:11-07:00"), k20240609T234011Z);
  EXPECT_EQ(ParseIsoDateTime("2024-06-10T01:40:11+0200"), k20240609T234011Z);
  EXPECT_EQ(ParseIsoDateTime("2024-06-09T23:40:11"), k20240609T234011Z);  // no zone: UTC
  EXPECT_EQ(ParseIsoDateTime("2024-06-09t23:40:11z"), k20240609T234011Z);
  EXPECT_EQ(ParseIsoDateTime("2024-02-29T12:00:00Z"), 1709208000000);
  EXPECT_EQ(ParseIsoDateTime("1970-01-01T00:00:00Z"), 0);
}

TEST(IsoDateTime, RejectsMalformedOrImpossibleValues) {
  for (const char* text :
       {"", "2024-06-09", "2024-06-09T23:40", "2024-6-09T23:40:11Z", "2024-06-09T23:40:11ZZ",
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-06-31T00:00:00Z",
        "2024-06-09T24:00:00Z", "2024-06-09T23:60:00Z", "2024-06-09T23:40:60Z",
        "2024-06-09T23:40:11.Z", "2024-06-09T23:40:11+7", "2024-06-09T23:40:11+25:00",
        " 2024-06-09T23:40:11Z", "/Date(1718000000123)/"}) {
    EXPECT_EQ(ParseIsoDateTime(text), std::nullopt) << text;
  }
}

TEST(HttpDate, ParsesImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(ParseHttpDate("Sun, 09 Jun 2024 23:40:11 GMT"), k20240609T234011Z);
  // The weekday is not cross-checked against the date: the server's clock is what matters.
  EXPECT_EQ(ParseHttpDate("Mon, 09 Jun 2024 23:40:11 GMT"), k20240609T234011Z);
}

TEST(HttpDate, RejectsOtherForms) {
  for (const char* text : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                           "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                           "Sun, 06 nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                           "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                           "2024-06-09T23:40:11Z"}) {
    EXPECT_EQ(ParseHttpDate(text), std::nullopt) << text;
  }
}

TEST(FormatIso, WholeSecondsRoundedDown) {
  EXPECT_EQ(FormatIsoSeconds(k20240609T234011Z), "2024-06-09T23:40:11");
  EXPECT_EQ(FormatIsoSeconds(k20240609T234011Z + 999), "2024-06-09T23:40:11");
  EXPECT_EQ(FormatIsoSecondsZ(k20240609T234011Z + 1), "2024-06-09T23:40:11Z");
  EXPECT_EQ(FormatIsoSecondsZ(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoSecondsZ(-1), "1969-12-31T23:59:59Z");
}

TEST(FormatIso, RoundTripsThroughTheParser) {
  for (reconcile::Millis at :
       {reconcile::Millis{0}, k20240609T234011Z, reconcile::Millis{1709208000000},
        reconcile::Millis{4102444799000}}) {
    EXPECT_EQ(ParseIsoDateTime(FormatIsoSecondsZ(at)), at);
    EXPECT_EQ(ParseIsoDateTime(FormatIsoSeconds(at)), at);
  }
}

}  // namespace
}  // namespace concord::connectors
