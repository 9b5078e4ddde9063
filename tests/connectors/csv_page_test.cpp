// The pure part of the CSV source: CsvReader on strings (RFC 4180 quoting, BOM, line ends,
// quarantined rows with their line numbers, header errors, paging) and ParseCsvTime.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "connectors/csv.hpp"

namespace concord::connectors {
namespace {

using reconcile::LinkStatus;

constexpr reconcile::Millis kFileTime = 1'717'977'611'000;  // 2024-06-10T00:00:11Z
const char* const kHeader =
    "account_id,account_name,person_id,given_name,family_name,email,email2,phone,status,"
    "updated_at\n";

struct Read {
  std::vector<FinancePage> pages;
  std::vector<reconcile::FinancePerson> persons;
  std::vector<reconcile::QuarantinedRecord> quarantined;
};

// Feeds `text` in chunks of `chunk` bytes, so rows, quotes, CRLFs and the BOM straddle them.
Read ReadCsv(const std::string& text, std::size_t chunk = 1 << 20, CsvFormat format = {},
             std::size_t page_size = 1000) {
  Read out;
  CsvReader reader(std::move(format), kFileTime, page_size);
  const auto keep = [&](FinancePage&& page) {
    for (const auto& p : page.persons) out.persons.push_back(p);
    for (const auto& q : page.quarantined) out.quarantined.push_back(q);
    out.pages.push_back(std::move(page));
  };
  for (std::size_t at = 0; at < text.size(); at += chunk) {
    reader.Feed(std::string_view(text).substr(at, chunk), keep);
  }
  reader.Finish(keep);
  return out;
}

TEST(CsvReader, ReadsRowsAsFinancePersons) {
  const Read read = ReadCsv(std::string(kHeader) +
                            "A1,Harbour Lights Ltd,P1, Mere ,Tane,Mere@Harbour.example,"
                            "mere@home.example,09 555 0100,active,2024-06-09T23:40:11Z\n"
                            "A1,Harbour Lights Ltd,P2,Ari,Ngata,ari@harbour.example,,,Inactive,\n");
  ASSERT_EQ(read.persons.size(), 2u);
  EXPECT_TRUE(read.quarantined.empty());
  const auto& mere = read.persons[0];
  EXPECT_EQ(mere.source, "csv");
  EXPECT_EQ(mere.remote_id, "P1");
  EXPECT_EQ(mere.account_id, "A1");
  EXPECT_EQ(mere.account_name, "Harbour Lights Ltd");
  EXPECT_EQ(mere.given_name, "Mere");
  EXPECT_EQ(mere.family_name, "Tane");
  EXPECT_EQ(mere.email, "Mere@Harbour.example");
  EXPECT_EQ(mere.email2, "mere@home.example");
  EXPECT_EQ(mere.status, LinkStatus::kActive);
  EXPECT_EQ(mere.updated_at, 1'717'976'411'000);
  const auto raw = boost::json::parse(mere.raw_json).as_object();
  EXPECT_EQ(raw.at("phone"), "09 555 0100");
  EXPECT_EQ(raw.at("given_name"), " Mere ") << "the raw copy is the row as it was";
  EXPECT_EQ(read.persons[1].status, LinkStatus::kArchived) << "status values ignore case";
  EXPECT_EQ(read.persons[1].updated_at, kFileTime) << "no updated_at: as recent as the file";
}

TEST(CsvReader, QuotedFieldsHoldDelimitersQuotesAndLineEnds) {
  const std::string text = std::string(kHeader) +
                           "A1,\"Smith, Jones & \"\"Co\"\"\",P1,\"Ann\nMarie\",Smith,"
                           "ann@sj.example,,,,\n"
                           "A2,Other,P2,Bo,Lee,bo@other.example,,,,\n";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{1 << 20}}) {
    const Read read = ReadCsv(text, chunk);
    ASSERT_EQ(read.persons.size(), 2u) << chunk;
    EXPECT_EQ(read.persons[0].account_name, "Smith, Jones & \"Co\"");
    EXPECT_EQ(read.persons[0].given_name, "Ann\nMarie");
    EXPECT_EQ(read.persons[1].remote_id, "P2");
  }
}

TEST(CsvReader, StripsTheBomAndReadsCrlfAndLastLineWithoutLineEnd) {
  // The header ends in LF, the rows in CRLF: files do mix them.
  const std::string text = "\xEF\xBB\xBF" + std::string(kHeader) +
                           "A1,Acme,P1,Ann,Lee,ann@acme.example,,,,\r\n"
                           "\r\n"
                           "A1,Acme,P2,\"Bo\r\nB\",Lee,bo@acme.example,,,,";
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{1 << 20}}) {
    const Read read = ReadCsv(text, chunk);
    ASSERT_EQ(read.persons.size(), 2u) << chunk;
    EXPECT_EQ(read.persons[0].account_id, "A1") << "the BOM is not part of the first header";
    EXPECT_EQ(read.persons[0].email, "ann@acme.example") << "no CR left on the last field";
    EXPECT_EQ(read.persons[1].given_name, "Bo\r\nB");
    EXPECT_EQ(read.persons[1].email, "bo@acme.example");
  }
}

TEST(CsvReader, QuarantinesBadRowsWithTheirLineNumbersAndGoesOn) {
  const std::string text = std::string(kHeader) +                              // line 1
                           "A1,Acme,P1,Ann,Lee,ann@acme.example,,,,\n"         // 2
                           "A1,Acme,P2,too,few\n"                              // 3
                           "A1,\"Multi\nline\",,No,Id,x@acme.example,,,,\n"    // 4-5
                           "A1,Acme,P3,Bad\xff,Utf,bad@acme.example,,,,\n"     // 6
                           "A1,Acme,P1,Ann,Again,again@acme.example,,,,\n"     // 7
                           "A1,Acme,P4,Cy,Ray,cy@acme.example,,,,yesterday\n"  // 8
                           "A1,Acme,\"P5\"x,Di,Dee,di@acme.example,,,,\n"      // 9
                           "\n"                                                // 10
                           "A1,Acme,P6,Ed,Eddy,ed@acme.example,,,,\r\n";       // 11
  const Read read = ReadCsv(text);
  ASSERT_EQ(read.persons.size(), 2u);
  EXPECT_EQ(read.persons[0].remote_id, "P1");
  EXPECT_EQ(read.persons[0].family_name, "Lee") << "the first row with an id is the one used";
  EXPECT_EQ(read.persons[1].remote_id, "P6");
  ASSERT_EQ(read.quarantined.size(), 6u);
  const auto& q = read.quarantined;
  EXPECT_EQ(q[0].reason, "line 3: 5 fields where the header has 10");
  EXPECT_EQ(q[0].remote_id, "P2");
  EXPECT_EQ(boost::json::parse(q[0].raw_json).as_array().size(), 5u);
  EXPECT_EQ(q[1].reason, "line 4: no person id (column \"person_id\")");
  EXPECT_EQ(q[2].reason, "line 6: column \"given_name\" is not valid UTF-8");
  EXPECT_EQ(q[2].remote_id, "P3");
  EXPECT_NE(q[2].raw_json.find("Bad\xEF\xBF\xBD"), std::string::npos) << "raw kept, cleaned";
  EXPECT_EQ(q[3].reason, "line 7: person id \"P1\" is already on line 2, which is the one used");
  EXPECT_EQ(q[4].reason,
            "line 8: updated_at \"yesterday\" is not a date-time (column \"updated_at\")");
  EXPECT_EQ(q[5].reason, "line 9: field 3 has text after its closing quote");
  for (const auto& r : q) EXPECT_EQ(r.source, "csv");
}

TEST(CsvReader, MapsConfiguredHeadersIgnoringCaseAndUnmappedFields) {
  CsvFormat format;
  format.columns = {.account_id = "Customer No",
                    .account_name = "",
                    .person_id = "Contact ID",
                    .given_name = "First",
                    .family_name = "Last",
                    .email = "E-mail",
                    .email2 = "",
                    .phone = "",
                    .status = "Active?",
                    .updated_at = ""};
  format.delimiter = ';';
  format.archived_statuses = {"no"};
  const Read read = ReadCsv(
      " contact id ;FIRST;Last;e-mail;Active?;Customer No;Notes;Notes\n"
      "C1;Ann;Lee;ann@x.example;No;42;a;b\n"
      "C2;Bo;Lee;bo@x.example;yes;42;;\n",
      1 << 20, format);
  ASSERT_EQ(read.persons.size(), 2u);
  EXPECT_EQ(read.persons[0].remote_id, "C1");
  EXPECT_EQ(read.persons[0].account_id, "42");
  EXPECT_EQ(read.persons[0].account_name, "");
  EXPECT_EQ(read.persons[0].status, LinkStatus::kArchived);
  EXPECT_EQ(read.persons[1].status, LinkStatus::kActive);
  const auto raw = boost::json::parse(read.persons[0].raw_json).as_object();
  EXPECT_EQ(raw.at("Notes"), "a");
  EXPECT_EQ(raw.at("Notes (2)"), "b") << "a header given twice keeps both values";
}

TEST(CsvReader, AMissingOrRepeatedHeaderFailsNamingTheColumn) {
  try {
    ReadCsv("person_id,given_name,family_name,email,email2,phone,status,updated_at,account_id\n");
    FAIL() << "no account_name column";
  } catch (const MalformedPage& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "the header has no column \"account_name\" (columns.account_name)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ReadCsv(std::string(kHeader).insert(0, "email,")), MalformedPage);
  EXPECT_THROW(ReadCsv(""), MalformedPage) << "no header row";
  EXPECT_THROW(ReadCsv("\xEF\xBB\xBF\n\n"), MalformedPage) << "no header row";
}

TEST(CsvReader, AnUnclosedQuoteFailsTheFileInsteadOfSwallowingIt) {
  try {
    ReadCsv(std::string(kHeader) + "A1,Acme,P1,Ann,Lee,ann@acme.example,,,,\n" +
            "A1,\"Acme,P2,Bo,Lee,bo@acme.example,,,,\nA1,Acme,P3,Cy,Ray,,,,,\n");
    FAIL() << "the file ends inside a quoted field";
  } catch (const MalformedPage& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: a quoted field"), std::string::npos) << e.what();
  }
}

TEST(CsvReader, HandsOutPagesOfPageSizeRowsAndAlwaysALastOne) {
  std::string text = kHeader;
  for (int i = 0; i < 5; ++i) {
    text += "A,Acme,P" + std::to_string(i) + ",G,F,p" + std::to_string(i) + "@x.example,,,,\n";
  }
  text += "A,Acme,,G,F,,,,,\n";  // quarantined rows count towards a page too
  const Read read = ReadCsv(text, 7, {}, 2);
  ASSERT_EQ(read.pages.size(), 4u);
  EXPECT_EQ(read.pages[0].persons.size(), 2u);
  EXPECT_EQ(read.pages[2].persons.size() + read.pages[2].quarantined.size(), 2u);
  EXPECT_TRUE(read.pages[3].persons.empty() && read.pages[3].quarantined.empty());
  EXPECT_EQ(read.persons.size(), 5u);
  EXPECT_EQ(read.quarantined.size(), 1u);

  const Read header_only = ReadCsv(kHeader);
  ASSERT_EQ(header_only.pages.size(), 1u) << "an empty file is still one (empty) page";
}

TEST(CsvTime, ReadsIsoDateTimesSpreadsheetFormAndDates) {
  EXPECT_EQ(ParseCsvTime("2024-06-09T23:40:11Z"), 1'717'976'411'000);
  EXPECT_EQ(ParseCsvTime("2024-06-09 23:40:11"), 1'717'976'411'000);
  EXPECT_EQ(ParseCsvTime("2024-06-10"), 1'717'977'600'000);
  EXPECT_EQ(ParseCsvTime("10/06/2024"), std::nullopt);
  EXPECT_EQ(ParseCsvTime("yesterday"), std::nullopt);
}

}  // namespace
}  // namespace concord::connectors
