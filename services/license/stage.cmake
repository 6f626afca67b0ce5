# The license stage: the processor (pure, unit-tested with an in-memory
# registry), its PostgreSQL registry, and the binary.
add_library(sl_license_stage STATIC
  ${CMAKE_CURRENT_LIST_DIR}/license_stage.c
  ${CMAKE_CURRENT_LIST_DIR}/license_pg.c)
target_include_directories(sl_license_stage PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_license_stage PUBLIC sl_license_terms sl_core sl_pg)

add_executable(sluice-license ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(sluice-license PRIVATE sl_license_stage sl_kafka)
