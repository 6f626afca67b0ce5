# File-type detection (libmagic behind a magic-number table and a text
# classifier) and metadata / text extraction for the PII scan.  Pure
# library: no Kafka, no PostgreSQL.  Debian: libmagic-dev, zlib1g-dev,
# libarchive-dev (zip / tar / gzip members), libpoppler-glib-dev (PDF page
# text, in a child process: extract_pdf.c).
if(NOT TARGET PkgConfig::MAGIC)
  pkg_check_modules(MAGIC IMPORTED_TARGET GLOBAL libmagic)
endif()
if(NOT TARGET PkgConfig::ZLIB)
  pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET GLOBAL zlib)
endif()

if(NOT TARGET PkgConfig::LIBARCHIVE)
  pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET GLOBAL libarchive)
endif()
if(NOT TARGET PkgConfig::POPPLER_GLIB)
  pkg_check_modules(POPPLER_GLIB REQUIRED IMPORTED_TARGET GLOBAL poppler-glib)
endif()

add_library(sl_scan_filetype STATIC
  ${CMAKE_CURRENT_LIST_DIR}/filetype.c
  ${CMAKE_CURRENT_LIST_DIR}/extract.c
  ${CMAKE_CURRENT_LIST_DIR}/extract_archive.c
  ${CMAKE_CURRENT_LIST_DIR}/extract_media.c
  ${CMAKE_CURRENT_LIST_DIR}/extract_pdf.c)
target_include_directories(sl_scan_filetype PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sl_scan_filetype PUBLIC sl_core PkgConfig::ZLIB
                      PkgConfig::LIBARCHIVE PkgConfig::POPPLER_GLIB)
if(TARGET PkgConfig::MAGIC)
  target_link_libraries(sl_scan_filetype PUBLIC PkgConfig::MAGIC)
else()
  # Older libmagic packages ship no .pc file.
  find_library(SL_MAGIC_LIB magic REQUIRED)
  find_path(SL_MAGIC_INCLUDE magic.h REQUIRED)
  target_include_directories(sl_scan_filetype PUBLIC ${SL_MAGIC_INCLUDE})
  target_link_libraries(sl_scan_filetype PUBLIC ${SL_MAGIC_LIB})
endif()
