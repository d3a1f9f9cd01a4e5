include(CMakePackageConfigHelpers)
get_target_property(RUNQ_LIBRARY_TYPE runq TYPE)
if(RUNQ_LIBRARY_TYPE STREQUAL "STATIC_LIBRARY")
  set(RUNQ_STATIC ON)
else()
  set(RUNQ_STATIC OFF)
endif()

install(TARGETS runq EXPORT runqTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Installed executables find librunq relative to themselves, so any prefix works.
set(RUNQ_INSTALLED_TOOLS runq_tool)
if(TARGET runq_bench)
  list(APPEND RUNQ_INSTALLED_TOOLS runq_bench)
endif()
set_target_properties(${RUNQ_INSTALLED_TOOLS} PROPERTIES
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS ${RUNQ_INSTALLED_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/runq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# CMake package: find_package(runq CONFIG) gives runq::runq.
set(RUNQ_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/runq)
install(EXPORT runqTargets NAMESPACE runq:: DESTINATION ${RUNQ_CMAKE_DIR})
configure_package_config_file(cmake/runqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/runqConfig.cmake
  INSTALL_DESTINATION ${RUNQ_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/runqConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/runqConfig.cmake ${PROJECT_BINARY_DIR}/runqConfigVersion.cmake
  DESTINATION ${RUNQ_CMAKE_DIR})
if(RUNQ_STATIC AND RUNQ_WITH_REDIS)
  install(FILES cmake/RunqHiredis.cmake DESTINATION ${RUNQ_CMAKE_DIR})
endif()

# pkg-config: runq.pc, relocatable (${pcfiledir}), so it is right for any --prefix.
file(RELATIVE_PATH RUNQ_PC_PREFIX_FROM_PCDIR
  /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" RUNQ_PC_PREFIX_FROM_PCDIR "${RUNQ_PC_PREFIX_FROM_PCDIR}")
set(RUNQ_PC_REQUIRES_PRIVATE "sqlite3 cpp-httplib")
set(RUNQ_PC_LIBS_PRIVATE "-ldate-tz")
if(RUNQ_WITH_REDIS)
  string(APPEND RUNQ_PC_REQUIRES_PRIVATE " hiredis")
endif()
if(RUNQ_WITH_POSTGRES)
  # -lpq, not "Requires.private: libpq": Debian's libpq.pc lists static libraries it does not
  # ship (-lpgcommon -lpgport), which breaks `pkg-config --static --libs runq`. runq's headers
  # need no libpq header (runq/postgres.hpp declares struct pg_conn itself).
  string(APPEND RUNQ_PC_LIBS_PRIVATE " -lpq")
endif()
configure_file(cmake/runq.pc.in ${PROJECT_BINARY_DIR}/runq.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/runq.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
