#pragma once
// Reading vendor JSON defensively: the page parsers turn a type error in one record into that
// record's quarantine reason, and a broken page into MalformedPage. Private to connectors/.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "connectors/malformed_page.hpp"
#include "reconcile/model.hpp"

namespace concord::connectors::detail {

// Parses a whole page; throws MalformedPage unless it is a JSON object.
boost::json::object ParseObject(std::string_view body);

// "string", "number", "array", ...: used in quarantine reasons.
std::string_view KindName(const boost::json::value& value);

// A whole number from a JSON number (integral value) or a decimal string; nullopt otherwise.
std::optional<std::int64_t> ToInteger(const boost::json::value& value);

// Reads the members of one record. Absent and null members read as empty; a member of the
// wrong type reads as empty too and records the first such problem as error().
class FieldReader {
 public:
  // prefix is prepended to member names in error text, e.g. "name." for SCIM name.givenName.
  explicit FieldReader(const boost::json::object& object, std::string prefix = {})
      : object_(object), prefix_(std::move(prefix)) {}

  std::string String(std::string_view key);
  const boost::json::object* Object(std::string_view key);
  const boost::json::array* Array(std::string_view key);
  // true/false, or the strings "true"/"false" (some gateways and exports write booleans as
  // strings); nullopt when absent or unreadable.
  std::optional<bool> Bool(std::string_view key);
  // An ISO-8601 date-time (connectors/wire_time.hpp; no zone reads as UTC); 0 when absent or
  // unreadable.
  reconcile::Millis IsoTime(std::string_view key);
  // The member as is, or nullptr when absent or null.
  const boost::json::value* Value(std::string_view key) const;

  // Records a problem unless one is already recorded.
  void Fail(std::string reason);
  // Takes over another reader's problem (for nested objects).
  void Absorb(const FieldReader& nested);
  const std::optional<std::string>& error() const { return error_; }

  // A "wrong type" reason for member key: "<prefix><key> is <kind>, expected <expected>".
  std::string WrongType(std::string_view key, const boost::json::value& value,
                        std::string_view expected) const;

 private:
  const boost::json::object& object_;
  std::string prefix_;
  std::optional<std::string> error_;
};

}  // namespace concord::connectors::detail
