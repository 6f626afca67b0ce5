# The feed's pure logic (owned by flogic, included by
# services/feed/CMakeLists.txt, or by services/CMakeLists.txt until that
# exists): sl_feed_logic -- cursors, bearer tokens, signed content URLs,
# Range / ETag, the Croissant manifest.  No I/O: it links sl_core alone
# (OpenSSL, libsodium and jansson come with it), the purity check reads it
# back, and both sluice-feed and sluicectl link it.
include_guard(GLOBAL)

add_library(sl_feed_logic STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cursor.c
  ${CMAKE_CURRENT_LIST_DIR}/token.c
  ${CMAKE_CURRENT_LIST_DIR}/signurl.c
  ${CMAKE_CURRENT_LIST_DIR}/range.c
  ${CMAKE_CURRENT_LIST_DIR}/croissant.c)
target_include_directories(sl_feed_logic PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_feed_logic PUBLIC sl_core)
