# genogate_library(NAME <layer> [DEPS <targets>...])
#
# Declares the library of one layer, genogate_<layer> (alias genogate::<layer>),
# from every *.cc under src/<layer>/ except tests (*_test.cc). Headers are
# included as "<layer>/<file>.h" relative to src/. A layer with no sources yet
# is an INTERFACE library so that the layers above can already depend on it.
function(genogate_library)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER _srcs EXCLUDE REGEX "_test\\.cc$")
  set(_target genogate_${ARG_NAME})
  if(_srcs)
    add_library(${_target} STATIC ${_srcs})
    target_include_directories(${_target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${_target} PUBLIC ${ARG_DEPS}
                          PRIVATE genogate_flags ${ARG_PRIVATE_DEPS})
  else()
    add_library(${_target} INTERFACE)
    target_include_directories(${_target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${_target} INTERFACE ${ARG_DEPS})
  endif()
  add_library(genogate::${ARG_NAME} ALIAS ${_target})
endfunction()
