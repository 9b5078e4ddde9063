#pragma once
// The SQL migrations of schema/, embedded at build time (schema/embed.cmake).

#include <span>
#include <string_view>

namespace concord::schema {

struct Migration {
  int version;  // from the file name, NNNN_name.sql
  std::string_view name;
  std::string_view sql;  // applied in one transaction
};

// All migrations, ascending by version.
std::span<const Migration> Migrations();

}  // namespace concord::schema
