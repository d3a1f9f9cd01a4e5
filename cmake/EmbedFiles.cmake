# runq_embed_files(TARGET NAME FILES...)
# Generates ${PROJECT_BINARY_DIR}/generated/runq_embedded_<NAME>.hpp declaring
#   namespace runq::embedded { inline constexpr std::string_view <NAME>_<stem> = R"(...)"; }
# for each file, regenerated whenever a file changes, and makes TARGET depend on it.
function(runq_embed_files target name)
  set(out ${PROJECT_BINARY_DIR}/generated/runq_embedded_${name}.hpp)
  set(abs_files)
  foreach(f ${ARGN})
    list(APPEND abs_files ${PROJECT_SOURCE_DIR}/${f})
  endforeach()
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAME=${name} "-DFILES=${abs_files}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    DEPENDS ${abs_files} ${PROJECT_SOURCE_DIR}/cmake/EmbedFilesScript.cmake
    COMMENT "Embedding ${name}" VERBATIM)
  add_custom_target(runq_embed_${name} DEPENDS ${out})
  add_dependencies(${target} runq_embed_${name})
endfunction()
