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
  EXPECT_EQ(ParseXeroDate("/Date(1503348544227+0000)/"), 1503348544227);
  EXPECT_EQ(ParseXeroDate("/Date(-86400000)/"), -86400000);
  EXPECT_EQ(ParseXeroDate("/Date(-1000-0100)/"), -1000);
  EXPECT_EQ(ParseXeroDate("/Date(0)/"), 0);
}

TEST(XeroDate, RejectsAnythingElse) {
  for (const char* text :
       {"", "/Date()/", "/Date(abc)/", "/Date(123", "Date(123)/", "/Date(123+00)/",
        "/Date(123+00000)/", "/Date(123)/ ", "\\/Date(123)\\/", "2024-06-09T23:40:11Z",
        "/Date(99999999999999999999)/", "/Date(12 3)/", "/Date(12a)/", "Date(1)", "/Date(1+000)/",
        "/Date(1+00000)/", "/Date(1)", "2026-01-01"}) {
    EXPECT_EQ(ParseXeroDate(text), std::nullopt) << text;
  }
}

TEST(XeroDate, FormatsWithAndWithoutOffset) {
  EXPECT_EQ(FormatXeroDate(1718001234567, true), "/Date(1718001234567+0000)/");
  EXPECT_EQ(FormatXeroDate(1718000000123, false), "/Date(1718000000123)/");
  EXPECT_EQ(FormatXeroDate(-1000, false), "/Date(-1000)/");
  for (const reconcile::Millis at :
       {reconcile::Millis{0}, reconcile::Millis{-86400000}, reconcile::Millis{1718001234567}}) {
    EXPECT_EQ(ParseXeroDate(FormatXeroDate(at, true)), at);
    EXPECT_EQ(ParseXeroDate(FormatXeroDate(at, false)), at);
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
  constexpr reconcile::Millis kJun1Noon = 1717243200000;  // 2024-06-01T12:00:00Z
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T12:00:00.123456Z"), kJun1Noon + 123);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T14:00:00+02:00"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-06-01T04:00:00.000-0800"), kJun1Noon);
  EXPECT_EQ(ParseIsoDateTime("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(IsoDateTime, RejectsMalformedOrImpossibleValues) {
  for (const char* text :
       {"", "2024-06-09", "2024-06-09T23:40", "2024-6-09T23:40:11Z", "2024-06-09T23:40:11ZZ",
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-06-31T00:00:00Z",
        "2024-06-09T24:00:00Z", "2024-06-09T23:60:00Z", "2024-06-09T23:40:60Z",
        "2024-06-09T23:40:11.Z", "2024-06-09T23:40:11+7", "2024-06-09T23:40:11+25:00",
        " 2024-06-09T23:40:11Z", "/Date(1718000000123)/", "Sat, 01 Jun 2024 12:00:00 GMT",
        "yesterday",
        // RFC 3339 / xsd:dateTime: 'T' separates date and time, '.' marks the fraction.
        "2024-06-09 23:40:11Z", "2024-06-09 23:40:11", "2024-06-09T23:40:11,5Z"}) {
    EXPECT_EQ(ParseIsoDateTime(text), std::nullopt) << text;
  }
}

TEST(HttpDate, ParsesImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(ParseHttpDate("Sun, 09 Jun 2024 23:40:11 GMT"), k20240609T234011Z);
  // The weekday is not cross-checked against the date: the server's clock is what matters.
  EXPECT_EQ(ParseHttpDate("Mon, 09 Jun 2024 23:40:11 GMT"), k20240609T234011Z);
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(FormatHttpDate(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(1767225600000), "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(k20240609T234011Z + 999), "Sun, 09 Jun 2024 23:40:11 GMT");
  EXPECT_EQ(FormatHttpDate(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  for (const reconcile::Millis at :
       {reconcile::Millis{0}, k20240609T234011Z, reconcile::Millis{4102444799000}}) {
    EXPECT_EQ(ParseHttpDate(FormatHttpDate(at)), at);
  }
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

TEST(FormatIso, MillisecondsOnlyWhenThereAreSome) {
  EXPECT_EQ(FormatIsoDateTime(1717243200000), "2024-06-01T12:00:00Z");
  EXPECT_EQ(FormatIsoDateTime(1717243200250), "2024-06-01T12:00:00.250Z");
  EXPECT_EQ(FormatIsoDateTime(k20240609T234011Z + 7), "2024-06-09T23:40:11.007Z");
  EXPECT_EQ(FormatIsoDateTime(-1), "1969-12-31T23:59:59.999Z");
  for (const reconcile::Millis at :
       {reconcile::Millis{0}, reconcile::Millis{-1}, reconcile::Millis{1717243200250},
        reconcile::Millis{1767225600000}, reconcile::Millis{4102444799999}}) {
    EXPECT_EQ(ParseIsoDateTime(FormatIsoDateTime(at)), at);
  }
}

}  // namespace
}  // namespace concord::connectors
