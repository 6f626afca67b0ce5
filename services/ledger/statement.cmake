# The creator's statement and payouts (issue #13, owned by lpay), included
# by services/CMakeLists.txt so it builds beside services/ledger/'s own
# CMakeLists.txt (the poster's, lcore's) without either editing the other.
#   sl_ledger_statement     pure: statement arithmetic, payout amounts,
#                           amounts, months, CSV fields (sl_core only;
#                           the purity check reads it back)
include_guard(GLOBAL)

add_library(sl_ledger_statement STATIC ${CMAKE_CURRENT_LIST_DIR}/statement.c)
target_include_directories(sl_ledger_statement PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_ledger_statement PUBLIC sl_core)
