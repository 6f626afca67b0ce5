# The review dashboard's rendering (owned by ui, included by
# services/review/CMakeLists.txt, or by services/CMakeLists.txt until that
# exists): review_ui, a pure library -- pages, findings highlighting, SVG
# charts, HTML/SVG into an sl_buf, no I/O -- that links sl_core alone (the
# purity check reads it back).  The dashboard's script and style sheet
# (static/app.js, app.css) are compiled into sl_core with the other
# embedded files (common/CMakeLists.txt): sl_embed_get("app.js").
include_guard(GLOBAL)

add_library(review_ui STATIC
  ${CMAKE_CURRENT_LIST_DIR}/pages.c
  ${CMAKE_CURRENT_LIST_DIR}/highlight.c
  ${CMAKE_CURRENT_LIST_DIR}/chart.c)
target_include_directories(review_ui PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(review_ui PUBLIC sl_core sl_review_logic)
