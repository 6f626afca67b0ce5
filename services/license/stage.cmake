# The license stage: the processor (pure, unit-tested with an in-memory
# registry; links sl_core and the terms library alone) and the binary:
# main.c plus the stage glue that builds the PostgreSQL registry
# (license_pg.c).
add_library(sl_license_stage STATIC
  ${CMAKE_CURRENT_LIST_DIR}/license_stage.c)
target_include_directories(sl_license_stage PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_license_stage PUBLIC sl_license_terms sl_core)

add_executable(sluice-license ${CMAKE_CURRENT_LIST_DIR}/main.c
                              ${CMAKE_CURRENT_LIST_DIR}/license_pg.c)
target_link_libraries(sluice-license PRIVATE sl_license_stage sl_kafka sl_pg)
