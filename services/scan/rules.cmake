# PII / secret detection engine: rule loading (PCRE2 + JIT), the literal /
# character-class prefilter, validators and redaction.  Pure library: no
# Kafka, no PostgreSQL.
add_library(sl_scan_rules STATIC
  ${CMAKE_CURRENT_LIST_DIR}/rules.c
  ${CMAKE_CURRENT_LIST_DIR}/validators.c
  ${CMAKE_CURRENT_LIST_DIR}/entropy.c
  ${CMAKE_CURRENT_LIST_DIR}/redact_stored.c)
target_include_directories(sl_scan_rules PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_scan_rules PUBLIC sl_core PkgConfig::PCRE2
                      PkgConfig::JANSSON m)
