# The scan stage: the processor (pure; unit-tested with an in-memory
# registry; links sl_core and the two pure scan libraries alone) and the
# binary: main.c plus the stage glue that builds the PostgreSQL dataset
# lookup (scan_pg.c).  sluicectl's `scan --dataset` uses that lookup too.
add_library(sl_scan_stage STATIC ${CMAKE_CURRENT_LIST_DIR}/scan.c
                          ${CMAKE_CURRENT_LIST_DIR}/scanlists.c)
target_include_directories(sl_scan_stage PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_scan_stage PUBLIC sl_scan_rules sl_scan_filetype sl_core)

add_executable(sluice-scan ${CMAKE_CURRENT_LIST_DIR}/main.c
                           ${CMAKE_CURRENT_LIST_DIR}/scan_pg.c)
target_link_libraries(sluice-scan PRIVATE sl_scan_stage sl_kafka sl_pg)
