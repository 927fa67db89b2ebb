# ep_subsystem(NAME [LAYER layer] [SOURCES files...] [DEPENDS subsystems...]
#              [LINK targets...] [PRIVATE_LINK targets...])
#
# Declares the static library ep_<NAME> from the .cpp files of the calling folder (or
# SOURCES). DEPENDS names the subsystems it may use; they are linked PUBLIC and are the
# only ones its sources may include (edgeperf/<layer>/...). LAYER is the header folder
# under include/edgeperf/ the library belongs to (default NAME; the runtime's backend
# libraries share the "runtime" layer). Every declaration is written to
# ${CMAKE_BINARY_DIR}/layers.json, which tools/check_layers.py checks the sources against.
function(ep_subsystem name)
  cmake_parse_arguments(S "" "LAYER" "SOURCES;DEPENDS;LINK;PRIVATE_LINK" ${ARGN})
  if(NOT S_LAYER)
    set(S_LAYER ${name})
  endif()
  if(NOT S_SOURCES)
    file(GLOB S_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  endif()
  add_library(ep_${name} STATIC ${S_SOURCES})
  foreach(dep ${S_DEPENDS})
    target_link_libraries(ep_${name} PUBLIC ep_${dep})
  endforeach()
  target_link_libraries(ep_${name} PUBLIC ${S_LINK} PRIVATE ${S_PRIVATE_LINK})
  ep_record_layer(${name} ${S_LAYER} "${S_DEPENDS}")
endfunction()

# ep_program(TARGET NAME [SOURCES ...] DEPENDS subsystems... [LINK targets...]): an
# executable at the top of the graph (the edgeperf command), declared like a subsystem.
function(ep_program target name)
  cmake_parse_arguments(S "" "" "SOURCES;DEPENDS;LINK" ${ARGN})
  if(NOT S_SOURCES)
    file(GLOB S_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  endif()
  add_executable(${target} ${S_SOURCES})
  foreach(dep ${S_DEPENDS})
    target_link_libraries(${target} PRIVATE ep_${dep})
  endforeach()
  target_link_libraries(${target} PRIVATE ${S_LINK})
  ep_record_layer(${name} ${name} "${S_DEPENDS}")
endfunction()

function(ep_record_layer name layer depends)
  file(RELATIVE_PATH dir ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  list(JOIN depends "\", \"" deps)
  if(deps)
    set(deps "\"${deps}\"")
  endif()
  set_property(GLOBAL APPEND PROPERTY EP_SUBSYSTEM_JSON
    "\"${name}\": {\"layer\": \"${layer}\", \"dir\": \"${dir}\", \"depends\": [${deps}]}")
endfunction()

# Writes layers.json once every subsystem is declared.
function(ep_write_layers)
  get_property(entries GLOBAL PROPERTY EP_SUBSYSTEM_JSON)
  list(JOIN entries ",\n  " body)
  file(WRITE ${CMAKE_BINARY_DIR}/layers.json.tmp "{\n  ${body}\n}\n")
  file(COPY_FILE ${CMAKE_BINARY_DIR}/layers.json.tmp ${CMAKE_BINARY_DIR}/layers.json
       ONLY_IF_DIFFERENT)
endfunction()
