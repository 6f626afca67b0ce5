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

#   sl_ledger_statement_pg  the statement and balances read from the ledger
#                           tables as JSON (libpq): sluicectl's `ledger
#                           statement|balance` and the feed's creator route
add_library(sl_ledger_statement_pg STATIC ${CMAKE_CURRENT_LIST_DIR}/statement_pg.c)
target_link_libraries(sl_ledger_statement_pg PUBLIC sl_ledger_statement sl_pg)
