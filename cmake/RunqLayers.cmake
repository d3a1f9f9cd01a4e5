# The layers of src/ and the build rule that enforces them (docs/architecture.md).
#
# runq_layer(NAME SOURCES... [DEPENDS lower layers...] [PUBLIC_LIBS...] [PRIVATE_LIBS...])
# Creates the object library runq_<NAME> from src/<NAME>/ files. It links the layers it
# DEPENDS on (the dependency direction, written in CMake), and its sources get one include
# root, ${PROJECT_BINARY_DIR}/layers/<NAME>/, instead of src/. That root holds:
#   <NAME>/    a link to the whole of src/<NAME>/ (its own internal/ included);
#   <lower>/   for each layer it depends on, directly or not: links to every entry of
#              src/<lower>/ except internal/.
# So `#include "cli/cli.hpp"` in a store file, or `#include "scheduler/internal/x.hpp"` in
# a cli file, fails to compile ("No such file or directory"). Layers must be declared lowest
# first. Adding a file to src/<layer>/ re-runs CMake (CONFIGURE_DEPENDS) to link it.
set(RUNQ_LAYERS "")

function(runq_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  set(visible ${name})
  foreach(dep ${L_DEPENDS})
    if(NOT dep IN_LIST RUNQ_LAYERS)
      message(FATAL_ERROR "layer ${name} depends on ${dep}, which is not a lower layer")
    endif()
    get_property(dep_visible GLOBAL PROPERTY RUNQ_LAYER_VISIBLE_${dep})
    list(APPEND visible ${dep_visible})
  endforeach()
  list(REMOVE_DUPLICATES visible)
  set_property(GLOBAL PROPERTY RUNQ_LAYER_VISIBLE_${name} ${visible})

  set(root ${PROJECT_BINARY_DIR}/layers/${name})
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${root}/${name} SYMBOLIC)
  foreach(lower ${visible})
    if(lower STREQUAL name)
      continue()
    endif()
    file(MAKE_DIRECTORY ${root}/${lower})
    file(GLOB entries LIST_DIRECTORIES true CONFIGURE_DEPENDS
         ${PROJECT_SOURCE_DIR}/src/${lower}/*)
    foreach(entry ${entries})
      get_filename_component(entry_name ${entry} NAME)
      if(NOT entry_name STREQUAL "internal")
        file(CREATE_LINK ${entry} ${root}/${lower}/${entry_name} SYMBOLIC)
      endif()
    endforeach()
  endforeach()

  add_library(runq_${name} OBJECT ${L_SOURCES})
  target_include_directories(runq_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${root})
  target_compile_options(runq_${name} PRIVATE ${RUNQ_WARNINGS})
  foreach(dep ${L_DEPENDS})
    target_link_libraries(runq_${name} PUBLIC runq_${dep})
  endforeach()
  target_link_libraries(runq_${name} PUBLIC ${L_PUBLIC_LIBS} PRIVATE ${L_PRIVATE_LIBS})
  list(APPEND RUNQ_LAYERS ${name})
  set(RUNQ_LAYERS ${RUNQ_LAYERS} PARENT_SCOPE)
endfunction()
