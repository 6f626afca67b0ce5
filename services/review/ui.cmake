# The review dashboard's rendering (owned by ui, included by
# services/review/CMakeLists.txt, or by services/CMakeLists.txt until that
# exists): review_ui, a pure library -- pages, findings highlighting, SVG
# charts, HTML/SVG into an sl_buf, no I/O -- that links sl_core alone (the
# purity check reads it back), and review_static, the dashboard's script
# and style sheet compiled in as C arrays (static_files.h) for the server.
include_guard(GLOBAL)

add_library(review_ui STATIC
  ${CMAKE_CURRENT_LIST_DIR}/pages.c
  ${CMAKE_CURRENT_LIST_DIR}/highlight.c
  ${CMAKE_CURRENT_LIST_DIR}/chart.c)
target_include_directories(review_ui PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(review_ui PUBLIC sl_core)

# static/app.js and static/app.css as C arrays: rv_static_get("app.js").
set(RV_STATIC_FILES ${CMAKE_CURRENT_LIST_DIR}/static/app.js
                    ${CMAKE_CURRENT_LIST_DIR}/static/app.css)
set(RV_STATIC_C ${CMAKE_CURRENT_BINARY_DIR}/generated/review_static.c)
add_custom_command(
  OUTPUT ${RV_STATIC_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${RV_STATIC_C} "-DFILES=${RV_STATIC_FILES}"
          -DPREFIX=rv_static -P ${CMAKE_SOURCE_DIR}/common/embed.cmake
  DEPENDS ${RV_STATIC_FILES} ${CMAKE_SOURCE_DIR}/common/embed.cmake
  COMMENT "Embedding services/review/static files"
  VERBATIM)
add_library(review_static STATIC ${RV_STATIC_C})
target_include_directories(review_static PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(review_static PUBLIC sl_core)
