#pragma once

#include <stdexcept>

namespace concord::connectors {

// Thrown by the pure page parsers (ParseXeroPage, ParseScimPage) when a body as a whole is
// not the document expected: a JSON syntax error or a wrong top-level shape. A bad single
// record is never this: it is quarantined. The sources turn it into a FetchError naming the
// connector and URL.
class MalformedPage : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace concord::connectors
