# Provides the imported target hiredis::hiredis: from hiredis's own CMake package when it has
# one (hiredis >= 1.0), else from the header and library (Debian 12 ships hiredis 0.14, whose
# HiredisConfig.cmake defines no target). Used by the build and by the installed
# runqConfig.cmake when librunq is static.
if(NOT TARGET hiredis::hiredis)
  find_package(hiredis CONFIG QUIET)
endif()
if(NOT TARGET hiredis::hiredis)
  find_path(RUNQ_HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
  find_library(RUNQ_HIREDIS_LIBRARY NAMES hiredis)
  mark_as_advanced(RUNQ_HIREDIS_INCLUDE_DIR RUNQ_HIREDIS_LIBRARY)
  if(RUNQ_HIREDIS_INCLUDE_DIR AND RUNQ_HIREDIS_LIBRARY)
    add_library(hiredis::hiredis UNKNOWN IMPORTED)
    set_target_properties(hiredis::hiredis PROPERTIES
      IMPORTED_LOCATION "${RUNQ_HIREDIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RUNQ_HIREDIS_INCLUDE_DIR}")
  endif()
endif()
