include(CMakePackageConfigHelpers)
install(TARGETS runq EXPORT runqTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS runq_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET runq_bench)
  install(TARGETS runq_bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY include/runq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT runqTargets NAMESPACE runq:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/runq)
configure_package_config_file(cmake/runqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/runqConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/runq)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/runqConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/runqConfig.cmake ${PROJECT_BINARY_DIR}/runqConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/runq)
