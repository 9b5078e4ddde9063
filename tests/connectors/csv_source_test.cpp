// The CSV source on the file system: which file a path names, the cursor (the file's
// modification time) that keeps an unchanged file from being read again, and its errors.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/csv.hpp"

namespace concord::connectors {
namespace {

namespace fs = std::filesystem;

const char* const kHeader =
    "account_id,account_name,person_id,given_name,family_name,email,email2,phone,status,"
    "updated_at\n";

CsvSettings Settings(std::string path, int page_size = 1000) {
  CsvSettings settings;
  settings.path = std::move(path);
  settings.page_size = page_size;
  return settings;
}

class CsvSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "concord-csv-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a file whose modification time is `mtime_ms`.
  fs::path Write(const std::string& name, const std::string& rows, std::int64_t mtime_ms) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << kHeader << rows;
    const timespec times[2] = {{mtime_ms / 1000, (mtime_ms % 1000) * 1'000'000},
                               {mtime_ms / 1000, (mtime_ms % 1000) * 1'000'000}};
    EXPECT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    return path;
  }

  struct Fetched {
    FetchSummary summary;
    std::vector<reconcile::FinancePerson> persons;
  };

  Fetched Fetch(const fs::path& path, std::optional<reconcile::Millis> since) {
    auto source = MakeCsvSource(Settings(path.string()));
    Fetched out;
    out.summary = source->Fetch({.since = since}, [&](FinancePage&& page) {
      for (auto& p : page.persons) out.persons.push_back(std::move(p));
    });
    return out;
  }

  fs::path dir_;
};

TEST_F(CsvSourceTest, ReadsAFileWholeWithItsModificationTimeAsTheExactClock) {
  const auto file =
      Write("contacts.csv", "A,Acme,P1,Ann,Lee,ann@acme.example,,,,\n", 1'700'000'000'123);
  const Fetched read = Fetch(file, std::nullopt);
  ASSERT_EQ(read.persons.size(), 1u);
  EXPECT_EQ(read.persons[0].updated_at, 1'700'000'000'123);
  EXPECT_TRUE(read.summary.complete);
  EXPECT_TRUE(read.summary.exact_clock);
  EXPECT_EQ(read.summary.source_clock, 1'700'000'000'123);
  EXPECT_EQ(read.summary.records, 1);
  EXPECT_EQ(read.summary.pages, 1);
}

TEST_F(CsvSourceTest, AnUnchangedFileIsNotReadAgainAndAReplacedOneIs) {
  const auto file =
      Write("contacts.csv", "A,Acme,P1,Ann,Lee,ann@acme.example,,,,\n", 1'700'000'000'000);
  const Fetched unchanged = Fetch(file, 1'700'000'000'000);
  EXPECT_TRUE(unchanged.persons.empty());
  EXPECT_FALSE(unchanged.summary.complete) << "nothing read, so nothing is deleted";
  EXPECT_EQ(unchanged.summary.source_clock, 0) << "the cursor stays";
  EXPECT_EQ(unchanged.summary.pages, 0);

  // A replacement with an older time (copied with its time kept) is a change too.
  Write("contacts.csv", "A,Acme,P2,Bo,Lee,bo@acme.example,,,,\n", 1'600'000'000'000);
  const Fetched replaced = Fetch(file, 1'700'000'000'000);
  ASSERT_EQ(replaced.persons.size(), 1u);
  EXPECT_EQ(replaced.persons[0].remote_id, "P2");
  EXPECT_TRUE(replaced.summary.complete);
}

TEST_F(CsvSourceTest, ADirectoryIsReadThroughItsNewestCsvFile) {
  Write("2024-05.csv", "A,Acme,OLD,Old,Lee,old@acme.example,,,,\n", 1'700'000'000'000);
  Write("2024-06.CSV", "A,Acme,NEW,New,Lee,new@acme.example,,,,\n", 1'700'000'100'000);
  Write("notes.txt", "A,Acme,TXT,Txt,Lee,txt@acme.example,,,,\n", 1'700'000'200'000);
  fs::create_directory(dir_ / "newer.csv");  // a directory is not a file to read
  const Fetched read = Fetch(dir_, std::nullopt);
  ASSERT_EQ(read.persons.size(), 1u);
  EXPECT_EQ(read.persons[0].remote_id, "NEW");
  EXPECT_EQ(read.summary.source_clock, 1'700'000'100'000);
  EXPECT_TRUE(Fetch(dir_, 1'700'000'100'000).persons.empty());
}

TEST_F(CsvSourceTest, ErrorsNameThePathAndTheProblem) {
  const auto fetch_error = [&](const fs::path& path) -> std::string {
    try {
      Fetch(path, std::nullopt);
    } catch (const FetchError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(fetch_error(dir_), "csv: " + dir_.string() + " holds no *.csv file");
  EXPECT_EQ(fetch_error(dir_ / "missing.csv"),
            "csv: " + (dir_ / "missing.csv").string() + " does not exist");
  const auto bad = dir_ / "bad.csv";
  std::ofstream(bad) << "person_id,email\nP1,a@b.example\n";
  EXPECT_NE(fetch_error(bad).find("csv: " + bad.string() +
                                  ": the header has no column \"account_id\" (columns.account_id)"),
            std::string::npos)
      << fetch_error(bad);
}

TEST_F(CsvSourceTest, RefusesUnusableSettings) {
  EXPECT_THROW(MakeCsvSource(Settings("relative/file.csv")), std::invalid_argument);
  EXPECT_THROW(MakeCsvSource(Settings("/x.csv", 0)), std::invalid_argument);
  CsvSettings quote = Settings("/x.csv");
  quote.format.delimiter = '"';
  EXPECT_THROW(MakeCsvSource(quote), std::invalid_argument);
  CsvSettings no_id = Settings("/x.csv");
  no_id.format.columns.person_id = " ";
  EXPECT_THROW(MakeCsvSource(no_id), std::invalid_argument);
}

}  // namespace
}  // namespace concord::connectors
