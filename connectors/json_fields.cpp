#include "connectors/json_fields.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#include "connectors/wire_time.hpp"

namespace concord::connectors::detail {

namespace json = boost::json;

json::object ParseObject(std::string_view body) {
  boost::system::error_code error;
  // A page is parsed, read once and dropped: an arena that grows by blocks and is freed in one
  // go spares the allocator a call per value (most of a page's parsing time went to malloc).
  json::value document =
      json::parse(body, error, json::make_shared_resource<json::monotonic_resource>());
  if (error) throw MalformedPage("invalid JSON: " + error.message());
  if (!document.is_object()) {
    throw MalformedPage("expected a JSON object, got " + std::string(KindName(document)));
  }
  return std::move(document.as_object());
}

std::string_view KindName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "unknown";
}

std::optional<std::int64_t> ToInteger(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64:
      return value.get_int64();
    case json::kind::uint64:
      if (value.get_uint64() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<std::int64_t>(value.get_uint64());
    case json::kind::double_: {
      const double number = value.get_double();
      if (std::trunc(number) != number || std::fabs(number) > 9.0e15) return std::nullopt;
      return static_cast<std::int64_t>(number);
    }
    case json::kind::string: {
      const json::string& text = value.get_string();
      std::int64_t number = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return number;
    }
    default:
      return std::nullopt;
  }
}

const json::value* FieldReader::Value(std::string_view key) const {
  const json::value* member = object_.if_contains(key);
  if (member == nullptr || member->is_null()) return nullptr;
  return member;
}

std::string FieldReader::String(std::string_view key) {
  const json::value* member = Value(key);
  if (member == nullptr) return {};
  if (!member->is_string()) {
    Fail(WrongType(key, *member, "a string"));
    return {};
  }
  return std::string(member->get_string());
}

const json::object* FieldReader::Object(std::string_view key) {
  const json::value* member = Value(key);
  if (member == nullptr) return nullptr;
  if (!member->is_object()) {
    Fail(WrongType(key, *member, "an object"));
    return nullptr;
  }
  return &member->get_object();
}

const json::array* FieldReader::Array(std::string_view key) {
  const json::value* member = Value(key);
  if (member == nullptr) return nullptr;
  if (!member->is_array()) {
    Fail(WrongType(key, *member, "an array"));
    return nullptr;
  }
  return &member->get_array();
}

std::optional<bool> FieldReader::Bool(std::string_view key) {
  const json::value* member = Value(key);
  if (member == nullptr) return std::nullopt;
  if (member->is_bool()) return member->get_bool();
  if (member->is_string() && (member->get_string() == "true" || member->get_string() == "false")) {
    return member->get_string() == "true";
  }
  Fail(WrongType(key, *member, "a boolean"));
  return std::nullopt;
}

reconcile::Millis FieldReader::IsoTime(std::string_view key) {
  const json::value* member = Value(key);
  if (member == nullptr) return 0;
  if (!member->is_string()) {
    Fail(WrongType(key, *member, "a string"));
    return 0;
  }
  const std::optional<reconcile::Millis> at = ParseIsoDateTime(member->get_string());
  if (!at) {
    Fail(prefix_ + std::string(key) + " '" + std::string(member->get_string()) +
         "' is not an ISO-8601 date-time");
    return 0;
  }
  return *at;
}

void FieldReader::Fail(std::string reason) {
  if (!error_) error_ = std::move(reason);
}

void FieldReader::Absorb(const FieldReader& nested) {
  if (nested.error_) Fail(*nested.error_);
}

std::string FieldReader::WrongType(std::string_view key, const json::value& value,
                                   std::string_view expected) const {
  return prefix_ + std::string(key) + " is " + std::string(KindName(value)) + ", expected " +
         std::string(expected);
}

}  // namespace concord::connectors::detail
