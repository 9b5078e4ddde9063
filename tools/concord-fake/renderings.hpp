#pragma once

#include <boost/json/object.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "generator.hpp"

// A generated account (one Xero contact and its truth) in the other finance dialects, so one
// ground truth can be served through every finance kind: QBO customers (wire-formats §2.3),
// one MYOB customer (§3.3) and CSV rows for the file source (connectors/csv.hpp). Each
// rendering carries exactly the persons, names, emails, statuses and account membership of the
// contact; only the vendor's own identifiers and decoration differ. Pure functions of the
// contact and its truth.
namespace concord::fake {

// The QBO Id of a finance person: its index + 1, so Ids are numeric, unique and a parent's Id
// is below its sub-customers'.
[[nodiscard]] std::string QboCustomerId(const FinancePersonTruth& person);

// The customers of one account: the main person as a top-level customer (DisplayName = the
// contact's Name, CompanyName for a company), every further person as a sub-customer (Job =
// true, ParentRef = the main customer, Level 1, FullyQualifiedName "Parent:Child"), which
// connectors/qbo.hpp reads as persons of the parent's account. Active = not archived;
// MetaData.LastUpdatedTime = the contact's UpdatedDateUTC to the second, written at -08:00.
// PrimaryEmailAddr is left out when the person has no email.
[[nodiscard]] std::vector<boost::json::object> QboCustomersFor(const boost::json::object& contact,
                                                               const ContactTruth& truth);

// The one MYOB customer of an account (UID = truth.myob_uid): its persons as Addresses[]
// with Location 1.. in order, ContactName "Given Family" and Email (null when none). One
// individual's account is IsIndividual with FirstName/LastName; a company's or a family's has
// CompanyName = the contact's Name. IsActive = not archived; LastModified = UpdatedDateUTC
// without a zone. Precondition: at most 5 persons (GeneratorSettings::portable).
[[nodiscard]] boost::json::object MyobCustomerFor(const boost::json::object& contact,
                                                  const ContactTruth& truth);

// The CSV header: the csv connector's default column names (connectors/csv.hpp CsvColumns), so
// a tenant reading the file needs no [tenant.finance.columns] table.
inline constexpr std::string_view kGeneratedCsvHeader =
    "account_id,account_name,person_id,given_name,family_name,email,email2,phone,status,"
    "updated_at";

// A finance person's person_id in the CSV file: "P<index + 1>".
[[nodiscard]] std::string CsvPersonId(const FinancePersonTruth& person);
// An account's account_id in the CSV file: the contact's AccountNumber ("AC-1xxxxx").
[[nodiscard]] std::string CsvAccountId(const ContactTruth& truth);

// One CSV row per person of the account, each ending in CRLF (RFC 4180; fields quoted when
// they hold a comma, a quote, a line end or edge spaces): account id and name (the contact's
// Name), person id, names, email as finance has it, email2 empty (no generated person has a
// second address), phone (the contact's, on its main person only), status "active" or
// "archived", updated_at as ISO-8601 UTC with milliseconds.
[[nodiscard]] std::string CsvRowsFor(const boost::json::object& contact, const ContactTruth& truth);

// Writes the generated tenant's finance side as a CSV file: a UTF-8 BOM (as spreadsheets
// write it), the header, then every account's rows.
void WriteGeneratedCsv(const GeneratorSettings& settings, std::ostream& out);

}  // namespace concord::fake
