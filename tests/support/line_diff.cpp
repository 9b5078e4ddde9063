#include "tests/support/line_diff.hpp"

#include <algorithm>
#include <iterator>

namespace concord::test_support {

std::string MissingLines(const std::vector<std::string>& from,
                         const std::vector<std::string>& other, std::size_t limit) {
  std::vector<std::string> missing;
  std::set_difference(from.begin(), from.end(), other.begin(), other.end(),
                      std::back_inserter(missing));
  std::string out = std::to_string(missing.size()) + "\n";
  for (std::size_t i = 0; i < missing.size() && i < limit; ++i) out += "  " + missing[i] + "\n";
  return out;
}

}  // namespace concord::test_support
