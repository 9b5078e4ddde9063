# Writes OUT: a C++ file defining concord::schema::Migrations() from the SQL FILES in DIR.
# FILES is '|'-separated; file names are NNNN_name.sql and the number is the version.
string(REPLACE "|" ";" files "${FILES}")
set(body "")
foreach(file IN LISTS files)
  file(READ ${DIR}/${file} sql)
  string(REGEX MATCH "^([0-9]+)_(.*)\\.sql$" _ ${file})
  math(EXPR version "${CMAKE_MATCH_1}")
  string(APPEND body "    {${version}, \"${CMAKE_MATCH_2}\", R\"concord_sql(${sql})concord_sql\"},\n")
endforeach()
file(WRITE ${OUT} "// Generated from schema/*.sql by schema/embed.cmake. Do not edit.
#include \"schema/migrations.hpp\"

namespace concord::schema {

std::span<const Migration> Migrations() {
  static const Migration kMigrations[] = {
${body}  };
  return kMigrations;
}

}  // namespace concord::schema
")
