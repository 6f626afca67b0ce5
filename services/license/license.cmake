# The license terms library: the SPDX License List, expression parser,
# rights table and policy check (pure: no Kafka, no PostgreSQL).  Its data
# (schemas/spdx-*.json, schemas/license-rights.json) is compiled in by
# sl_core's embedding.
add_library(sl_license_terms STATIC
  ${CMAKE_CURRENT_LIST_DIR}/spdx.c
  ${CMAKE_CURRENT_LIST_DIR}/rights.c)
target_include_directories(sl_license_terms PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_license_terms PUBLIC sl_core)
