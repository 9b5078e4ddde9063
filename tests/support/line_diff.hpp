#pragma once
// Comparing two sorted lists of lines (exports, expected results) with a readable failure.

#include <cstddef>
#include <string>
#include <vector>

namespace concord::test_support {

// How many lines of `from` `other` lacks (both sorted), then the first `limit` of them, one
// per line.
std::string MissingLines(const std::vector<std::string>& from,
                         const std::vector<std::string>& other, std::size_t limit);

}  // namespace concord::test_support
